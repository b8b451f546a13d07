"""Balancing several styles (notebook 7, section 5), for ``python -m benchmarks.run --only balance``.

What "style s got its share b_s" means here: the blend's picture x removed a_s = (L_s(x_0) - L_s(x)) /
(L_s(x_0) - L_s(x_s)) of what a run with style s alone removes (x_0 the photo, where every run starts; x_s the
picture of the run with style s alone; L_s the seed's unweighted style loss of style s). Style s's share is
a_s / (a_1 + a_2), and a rule is judged by how far the share of the first style is from b_1 (the gap, in
points of share). A ratio of one style's own losses: the same for any scale of the network's activations.

Every pair of style images in ``PAIRS`` (the course bundles two paintings; the other styles are its texture
photos), blends (0.5, 0.5), (0.7, 0.3) and (0.3, 0.7), rules none, static and dynamic, at 128 px: the seed
configuration stopped at tol 0.005 (the same rule for every run and for the runs with one style). Seconds are
those of each whole run; the load average is recorded.
"""

import os
import time
from pathlib import Path

import torch

import nst_helpers as nst
from nst_helpers.objective import build_objective

CONTENT = "chelsea"
PAIRS = [
    ("starry_night", "the_scream"),
    ("starry_night", "brick"),
    ("the_scream", "hubble_deep_field"),
    ("brick", "grass"),
]
BLENDS = [(0.5, 0.5), (0.7, 0.3), (0.3, 0.7)]
RULES = ["none", "static", "dynamic"]
SIZE, STEPS, TOL = 128, 300, 0.005


def _style(name, size):
    path = nst.example_path(name) if name in nst.EXAMPLES else nst.images.EXAMPLES_DIR / "photos" / f"{name}.jpg"
    return nst.load_image(path, size=size)


def _losses(model, content, styles, image):
    """The unweighted style loss of each style image at ``image`` (the seed's layers and Gram matrices)."""
    objective = build_objective(model, content, styles, nst.make_config("seed"))
    with torch.no_grad():
        return objective(image)[1]["style_per_image"]


def measure(weights, out_dir=None):
    load_before = os.getloadavg()
    model = nst.load_vgg19(weights, device="cpu", progress=False)
    content = nst.load_image(CONTENT, size=SIZE)
    names = sorted({n for pair in PAIRS for n in pair})
    styles = {n: _style(n, SIZE) for n in names}
    run = dict(size=SIZE, steps=STEPS, tol=TOL, model=model, progress=False, log_every=0)
    solo = {}
    for n in names:
        start = time.perf_counter()
        result = nst.stylize(content, styles[n], "seed", **run)
        solo[n] = {"image": result.image, "seconds": time.perf_counter() - start, "steps": result.evaluations}
    rows, pictures = [], {}
    for a, b in PAIRS:
        pair = [styles[a], styles[b]]
        start_losses = _losses(model, content, pair, content)
        solo_losses = [
            _losses(model, content, pair, solo[a]["image"])[0],
            _losses(model, content, pair, solo[b]["image"])[1],
        ]
        for blend in BLENDS:
            for rule in RULES:
                t0 = time.perf_counter()
                result = nst.stylize(content, pair, "seed", blend=list(blend), balance_styles=rule, **run)
                seconds = time.perf_counter() - t0
                losses = _losses(model, content, pair, result.image)
                removed = [
                    max(0.0, (s0 - loss) / (s0 - sl)) if s0 > sl else 0.0
                    for s0, loss, sl in zip(start_losses, losses, solo_losses)
                ]
                share = removed[0] / sum(removed) if sum(removed) > 0 else 0.5
                rows.append(
                    {
                        "pair": [a, b],
                        "blend": list(blend),
                        "rule": rule,
                        "removed": [round(v, 4) for v in removed],
                        "share": round(share, 4),
                        "gap": round(abs(share - blend[0]), 4),
                        "seconds": round(seconds, 2),
                        "steps": result.evaluations,
                    }
                )
                if (a, b) == PAIRS[0]:
                    pictures[(blend, rule)] = result.image
    figure = None
    if out_dir is not None:
        figure = Path(out_dir) / "balance.png"
        _figure(pictures, figure)
    return {
        "weights": Path(weights).name,
        "network": model.description,
        "threads": torch.get_num_threads(),
        "load_average": list(load_before) + list(os.getloadavg()),
        "content": CONTENT,
        "size": SIZE,
        "steps": STEPS,
        "tol": TOL,
        "solo": {n: {"seconds": round(v["seconds"], 2), "steps": v["steps"]} for n, v in solo.items()},
        "rows": rows,
        "figure": str(figure) if figure else None,
    }


def _figure(pictures, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(RULES), len(BLENDS), figsize=(3.2 * len(BLENDS), 2.4 * len(RULES)))
    for i, rule in enumerate(RULES):
        for j, blend in enumerate(BLENDS):
            ax = axes[i][j]
            ax.imshow(nst.to_pil(pictures[(blend, rule)]))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"{blend[0]:.1f} Starry Night + {blend[1]:.1f} Scream", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"balance: {rule}", fontsize=10)
    fig.suptitle("seed, 128 px, tol 0.005; a VGG19-shaped network whose weights are not ImageNet's", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
