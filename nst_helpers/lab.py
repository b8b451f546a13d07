"""The alpha/beta laboratory: live sliders over a running style transfer, and a beta sweep.

Three layers, each usable without the one above it:

* ``LiveSession``: one worker thread per session owns the optimisation state (the picture, the
  objective, the history). Everything else talks to it through a queue of commands (new weights,
  run, stop, reset, sweep, close), handled in the order they were sent, so no command is lost and no
  two optimisations ever run at once. The worker reports ``Update`` values; the caller applies them.
  New weights sent while it runs are used from the next step on, carrying on from the current picture
  with a fresh L-BFGS (its curvature history belongs to the old objective).
* ``beta_sweep``: one picture per style weight, each optimised on its own from the photo, so each is
  exactly what a separate ``stylize`` run with that weight gives.
* ``Lab``: ipywidgets controls (only core widgets, so JupyterLab, Notebook 7 and Colab all work)
  that send commands to a ``LiveSession`` and show its updates.
"""

import io
import itertools
import queue
import threading
import time
from dataclasses import dataclass, field

import torch

from .config import make_config
from .devices import default_size
from .errors import NSTError
from .images import as_image_list, to_pil
from .layers import check_image_size
from .losses import normalize_blend
from .checks import check_weight
from .objective import PARTS, build_objective
from .optimize import initial_image, optimize_image
from .transfer import prepare_images

#: Session states, as ``Update.state`` reports them.
STATES = ("idle", "running", "finished", "stopped", "sweeping", "error", "closed")


def _prepare(content, styles, model, config):
    """The content and style tensors of a session, checked against the configuration's layers."""
    device = next(model.parameters()).device
    size = config.size or default_size(device)
    content_t, style_ts = prepare_images(content, as_image_list(styles), size, config.style_scale, device)
    check_image_size(content_t, config.content_layers + config.style_layers, "the content image")
    return content_t, style_ts


@dataclass
class SweepResult:
    """One stylised picture per style weight, with its weighted losses; ``cancelled`` if stopped early
    (then ``images`` holds the pictures finished before)."""

    style_weights: list
    images: list
    losses: list
    seconds: float
    cancelled: bool = False


def beta_sweep(content, styles, model, style_weights=(1e3, 1e4, 1e5, 1e6, 1e7), config="seed", steps=150,
               progress=True, should_stop=None, on_picture=None, **overrides):
    """Optimise one picture per style weight, each from the photo on its own; returns a ``SweepResult``.

    Picture i is exactly ``stylize(content, styles, config, style_weight=style_weights[i], steps=steps)``
    with the same model. ``on_picture(i, image, losses)`` after each; ``should_stop()`` cancels.
    """
    style_weights = [check_weight(w, "each style weight") for w in style_weights]
    if not style_weights:
        raise NSTError("give at least one style weight to sweep")
    config = make_config(config, **overrides)
    content_t, style_ts = _prepare(content, styles, model, config)
    objective = build_objective(model, content_t, style_ts, config)
    return _sweep(objective, content_t, config, style_weights, steps, progress, should_stop, on_picture)


def _sweep(objective, content_t, config, style_weights, steps, progress, should_stop, on_picture):
    images, losses, seconds, kept = [], [], 0.0, objective.style_weight
    try:
        for i, beta in enumerate(style_weights):
            objective.style_weight = beta
            result = optimize_image(objective, initial_image(config.init, content_t, config.random_seed), steps=steps,
                                    optimizer=config.optimizer, lr=config.lr, line_search=config.line_search,
                                    tol=config.tol, progress=progress, log_every=0, desc=f"β = {beta:.0e}",
                                    should_stop=should_stop)
            seconds += result.seconds
            if result.stopped == "stop":
                return SweepResult(style_weights[:i], images, losses, seconds, cancelled=True)
            images.append(result.image)
            losses.append({k: v for k, v in result.losses.items()})
            if on_picture is not None:
                on_picture(i, result.image, losses[-1])
    finally:
        objective.style_weight = kept
    return SweepResult(style_weights, images, losses, seconds)


