"""A live style transfer: one worker thread per session owns the optimisation, commands reach it through a queue.

* ``LiveSession``: the worker thread owns the optimisation state (the picture, the objective, the
  history). Everything else talks to it through a queue of commands (new weights, run, stop, reset,
  sweep, close), handled in the order they were sent, so no command is lost and no two optimisations
  ever run at once. The worker reports ``Update`` values; the caller applies them. New weights sent
  while it runs are used from the next step on, carrying on from the current picture with a fresh
  L-BFGS (its curvature history belongs to the old objective).
* ``beta_sweep``: one picture per style weight, each optimised on its own from the photo, so each is
  exactly what a separate ``stylize`` run with that weight gives.

The widgets that drive a session are in ``lab``.
"""

import itertools
import queue
import sys
import threading
import time
from dataclasses import dataclass, field

import torch

from ..checks import check_weight
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


def _sweep(objective, content_t, config, style_weights, steps, progress, should_stop, on_picture, on_step=None,
           step_every=5):
    """The sweep's loop; ``on_step(i, step)`` every ``step_every`` steps of picture i (for progress)."""
    images, losses, seconds, kept = [], [], 0.0, objective.style_weight
    try:
        for i, beta in enumerate(style_weights):
            objective.style_weight = beta
            callback = None if on_step is None else (lambda step, parts, image, i=i: on_step(i, step))
            result = optimize_image(objective, initial_image(config.init, content_t, config.random_seed), config,
                                    steps=steps, progress=progress, log_every=0, desc=f"β = {beta:.0e}",
                                    should_stop=should_stop, callback=callback, callback_every=step_every)
            seconds += result.seconds
            if result.stopped == "stop":
                return SweepResult(style_weights[:i], images, losses, seconds, cancelled=True)
            images.append(result.image)
            alpha, parts = objective.content_weight, result.losses
            losses.append({**parts, "content_loss": parts["content"] / alpha if alpha else float("nan"),
                           "style_loss": parts["style"] / beta})
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
            def on_step(step, parts, image, done=run_step, started=start, total=run_steps):
                self._record(parts)
                if step % self.preview_every == 0:
                    self.image = image
                    self._report("running", run_step=done + step, run_steps=total,
                                 seconds=time.perf_counter() - started)

            try:
                result = optimize_image(self.objective, self.image, self.config, steps=remaining, tol=0,
                                        callback=on_step, callback_every=1, progress=False,
                                        log_every=0, should_stop=self._command_waiting)
            except Exception as err:  # reported to the user interface; the kernel stays usable
                self.state, self.error = "error", str(err)
                self._report("error")
                return None
            if result.evaluations:
                self.image = result.image  # the best picture of this stretch
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
        self.state = "sweeping"
        done, start, total = [], time.perf_counter(), len(style_weights) * steps

        def on_picture(i, image, losses):
            done.append(image)

        def on_step(i, step):
            self._report("sweeping", run_step=i * steps + step, run_steps=total, sweep=len(done),
                         image=done[-1] if done else None, seconds=time.perf_counter() - start)

        self._report("sweeping", run_step=0, run_steps=total, sweep=0)
        syncs = []
        try:
            result = _sweep(self.objective, self.content, self.config, style_weights, steps, False,
                            self._cancel_waiting, on_picture, on_step, self.preview_every)
            self.state = "stopped" if result.cancelled else "finished"
            self._report(self.state, run_step=len(result.images) * steps, run_steps=total, sweep=result,
                         seconds=time.perf_counter() - start)
            if result.cancelled:
                kind, argument = self._next_command(syncs, ("stop", "reset", "close"))
                return None if kind == "stop" else (kind, argument)
            return None
        except Exception as err:
            self.state, self.error = "error", str(err)
            self._report("error")
            return None
        finally:
            for event in syncs:
                event.set()

    def _report(self, state, run_step=0, run_steps=0, seconds=0.0, sweep=None, image=None):
        """Hand an ``Update`` to ``on_update``. An error there is the interface's: it is printed and the
        worker carries on (it must never take the session down with it)."""
        if self.on_update is None:
            return
        try:
            self._call_on_update(state, run_step, run_steps, seconds, sweep, image)
        except Exception:
            import traceback

            print(f"nst_helpers: the live session's on_update failed (the session goes on):\n"
                  f"{traceback.format_exc(limit=3)}", file=sys.stderr)

    def _call_on_update(self, state, run_step, run_steps, seconds, sweep, image):
        self.on_update(Update(self.id, state, self.step, run_step, run_steps, dict(self._parts),
                              self.image if image is None else image, self.weights_version, seconds, sweep,
                              self.error, {k: list(v) for k, v in self.history.items()}, self.weights,
                              list(self.weight_changes)))
