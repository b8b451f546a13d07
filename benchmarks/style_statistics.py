"""What is style? (notebook 10), for ``python -m benchmarks.run --only statistics``.

Four content/style pairs at 128 px, each transferred with every style statistic (Gram, mean and std,
sliced Wasserstein, patches) in every network (VGG19 with the loaded weights, VGG19 with seeded random
weights, the random shallow multi-scale network), each objective calibrated the same way
(``style_stats.calibrate``: both terms 1 at the start, style weighted ``RATIO`` times content), from the
photo, L-BFGS until ``tol`` or ``STEPS``. Then every picture is scored by every statistic in every network
(``style_stats.cross_evaluate``, judges: the three networks drawn with seed 0) and summarised only by
judges in networks it was not optimised in (``judge_table``).

Run-to-run noise: each run is repeated with ``SEEDS``. A seed draws the random networks' weights and the
sliced Wasserstein's directions; a run in the loaded VGG19 with the Gram, mean/std or patch statistic is
the same at every seed (the start is the photo), so its seed-to-seed spread is zero. A difference between
two cells is called larger than the noise when the mean of its paired differences (over pairs and seeds)
is more than twice their standard error, more than twice the seed-to-seed spread of one difference, and at
least ``RESOLUTION``. The machine's load average and torch's threads are recorded.
"""

import math
import os
import time

import torch

import nst_helpers as nst
from nst_helpers import style_stats as S
from nst_helpers.images import EXAMPLES_DIR

PAIRS = (
    ("chelsea", "starry_night"),
    ("coffee", "the_scream"),
    ("photos/astronaut.jpg", "starry_night"),
    ("photos/rocket.jpg", "the_scream"),
)
SEEDS = (0, 1)
SIZE, STEPS, TOL, RATIO = 128, 80, 0.01, 10.0
REFERENCE = ("gram", "vgg19")
RESOLUTION = 0.005  # the smallest difference of relative distances the table reports as one


def _image(name, size):
    source = EXAMPLES_DIR / name if "/" in name else name
    return nst.load_image(source, size=size)


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else float("nan")