@dataclass
class Update:
    """What a live session reports, as plain values for a user interface to show.

    state: one of ``STATES``; step: steps done since the last reset; run_step / run_steps: progress
    of the current run; parts: the latest weighted losses; image: the current picture;
    weights_version: how many weight changes the worker has applied; sweep: a finished (or
    cancelled) ``SweepResult``, or the count of pictures done so far while sweeping.
    """

    session: int
    state: str
    step: int
    run_step: int
    run_steps: int
    parts: dict
    image: torch.Tensor
    weights_version: int
    seconds: float = 0.0
    sweep: object = None
    error: str = None
    history: dict = field(default_factory=dict)


_session_ids = itertools.count(1)


class LiveSession:
    """A style transfer owned by one worker thread that takes commands while it runs (see the module doc)."""

    def __init__(self, content, styles, model, config="seed", preview_every=5, on_update=None, **overrides):
        self.config = make_config(config, **overrides)
        self.content, style_ts = _prepare(content, styles, model, self.config)
        self.objective = build_objective(model, self.content, style_ts, self.config)
        self.id = next(_session_ids)
        self.preview_every, self.on_update = preview_every, on_update
        # Owned by the worker thread; read elsewhere only through updates (or after ``sync``).
        self.image = self.content.clone()
        self.step = 0
        self.history = self._empty_history()
        self.weight_changes = []  # steps at which new weights took effect
        self.weights_version = 0
        self.state = "idle"
        self.error = None
        self._parts = {}
        self._commands = queue.Queue()
        self._thread = threading.Thread(target=self._work, name=f"nst-live-{self.id}", daemon=True)
        self._thread.start()

    @staticmethod
    def _empty_history():
        return {**{k: [] for k in PARTS}, "content_loss": [], "style_loss": []}

    # -- commands: each returns at once; the worker handles them in order ------------------------
    def set_weights(self, content_weight=None, style_weight=None, tv_weight=None, blend=None, run_steps=None):
        """New weights, checked now (an ``NSTError`` here), used from the next step on. With
        ``run_steps``, an idle session starts a run of that many steps and a running one restarts its
        count (a slider released while the lab auto-runs)."""
        new = {}
        for key, value in (("content_weight", content_weight), ("style_weight", style_weight),
                           ("tv_weight", tv_weight)):
            if value is not None:
                new[key] = check_weight(value, key.replace("_", " "))
        if blend is not None:
            new["blend"] = normalize_blend(blend, len(self.objective.style_terms))
        self._send("weights", (new, run_steps))

    def run(self, steps=300):
        """Run ``steps`` steps from the current picture (a running session restarts its count)."""
        self._send("run", int(steps))

    start = run  # the name the first version used

    def stop(self, wait=True, timeout=30.0):
        """Stop the running optimisation or sweep; with ``wait``, until the worker has stopped."""
        self._send("stop", None)
        return self.sync(timeout) if wait else True

    def reset(self, wait=True, timeout=30.0):
        """Stop, and start over from the content image (weights are kept)."""
        self._send("reset", None)
        return self.sync(timeout) if wait else True

    def sweep(self, style_weights, steps=100):
        """Optimise one picture per style weight (see ``beta_sweep``) with the current content weight,
        TV and blend; reported as an ``Update`` whose ``sweep`` is the ``SweepResult``."""
        weights = [check_weight(w, "each style weight") for w in style_weights]
        if not weights:
            raise NSTError("give at least one style weight to sweep")
        self._send("sweep", (weights, int(steps)))

    def close(self, timeout=30.0):
        """End the worker (after the commands already sent); returns whether it has ended."""
        if self._thread.is_alive():
            self._send("close", None)
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def sync(self, timeout=None):
        """Wait until the worker has handled every command sent before this call (and any run they
        started has ended). Returns False on timeout."""
        done = threading.Event()
        self._send("sync", done)
        return done.wait(timeout)

    wait = sync

    @property
    def running(self):
        return self.state in ("running", "sweeping")

    @property
    def alive(self):
        return self._thread.is_alive()

    @property
    def weights(self):
        o = self.objective
        return {"content_weight": o.content_weight, "style_weight": o.style_weight, "tv_weight": o.tv_weight,
                "blend": list(o.blend)}

    def _send(self, kind, argument):
        if not self._thread.is_alive() and kind != "sync":
            raise NSTError("this live session is closed: make a new one")
        if not self._thread.is_alive():
            argument.set()
            return
        self._commands.put((kind, argument))

    # -- the worker ------------------------------------------------------------------------------
    def _work(self):
        try:
            pending = None
            while True:
                command = pending or self._commands.get()
                pending = self._handle(*command)
                if pending == "close":
                    break
        finally:
            self.state = "closed"
            while not self._commands.empty():  # release anyone waiting on a sync sent after close
                kind, argument = self._commands.get_nowait()
                if kind == "sync":
                    argument.set()

    def _handle(self, kind, argument):
        """Handle one command while idle. Returns the command that ended a run early (to handle next),
        "close" to end the worker, or None."""
        if kind == "weights":
            new, run_steps = argument
            self._apply(new)
            if run_steps:
                return self._run(run_steps)
            self._report(self.state)
        elif kind == "run":
            return self._run(argument)
        elif kind == "reset":
            self._reset()
        elif kind == "sweep":
            return self._run_sweep(*argument)
        elif kind == "sync":
            argument.set()
        elif kind == "close":
            return "close"
        # "stop" while idle: nothing runs, nothing to do
        return None

    def _apply(self, new):
        for key, value in new.items():
            setattr(self.objective, key, value)
        self.weights_version += 1
        self.weight_changes.append(self.step)

    def _command_waiting(self):
        """Whether a command other than ``sync`` waits (a sync waits for the run to end, not the reverse)."""
        with self._commands.mutex:
            return any(kind != "sync" for kind, _ in self._commands.queue)

    def _cancel_waiting(self):
        """Whether a stop, reset or close waits: only those end a sweep; other commands wait their turn,
        so that every picture of a sweep is made with the same weights."""
        with self._commands.mutex:
            return any(kind in ("stop", "reset", "close") for kind, _ in self._commands.queue)

    def _next_command(self, syncs, kinds=None):
        """The first waiting command that is not a sync (and, with ``kinds``, is one of them); syncs
        before it are kept in ``syncs``, other commands skipped over stay queued in their order."""
        with self._commands.mutex:
            waiting = self._commands.queue
            for i, (kind, argument) in enumerate(waiting):
                if kind != "sync" and (kinds is None or kind in kinds):
                    syncs.extend(a for k, a in list(waiting)[:i] if k == "sync")
                    kept = [c for c in list(waiting)[:i] if c[0] != "sync"]
                    for _ in range(i + 1):
                        waiting.popleft()
                    waiting.extendleft(reversed(kept))
                    return kind, argument
        raise RuntimeError("no command waits")

    def _run(self, steps):
        """Optimise, handling commands that arrive meanwhile; returns a command to handle when idle."""
        syncs = []
        try:
            return self._optimise(steps, syncs)
        finally:
            for done in syncs:
                done.set()

    def _optimise(self, steps, syncs):
        remaining, run_step, run_steps, start = steps, 0, steps, time.perf_counter()
        self.state, self.error = "running", None
        while remaining > 0:
            def preview(step, parts, image, done=run_step, started=start, total=run_steps):
                self.image, self._parts = image, parts
                self._report("running", run_step=done + step, run_steps=total, seconds=time.perf_counter() - started)

            try:
                result = optimize_image(self.objective, self.image, steps=remaining, optimizer=self.config.optimizer,
                                        lr=self.config.lr, line_search=self.config.line_search,
                                        callback=preview, callback_every=self.preview_every, progress=False,
                                        log_every=0, should_stop=self._command_waiting)
            except Exception as err:  # reported to the user interface; the kernel stays usable
                self.state, self.error = "error", str(err)
                self._report("error")
                return None
            self._absorb(result)
            run_step += result.evaluations
            remaining -= result.evaluations
            if result.stopped == "diverged":
                self.state, self.error = "stopped", "the loss became non-finite: lower the weights"
                self._report("stopped", run_step=run_step, run_steps=run_steps)
                return None
            if result.stopped != "stop":
                break
            kind, argument = self._next_command(syncs)  # what made it stop
            if kind == "weights":
                new, restart = argument
                self._apply(new)
                if restart:
                    remaining, run_step, run_steps, start = restart, 0, restart, time.perf_counter()
            elif kind == "run":
                remaining, run_step, run_steps, start = argument, 0, argument, time.perf_counter()
            else:  # stop, reset, sweep, close: this run ends here
                self.state = "stopped"
                self._report("stopped", run_step=run_step, run_steps=run_steps, seconds=time.perf_counter() - start)
                return None if kind == "stop" else (kind, argument)
        self.state = "finished"
        self._report("finished", run_step=run_step, run_steps=run_steps, seconds=time.perf_counter() - start)
        return None

    def _absorb(self, result):
        """Add a finished stretch of optimisation to the session's picture and history."""
        if not result.evaluations:
            return
        self.image, self.step = result.image, self.step + result.evaluations
        for key in PARTS:
            self.history[key] += result.history[key]
        o = self.objective
        for key, weight in (("content_loss", o.content_weight), ("style_loss", o.style_weight)):
            name = key.split("_")[0]
            self.history[key] += [v / weight if weight else float("nan") for v in result.history[name]]
        self._parts = {k: v[-1] for k, v in self.history.items() if v}

    def _reset(self):
        self.image, self.step, self._parts = self.content.clone(), 0, {}
        self.history, self.weight_changes = self._empty_history(), []
        self.state, self.error = "idle", None
        self._report("idle")

    def _run_sweep(self, style_weights, steps):
        self.state = "sweeping"
        done = []

        def on_picture(i, image, losses):
            done.append(i)
            self._report("sweeping", run_step=len(done), run_steps=len(style_weights), sweep=len(done), image=image)

        self._report("sweeping", run_step=0, run_steps=len(style_weights), sweep=0)
        syncs = []
        try:
            result = _sweep(self.objective, self.content, self.config, style_weights, steps, False,
                            self._cancel_waiting, on_picture)
            self.state = "stopped" if result.cancelled else "finished"
            self._report(self.state, run_step=len(result.images), run_steps=len(style_weights), sweep=result)
            if result.cancelled:
                kind, argument = self._next_command(syncs, ("stop", "reset", "close"))
                return None if kind == "stop" else (kind, argument)
            return None
        except Exception as err:
            self.state, self.error = "error", str(err)
            self._report("error")
            return None
        finally:
            for done in syncs:
                done.set()

    def _report(self, state, run_step=0, run_steps=0, seconds=0.0, sweep=None, image=None):
        if self.on_update is None:
            return
        history = {k: list(v) for k, v in self.history.items()} if state != "running" else {}
        self.on_update(Update(self.id, state, self.step, run_step, run_steps, dict(self._parts),
                              self.image if image is None else image, self.weights_version, seconds, sweep,
                              self.error, history))


