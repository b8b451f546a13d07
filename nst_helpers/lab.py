"""The alpha/beta laboratory: live sliders over a running style transfer, and a beta sweep.

Three layers, each usable without the one above it:

* ``LiveSession``: the optimisation in a background thread. ``set_weights(...)`` hands it new
  content / style / tv / blend weights; it applies them before its next step and carries on from the
  current picture with a fresh L-BFGS (its curvature history belongs to the old objective). Every
  ``preview_every`` steps it calls ``on_update(update)`` with the picture and the losses.
* ``beta_sweep``: one batch of images optimised together, one per style weight, so the effect of
  beta can be scrubbed through afterwards.
* ``Lab``: ipywidgets controls (only core widgets, so JupyterLab, Notebook 7 and Colab all work)
  wired to the two above.
"""

import io
import threading
import time
from dataclasses import dataclass

import torch

from .errors import NSTError
from .images import to_pil
from .losses import StyleTransferLoss, check_weight, normalize_blend
from .optimize import optimize_image
from .transfer import as_style_list, check_image_size, get_preset, prepare_images


def _prepare(content, styles, size, preset, device):
    """The content and style tensors at ``size``, checked against the preset's deepest layer."""
    content_t, style_ts = prepare_images(content, as_style_list(styles), size, 1.0, device)
    check_image_size(content_t, preset.content_layers + preset.style_layers, "the content image")
    return content_t, style_ts


@dataclass
class Update:
    """What a live session reports: the step count, the losses, the picture, and which weights made it."""

    step: int
    parts: dict
    image: torch.Tensor
    weights_version: int
    running: bool


class LiveSession:
    """A style transfer that runs in a thread and takes new weights while it runs (see the module doc)."""

    def __init__(self, content, styles, model, size=128, preset="seed", blend=None, content_weight=None,
                 style_weight=None, tv_weight=0.0, preview_every=5, on_update=None, device=None):
        p = get_preset(preset)
        content_t, style_ts = _prepare(content, styles, size, p, device or next(model.parameters()).device)
        self.preset, self.content = p, content_t
        self.objective = StyleTransferLoss(
            model, content_t, style_ts, p.content_layers, p.style_layers,
            p.content_weight if content_weight is None else content_weight,
            p.style_weight if style_weight is None else style_weight,
            blend=blend, layer_weights=p.layer_weights, tv_weight=tv_weight, gram_norm=p.gram_norm)
        self.preview_every = preview_every
        self.on_update = on_update
        self.image = content_t.clone()
        self.step = 0
        self.history = {"content": [], "style": [], "tv": [], "total": []}
        self.weights_version = 0
        self._pending = {}
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self.error = None

    # -- weights -------------------------------------------------------------------------------
    def set_weights(self, content_weight=None, style_weight=None, tv_weight=None, blend=None):
        """New weights, checked now, used from the running optimisation's next step on."""
        new = {}
        if content_weight is not None:
            new["content_weight"] = check_weight(content_weight, "content weight")
        if style_weight is not None:
            new["style_weight"] = check_weight(style_weight, "style weight")
        if tv_weight is not None:
            new["tv_weight"] = check_weight(tv_weight, "tv weight")
        if blend is not None:
            new["blend"] = normalize_blend(blend, len(self.objective.style_targets))
        with self._lock:
            self._pending.update(new)
            self.weights_version += 1
        if self.running:
            self._changed.set()
        else:
            self._apply_pending()

    def _apply_pending(self):
        with self._lock:
            pending, self._pending = self._pending, {}
            version = self.weights_version
        for key, value in pending.items():
            setattr(self.objective, key, value)
        return version

    @property
    def weights(self):
        o = self.objective
        return {"content_weight": o.content_weight, "style_weight": o.style_weight, "tv_weight": o.tv_weight,
                "blend": list(o.blend)}

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def start(self, steps=300):
        """Run ``steps`` more steps in the background (returns at once)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(int(steps),), name="nst-live", daemon=True)
        self._thread.start()

    def _run(self, steps):
        try:
            done = 0
            while done < steps and not self._stop.is_set():
                self._changed.clear()
                version = self._apply_pending()

                def preview(step, parts, image, version=version, offset=self.step):
                    self._report(Update(offset + step, parts, image, version, True))

                result = optimize_image(
                    self.objective, self.image, steps=steps - done, callback=preview,
                    callback_every=self.preview_every, progress=False, log_every=0,
                    should_stop=lambda: self._stop.is_set() or self._changed.is_set())
                done += result.evaluations
                self.step += result.evaluations
                for key in self.history:
                    self.history[key] += result.history[key]
                if result.evaluations:
                    self.image = result.image  # the warm start for the new weights
        except Exception as err:  # reported to the widget; the kernel stays usable
            self.error = err
        finally:
            self._report(Update(self.step, self._last_parts(), self.image, self.weights_version, False))

    def _report(self, update):
        if self.on_update is not None:
            self.on_update(update)

    def _last_parts(self):
        return {k: v[-1] for k, v in self.history.items() if v}

    def stop(self, timeout=10.0):
        """Stop the optimisation and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def reset(self):
        """Stop, and start over from the content image (weights are kept)."""
        self.stop()
        self.image = self.content.clone()
        self.step = 0
        self.history = {k: [] for k in self.history}

    def wait(self, timeout=None):
        if self._thread is not None:
            self._thread.join(timeout)


