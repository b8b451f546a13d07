"""Optimising an image's pixels against an objective: the loop behind style transfer and reconstructions.

The core is notebook 5's loop: a closure that evaluates the objective at the picture and its
gradient, handed to L-BFGS::

    def closure():
        optimizer.zero_grad()
        image = x.clamp(0, 1)          # the picture is always in range
        total, parts = objective(image)
        total.backward()
        return total

    optimizer.step(closure)

What one *step* is: one evaluation of the objective and its gradient, that is one forward and one
backward pass through VGG19. L-BFGS may spend several evaluations on one of its own iterations (its
line search), so counting evaluations makes "300 steps" the same amount of work for L-BFGS and Adam;
it is how the PyTorch tutorial counts too. The bookkeeping around the core (the step budget, the
history, the best picture, progress, callbacks, Ctrl-C, early stopping) is the ``_Run`` below.

Keeping pixels in [0, 1]: the tutorial clamps the image *inside* the closure, which moves the point
L-BFGS is evaluating behind its back, so its curvature pairs stop matching the function and long
runs can blow up. Here the optimiser works on an unconstrained tensor ``x`` and the objective is
evaluated at ``clamp(x, 0, 1)``: L-BFGS always sees one fixed function of ``x``. A pixel pushed past
0 or 1 shows as 0 or 1 and gets no gradient while it is out. Adam has no curvature history, so it
simply projects ``x`` back into range after each step.

L-BFGS uses a strong-Wolfe line search by default (``line_search="none"`` gives the tutorial's fixed
step): every accepted step then lowers the loss, and a first step from noise cannot overshoot.
"""

import math
import time
import warnings
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .checks import MAX_STEPS
from .config import OPTIMIZERS, make_config
from .errors import NSTError
from .objective import PARTS

#: The window, in steps, over which ``tol`` measures the objective's relative improvement.
TOL_WINDOW = 20


def improved_less_than(best_totals, tol):
    """The stopping rule ``tol``: whether the best objective so far (``best_totals``, one value per
    step) improved by less than ``tol`` (relative) over the last ``TOL_WINDOW`` steps."""
    if len(best_totals) <= TOL_WINDOW:
        return False
    before, now = best_totals[-TOL_WINDOW - 1], best_totals[-1]
    return before - now <= tol * abs(now)


@dataclass
class OptimizationResult:
    """What an optimisation returns.

    image: the best picture found (lowest total), 1x3xHxW in [0, 1]; history: per step, the weighted
    ``content``, ``style``, ``tv`` and ``total`` losses; evaluations: steps done; seconds: wall time
    of the optimisation; stopped: ``None`` if all steps ran, else ``"converged"`` (``tol``),
    ``"interrupted"`` (Ctrl-C), ``"callback"`` (a callback returned False), ``"stop"``
    (``should_stop`` said so) or ``"diverged"`` (a non-finite loss; a warning says so).
    """

    image: torch.Tensor
    history: dict = field(default_factory=dict)
    evaluations: int = 0
    seconds: float = 0.0
    stopped: str = None
    best_step: int = 0

    @property
    def losses(self):
        """The losses of the returned image (the best step)."""
        if not self.history.get("total") or self.best_step < 1:
            return {}
        return {k: v[self.best_step - 1] for k, v in self.history.items()}

    def to_pil(self):
        from .images import to_pil

        return to_pil(self.image)

    def save(self, path, overwrite=True):
        from .images import save_image

        return save_image(self.image, path, overwrite=overwrite)


def initial_image(init, content, random_seed=0, noise_amplitude=1.0):
    """The starting picture: a copy of ``content`` (``"content"``), or seeded white noise
    0.5 + noise_amplitude * (U(0, 1) - 0.5) (``"noise"``; amplitude 1 is uniform noise over [0, 1]).
    The noise comes from its own generator: the caller's global random state is not touched."""
    if init == "content":
        return content.detach().clone()
    if init != "noise":
        raise NSTError(f"unknown init {init!r}: use 'content' or 'noise'")
    gen = torch.Generator(device="cpu").manual_seed(int(random_seed))
    return (0.5 + noise_amplitude * (torch.rand(content.shape, generator=gen) - 0.5)).to(content)


def make_optimizer(name, x, lr=None, line_search="strong_wolfe", history_size=100, max_iter=MAX_STEPS):
    """The torch optimiser for the pixels ``x``: L-BFGS (lr 1) or Adam (lr 0.02)."""
    if name == "lbfgs":
        return torch.optim.LBFGS(
            [x],
            lr=1 if lr is None else lr,
            max_iter=max_iter,
            max_eval=max_iter,
            history_size=history_size,
            line_search_fn=None if line_search in (None, "none") else line_search,
        )
    if name == "adam":
        return torch.optim.Adam([x], lr=0.02 if lr is None else lr)
    raise NSTError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")


