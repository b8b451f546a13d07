"""Objective against seconds, for ``python -m benchmarks.run --only curves``: the tutorial's algorithm
(``tutorial_baseline.py``), nst_helpers at one scale and coarse-to-fine (``multiscale=True``), at 128,
256 and 512 px (the seed's square pictures and objective, 300 steps).

Every 5 steps each run keeps a copy of its picture and the seconds since the call began (the model
already loaded); afterwards each copy is judged with the seed objective at the full size, as an 8-bit
picture (a coarse-to-fine picture is first resized to the full size, as its next level would start).
Judging is outside the clock. The curves go to ``results/curves.png``.
"""

import time

import torch
from torch.nn import functional as F

import nst_helpers as nst
from benchmarks.tutorial_baseline import load_cnn, run_style_transfer
from benchmarks.worker import images

SIZES, STEPS, EVERY = (128, 256, 512), 300, 5


def _judge(model, content, style, kept):
    objective = nst.build_objective(model, content, [style], nst.PRESETS["seed"])
    points = []
    with torch.no_grad():
        for seconds, picture in kept:
            if picture.shape[-2:] != content.shape[-2:]:
                picture = F.interpolate(picture, size=content.shape[-2:], mode="bilinear", align_corners=False)
            points.append((seconds, objective(nst.quantize(picture))[1]["total"]))
    return points


def measure(weights, out_dir=None):
    torch.manual_seed(0)
    model = nst.load_vgg19(weights, progress=False)
    cnn = load_cnn(weights)
    result = {"weights": str(weights), "steps": STEPS, "sizes": {}}
    for size in SIZES:
        content, style = images(size)
        curves = {}
        for name in ("tutorial", "single scale", "coarse-to-fine"):
            kept, start = [], time.perf_counter()

            def keep(step, image):
                if step % EVERY == 0:
                    kept.append((time.perf_counter() - start, image.detach().clone()))

            if name == "tutorial":
                run_style_transfer(cnn, content, style, num_steps=STEPS, snapshot=keep)
            else:
                nst.stylize(content, style, model=model, steps=STEPS, progress=False, multiscale=name != "single scale",
                            callback=lambda step, parts, image: keep(step, image), callback_every=1)
            curves[name] = _judge(model, content, style, kept)
            print(f"  curves {size} px {name}: {curves[name][-1][0]:.1f} s, objective {curves[name][-1][1]:.5f}",
                  flush=True)
        result["sizes"][str(size)] = curves
    if out_dir is not None:
        plot(result, out_dir / "curves.png")
    return result


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = result["sizes"]
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4.2), constrained_layout=True)
    for ax, (size, curves) in zip(axes, sizes.items()):
        target = curves["single scale"][-1][1]
        for name, points in curves.items():
            ax.plot([p[0] for p in points], [p[1] for p in points], label=name)
        ax.axhline(1.02 * target, color="grey", ls="--", lw=1, label="single scale, 300 steps, +2 %")
        if size == "512":
            ax.axvline(15, color="grey", ls=":", lw=1, label="15 s")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(target * 0.95, target * 4)
        ax.set_title(f"{size} px", fontsize=14)
        ax.set_xlabel("seconds (model loaded)", fontsize=12)
        ax.set_ylabel("seed objective (8-bit picture)", fontsize=12)
        ax.legend(fontsize=9)
    fig.savefig(path, dpi=80)
    plt.close(fig)
