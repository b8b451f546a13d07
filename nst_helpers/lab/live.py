"""A live style transfer: one worker thread per session owns the optimisation; callers send it commands.

``LiveSession``, the protocol:

* The worker thread alone changes the optimisation state (the picture, the objective, the history).
  It reports ``Update`` values; the caller shows them.
* Commands (new weights, run, stop, reset, sweep, close) are checked at the call and return at once.
  They wait, in the order they were sent, in a list that the session's lock guards, and the worker
  takes them one at a time: nothing is lost and no two optimisations ever run at once. Weights sent
  one after another join into one command (a newer value replaces an older one), so a burst of
  slider values leaves no backlog: the worker applies the latest.
* A run asks before each step whether a command waits. New weights, or a new run, are taken there
  and the run goes on from the current picture with a fresh L-BFGS (its curvature history belongs
  to the old objective); weights are used from the next step on. Any other command ends the run
  and is handled next.
* A sweep asks only whether a stop, reset or close waits: everything else waits until the sweep has
  ended, so all its pictures are made with the same weights.
* ``sync()`` is no command: every command has a number, and the worker publishes the number of the
  last one it has finished (with any run it started); ``sync`` waits for the number of the last
  command sent before it.
* ``close()`` refuses every later command (an ``NSTError``); when the worker ends, anyone waiting in
  ``sync`` is released.

``beta_sweep``: one picture per style weight, each optimised on its own from the photo, so each is
exactly what a separate ``stylize`` run with that weight gives.

The widgets that drive a session are in ``widgets``.
"""

import itertools
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import torch

from ..checks import MAX_STEPS, check_number, check_weight
from ..config import make_config
from ..errors import NSTError
from ..losses import normalize_blend
from ..objective import PARTS, build_objective
from ..optimize import initial_image, optimize_image
from ..prepare import prepare_run

#: Session states, as ``Update.state`` reports them.
STATES = ("idle", "running", "finished", "stopped", "sweeping", "error", "closed")


def _prepare(content, styles, model, config):
    """The content and style tensors of a session, set up as for ``stylize`` (``prepare_run``: the
    model's device, sizes and memory checked, the model checked against the configuration)."""
    run = prepare_run(content, styles, config, model=model)
    return run.content, run.styles


@dataclass
class SweepResult:
    """One stylised picture per style weight, with its losses (weighted, and unweighted as
    ``content_loss`` and ``style_loss``); ``cancelled`` if stopped early (then ``images`` holds the
    pictures finished before)."""

    style_weights: list
    images: list
    losses: list
    seconds: float
    cancelled: bool = False


def beta_sweep(
    content,
    styles,
    model,
    style_weights=(1e3, 1e4, 1e5, 1e6, 1e7),
    config="seed",
    steps=150,
    progress=True,
    should_stop=None,
    on_picture=None,
    **overrides,
):
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


def _sweep(
    objective, content_t, config, style_weights, steps, progress, should_stop, on_picture, on_step=None, step_every=5
):
    """The sweep's loop; ``on_step(i, step)`` every ``step_every`` steps of picture i (for progress)."""
    images, losses, seconds, kept = [], [], 0.0, objective.style_weight
    try:
        for i, beta in enumerate(style_weights):
            objective.style_weight = beta
            callback = None if on_step is None else (lambda step, parts, image, i=i: on_step(i, step))
            result = optimize_image(
                objective,
                initial_image(config.init, content_t, config.random_seed),
                config,
                steps=steps,
                progress=progress,
                log_every=0,
                desc=f"β = {beta:.0e}",
                should_stop=should_stop,
                callback=callback,
                callback_every=step_every,
            )
            seconds += result.seconds
            if result.stopped == "stop":
                return SweepResult(style_weights[:i], images, losses, seconds, cancelled=True)
            images.append(result.image)
            alpha, parts = objective.content_weight, result.losses
            losses.append(
                {
                    **parts,
                    "content_loss": parts["content"] / alpha if alpha else float("nan"),
                    "style_loss": parts["style"] / beta,
                }
            )
            if on_picture is not None:
                on_picture(i, result.image, losses[-1])
    finally:
        objective.style_weight = kept
    return SweepResult(style_weights, images, losses, seconds)