class _Stop(Exception):
    """Ends the optimiser's step from inside the closure: the one way to leave torch's L-BFGS in the
    middle of an iteration (its line search may call the closure many times)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class _Run:
    """The bookkeeping of one optimisation: the step budget, history, best picture, progress and stops."""

    def __init__(self, steps, init, callback, callback_every, should_stop, progress, log_every, desc, tol):
        self.steps, self.callback, self.callback_every = steps, callback, max(1, int(callback_every))
        self.should_stop, self.progress, self.log_every, self.tol = should_stop, progress, log_every, tol
        self.history = {key: [] for key in PARTS}
        self.best_totals = []  # the lowest total so far, after each step (for ``tol``)
        self.best = {"total": math.inf, "image": init.detach().clamp(0, 1).clone(), "step": 0}
        self.bar = tqdm(total=steps, desc=desc, disable=not progress, leave=True)

    @property
    def evaluations(self):
        return len(self.history["total"])

    def check(self):
        """Before an evaluation: stop when the budget is spent or a stop was asked for."""
        if self.evaluations >= self.steps:
            raise _Stop(None)
        if self.should_stop is not None and self.should_stop():
            raise _Stop("stop")

    def record(self, parts, image):
        """After an evaluation: keep the losses and the best picture, report, and stop if asked to."""
        if not math.isfinite(parts["total"]):
            if self.evaluations == 0:
                raise NSTError(
                    f"the objective is not finite at the start (total = {parts['total']}): lower the "
                    f"content, style or tv weight"
                )
            raise _Stop("diverged")
        for key in PARTS:
            self.history[key].append(parts.get(key, 0.0))
        step = self.evaluations
        if parts["total"] < self.best["total"]:
            self.best.update(total=parts["total"], image=image.detach().clone(), step=step)
        self.best_totals.append(self.best["total"])
        self.bar.update(1)
        if self.progress:
            self.bar.set_postfix_str(f"loss {parts['total']:.3g}", refresh=False)  # short: fits a narrow bar
            if self.log_every and (step % self.log_every == 0 or step == self.steps):
                tqdm.write(f"step {step}/{self.steps}: " + "  ".join(f"{k} {parts[k]:.4g}" for k in PARTS))
        if self.callback is not None and (step % self.callback_every == 0 or step == self.steps):
            if self.callback(step, parts, image.detach()) is False:
                raise _Stop("callback")
        if self.converged():
            raise _Stop("converged")

    def converged(self):
        """Whether the best total improved by less than ``tol`` (relative) over the last ``TOL_WINDOW`` steps."""
        return bool(self.tol) and improved_less_than(self.best_totals, self.tol)

    def result(self, stopped, seconds):
        self.bar.close()
        if stopped == "diverged":
            warnings.warn(
                "the optimisation produced a non-finite loss and stopped; the best image so far is "
                "returned: lower the weights or the learning rate",
                RuntimeWarning,
                stacklevel=3,
            )
        return OptimizationResult(
            image=self.best["image"],
            history=self.history,
            evaluations=self.evaluations,
            seconds=seconds,
            stopped=stopped,
            best_step=self.best["step"],
        )


def optimize_image(
    objective,
    init,
    config="seed",
    *,
    steps=None,
    tol=None,
    callback=None,
    callback_every=50,
    should_stop=None,
    progress=True,
    log_every=50,
    desc="optimising",
    lbfgs_history=100,
):
    """Minimise ``objective(image) -> (total, parts)`` over the pixels of ``init``, as ``config`` says.

    config: a ``StyleConfig`` (or preset name): its ``optimizer``, ``lr``, ``line_search``, ``steps``
    (evaluations) and ``tol`` (stop once the objective improved by less than that fraction over the
    last ``TOL_WINDOW`` steps; 0: never). ``steps`` and ``tol`` given here override the config's for
    this call (a multiscale level's steps, a video frame's tol).
    callback(step, parts, image) runs every ``callback_every`` steps and after the last; if it returns
    False the run stops. ``should_stop()`` is asked before every step. Ctrl-C stops the run too; in
    every case the best image so far is returned. ``progress`` shows a tqdm bar and, every
    ``log_every`` steps, a line with the losses.
    """
    overrides = {k: v for k, v in (("steps", steps), ("tol", tol)) if v is not None}
    config = make_config(config, **overrides)
    steps, optimizer = config.steps, config.optimizer
    x = init.detach().clone().requires_grad_(True)
    opt = make_optimizer(optimizer, x, config.lr, config.line_search, lbfgs_history)
    run = _Run(steps, init, callback, callback_every, should_stop, progress, log_every, desc, config.tol)

    def closure():
        run.check()
        opt.zero_grad(set_to_none=True)
        image = x.clamp(0, 1)
        total, parts = objective(image)
        run.record(parts, image)
        total.backward()
        return total

    stopped, start = None, time.perf_counter()
    try:
        while True:  # L-BFGS may end its step early (its own tolerances); the budget ends the loop
            opt.step(closure)
            if optimizer == "adam":
                with torch.no_grad():
                    x.clamp_(0, 1)
    except _Stop as stop:
        stopped = stop.reason
    except KeyboardInterrupt:
        stopped = "interrupted"
    except BaseException:
        run.bar.close()
        raise
    return run.result(stopped, time.perf_counter() - start)
