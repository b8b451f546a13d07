"""The alpha/beta laboratory: ipywidgets controls over a ``LiveSession`` (see ``live``), for a lecture.

Only core widgets and a few CSS rules scoped to the laboratory, so it works with ipywidgets 7 and 8,
in JupyterLab, Notebook 7 and Colab. The layout wraps: on a narrow screen (a projector at 1024 px
with the file browser open) the preview comes first and the controls below it.

What a person sees is driven by the session's ``Update`` reports: one state (idle, running,
finished, stopped, sweeping, error), a progress bar for the current run or sweep with steps per
second and time left, a caption saying which picture is shown, and a plot of the *unweighted*
content and style losses, updated during a run, with a dashed line where the weights changed.
"""

import time

from ..config import make_config
from ..errors import NSTError
from ..files import free_path
from ..images import as_image_list, load_image, save_image
from ..transfer import input_files
from .display import (
    BLANK_PNG,
    CSS,
    KEYS_JS,
    STATE_COLOURS,
    SWEEP_DECADES,
    fmt,
    mix_text,
    png_bytes,
    progress_text,
    style_label,
    sweep_values_around,
)
from .live import LiveSession, SweepResult


def _slider_options():
    """What every slider of the laboratory shares: a value sent on release, no readout of its own
    (the laboratory's readouts use ``fmt``), and room to shrink on a narrow screen."""
    import ipywidgets as W

    return {
        "style": {"description_width": "90px"},
        "layout": W.Layout(flex="1 1 auto", min_width="150px"),
        "continuous_update": False,
        "readout": False,
    }


def _readout():
    import ipywidgets as W

    return W.HTML(layout=W.Layout(width="100px", flex="0 0 auto"))


def _row(*children):
    import ipywidgets as W

    return W.HBox(list(children), layout=W.Layout(width="100%", align_items="center"))


