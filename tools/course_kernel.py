"""Run inside the kernel that executes a notebook for the course build (``build_course.py`` starts each kernel
with ``--IPKernelApp.exec_files=<this file>``); nothing here is part of the notebooks or the package.

Figures legible on a projector: the decks show a figure at most ``SLIDE_WIDTH`` x ``SLIDE_HEIGHT`` px
(the 1280x720 slide less its margins and a title). Before a figure is drawn, every piece of text in it
that would come out smaller than ``MIN_TEXT_PX`` at that size is enlarged to it (titles, tick labels,
legends, colour bars), and a figure that was laid out by ``tight_layout`` is laid out again. A figure
shown small on the slide anyway (a 6 in plot) is left as it is; a five-panel row of pictures (20 in wide)
gets titles of about 19 pt instead of 14 pt. The book shows the same figures (one execution for both).
"""

import warnings

#: The largest figure area of a slide, in CSS px of the 1280x720 slide (see course_slides.py's CSS).
SLIDE_WIDTH, SLIDE_HEIGHT = 1200, 600
#: The smallest text on a slide, in CSS px at that size.
MIN_TEXT_PX = 18


def min_points(fig):
    """The smallest font size (pt) that comes out ``MIN_TEXT_PX`` tall when ``fig`` is scaled to fit the slide."""
    width, height = fig.get_size_inches()
    return MIN_TEXT_PX * 72 * max(width / SLIDE_WIDTH, height / SLIDE_HEIGHT)


def enlarge_small_text(fig):
    """Enlarge the text of ``fig`` that would be smaller than ``MIN_TEXT_PX`` on a slide; returns how many changed."""
    from matplotlib.text import Text

    if getattr(fig, "_nst_projector", False):
        return 0
    fig._nst_projector = True
    least = min_points(fig)
    changed = 0
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = axis.get_ticklabels(which="both")
            if labels and min(t.get_fontsize() for t in labels) < least:
                ax.tick_params(axis="x" if axis is ax.xaxis else "y", which="both", labelsize=least)
                changed += 1
    # titles and axis labels no wider than their axes (or a suptitle than the figure): panels side by side keep
    # their titles apart, even where that leaves one smaller than MIN_TEXT_PX
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
    limits = {}
    for ax in fig.axes:
        for text in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None), ax.xaxis.label):
            if text is not None:
                limits[id(text)] = ax
    for text in fig.findobj(Text):
        if not (text.get_visible() and text.get_text().strip() and text.get_fontsize() < least):
            continue
        size = least
        ax = limits.get(id(text))
        if renderer is not None and ax is not None:
            try:
                width = text.get_window_extent(renderer).width
                room = ax.get_window_extent(renderer).width * 0.98
                if width > 0:
                    size = min(size, max(text.get_fontsize(), text.get_fontsize() * room / width))
            except Exception:
                pass
        if size > text.get_fontsize():
            text.set_fontsize(size)
            changed += 1
    if changed and fig.get_layout_engine() is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fig.tight_layout()
            except Exception:  # a layout tight_layout cannot handle: keep the figure's own
                pass
    return changed


def _install():
    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure
    if getattr(original, "_nst_projector", False):
        return

    def print_figure(self, *args, **kwargs):
        try:
            enlarge_small_text(self.figure)
        except Exception:  # never let a figure fail to show because of this
            pass
        return original(self, *args, **kwargs)

    print_figure._nst_projector = True
    FigureCanvasBase.print_figure = print_figure


_install()
del _install


#: Appended to a notebook that shows the laboratory (an ``nst.Lab``) and executed after its last cell,
#: then removed: one LiveSession run recorded with the lab's own images, model, size and steps, in three
#: parts (the lab's weights, beta x 100, then the mix towards the second painting), every step's preview
#: kept. It prints one line of JSON that build_course.py reads (the frames as PNG, the loss plot, the parts).
RECORD_LAB = r"""
def _nst_record_lab():
    import base64, io, json, time
    from nst_helpers.lab.live import LiveSession
    from nst_helpers.lab.widgets import Lab
    from nst_helpers.images import to_pil
    from nst_helpers.plotting import loss_plot_png

    labs = [v for v in list(globals().values()) if isinstance(v, Lab)]
    if not labs:
        return {"error": "no nst.Lab in the notebook"}
    lab = labs[-1]
    frames, parts = [], []
    session = LiveSession(lab.content, lab.styles, lab.model, lab.config, size=lab.size.value, preview_every=1,
                          on_update=frames.append)
    steps = max(3, int(lab.steps.value) // 3)
    alpha, beta = lab.alpha.value, lab.beta.value
    start = time.perf_counter()
    plan = [("the lab's weights", {}), ("β × 100", {"style_weight": beta * 100})]
    if len(lab.styles) > 1:
        rest = len(lab.styles) - 1
        plan.append((f"mix towards {lab.names[1]}", {"blend": [0.2] + [0.8 / rest] * rest}))
    for label, weights in plan:
        if weights:
            session.set_weights(**weights)
        first = session.step + 1
        session.run(steps)
        session.sync()
        parts.append({"label": label, "from": first, "to": session.step})
    seconds = time.perf_counter() - start
    size = list(session.content.shape[-2:])
    session.close()
    shown, seen = [], set()
    for u in frames:
        if u.image is not None and u.step not in seen and u.state in ("running", "finished", "idle"):
            seen.add(u.step)
            shown.append(u)
    last = frames[-1]

    def png(image):
        buf = io.BytesIO()
        to_pil(image).save(buf, format="PNG")
        return base64.b64encode(buf.getvalue()).decode()

    plot = loss_plot_png(last.history, marks=last.weight_changes, width=6.0, height=3.4, dpi=120, fontsize=12,
                         title="unweighted losses (dashed: weights changed)")
    return {"frames": [{"step": u.step, "png": png(u.image)} for u in shown], "parts": parts,
            "plot": base64.b64encode(plot).decode(), "seconds": round(seconds, 1),
            "size": size,
            "styles": list(lab.names), "alpha": alpha, "beta": beta}

print("NST_LAB_RECORDING " + __import__("json").dumps(_nst_record_lab()))
del _nst_record_lab
"""
