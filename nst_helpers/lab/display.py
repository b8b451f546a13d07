"""What the laboratory shows besides its widgets: its CSS and key handling, numbers and progress as
text, style names, the sweep's values and thumbnails as PNG bytes. Plain functions, tested on their own."""

import io
import math

import torch

from ..images import EXAMPLES, to_pil
from ..losses import normalize_blend

#: The default sweep: the current beta times 10 to these powers.
SWEEP_DECADES = (-2, -1, 0, 1, 2)

#: Larger type than Jupyter's 13 px, for a projector; scoped to the laboratory's own widgets.
CSS = """<style>
.nst-lab { --jp-widgets-font-size: 15px; --jp-widgets-inline-height: 32px; font-size: 15px; }
.nst-lab .widget-label, .nst-lab .widget-readout, .nst-lab .widget-html-content, .nst-lab button,
.nst-lab input, .nst-lab .widget-label-basic { font-size: 15px; }
.nst-lab .widget-html-content { line-height: 1.35; }
.nst-lab .nst-title { font-size: 18px; font-weight: 600; }
.nst-lab .nst-state { font-weight: 600; }
.nst-lab .nst-busy-note { background: #fff3cd; color: #5c4400; padding: 2px 8px; border-radius: 4px; }
.nst-lab .nst-small { font-size: 13px; }
</style>"""

#: Notebook 7 binds the arrow keys to moving between cells (for any focused element in a notebook in
#: command mode), and its handler runs before a focused slider sees the key. Lumino (JupyterLab,
#: Notebook 7) skips its shortcuts for a key pressed on an element marked ``data-lm-suppress-shortcuts``:
#: mark the laboratory's focusable elements so (elsewhere, e.g. Colab, the mark does nothing).
KEYS_JS = """
(function () {
  const focusable = ['[tabindex]', 'input', 'button', 'select', 'textarea']
    .map(s => `.nst-lab ${s}:not([data-lm-suppress-shortcuts])`).join(', ');
  const mark = () => document.querySelectorAll(focusable)
    .forEach(e => e.setAttribute('data-lm-suppress-shortcuts', 'true'));
  mark();
  if (!window.__nstLabKeys) {
    window.__nstLabKeys = new MutationObserver(mark);
    window.__nstLabKeys.observe(document.body, {childList: true, subtree: true});
  }
})();
"""

STATE_COLOURS = {
    "idle": "#555",
    "running": "#1565c0",
    "finished": "#2e7d32",
    "stopped": "#8d6e00",
    "sweeping": "#6a1b9a",
    "error": "#b00020",
    "closed": "#555",
}


def fmt(x):
    """The laboratory's one number format: 3 significant digits, powers of ten written short (1e5, 3.2e-4)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x == 0:
        return "0"
    if 0.01 <= abs(x) < 1000:
        return f"{x:.3g}"
    mantissa, exponent = f"{x:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def style_label(image, i=0):
    """A readable name for an image: "Starry Night" for the bundled ``starry_night``, a file's name
    without folder or extension, or "style N" for a tensor or a PIL image."""
    if isinstance(image, str) or hasattr(image, "__fspath__"):
        text = str(image).replace("\\", "/").rsplit("/", 1)[-1]
        if text not in EXAMPLES and "." in text:
            text = text.rsplit(".", 1)[0]
        text = text.replace("_", " ").strip() or f"style {i + 1}"
        return text.title() if str(image) in EXAMPLES else text
    return f"style {i + 1}"


def mix_text(names, blend):
    """How the style loss is shared out, after normalisation: "Starry Night 70 % · The Scream 30 %"."""
    shares = normalize_blend(blend, len(names))
    return " · ".join(f"{name} {100 * share:.0f} %" for name, share in zip(names, shares))


def progress_text(done, total, seconds, unit="steps"):
    """ "120 / 300 steps · 14 steps/s · 13 s left" (rate and time left once a step has been timed)."""
    text = f"{done} / {total} {unit}"
    if done > 0 and seconds > 0:
        rate = done / seconds
        text += f" · {rate:.3g} steps/s"
        if total > done:
            text += f" · {math.ceil((total - done) / rate)} s left"
    return text


def sweep_values_around(beta, decades=SWEEP_DECADES):
    """Style weights around ``beta``: beta times 10 to each power in ``decades``."""
    return [beta * 10.0**d for d in decades]


def png_bytes(image, scale=1):
    """A tensor or PIL image as PNG bytes for an ``ipywidgets.Image`` (optionally enlarged, pixels kept sharp)."""
    pil = image if not torch.is_tensor(image) else to_pil(image)
    if scale != 1:
        from PIL import Image

        pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


#: A transparent 1x1 PNG: what the hidden loss plot holds until there is a plot, so that a saved page holds no
#: empty (broken) image.
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c80000000049454e44ae426082"
)