class Lab:
    """The laboratory's widgets. ``Lab(content, styles, model)`` then show ``lab.widget`` (or just ``lab``).

    Weights: content weight alpha and style weight beta (log scale, with their ratio), the mix of the
    style images (one slider between two styles; one per style for more, with the effective shares
    shown), and total variation (its left end is off). Run: size, steps, an auto-run switch (a slider
    released while idle runs again from the current picture), Run, Stop, Reset and Save. Sweep β:
    one picture per beta around the current one (with the current alpha, TV and mix), shown side by
    side and by scrubbing; Stop cancels it. A slider sends its value when released, not while dragged.
    """

    def __init__(
        self,
        content,
        styles,
        model,
        size=128,
        steps=300,
        config="seed",
        preview_every=5,
        sweep_values=None,
        sweep_steps=100,
        scale=3,
        auto_run=True,
        sweep_decades=SWEEP_DECADES,
        save_path="lab.png",
        plot_every=1.0,
    ):
        self.content, self.styles = content, as_image_list(styles)
        self.model, self.config, self.preview_every = model, make_config(config), preview_every
        self.sweep_values = None if sweep_values is None else list(sweep_values)
        self.sweep_decades, self.sweep_steps, self.scale = tuple(sweep_decades), sweep_steps, scale
        self.plot_every = plot_every
        self.names = [style_label(s, i) for i, s in enumerate(self.styles)]
        self.inputs = tuple(input_files([content, *self.styles]))
        self._build_sliders()
        self._build_buttons(size, steps, auto_run, save_path)
        self._build_preview(steps)
        self._build_sweep_panel()

        self.updates = 0
        self.sweep = None
        self.session = None
        self.shown = None  # the picture in the preview (what Save saves)
        self._showing = "live"
        self._last_plot = 0.0
        self._build_session()
        self._connect()
        self._update_readouts()
        self._set_state("idle")
        self.widget = self._layout()
        self._hooks = self._watch_kernel()

    # -- the panels (widgets only: ``_connect`` wires them, ``_layout`` places them) ---------------
    def _build_sliders(self):
        """The weights: alpha, beta, TV, and the mix of the styles (none for one style)."""
        import ipywidgets as W

        c = self.config
        self.alpha = W.FloatLogSlider(
            value=c.content_weight, base=10, min=-3, max=3, step=0.1, description="content α", **_slider_options()
        )
        self.beta = W.FloatLogSlider(
            value=c.style_weight, base=10, min=0, max=9, step=0.1, description="style β", **_slider_options()
        )
        self.tv = W.FloatLogSlider(
            value=10.0**-5 if not c.tv_weight else c.tv_weight,
            base=10,
            min=-5,
            max=1,
            step=0.25,
            description="TV smooth",
            **_slider_options(),
        )
        self.alpha_readout, self.beta_readout, self.tv_readout = _readout(), _readout(), _readout()
        self.ratio = W.HTML()
        self.mix = W.HTML()
        if len(self.styles) == 2:  # one slider between the two: the shares always add up to 100 %
            self.blend = [W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="mix", **_slider_options())]
        elif len(self.styles) > 2:  # one slider per style: the shares are what they are after normalisation
            self.blend = [
                W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description=name[:14], **_slider_options())
                for name in self.names
            ]
        else:
            self.blend = []

    def _build_buttons(self, size, steps, auto_run, save_path):
        """The run panel: size, steps, auto-run, Run / Stop / Reset, and Save."""
        import ipywidgets as W

        self.size = W.IntSlider(value=size, min=32, max=512, step=16, description="size", **_slider_options())
        self.steps = W.IntSlider(value=steps, min=10, max=1000, step=10, description="steps", **_slider_options())
        self.size_readout, self.steps_readout = _readout(), _readout()
        self.auto_run = W.Checkbox(
            value=auto_run,
            description="run again when a slider is released",
            indent=False,
            layout=W.Layout(width="100%", min_width="0"),
        )
        self.run_button = W.Button(description="Run", button_style="success", icon="play")
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop")
        self.reset_button = W.Button(description="Reset", icon="undo")
        self.save_button = W.Button(description="Save", icon="save")
        self.save_path = W.Text(
            value=save_path,
            description="save as",
            style={"description_width": "90px"},
            layout=W.Layout(flex="1 1 auto", min_width="150px"),
        )
        self.saved = W.HTML()

    def _build_preview(self, steps):
        """The picture panel: state, caption, preview, progress, losses and their plot."""
        import ipywidgets as W

        self.state = W.HTML()
        self.busy = W.HTML()
        self.caption = W.HTML()
        self.preview = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        self.progress = W.IntProgress(value=0, min=0, max=max(1, steps), layout=W.Layout(width="100%"))
        self.progress_info = W.HTML()
        self.losses = W.HTML()
        # hidden until there is a plot; a blank pixel meanwhile, so that a saved page holds no empty (broken) image
        self.plot = W.Image(
            value=BLANK_PNG, format="png", layout=W.Layout(display="none", max_width="100%", height="auto")
        )

    def _build_sweep_panel(self):
        """The sweep panel: its plan, its button, a slider to scrub its pictures, and their strip."""
        import ipywidgets as W

        self.sweep_button = W.Button(description="Sweep β", icon="sliders")
        self.sweep_plan = W.HTML()
        self.sweep_slider = W.SelectionSlider(
            options=["–"],
            description="show β",
            disabled=True,
            style={"description_width": "90px"},
            continuous_update=True,
            layout=W.Layout(flex="1 1 auto", min_width="150px"),
        )
        self.sweep_info = W.HTML()
        self.strip = W.Box(layout=W.Layout(display="flex", flex_flow="row wrap", width="100%"))

    def _connect(self):
        """What each widget does when it changes or is clicked."""
        for w in (self.alpha, self.beta, self.tv, *self.blend):
            w.observe(self._weights_changed, names="value")
        self.size.observe(self._size_changed, names="value")
        self.steps.observe(lambda change: self._update_readouts(), names="value")
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.save_button.on_click(lambda _: self._save_clicked())
        self.sweep_button.on_click(lambda _: self.run_sweep())
        self.sweep_slider.observe(self._show_sweep, names="value")

    def _blend_rows(self):
        """The mix: the two styles' names either side of one slider, or one slider per style."""
        import ipywidgets as W

        if len(self.styles) == 2:
            names = [W.HTML(f"<b>{name}</b>", layout=W.Layout(flex="0 0 auto")) for name in self.names]
            return [_row(names[0], self.blend[0], names[1]), self.mix]
        return [*[_row(b) for b in self.blend], self.mix] if self.blend else []

    def _layout(self):
        """The picture panel beside the controls (below them on a narrow screen)."""
        import ipywidgets as W

        thumbs = W.Box(
            [
                self._thumbnail(self.content, "photo"),
                *[self._thumbnail(s, name) for s, name in zip(self.styles, self.names)],
            ],
            layout=W.Layout(display="flex", flex_flow="row wrap", width="100%"),
        )
        title = W.HTML("<span class='nst-title'>α/β laboratory</span>")
        picture = W.VBox(
            [
                W.HBox([self.state, self.busy], layout=W.Layout(flex_flow="row wrap")),
                self.caption,
                self.preview,
                self.progress,
                self.progress_info,
                self.losses,
                self.plot,
            ],
            layout=W.Layout(flex="1 1 400px", min_width="280px", max_width="600px", margin="0 16px 0 0"),
        )
        controls = W.VBox(
            [
                thumbs,
                W.HTML("<b>Weights</b>"),
                _row(self.alpha, self.alpha_readout),
                _row(self.beta, self.beta_readout),
                self.ratio,
                *self._blend_rows(),
                _row(self.tv, self.tv_readout),
                W.HTML("<b>Run</b>"),
                _row(self.size, self.size_readout),
                _row(self.steps, self.steps_readout),
                self.auto_run,
                W.HBox([self.run_button, self.stop_button, self.reset_button], layout=W.Layout(flex_flow="row wrap")),
                _row(self.save_path, self.save_button),
                self.saved,
                W.HTML("<b>Sweep β</b>"),
                self.sweep_plan,
                self.sweep_button,
                _row(self.sweep_slider),
                self.sweep_info,
                self.strip,
            ],
            layout=W.Layout(flex="1 1 360px", min_width="280px", max_width="600px"),
        )
        widget = W.VBox(
            [
                W.HTML(CSS),
                title,
                W.Box(
                    [picture, controls],
                    layout=W.Layout(display="flex", flex_flow="row wrap", align_items="flex-start", width="100%"),
                ),
            ]
        )
        self._add_classes(widget)
        return widget

    def _add_classes(self, widget):
        """Class names for the CSS and for a reader of the page (and the browser tests)."""
        widget.add_class("nst-lab")
        for w in (
            self.alpha_readout,
            self.beta_readout,
            self.tv_readout,
            self.size_readout,
            self.steps_readout,
            self.ratio,
            self.mix,
            self.state,
            self.progress_info,
            self.losses,
            self.caption,
            self.sweep_plan,
            self.sweep_info,
        ):
            w.add_class("nst-readout")
        for name in (
            "alpha",
            "beta",
            "tv",
            "size",
            "steps",
            "preview",
            "plot",
            "progress",
            "state",
            "caption",
            "losses",
            "busy",
            "strip",
            "saved",
        ):
            getattr(self, name).add_class(f"nst-{name}")

    def _ipython_display_(self):
        from IPython.display import Javascript, display

        display(self.widget)
        display(Javascript(KEYS_JS))  # arrow keys reach the sliders in Notebook 7 too

    # -- pieces ----------------------------------------------------------------------------------
    def _thumbnail(self, image, name):
        import ipywidgets as W

        small = load_image(image, 72)
        return W.VBox(
            [
                W.Image(value=png_bytes(small), format="png", layout=W.Layout(height="72px", width="auto")),
                W.HTML(f"<span class='nst-small'>{name}</span>"),
            ],
            layout=W.Layout(margin="0 10px 6px 0"),
        )

    def _watch_kernel(self):
        """Say in the laboratory while the kernel runs another cell: clicks wait until it ends."""
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
        if shell is None:
            return None
        hooks = (lambda *args: self._set_busy(True), lambda *args: self._set_busy(False))
        shell.events.register("pre_run_cell", hooks[0])
        shell.events.register("post_run_cell", hooks[1])
        return shell, hooks

    def _set_busy(self, busy):
        self.busy.value = (
            "<span class='nst-busy-note'>⏳ the kernel is running another cell: buttons and sliders "
            "answer when it ends</span>"
            if busy
            else ""
        )

    def close(self):
        """End the session's worker and stop watching the kernel."""
        if self._hooks:
            shell, (pre, post) = self._hooks
            for name, hook in (("pre_run_cell", pre), ("post_run_cell", post)):
                try:
                    shell.events.unregister(name, hook)
                except ValueError:
                    pass
            self._hooks = None
        self.session.close()

    # -- session wiring --------------------------------------------------------------------------
    def _build_session(self):
        old = self.session
        if old is not None:
            old.close()
        self.session = LiveSession(
            self.content,
            self.styles,
            self.model,
            self.config,
            size=self.size.value,
            blend=self._blend_value(),
            content_weight=self.alpha.value,
            style_weight=self.beta.value,
            tv_weight=self._tv_value(),
            preview_every=self.preview_every,
            on_update=self._on_update,
        )
        self._clear()

    def _clear(self):
        """Forget the numbers, plot and sweep of the previous picture (Reset, a new size)."""
        self.progress.value, self.progress_info.value, self.losses.value = 0, "", ""
        self._show_plot({}, [])
        self._clear_sweep()
        self._show_image(self.session.image)
        self._update_caption(0)

    def _clear_sweep(self):
        self.sweep = None
        self._showing = "live"
        self.sweep_slider.options = ["–"]
        self.sweep_slider.disabled = True
        self.sweep_info.value = ""
        self.strip.children = []

    def _blend_value(self):
        """The blend as the session takes it: [1 - m, m] from the mix slider of two styles; the
        sliders' values for more (None, an equal blend, while all are at zero)."""
        if len(self.styles) == 2:
            m = self.blend[0].value
            return [1.0 - m, m]
        blend = [b.value for b in self.blend]
        return blend if sum(blend) > 0 else None

    def _tv_value(self):
        """The TV slider's left end means off."""
        return 0.0 if self.tv.value <= 1.001 * 10**self.tv.min else self.tv.value

    def _weights_changed(self, change=None):
        self._update_readouts()
        try:
            self.session.set_weights(
                content_weight=self.alpha.value,
                style_weight=self.beta.value,
                tv_weight=self._tv_value(),
                blend=self._blend_value(),
                run_steps=self.steps.value if self.auto_run.value else None,
            )
        except NSTError as err:
            self._set_state("error", str(err))

    def _size_changed(self, change):
        was_running = self.session.state == "running"
        self._update_readouts()
        self._build_session()
        self._set_state("idle")
        if was_running:
            self.run()

    def _update_readouts(self):
        self.alpha_readout.value = fmt(self.alpha.value)
        self.beta_readout.value = fmt(self.beta.value)
        self.tv_readout.value = "off" if self._tv_value() == 0 else fmt(self.tv.value)
        self.size_readout.value = f"{self.size.value} px"
        self.steps_readout.value = f"{self.steps.value}"
        self.ratio.value = f"<span class='nst-small'>β/α = {fmt(self.beta.value / self.alpha.value)}</span>"
        if self.blend:
            mix = mix_text(self.names, self._blend_value() or [1] * len(self.names))
            self.mix.value = f"<span class='nst-small'>style mix: {mix}</span>"
        values = self._sweep_values()
        self.sweep_plan.value = (
            f"<span class='nst-small'>{len(values)} pictures, β = {fmt(values[0])} … "
            f"{fmt(values[-1])}, {self.sweep_steps} steps each, with the current α, TV and "
            f"mix</span>"
        )

    def _sweep_values(self):
        return self.sweep_values or sweep_values_around(self.beta.value, self.sweep_decades)

    def _set_state(self, state, message=""):
        running, sweeping = state == "running", state == "sweeping"
        self.run_button.disabled = running or sweeping  # buttons first: when the state shows, they match it
        self.sweep_button.disabled = sweeping
        self.stop_button.disabled = not (running or sweeping)
        self.size.disabled = self.steps.disabled = sweeping
        colour = STATE_COLOURS.get(state, "#555")
        text = f"<span class='nst-state' style='color:{colour}'>● {state}</span>"
        if message:
            text += f" <span style='color:#b00020'>{message}</span>"
        self.state.value = text

    def _on_update(self, update):
        if update.session != self.session.id:
            return  # a late report from a session this lab has replaced
        self.updates += 1
        self._set_state(update.state, update.error or "")
        if update.run_steps:
            if update.run_steps != self.progress.max:
                self.progress.value = 0  # never above the maximum, whichever order the two arrive in
                self.progress.max = update.run_steps
            self.progress.value = min(update.run_step, update.run_steps)
            unit = "steps of the sweep" if update.state == "sweeping" else "steps"
            text = progress_text(update.run_step, update.run_steps, update.seconds, unit)
            self.progress_info.value = f"<span class='nst-small'>{text}</span>"
        if update.state == "sweeping":
            if update.sweep:
                self._showing = ("sweep-progress", update.sweep)
                self._show_image(update.image)
            self._update_caption(update.step)
            return
        unweighted = update.parts.get("unweighted", {})
        if unweighted:
            w = update.weights
            self.losses.value = (
                f"<span class='nst-small'>content loss {fmt(unweighted.get('content'))} · style "
                f"loss {fmt(unweighted.get('style'))} (unweighted) · using α = "
                f"{fmt(w.get('content_weight'))}, β = {fmt(w.get('style_weight'))}</span>"
            )
        if isinstance(update.sweep, SweepResult):
            self._sweep_done(update.sweep)
        elif update.state != "idle" or update.step == 0:
            self._showing = "live"
            self._show_image(update.image)
        self._update_caption(update.step)
        now = time.monotonic()
        if update.state != "running" or now - self._last_plot >= self.plot_every:
            self._last_plot = now
            self._show_plot(update.history, update.weight_changes)

    def _update_caption(self, step):
        if self._showing == "live":
            text = "the photo" if step == 0 else f"live picture, step {step}"
        elif self._showing[0] == "sweep-progress" or self.sweep is None:
            text = f"sweep: picture {self._showing[1]} done"
        else:
            i = self._showing[1]
            text = f"sweep picture {i + 1} / {len(self.sweep.images)}, β = {fmt(self.sweep.style_weights[i])}"
        self.caption.value = f"showing: <b>{text}</b>"

    def _show_plot(self, history, marks):
        if history.get("style_loss") or history.get("content_loss"):
            from ..plotting import loss_plot_png

            self.plot.value = loss_plot_png(
                history,
                marks=marks,
                width=5.0,
                height=2.8,
                dpi=90,
                fontsize=11,
                title="unweighted losses (dashed: weights changed)",
            )
            self.plot.layout.display = None
        else:
            self.plot.layout.display = "none"

    def _show_image(self, image):
        self.shown = image
        self.preview.value = png_bytes(image, scale=max(1, self.scale * 128 // max(image.shape[-2:])))

    # -- buttons ---------------------------------------------------------------------------------
    def run(self):
        """Run (or continue) for the number of steps on the slider."""
        self.session.run(self.steps.value)

    def stop(self):
        """Stop a run, or cancel a sweep (the pictures finished so far are kept)."""
        self.session.stop(wait=False)

    def reset(self):
        """Back to the photo: clears the numbers, plot and sweep."""
        self.session.reset(wait=False)
        self._clear()

    def save(self, path=None):
        """Save the picture shown, atomically, under ``path`` (default: the "save as" box); an existing
        file is never replaced (the next free name, NAME-2.png, ... is used) nor is an input. Returns the path."""
        target = free_path(path or self.save_path.value)
        return save_image(self.shown, target, overwrite=False, protect=self.inputs)

    def _save_clicked(self):
        try:
            self.saved.value = f"<span class='nst-small'>saved {self.save(self.save_path.value)}</span>"
        except NSTError as err:
            self.saved.value = f"<span style='color:#b00020'>{err}</span>"

    def run_sweep(self, wait=False, timeout=None):
        """Optimise one picture per beta (``sweep_values``, or the current beta times 10 to each power in
        ``sweep_decades``) in the session's worker; then they show as a strip and by scrubbing. With
        ``wait``, returns the ``SweepResult``."""
        self._clear_sweep()
        self.session.sweep(self._sweep_values(), self.sweep_steps)
        if wait:
            self.session.sync(timeout)
            return self.sweep
        return None

    def _sweep_done(self, sweep):
        import ipywidgets as W

        self.sweep = sweep
        if not sweep.images:
            return
        labels = [fmt(b) for b in sweep.style_weights]
        self.sweep_slider.options = labels
        self.sweep_slider.disabled = False
        self.strip.children = [
            W.VBox(
                [
                    W.Image(value=png_bytes(image), format="png", layout=W.Layout(width="84px", height="auto")),
                    W.HTML(f"<span class='nst-small'>β = {label}</span>"),
                ],
                layout=W.Layout(margin="0 6px 4px 0"),
            )
            for image, label in zip(sweep.images, labels)
        ]
        self.sweep_slider.value = labels[len(labels) // 2]
        self._show_sweep()

    def _show_sweep(self, change=None):
        if self.sweep is None or self.sweep_slider.disabled:
            return
        i = self.sweep_slider.index
        self._showing = ("sweep", i)
        self._show_image(self.sweep.images[i])
        loss = self.sweep.losses[i]
        beta = self.sweep.style_weights[i]
        self.sweep_info.value = (
            f"<span class='nst-small'>β = {fmt(beta)}: content loss {fmt(loss['content_loss'])}, "
            f"style loss {fmt(loss['style_loss'])} (unweighted)</span>"
        )
        for j, box in enumerate(self.strip.children):
            box.layout.border = "3px solid #1565c0" if j == i else "3px solid transparent"
        self._update_caption(self.session.step)
