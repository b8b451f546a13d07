"""One measurement in a fresh process (started by ``benchmarks.run``); prints one JSON line.

``--t0`` is the parent's clock just before starting this process, so ``wall_seconds`` covers the
whole process: interpreter start, imports, model loading and the optimisation.
"""

import argparse
import json
import os
import statistics
import sys
import time


def peak_rss_mb():
    from nst_helpers.memory import peak_memory_mb

    return peak_memory_mb("cpu")


def images(size):
    import nst_helpers as nst

    content = nst.load_image("chelsea", size=(size, size))  # the seed's square images, as the tutorial
    style = nst.load_image("starry_night", size=(size, size))
    return content, style


def objective_8bit(image, content, style, weights):
    """The seed objective of the picture as saved (8-bit), computed the same way for every implementation."""
    import torch

    import nst_helpers as nst

    model = nst.load_vgg19(weights, device="cpu", progress=False)
    objective = nst.build_objective(model, content, [style], nst.PRESETS["seed"])
    with torch.no_grad():
        return objective(nst.quantize(image))[1]["total"]


def transfer(args):
    import nst_helpers as nst

    content, style = images(args.size)
    t = time.perf_counter()
    if args.impl == "baseline":
        from benchmarks.tutorial_baseline import load_cnn, run_style_transfer

        cnn = load_cnn(args.weights)
        load_seconds = time.perf_counter() - t
        image, evaluations, seconds = run_style_transfer(cnn, content, style, num_steps=args.steps)
    else:
        model = nst.load_vgg19(args.weights, device="cpu", progress=False)
        load_seconds = time.perf_counter() - t
        result = nst.stylize(
            content, style, steps=args.steps, model=model, progress=False, multiscale=args.impl == "multiscale"
        )
        image, evaluations, seconds = result.image, result.evaluations, result.seconds
    wall = time.time() - args.t0
    peak = peak_rss_mb()
    if args.save:
        nst.save_image(image, args.save)
    return {
        "wall_seconds": wall,
        "load_seconds": load_seconds,
        "optimize_seconds": seconds,
        "evaluations": evaluations,
        "seconds_per_evaluation": seconds / evaluations,
        "peak_rss_mb": peak,
        "objective": objective_8bit(image, content, style, args.weights),
    }


def floor(args):
    """Forward + backward through the bare VGG19 truncated after conv_5 (the seed's deepest layer), in
    the layout the package uses on a CPU (channels-last; NCHW also reported); and the same plus the
    five Gram matrices of the seed's style layers, the least any implementation of the objective does."""
    import torch

    import nst_helpers as nst

    model = nst.load_vgg19(args.weights, device="cpu", progress=False)
    net = torch.nn.Sequential(model.normalize, *list(model.features)[: nst.layer_index("conv_5") + 1])
    x_nchw = torch.rand(1, 3, args.size, args.size, requires_grad=True)
    x_last = torch.rand(1, 3, args.size, args.size).to(memory_format=torch.channels_last).requires_grad_(True)
    seed = nst.PRESETS["seed"]

    def with_grams(fast=True):
        feats = model(x_last, list(seed.style_layers))
        sum((nst.gram_matrix(f, fast=fast) * upstream[f.shape[1]]).sum() for f in feats.values()).backward()

    upstream = {c: torch.rand(1, c, c) for c in (64, 128, 256)}

    def median_time(fn):
        times = []
        for i in range(args.repeats + 3):
            t = time.perf_counter()
            fn()
            if i >= 3:
                times.append(time.perf_counter() - t)
        return statistics.median(times)

    last = median_time(lambda: net(x_last).sum().backward())
    grams = median_time(with_grams)
    plain_grams = median_time(lambda: with_grams(fast=False))
    net.to(memory_format=torch.contiguous_format)
    nchw = median_time(lambda: net(x_nchw).sum().backward())
    return {
        "forward_backward_seconds": last,
        "nchw_seconds": nchw,
        "with_grams_seconds": grams,
        "with_plain_grams_seconds": plain_grams,
    }


def load(args):
    """Time and memory of loading the weights (from ``--weights``, or the features-only cache)."""
    base = peak_rss_mb()
    import torch  # noqa: F401  (imported before timing: the load, not the import, is measured)

    import nst_helpers as nst

    after_import = peak_rss_mb()
    t = time.perf_counter()
    nst.load_vgg19(args.weights if args.weights != "cache" else None, device="cpu", progress=False)
    return {
        "load_seconds": time.perf_counter() - t,
        "load_rss_mb": peak_rss_mb() - after_import,
        "import_rss_mb": after_import - base,
    }


def latency(args):
    """Live mode: seconds from a slider change to the first preview made with the new weights."""
    import threading

    import nst_helpers as nst

    model = nst.load_vgg19(args.weights, device="cpu", progress=False)
    got = threading.Event()
    wanted = {"version": None}

    def on_update(update):
        if wanted["version"] is not None and update.weights_version >= wanted["version"] and update.state == "running":
            got.set()

    session = nst.LiveSession("chelsea", ["starry_night"], model, size=args.size, on_update=on_update)
    session.run(100000)
    time.sleep(1.0)  # let it run, as a user would before touching a slider
    delays = []
    for i in range(args.repeats):
        got.clear()
        wanted["version"] = i + 1  # the worker counts the weight changes it has applied
        t = time.perf_counter()
        session.set_weights(style_weight=10 ** (3 + i % 5))
        if not got.wait(30):
            raise RuntimeError("no preview within 30 s")
        delays.append(time.perf_counter() - t)
        time.sleep(0.3)
    session.close()
    return {"median_seconds": statistics.median(delays), "max_seconds": max(delays), "repeats": len(delays)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("task", choices=["transfer", "floor", "load", "latency"])
    p.add_argument("--impl", choices=["baseline", "nst", "multiscale"], default="nst")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--weights", required=True)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--save")
    p.add_argument("--t0", type=float, default=time.time())
    args = p.parse_args()
    out = {"transfer": transfer, "floor": floor, "load": load, "latency": latency}[args.task](args)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    main()