def measure(weights=None, out_dir=None, pairs=PAIRS, seeds=SEEDS, steps=STEPS, size=SIZE):
    load_before = os.getloadavg()
    started = time.perf_counter()
    judges = {name: S.load_network(name, weights, seed=0) for name in S.NETWORKS}
    runs = []  # one per (pair, seed, statistic, network)
    first_pictures = {}
    for p, (photo_name, painting_name) in enumerate(pairs):
        photo, painting = _image(photo_name, size), _image(painting_name, size)
        pictures = {}
        for seed in seeds:
            nets = judges if seed == 0 else {name: S.load_network(name, weights, seed=seed) for name in S.NETWORKS}
            for stat in nst.STYLE_LOSSES:
                for net in S.NETWORKS:
                    r = S.transfer(photo, painting, nets[net], stat, ratio=RATIO, seed=seed, steps=steps, tol=TOL)
                    pictures[(stat, net, seed)] = r.image
                    runs.append(
                        {
                            "pair": p,
                            "seed": seed,
                            "statistic": stat,
                            "network": net,
                            "seconds": r.seconds,
                            "steps": r.evaluations,
                            "converged": r.stopped == "converged",
                        }
                    )
                    print(
                        f"  statistics: pair {p} seed {seed} {stat} in {net}: {r.evaluations} steps, {r.seconds:.1f} s",
                        flush=True,
                    )
        table = S.judge_table(S.cross_evaluate(pictures, photo, painting, judges, seed=0))
        for run in runs:
            if run["pair"] == p:
                run.update(table[(run["statistic"], run["network"], run["seed"])])
        if p == 0:
            first_pictures = {"photo": photo, "painting": painting, **{k: v for k, v in pictures.items() if k[2] == 0}}
    out = {
        "pairs": [list(x) for x in pairs],
        "seeds": list(seeds),
        "size": size,
        "steps": steps,
        "tol": TOL,
        "ratio": RATIO,
        "weights": str(judges["vgg19"].source),
        "threads": torch.get_num_threads(),
        "runs": runs,
        "cells": summarise(runs),
        "wall_seconds": time.perf_counter() - started,
        "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }
    if out_dir is not None:
        figure(first_pictures, out_dir / "statistics.png", pairs[0])
    return out


def summarise(runs):
    """Per (statistic, network): means over pairs and seeds, the seed-to-seed spread of the fair style distance
    (the standard deviation of one run, from the paired seeds), and the paired comparison with ``REFERENCE``."""
    cells = []
    keys = list(dict.fromkeys((r["statistic"], r["network"]) for r in runs))
    for stat, net in keys:
        mine = [r for r in runs if (r["statistic"], r["network"]) == (stat, net)]
        spread = _spread(mine)
        ref = {(r["pair"], r["seed"]): r for r in runs if (r["statistic"], r["network"]) == REFERENCE}
        ref_spread = _spread([r for r in runs if (r["statistic"], r["network"]) == REFERENCE])
        diffs = [r["fair_style"] - ref[(r["pair"], r["seed"])]["fair_style"] for r in mine]
        mean_diff = _mean(diffs)
        se = math.sqrt(sum((d - mean_diff) ** 2 for d in diffs) / max(1, len(diffs) - 1) / len(diffs))
        cells.append(
            {
                "statistic": stat,
                "network": net,
                "seconds": _mean([r["seconds"] for r in mine]),
                "steps": _mean([r["steps"] for r in mine]),
                "converged": sum(r["converged"] for r in mine),
                "runs": len(mine),
                "content_kept": _mean([r["content_kept"] for r in mine]),
                "fair_style": _mean([r["fair_style"] for r in mine]),
                "self_style": _mean([r["self_style"] for r in mine]),
                "by_judge": {s: _mean([r["by_judge"][s] for r in mine]) for s in nst.STYLE_LOSSES},
                "seed_spread": spread,
                "vs_reference": mean_diff,
                "vs_reference_se": se,
                # larger than the noise: beyond twice its standard error over pairs and seeds, beyond twice
                # the seed-to-seed spread of one difference, and at least the table's resolution
                "beyond_noise": (stat, net) != REFERENCE
                and abs(mean_diff) >= RESOLUTION
                and abs(mean_diff) > 2 * se
                and abs(mean_diff) > 2 * math.hypot(spread, ref_spread),
            }
        )
    return cells


def _spread(runs):
    """The seed-to-seed standard deviation of the fair style distance, pooled over the pairs."""
    variances = []
    for p in {r["pair"] for r in runs}:
        values = [r["fair_style"] for r in runs if r["pair"] == p]
        if len(values) > 1:
            m = _mean(values)
            variances.append(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return math.sqrt(_mean(variances)) if variances else float("nan")


def figure_again(weights, path, seed=0, size=SIZE, steps=STEPS):
    """Only the figure: the first pair's twelve transfers at ``seed`` (the same pictures ``measure`` makes)."""
    judges = {name: S.load_network(name, weights, seed=seed) for name in S.NETWORKS}
    photo, painting = _image(PAIRS[0][0], size), _image(PAIRS[0][1], size)
    pictures = {"photo": photo, "painting": painting}
    for stat in nst.STYLE_LOSSES:
        for net in S.NETWORKS:
            r = S.transfer(photo, painting, judges[net], stat, ratio=RATIO, seed=seed, steps=steps, tol=TOL)
            pictures[(stat, net, seed)] = r.image
    figure(pictures, path, PAIRS[0])


def figure(pictures, path, pair):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {"vgg19": "VGG19 (loaded weights)", "vgg19_random": "VGG19, random weights", "shallow": "shallow, random"}
    fig, axes = plt.subplots(len(S.NETWORKS), len(nst.STYLE_LOSSES) + 1, figsize=(12, 7.2))
    for i, net in enumerate(S.NETWORKS):
        first = pictures["photo"] if i == 0 else pictures["painting"] if i == 1 else None
        axes[i, 0].axis("off")
        if first is not None:
            axes[i, 0].imshow(first[0].permute(1, 2, 0).numpy())
            axes[i, 0].set_title(f"{'photo' if i == 0 else 'painting'}: {pair[i].split('/')[-1]}", fontsize=9)
        for j, stat in enumerate(nst.STYLE_LOSSES):
            ax = axes[i, j + 1]
            ax.imshow(pictures[(stat, net, 0)][0].permute(1, 2, 0).clamp(0, 1).numpy())
            ax.set_title(f"{stat}\nin {names[net]}", fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)