@dataclass
class SweepResult:
    """One stylised picture per style weight, with its weighted losses."""

    style_weights: list
    images: list
    losses: list
    seconds: float


def beta_sweep(content, styles, model, style_weights=(1e3, 1e4, 1e5, 1e6, 1e7), size=128, steps=150,
               preset="seed", content_weight=None, blend=None, tv_weight=0.0, progress=True, callback=None,
               should_stop=None):
    """Optimise one batch: image i uses ``style_weights[i]``; returns a ``SweepResult``.

    The images do not interact (the objective is a sum of independent terms), so one batched forward
    pass serves them all, which is cheaper than separate runs on a CPU.
    """
    style_weights = [check_weight(w, "each style weight") for w in style_weights]
    if not style_weights:
        raise NSTError("give at least one style weight to sweep")
    p = get_preset(preset)
    device = next(model.parameters()).device
    content_t, style_ts = _prepare(content, styles, size, p, device)
    cw = check_weight(p.content_weight if content_weight is None else content_weight, "content weight")
    objective = StyleTransferLoss(model, content_t, style_ts, p.content_layers, p.style_layers, cw, 1.0,
                                  blend=blend, layer_weights=p.layer_weights, tv_weight=tv_weight,
                                  gram_norm=p.gram_norm)
    betas = torch.tensor(style_weights, device=device)

    def batched(images):
        c, s, t, _ = objective.per_image(images)
        each = cw * c + betas * s + objective.tv_weight * t
        total = each.sum()
        return total, {"content": (cw * c).sum().item(), "style": (betas * s).sum().item(),
                       "tv": (objective.tv_weight * t).sum().item(), "total": total.item()}

    init = content_t.expand(len(style_weights), -1, -1, -1).clone()
    result = optimize_image(batched, init, steps=steps, progress=progress, log_every=0, desc="beta sweep",
                            callback=callback, should_stop=should_stop)
    with torch.no_grad():
        c, s, t, _ = objective.per_image(result.image)
    losses = [{"content": cw * float(c[i]), "style": style_weights[i] * float(s[i]),
               "tv": objective.tv_weight * float(t[i])} for i in range(len(style_weights))]
    for entry in losses:
        entry["total"] = entry["content"] + entry["style"] + entry["tv"]
    return SweepResult(style_weights, [result.image[i:i + 1] for i in range(len(style_weights))], losses,
                       result.seconds)