def png_bytes(image, scale=1):
    """A tensor or PIL image as PNG bytes for an ``ipywidgets.Image`` (optionally enlarged, pixels kept sharp)."""
    pil = image if not torch.is_tensor(image) else to_pil(image)
    if scale != 1:
        from PIL import Image

        pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


class Lab:
    """The laboratory's widgets. ``Lab(content, styles, model)`` then show ``lab.widget`` (or just ``lab``).

    Sliders: content weight alpha and style weight beta (log scale, with their ratio), one blend
    weight per style image, the total-variation weight, image size and steps. Buttons: Run, Stop,
    Reset, and Sweep beta. A slider sends its value when released; while the session runs it changes
    the running optimisation, and while idle (with ``auto_run``) it runs ``steps`` more steps from
    the current picture.
    """

    def __init__(self, content, styles, model, size=128, steps=300, config="seed", preview_every=5,
                 sweep_values=(1e3, 1e4, 1e5, 1e6, 1e7), sweep_steps=100, scale=3, auto_run=True):
        import ipywidgets as W

        self.content, self.styles = content, as_image_list(styles)
        self.model, self.config, self.preview_every = model, make_config(config), preview_every
        self.sweep_values, self.sweep_steps, self.scale = list(sweep_values), sweep_steps, scale
        self.auto_run = auto_run
        c = self.config
        style = dict(description_width="110px")
        layout = W.Layout(width="420px")
        common = dict(style=style, layout=layout, continuous_update=False)
        self.alpha = W.FloatLogSlider(value=c.content_weight, base=10, min=-3, max=3, step=0.1,
                                      description="content α", readout_format=".2e", **common)
        self.beta = W.FloatLogSlider(value=c.style_weight, base=10, min=0, max=9, step=0.1,
                                     description="style β", readout_format=".2e", **common)
        self.tv = W.FloatLogSlider(value=1e-4, base=10, min=-4, max=3, step=0.25, description="TV (smooth)",
                                   readout_format=".1e", **common)
        self.ratio = W.HTML()
        self.blend = [W.FloatSlider(value=1.0 / len(self.styles), min=0.0, max=1.0, step=0.05,
                                    description=f"blend {self._style_name(i)}", **common)
                      for i in range(len(self.styles))]
        self.size = W.IntSlider(value=size, min=32, max=512, step=16, description="size (px)", **common)
        self.steps = W.IntSlider(value=steps, min=10, max=1000, step=10, description="steps", **common)
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
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        self.sweep_button.on_click(lambda _: self.run_sweep())
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
        old = self.session
        if old is not None:
            old.close()
        self.session = LiveSession(self.content, self.styles, self.model, self.config, size=self.size.value,
                                   blend=self._blend_value(), content_weight=self.alpha.value,
                                   style_weight=self.beta.value, tv_weight=self._tv_value(),
                                   preview_every=self.preview_every, on_update=self._on_update)
        self.progress.value, self.progress.description = 0, "step 0"
        self._show_image(self.session.image)
        self._show_plot({})

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
                                     tv_weight=self._tv_value(), blend=self._blend_value(),
                                     run_steps=self.steps.value if self.auto_run else None)
            self.status.value = ""
        except NSTError as err:
            self.status.value = f"<span style='color:#b00'>{err}</span>"

    def _size_changed(self, change):
        was_running = self.session.running
        self._build_session()
        if was_running:
            self.run()

    def _update_ratio(self):
        self.ratio.value = (f"<span style='margin-left:118px'>β/α = {self.beta.value / self.alpha.value:.2e}"
                            "</span>")

    def _on_update(self, update):
        if update.session != self.session.id:
            return  # a late report from a session this lab has replaced
        self.updates += 1
        self._show_image(update.image)
        if update.run_steps:
            self.progress.max = update.run_steps
            self.progress.value = min(update.run_step, update.run_steps)
        self.progress.description = f"step {update.step}"
        parts = update.parts
        text = ""
        if parts:
            text = (f"content {parts.get('content', 0):.3g} · style {parts.get('style', 0):.3g} · "
                    f"total {parts.get('total', 0):.3g}")
        self.status.value = f"{update.state}" + (f" · {text}" if text else "")
        if update.error:
            self.status.value = f"<span style='color:#b00'>error: {update.error}</span>"
        if isinstance(update.sweep, SweepResult):
            self._sweep_done(update.sweep)
        if update.history:
            self._show_plot(update.history)

    def _show_plot(self, history):
        if history.get("total"):
            from .plotting import loss_plot_png

            self.plot.value = loss_plot_png(history)
            self.plot.layout.display = None
        else:
            self.plot.layout.display = "none"

    def _show_image(self, image):
        self.preview.value = png_bytes(image, scale=max(1, self.scale * 128 // max(image.shape[-2:])))

    # -- buttons ---------------------------------------------------------------------------------
    def run(self):
        """Run (or continue) for the number of steps on the slider."""
        self.session.run(self.steps.value)

    def stop(self):
        self.session.stop(wait=False)

    def reset(self):
        self.session.reset(wait=False)

    def run_sweep(self, wait=False, timeout=None):
        """Optimise one picture per beta in ``sweep_values`` in the session's worker; when it is done,
        the sweep slider scrubs through them. With ``wait``, returns the ``SweepResult``."""
        self.session.sweep(self.sweep_values, self.sweep_steps)
        if wait:
            self.session.sync(timeout)
            return self.sweep
        return None

    def _sweep_done(self, sweep):
        self.sweep = sweep
        if not sweep.images:
            return
        labels = [f"{b:.0e}" for b in sweep.style_weights]
        self.sweep_slider.options = labels
        self.sweep_slider.disabled = False
        self.sweep_slider.value = labels[len(labels) // 2]
        self._show_sweep()

    def _show_sweep(self, change=None):
        if self.sweep is None or self.sweep_slider.disabled:
            return
        i = self.sweep_slider.index
        self._show_image(self.sweep.images[i])
        loss = self.sweep.losses[i]
        self.sweep_info.value = (f"β = {self.sweep.style_weights[i]:.0e}: content {loss['content']:.3g}, "
                                 f"style {loss['style']:.3g}")
