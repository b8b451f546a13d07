"""The real-time network against optimisation (issue: notebook 8), for ``python -m benchmarks.run --only feedforward``.

1. Per held-out photo (bundled, never in the training photos): the seed's 300 L-BFGS steps at 128 px,
   its content and style losses (seed objective, judged on the saved 8-bit picture) and seconds.
2. Training the notebook's default network (``feedforward.TRAIN_PRESETS["default"]``, the objective of
   ``feedforward.training_config()``: the seed's with beta 5e4) on the bundled photos,
   judged on the held-out photos every 200 steps with the same losses: the first step at
   which every photo has style loss <= 2x and content loss <= 2x the optimisation's, and the seconds
   of training to get there (judging time excluded).
3. Applying the trained network: milliseconds per picture at 256, 512 and 1024 px (median of
   repeats after a warm-up, one picture at a time, like a user's call), and the full-size network's.
4. Seconds per training step with VGG19's passes in float32 and in bfloat16 (the default where the
   CPU has it natively), the default network and batch, median of 20 steps after 3 warm-up steps.
"""

import statistics
import time

import torch

import nst_helpers as nst
from nst_helpers import feedforward as ff

SIZE = 128
STYLE = "starry_night"


def judge_objective(model, photo, style=STYLE):
    """The seed objective for ``photo`` against the painting, at ``SIZE``: built once per photo (and painting;
    ``benchmarks/arbitrary.py`` judges its one-pass pictures with it too)."""
    return nst.build_objective(
        model, nst.load_image(photo, size=SIZE), [nst.load_image(style, size=SIZE)], nst.PRESETS["seed"]
    )


def losses(objective, picture):
    """The seed objective's unweighted content and style losses of ``picture`` as saved (8 bit)."""
    with torch.no_grad():
        raw = objective.losses(nst.quantize(picture))
    return {"content": raw["content"].item(), "style": raw["style"].item()}


def apply_ms(network, size, repeats):
    x = nst.load_image("chelsea", size=size)
    network.eval()
    with torch.inference_mode():
        network(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            network(x)
            times.append(time.perf_counter() - start)
    return {"shape": list(x.shape[-2:]), "ms": 1000 * statistics.median(times)}


def step_seconds(model, precision, steps=20):
    """Median seconds of one training step of the default network and batch in ``precision``."""
    times = []

    def keep(step, network, history):
        times.append(time.perf_counter())

    config = ff.training_config(precision=precision)
    ff.train_network(
        STYLE,
        None,
        config,
        "default",
        model=model,
        device="cpu",
        preview=keep,
        preview_every=1,
        progress=False,
        steps=steps + 3,
    )
    return statistics.median(b - a for a, b in zip(times[3:], times[4:]))


def measure(weights, every=200, out_dir=None):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model = nst.load_vgg19(weights, device="cpu", progress=False)
    photos = ff.bundled_photos(held_out=True)
    result = {
        "weights": str(weights),
        "size": SIZE,
        "style": STYLE,
        "defaults": ff.TRAIN_PRESETS["default"].to_dict(),
        "every": every,
        "photos": {},
    }
    pictures = {}
    judges = {photo.stem: judge_objective(model, photo) for photo in photos}
    for photo in photos:
        run = nst.stylize(photo, STYLE, model=model, size=SIZE, progress=False)
        pictures[photo.stem] = [nst.load_image(photo, size=SIZE), run.image]
        result["photos"][photo.stem] = {
            "lbfgs": {**losses(judges[photo.stem], run.image), "seconds": run.seconds, "steps": run.evaluations},
            "network": {},
        }
        print(f"  L-BFGS {photo.stem}: {result['photos'][photo.stem]['lbfgs']}", flush=True)

    judged, judging = [], [0.0]

    def judge(step, network, history):
        start = time.perf_counter()
        row = {"step": step}
        ok = True
        for photo in photos:
            ref = result["photos"][photo.stem]["lbfgs"]
            got = losses(judges[photo.stem], ff.apply_network(network, photo, size=SIZE))
            row[photo.stem] = {
                "content_ratio": got["content"] / ref["content"],
                "style_ratio": got["style"] / ref["style"],
            }
            ok = ok and row[photo.stem]["content_ratio"] <= 2 and row[photo.stem]["style_ratio"] <= 2
        row["meets_target"] = ok
        judging[0] += time.perf_counter() - start
        row["train_seconds"] = time.perf_counter() - t0 - judging[0]
        judged.append(row)
        print(f"  step {step}: {row}", flush=True)

    t0 = time.perf_counter()
    trained = ff.train_network(
        STYLE, None, training="default", model=model, device="cpu", preview=judge, preview_every=every, progress=False
    )
    result["train_seconds"] = trained.seconds - judging[0]
    result["train_steps"] = trained.steps
    result["judged"] = judged
    reached = next((row for row in judged if row["meets_target"]), None)
    result["target_reached_at"] = (
        None if reached is None else {"step": reached["step"], "train_seconds": reached["train_seconds"]}
    )
    network = trained.network
    for photo in photos:
        start = time.perf_counter()
        picture = ff.apply_network(network, photo, size=SIZE)
        seconds = time.perf_counter() - start
        pictures[photo.stem].append(picture)
        result["photos"][photo.stem]["network"] = {**losses(judges[photo.stem], picture), "seconds": seconds}
    result["apply"] = {str(px): apply_ms(network, px, 10 if px < 1024 else 3) for px in (256, 512, 1024)}
    torch.manual_seed(0)
    result["apply_full_256"] = apply_ms(ff.make_network("full"), 256, 10)
    result["network"] = network.describe()
    result["precision"] = trained.meta["config"]["precision"]
    result["weights_alpha_beta"] = [trained.meta["config"]["content_weight"], trained.meta["config"]["style_weight"]]
    result["step_seconds"] = {precision: step_seconds(model, precision) for precision in ("float32", "bfloat16")}
    if out_dir is not None:
        rows = [p for stem in pictures for p in pictures[stem]]
        titles = [t for stem in pictures for t in (f"{stem} (held out)", "300 L-BFGS steps", "network, one pass")]
        nst.show_images(rows, titles, ncols=3, size=4).savefig(out_dir / "feedforward.png", dpi=80)
    return result