def png_bytes(image, scale=1):
    """A tensor or PIL image as PNG bytes for an ``ipywidgets.Image`` (optionally enlarged, pixels kept sharp)."""
    pil = image if not torch.is_tensor(image) else to_pil(image)
    if scale != 1:
        from PIL import Image

        pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def loss_plot_png(history, width=4.0, height=2.2):
    """A small log-scale loss plot as PNG bytes (drawn with matplotlib's Agg canvas, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for key in ("content", "style", "total"):
        values = history.get(key, [])
        if values and any(v > 0 for v in values):
            ax.plot(values, label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class Lab:
    """The laboratory's widgets. ``Lab(content, styles, model)`` then show ``lab.widget`` (or just ``lab``).

    Sliders: content weight alpha and style weight beta (log scale, with their ratio), one blend
    weight per style image, the total-variation weight, image size and steps. Buttons: Run, Stop,
    Reset, and Sweep beta. Moving a slider while it runs changes the running optimisation; moving
    one while it is idle (with ``auto_run``) runs ``steps`` more steps from the current picture.
    """

    def __init__(self, content, styles, model, size=128, steps=300, preset="seed", preview_every=5,
                 sweep_values=(1e3, 1e4, 1e5, 1e6, 1e7), sweep_steps=100, scale=3, auto_run=True):
        import ipywidgets as W

        self.content, self.styles = content, as_style_list(styles)
        self.model, self.preset, self.preview_every = model, get_preset(preset), preview_every
        self.sweep_values, self.sweep_steps, self.scale = list(sweep_values), sweep_steps, scale
        self.auto_run = auto_run
        p = self.preset
        style = dict(description_width="110px")
        layout = W.Layout(width="420px")
        self.alpha = W.FloatLogSlider(value=p.content_weight, base=10, min=-3, max=3, step=0.1,
                                      description="content α", style=style, layout=layout, readout_format=".2e")
        self.beta = W.FloatLogSlider(value=p.style_weight, base=10, min=0, max=9, step=0.1,
                                     description="style β", style=style, layout=layout, readout_format=".2e")
        self.tv = W.FloatLogSlider(value=1e-4, base=10, min=-4, max=3, step=0.25, description="TV (smooth)",
                                   style=style, layout=layout, readout_format=".1e")
        self.ratio = W.HTML()
        self.blend = [W.FloatSlider(value=1.0 / len(self.styles), min=0.0, max=1.0, step=0.05,
                                    description=f"blend {self._style_name(i)}", style=style, layout=layout)
                      for i in range(len(self.styles))]
        self.size = W.IntSlider(value=size, min=32, max=512, step=16, description="size (px)", style=style,
                                layout=layout)
        self.steps = W.IntSlider(value=steps, min=10, max=1000, step=10, description="steps", style=style,
                                 layout=layout)
        self.run_button = W.Button(description="Run", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop")
        self.reset_button = W.Button(description="Reset", icon="undo")
        self.sweep_button = W.Button(description="Sweep β", icon="sliders")
        self.progress = W.IntProgress(value=0, min=0, max=steps, description="step 0")
        self.status = W.HTML()
        self.preview = W.Image(format="png")
        self.plot = W.Image(format="png", layout=W.Layout(display="none"))  # shown once there is a curve
        self.sweep_slider = W.SelectionSlider(options=["(run a sweep)"], description="β sweep", style=style,
                                              layout=layout, disabled=True)
        self.sweep_info = W.HTML()
        self.updates = 0
        self.sweep = None
        self.session = None
        self._build_session()

        for w in (self.alpha, self.beta, self.tv, *self.blend):
            w.observe(self._weights_changed, names="value")
        self.size.observe(self._size_changed, names="value")
        self.steps.observe(lambda change: setattr(self.progress, "max", change["new"]), names="value")
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.sweep_button.on_click(lambda _: self.run_sweep(background=True))
        self.sweep_slider.observe(self._show_sweep, names="value")
        self._update_ratio()

        controls = W.VBox([W.HTML("<b>Weights</b>"), self.alpha, self.beta, self.ratio, *self.blend, self.tv,
                           W.HTML("<b>Run</b>"), self.size, self.steps,
                           W.HBox([self.run_button, self.stop_button, self.reset_button]),
                           self.progress, self.status,
                           W.HTML("<b>Beta sweep</b>"), self.sweep_button, self.sweep_slider, self.sweep_info])
        self.widget = W.HBox([controls, W.VBox([self.preview, self.plot])])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def _style_name(self, i):
        s = self.styles[i]
        return str(s).rsplit("/", 1)[-1].rsplit(".", 1)[0][:12] if isinstance(s, str) else f"style {i + 1}"

    # -- session wiring --------------------------------------------------------------------------
    def _build_session(self):
        self.session = LiveSession(self.content, self.styles, self.model, size=self.size.value, preset=self.preset,
                                   blend=self._blend_value(), content_weight=self.alpha.value,
                                   style_weight=self.beta.value,
                                   tv_weight=self._tv_value(), preview_every=self.preview_every,
                                   on_update=self._on_update)
        self._show_image(self.session.image)

    def _blend_value(self):
        """The blend sliders' values, or None (equal blend) while they are all at zero."""
        blend = [b.value for b in self.blend]
        return blend if sum(blend) > 0 else None

    def _tv_value(self):
        """The TV slider's left end means off."""
        return 0.0 if self.tv.value <= 1.001 * 10 ** self.tv.min else self.tv.value

    def _weights_changed(self, change=None):
        self._update_ratio()
        try:
            self.session.set_weights(content_weight=self.alpha.value, style_weight=self.beta.value,
                                     tv_weight=self._tv_value(), blend=self._blend_value())
            self.status.value = ""
        except NSTError as err:
            self.status.value = f"<span style='color:#b00'>{err}</span>"
            return
        if self.auto_run and not self.session.running:
            self.run()  # a slider moved while idle: carry on from the current picture with the new weights

    def _size_changed(self, change):
        was_running = self.session.running
        self.session.stop()
        self._build_session()
        if was_running:
            self.run()

    def _update_ratio(self):
        self.ratio.value = (f"<span style='margin-left:118px'>β/α = {self.beta.value / self.alpha.value:.2e}"
                            "</span>")

    def _on_update(self, update):
        self.updates += 1
        self._show_image(update.image)
        self.progress.value = min(update.step, self.progress.max)
        self.progress.description = f"step {update.step}"
        parts = update.parts
        if parts:
            self.status.value = (f"content {parts.get('content', 0):.3g} · style {parts.get('style', 0):.3g} · "
                                 f"total {parts.get('total', 0):.3g}" + ("" if update.running else " · stopped"))
        if self.session.error is not None:
            self.status.value = f"<span style='color:#b00'>error: {self.session.error}</span>"
        if not update.running or self.updates % 4 == 0:
            self._show_plot()

    def _show_plot(self):
        history = dict(self.session.history)
        if history.get("total"):
            self.plot.value = loss_plot_png(history)
            self.plot.layout.display = None
        else:
            self.plot.layout.display = "none"

    def _show_image(self, image):
        self.preview.value = png_bytes(image, scale=max(1, self.scale * 128 // max(image.shape[-2:])))

    # -- buttons ---------------------------------------------------------------------------------
    def run(self):
        """Run (or continue) for the number of steps on the slider."""
        self.progress.max = self.steps.value
        self.session.start(self.steps.value)

    def stop(self):
        self.session.stop()

    def reset(self):
        self.session.reset()
        self.progress.value = 0
        self.progress.description = "step 0"
        self._show_plot()
        self._show_image(self.session.image)

    def run_sweep(self, background=False):
        """Optimise one image per beta in ``sweep_values``; then the sweep slider scrubs through them."""
        if background:
            threading.Thread(target=self.run_sweep, name="nst-sweep", daemon=True).start()
            return None
        self.session.stop()
        self.sweep_button.disabled = True
        self.status.value = f"sweeping {len(self.sweep_values)} values of β …"
        start = time.perf_counter()
        try:
            self.sweep = beta_sweep(self.content, self.styles, self.model, self.sweep_values, size=self.size.value,
                                    steps=self.sweep_steps, preset=self.preset, content_weight=self.alpha.value,
                                    blend=self._blend_value(), progress=False)
        except NSTError as err:
            self.status.value = f"<span style='color:#b00'>{err}</span>"
            return None
        finally:
            self.sweep_button.disabled = False
        labels = [f"{b:.0e}" for b in self.sweep.style_weights]
        self.sweep_slider.options = labels
        self.sweep_slider.disabled = False
        self.sweep_slider.value = labels[len(labels) // 2]
        self._show_sweep()
        self.status.value = f"sweep done in {time.perf_counter() - start:.1f} s: move the β sweep slider"
        return self.sweep

    def _show_sweep(self, change=None):
        if self.sweep is None or self.sweep_slider.disabled:
            return
        i = self.sweep_slider.index
        self._show_image(self.sweep.images[i])
        loss = self.sweep.losses[i]
        self.sweep_info.value = (f"β = {self.sweep.style_weights[i]:.0e}: content {loss['content']:.3g}, "
                                 f"style {loss['style']:.3g}")

