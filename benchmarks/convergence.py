"""When is a picture done? The stopping rule ``tol`` measured, for ``python -m benchmarks.run --only convergence``.

For each content/style pair (the bundled photos and paintings, square like the seed's images) at 128
and 256 px, one run of the seed's 300 L-BFGS steps keeps the picture of every step. The rule ``tol``
(``optimize.TOL_WINDOW``: stop once the best objective improved by less than ``tol``, relative, over
the last 20 steps) is then replayed on that run's own history for several values of ``tol``: where it
would have stopped, the picture ``stylize(..., tol=...)`` would have returned (the best so far), its
seed objective judged on the saved 8-bit picture against that of the full 300 steps, and how far its
pixels are from the full run's (0..255 levels). One replay per size is checked against a real run
with ``tol``, so the replay is the rule as the package applies it.
"""

import time

import torch

import nst_helpers as nst
from nst_helpers.optimize import TOL_WINDOW, improved_less_than

PAIRS = (("chelsea", "starry_night"), ("coffee", "the_scream"), ("chelsea", "the_scream"), ("coffee", "starry_night"))
SIZES = (128, 256)
TOLS = (0.02, 0.01, 0.005, 0.002, 0.001)
STEPS = 300


def stop_step(totals, tol):
    """The step at which ``tol`` ends a run whose objective per step is ``totals`` (``STEPS`` if never),
    by the package's own rule (``optimize.improved_less_than``)."""
    best_totals = []
    for step, total in enumerate(totals, start=1):
        best_totals.append(min(total, best_totals[-1]) if best_totals else total)
        if improved_less_than(best_totals, tol):
            return step
    return len(totals)


def run_pair(model, content_name, style_name, size):
    content = nst.load_image(content_name, size=(size, size))
    style = nst.load_image(style_name, size=(size, size))
    judge = nst.build_objective(model, content, [style], nst.PRESETS["seed"])
    pictures = []  # the 8-bit picture of every step

    def keep(step, parts, image):
        pictures.append(nst.quantize(image))

    start = time.perf_counter()
    full = nst.stylize(content, style, model=model, steps=STEPS, progress=False, callback=keep, callback_every=1)
    seconds = time.perf_counter() - start
    totals = full.history["total"]

    def judged(picture):
        with torch.no_grad():
            return judge(picture)[1]["total"]

    full_picture = nst.quantize(full.image)
    full_objective = judged(full_picture)
    rows = {}
    for tol in TOLS:
        k = stop_step(totals, tol)
        best = min(range(k), key=lambda i: totals[i])  # the best picture up to step k (what a run returns)
        picture = pictures[best]
        diff = (picture - full_picture).abs() * 255
        rows[f"{tol:g}"] = {
            "steps": k,
            "seconds": seconds * k / len(totals),
            "objective_ratio": judged(picture) / full_objective,
            "pixel_mean": float(diff.mean()),
            "pixel_p99": float(diff.flatten().quantile(0.99)),
            "pixel_max": float(diff.max()),
        }
    return {
        "content": content_name,
        "style": style_name,
        "size": size,
        "seconds": seconds,
        "objective": full_objective,
        "tols": rows,
    }


def check_replay(model, size, tol=0.005):
    """A real run with ``tol`` stops where the replay says and returns the same picture."""
    content = nst.load_image(PAIRS[0][0], size=(size, size))
    style = nst.load_image(PAIRS[0][1], size=(size, size))
    full = nst.stylize(content, style, model=model, steps=STEPS, progress=False)
    real = nst.stylize(content, style, model=model, steps=STEPS, progress=False, tol=tol)
    expected = stop_step(full.history["total"], tol)
    assert real.evaluations == expected, (real.evaluations, expected)
    return expected


def measure(weights, out_dir=None):
    torch.manual_seed(0)
    model = nst.load_vgg19(weights)
    runs = []
    for size in SIZES:
        check_replay(model, size)
        for content_name, style_name in PAIRS:
            runs.append(run_pair(model, content_name, style_name, size))
            print(f"  convergence {content_name}/{style_name} {size} px done", flush=True)
    return {
        "weights": str(weights),
        "steps": STEPS,
        "window": TOL_WINDOW,
        "tols": [f"{t:g}" for t in TOLS],
        "runs": runs,
    }
