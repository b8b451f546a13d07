"""Objective against seconds, for ``python -m benchmarks.run --only curves``: the tutorial's algorithm
(``tutorial_baseline.py``), nst_helpers at one scale and coarse-to-fine (``multiscale=True``), each
also with ``precision="bfloat16"``, at 128, 256 and 512 px (the seed's square pictures and
objective, 300 steps).

The bound on warm starts: at 512 px, L-BFGS started from the 256 px single-scale run's final
picture (resized; its time not counted), in float32 and bfloat16. However cheaply a coarse level
were made, the 512 px level costs at least what this run needs to come within 2 %.

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
RUNS = ("tutorial", "single scale", "coarse-to-fine", "single scale, bfloat16", "coarse-to-fine, bfloat16")
BOUND_STEPS = 60


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
    result = {"weights": str(weights), "steps": STEPS, "sizes": {}, "bound": {}}
    finals = {}
    for size in SIZES:
        content, style = images(size)
        curves = {}
        for name in RUNS:
            kept, start = [], time.perf_counter()

            def keep(step, image, kept=kept, start=start):  # this run's list and clock
                if step % EVERY == 0:
                    kept.append((time.perf_counter() - start, image.detach().clone()))

            if name == "tutorial":
                run_style_transfer(cnn, content, style, num_steps=STEPS, snapshot=keep)
            else:
                run = nst.stylize(
                    content,
                    style,
                    model=model,
                    steps=STEPS,
                    progress=False,
                    multiscale=name.startswith("coarse"),
                    precision="bfloat16" if name.endswith("bfloat16") else "float32",
                    callback=lambda step, parts, image: keep(step, image),
                    callback_every=1,
                )
                if name == "single scale":
                    finals[size] = run.image
            curves[name] = _judge(model, content, style, kept)
            print(
                f"  curves {size} px {name}: {curves[name][-1][0]:.1f} s, objective {curves[name][-1][1]:.5f}",
                flush=True,
            )
        result["sizes"][str(size)] = curves
        if size // 2 in finals:
            result["bound"][str(size)] = _bound(model, content, style, finals[size // 2], curves)
    if out_dir is not None:
        plot(result, out_dir / "curves.png")
    return result


def _bound(model, content, style, coarse, curves):
    """Steps and seconds at full size from the half-size run's final picture (free) to within 2 %."""
    start_image = F.interpolate(coarse, size=content.shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)
    level = 1.02 * curves["single scale"][-1][1]
    out = {"from": f"{coarse.shape[-1]} px single scale, {STEPS} steps", "level": level, "steps": BOUND_STEPS}
    for precision in ("float32", "bfloat16"):
        config = nst.make_config("seed", precision=precision, steps=BOUND_STEPS)
        objective = nst.build_objective(model, content, [style], config)
        kept, start = [], time.perf_counter()

        def keep(step, parts, image, kept=kept, start=start):  # this precision's list and clock
            kept.append((time.perf_counter() - start, image.detach().clone()))

        nst.optimize_image(objective, start_image, config, progress=False, callback=keep, callback_every=1)
        points = _judge(model, content, style, kept)
        reached = next((i for i, (_, v) in enumerate(points) if v <= level), None)
        out[precision] = {
            "steps": None if reached is None else reached + 1,
            "seconds": None if reached is None else points[reached][0],
            "objective": points[-1][1],
            "per_step": points[-1][0] / len(points),
        }
        print(f"  curves bound {precision}: {out[precision]}", flush=True)
    return out


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = result["sizes"]
    fig, axes = plt.subplots(1, len(sizes), figsize=(5 * len(sizes), 4.2), constrained_layout=True)
    for ax, (size, curves) in zip(axes, sizes.items()):
        target = curves["single scale"][-1][1]
        colours = {"tutorial": "C0", "single scale": "C1", "coarse-to-fine": "C2"}
        for name, points in curves.items():
            ax.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                label=name,
                color=colours[name.split(",")[0]],
                ls="--" if name.endswith("bfloat16") else "-",
            )
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