@dataclass
class Update:
    """What a live session reports, as plain values for a user interface to show.

    state: one of ``STATES``; step: steps done since the last reset; run_step / run_steps: progress
    of the current run (of a sweep: steps of all its pictures); parts: the latest weighted losses
    (with ``unweighted``); image: the current picture (while sweeping, the last finished one);
    weights_version: how many weight changes the worker has applied; seconds: time since the run
    (or sweep) began; sweep: a finished (or cancelled) ``SweepResult``, or the count of pictures done
    so far while sweeping; history: per step since the last reset, the weighted parts and the
    unweighted ``content_loss`` and ``style_loss``; weights: the weights in use; weight_changes: the
    steps at which new weights took effect.
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
    weights: dict = field(default_factory=dict)
    weight_changes: list = field(default_factory=list)


_session_ids = itertools.count(1)

#: The commands that end a sweep (any command ends a run).
_CANCELS = ("stop", "reset", "close")


def _check_steps(steps, name="steps"):
    return check_number(steps, name, minimum=1, maximum=MAX_STEPS, integer=True)


@dataclass
class _Command:
    """A command waiting for the worker; ``number`` orders it among all the commands sent."""

    kind: str
    argument: object
    number: int


class LiveSession:
    """A style transfer owned by one worker thread that takes commands while it runs (see the module doc)."""

    def __init__(self, content, styles, model, config="seed", preview_every=5, on_update=None, **overrides):
        self.config = make_config(config, **overrides)
        self.content, style_ts = _prepare(content, styles, model, self.config)
        self.objective = build_objective(model, self.content, style_ts, self.config)
        self.id = next(_session_ids)
        self.preview_every = _check_steps(preview_every, "preview_every")
        self.on_update = on_update
        # Owned by the worker thread; read elsewhere only through updates (or after ``sync``).
        self.image = self.content.clone()
        self.step = 0
        self.history = self._empty_history()
        self.weight_changes = []  # steps at which new weights took effect
        self.weights_version = 0
        self.state = "idle"
        self.error = None
        self._parts = {}
        # The protocol's state, guarded by one lock; ``_changed`` is notified whenever it changes.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting = deque()  # commands sent and not yet taken by the worker, oldest first
        self._cancels = 0  # how many of them are a stop, reset or close
        self._sent = 0  # the number of the last command sent
        self._taken = 0  # ... of the last one the worker took
        self._finished = 0  # ... of the last one it has finished, with the run it started
        self._closing = False  # close() was called: no more commands
        self._ended = False  # the worker has ended
        self._thread = threading.Thread(target=self._work, name=f"nst-live-{self.id}", daemon=True)
        self._thread.start()

    @staticmethod
    def _empty_history():
        return {**{k: [] for k in PARTS}, "content_loss": [], "style_loss": []}

    # -- commands: each is checked here and returns at once; the worker takes them in order -------
    def set_weights(self, content_weight=None, style_weight=None, tv_weight=None, blend=None, run_steps=None):
        """New weights, checked now (an ``NSTError`` here), used from the next step on. With
        ``run_steps``, an idle session starts a run of that many steps and a running one restarts its
        count (a slider released while the lab auto-runs). Weights not yet taken by the worker are
        replaced by newer ones (only the latest values are applied)."""
        new = {}
        for key, value in (
            ("content_weight", content_weight),
            ("style_weight", style_weight),
            ("tv_weight", tv_weight),
        ):
            if value is not None:
                new[key] = check_weight(value, key.replace("_", " "))
        if blend is not None:
            new["blend"] = normalize_blend(blend, len(self.objective.style_terms))
        if run_steps is not None:
            run_steps = _check_steps(run_steps, "run_steps")
        self._send("weights", (new, run_steps))

    def run(self, steps=300):
        """Run ``steps`` steps from the current picture (a running session restarts its count)."""
        self._send("run", _check_steps(steps))

    def stop(self, wait=True, timeout=30.0):
        """Stop the running optimisation or sweep; with ``wait``, until the worker has stopped."""
        self._send("stop")
        return self.sync(timeout) if wait else True

    def reset(self, wait=True, timeout=30.0):
        """Stop, and start over from the content image (weights are kept)."""
        self._send("reset")
        return self.sync(timeout) if wait else True

    def sweep(self, style_weights, steps=100):
        """Optimise one picture per style weight (see ``beta_sweep``) with the current content weight,
        TV and blend; reported as an ``Update`` whose ``sweep`` is the ``SweepResult``."""
        weights = [check_weight(w, "each style weight") for w in style_weights]
        if not weights:
            raise NSTError("give at least one style weight to sweep")
        self._send("sweep", (weights, _check_steps(steps)))

    def close(self, timeout=30.0):
        """End the worker (after the commands already sent); returns whether it has ended. Later
        commands are refused."""
        self._send("close")
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def sync(self, timeout=None):
        """Wait until the worker has handled every command sent before this call (and any run they
        started has ended), or has ended. Returns False on timeout."""
        with self._changed:
            target = self._sent
            return self._changed.wait_for(lambda: self._finished >= target or self._ended, timeout)

    @property
    def running(self):
        return self.state in ("running", "sweeping")

    @property
    def alive(self):
        return self._thread.is_alive()

    @property
    def weights(self):
        o = self.objective
        return {
            "content_weight": o.content_weight,
            "style_weight": o.style_weight,
            "tv_weight": o.tv_weight,
            "blend": list(o.blend),
        }

    def _send(self, kind, argument=None):
        with self._changed:
            if self._closing or self._ended:
                if kind == "close":
                    return
                raise NSTError("this live session is closed: make a new one")
            self._sent += 1
            last = self._waiting[-1] if self._waiting else None
            if kind == "weights" and last is not None and last.kind == "weights":
                (old, old_steps), (new, run_steps) = last.argument, argument
                last.argument = ({**old, **new}, old_steps if run_steps is None else run_steps)
                last.number = self._sent
            else:
                self._waiting.append(_Command(kind, argument, self._sent))
                self._cancels += kind in _CANCELS
            if kind == "close":
                self._closing = True
            self._changed.notify_all()

    # -- the worker ------------------------------------------------------------------------------
    def _take(self, kinds=None):
        """The oldest waiting command, waiting for one; with ``kinds``, only if it is one of them
        (else None, at once)."""
        with self._changed:
            if kinds is None:
                self._changed.wait_for(lambda: self._waiting)
            elif not self._waiting or self._waiting[0].kind not in kinds:
                return None
            command = self._waiting.popleft()
            self._cancels -= command.kind in _CANCELS
            self._taken = command.number
            return command

    def _command_waiting(self):
        """Whether any command waits (asked by a run before each step)."""
        with self._lock:
            return bool(self._waiting)

    def _cancel_waiting(self):
        """Whether a stop, reset or close waits (asked by a sweep: only those end it)."""
        with self._lock:
            return self._cancels > 0

    def _work(self):
        try:
            while True:
                command = self._take()
                self._handle(command.kind, command.argument)
                with self._changed:
                    self._finished = self._taken
                    self._changed.notify_all()
                if command.kind == "close":
                    break
        finally:
            with self._changed:
                self.state = "closed"
                self._ended = True
                self._changed.notify_all()  # releases anyone waiting in sync

    def _handle(self, kind, argument):
        """Handle one command while idle (a run or sweep it starts ends before this returns)."""
        if kind == "weights":
            new, run_steps = argument
            self._apply(new)
            if run_steps:
                self._run(run_steps)
            else:
                self._report(self.state)
        elif kind == "run":
            self._run(argument)
        elif kind == "reset":
            self._reset()
        elif kind == "sweep":
            self._run_sweep(*argument)
        # "stop" while idle: nothing runs, nothing to do; "close": the worker ends

    def _apply(self, new):
        for key, value in new.items():
            setattr(self.objective, key, value)
        self.weights_version += 1
        self.weight_changes.append(self.step)

    def _run(self, steps):
        """Optimise from the current picture. New weights or a new run that arrive meanwhile are taken
        and the run goes on; any other command ends it and stays waiting, to be handled next."""
        remaining, run_step, run_steps, start = steps, 0, steps, time.perf_counter()
        self.state, self.error = "running", None
        while remaining > 0:

            def on_step(step, parts, image, done=run_step, started=start, total=run_steps):
                self._record(parts)
                if step % self.preview_every == 0:
                    self.image = image
                    self._report(
                        "running", run_step=done + step, run_steps=total, seconds=time.perf_counter() - started
                    )

            try:
                result = optimize_image(
                    self.objective,
                    self.image,
                    self.config,
                    steps=remaining,
                    tol=0,
                    callback=on_step,
                    callback_every=1,
                    progress=False,
                    log_every=0,
                    should_stop=self._command_waiting,
                )
            except Exception as err:  # reported to the user interface; the kernel stays usable
                self.state, self.error = "error", str(err)
                self._report("error")
                return
            if result.evaluations:
                self.image = result.image  # the best picture of this stretch
            run_step += result.evaluations
            remaining -= result.evaluations
            if result.stopped == "diverged":
                self.state, self.error = "stopped", "the loss became non-finite: lower the weights"
                self._report("stopped", run_step=run_step, run_steps=run_steps)
                return
            if result.stopped != "stop":
                break
            command = self._take(("weights", "run"))  # what made it stop, if the run goes on
            if command is None:  # stop, reset, sweep, close: this run ends here
                self.state = "stopped"
                self._report("stopped", run_step=run_step, run_steps=run_steps, seconds=time.perf_counter() - start)
                return
            if command.kind == "weights":
                new, restart = command.argument
                self._apply(new)
            else:
                restart = command.argument
            if restart:
                remaining, run_step, run_steps, start = restart, 0, restart, time.perf_counter()
        self.state = "finished"
        self._report("finished", run_step=run_step, run_steps=run_steps, seconds=time.perf_counter() - start)

    def _record(self, parts):
        """One step's losses into the history: the weighted parts, and the unweighted content and style
        losses (which a change of weights does not make jump)."""
        self.step += 1
        for key in PARTS:
            self.history[key].append(parts.get(key, 0.0))
        unweighted = parts.get("unweighted", {})
        self.history["content_loss"].append(unweighted.get("content", float("nan")))
        self.history["style_loss"].append(unweighted.get("style", float("nan")))
        self._parts = parts

    def _reset(self):
        self.image, self.step, self._parts = self.content.clone(), 0, {}
        self.history, self.weight_changes = self._empty_history(), []
        self.state, self.error = "idle", None
        self._report("idle")

    def _run_sweep(self, style_weights, steps):
        """The sweep; a stop, reset or close cancels it (and stays waiting, to be handled next)."""
        self.state = "sweeping"
        done, start, total = [], time.perf_counter(), len(style_weights) * steps

        def on_picture(i, image, losses):
            done.append(image)

        def on_step(i, step):
            self._report(
                "sweeping",
                run_step=i * steps + step,
                run_steps=total,
                sweep=len(done),
                image=done[-1] if done else None,
                seconds=time.perf_counter() - start,
            )

        self._report("sweeping", run_step=0, run_steps=total, sweep=0)
        try:
            result = _sweep(
                self.objective,
                self.content,
                self.config,
                style_weights,
                steps,
                False,
                self._cancel_waiting,
                on_picture,
                on_step,
                self.preview_every,
            )
            self.state = "stopped" if result.cancelled else "finished"
            self._report(
                self.state,
                run_step=len(result.images) * steps,
                run_steps=total,
                sweep=result,
                seconds=time.perf_counter() - start,
            )
        except Exception as err:
            self.state, self.error = "error", str(err)
            self._report("error")

    def _report(self, state, run_step=0, run_steps=0, seconds=0.0, sweep=None, image=None):
        """Hand an ``Update`` to ``on_update``. An error there is the interface's: it is printed and the
        worker carries on (it must never take the session down with it)."""
        if self.on_update is None:
            return
        try:
            self._call_on_update(state, run_step, run_steps, seconds, sweep, image)
        except Exception:
            import traceback

            print(
                f"nst_helpers: the live session's on_update failed (the session goes on):\n"
                f"{traceback.format_exc(limit=3)}",
                file=sys.stderr,
            )

    def _call_on_update(self, state, run_step, run_steps, seconds, sweep, image):
        self.on_update(
            Update(
                self.id,
                state,
                self.step,
                run_step,
                run_steps,
                dict(self._parts),
                self.image if image is None else image,
                self.weights_version,
                seconds,
                sweep,
                self.error,
                {k: list(v) for k, v in self.history.items()},
                self.weights,
                list(self.weight_changes),
            )
        )
