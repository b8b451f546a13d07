"""Arbitrary style in one pass (notebook 11), for ``python -m benchmarks.run --only arbitrary``.

Judged as notebook 8's network is (``benchmarks/feedforward.py``'s ``judge_objective`` and ``losses``: the
seed objective at 128 px on the held-out photos, against the seed's 300 L-BFGS steps), on paintings the
decoder never saw (it sees none: it is trained on photos alone):

1. Training the default decoder (``arbitrary.DECODER_PRESETS["default"]``) on the bundled photos: seconds,
   steps, and the reconstruction of the held-out photos (PSNR at 256 px, alpha 0: the decoder's picture of
   the photo's own features).
2. Per painting x held-out photo: the seed objective's content and style losses of 300 L-BFGS steps and of
   one AdaIN pass (alpha 1), and their ratios.
3. One pass (``paint``: encoding the photo and the painting, AdaIN, decoding) at 256, 512 and 1024 px:
   median milliseconds after a warm-up, with the threads and the load average.
4. The encoder's layer: relu3_1 against relu4_1, each trained for the same short run, seconds per step and
   held-out PSNR, and one picture each (the stroke scale).

The paintings: the two bundled ones, and a third made here (``mosaic``: a seeded stained-glass pattern
with dark leading, drawn by this file), since the package bundles only two.
"""

import math
import os
import statistics
import time

import numpy as np
import torch

import nst_helpers as nst
from benchmarks.feedforward import SIZE, judge_objective, losses
from nst_helpers import arbitrary as ar

PAINTINGS = ("starry_night", "the_scream", "mosaic")
SHORT_STEPS = 300


def mosaic(size=256, cells=70, seed=0):
    """A stained-glass 'painting' (1x3xHxW): random cells in a warm and cool palette, each with a little
    texture, separated by dark leading. Made by this benchmark, not a bundled work."""
    rng = np.random.default_rng(seed)
    palette = np.array(
        [[0.85, 0.2, 0.15], [0.95, 0.75, 0.2], [0.15, 0.3, 0.7], [0.1, 0.55, 0.45], [0.55, 0.2, 0.6], [0.9, 0.9, 0.8]]
    )
    points = rng.random((cells, 2)) * size
    y, x = np.mgrid[0:size, 0:size]
    d = np.sqrt((x[..., None] - points[:, 0]) ** 2 + (y[..., None] - points[:, 1]) ** 2)
    order = np.sort(d, axis=-1)
    nearest = np.argmin(d, axis=-1)
    colours = palette[rng.integers(0, len(palette), cells)] * rng.uniform(0.7, 1.0, (cells, 1))
    img = colours[nearest] * (1 + 0.15 * rng.standard_normal((size, size, 1)))
    img[(order[..., 1] - order[..., 0]) < 2.5] = 0.08  # the leading between cells
    return torch.from_numpy(img.clip(0, 1)).permute(2, 0, 1)[None].float()


def painting(name):
    return mosaic() if name == "mosaic" else name


def psnr(picture, photo):
    mse = torch.mean((nst.quantize(picture) - photo) ** 2).item()
    return -10 * math.log10(max(mse, 1e-12))


def held_out_psnr(decoder, model, photos, size=256):
    """PSNR of the decoder's picture of each photo's own features (alpha 0), at ``size``."""
    return {
        p.stem: psnr(ar.paint(decoder, model, p, p, alpha=0, size=size), nst.load_image(p, size=size)) for p in photos
    }


def paint_ms(decoder, model, px, repeats):
    photo = nst.load_image("chelsea", size=px)
    style = nst.load_image("starry_night", size=px)
    ar.paint(decoder, model, photo, style)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ar.paint(decoder, model, photo, style)
        times.append(time.perf_counter() - start)
    return {"shape": list(photo.shape[-2:]), "ms": 1000 * statistics.median(times)}


def step_seconds(history_times):
    gaps = [b - a for a, b in zip(history_times[3:], history_times[4:])]
    return statistics.median(gaps) if gaps else None


def train(model, **overrides):
    times = []
    result = ar.train_decoder(
        model=model,
        device="cpu",
        progress=False,
        preview=lambda step, decoder, history: times.append(time.perf_counter()),
        preview_every=1,
        **overrides,
    )
    return result, step_seconds(times)


def measure(weights, out_dir=None):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model = nst.load_vgg19(weights, device="cpu", progress=False)
    photos = nst.feedforward.bundled_photos(held_out=True)
    config = ar.DECODER_PRESETS["default"]
    result = {
        "weights": str(weights),
        "threads": torch.get_num_threads(),
        "load_before": list(os.getloadavg()),
        "size": SIZE,
        "defaults": config.to_dict(),
        "paintings": list(PAINTINGS),
    }
    trained, per_step = train(model)
    decoder = trained.decoder
    result["decoder"] = decoder.describe()
    result["train_seconds"] = trained.seconds
    result["train_steps"] = trained.steps
    result["step_seconds"] = per_step
    result["load_after_training"] = list(os.getloadavg())
    result["psnr"] = held_out_psnr(decoder, model, photos)
    print(f"  trained: {trained.seconds:.0f} s, PSNR {result['psnr']}", flush=True)

    rows, pictures = {}, []
    for name in PAINTINGS:
        style = painting(name)
        for photo in photos:
            judge = judge_objective(model, photo, style)
            run = nst.stylize(photo, style, model=model, size=SIZE, progress=False)
            start = time.perf_counter()
            one = ar.paint(decoder, model, photo, style, size=SIZE)
            seconds = time.perf_counter() - start
            a, b = losses(judge, run.image), losses(judge, one)
            rows[f"{name}/{photo.stem}"] = {
                "lbfgs": {**a, "seconds": run.seconds},
                "adain": {**b, "seconds": seconds},
                "content_ratio": b["content"] / a["content"],
                "style_ratio": b["style"] / a["style"],
            }
            print(f"  {name}/{photo.stem}: {rows[f'{name}/{photo.stem}']}", flush=True)
            if photo.stem == "chelsea":
                pictures += [nst.load_image(style, size=SIZE), run.image, one]
    result["judged"] = rows
    result["apply"] = {str(px): paint_ms(decoder, model, px, 10 if px < 1024 else 3) for px in (256, 512, 1024)}
    result["load_after_apply"] = list(os.getloadavg())

    layers, layer_pictures = {}, []
    for layer in ar.ENCODER_LAYERS:
        short, seconds = train(model, layer=layer, steps=SHORT_STEPS)
        layers[layer] = {
            "steps": SHORT_STEPS,
            "seconds": short.seconds,
            "step_seconds": seconds,
            "psnr": held_out_psnr(short.decoder, model, photos),
            "parameters": sum(p.numel() for p in short.decoder.parameters()),
        }
        layer_pictures.append(ar.paint(short.decoder, model, "chelsea", "starry_night", size=256))
        print(f"  {layer}: {layers[layer]}", flush=True)
    result["layers"] = layers
    result["load_after"] = list(os.getloadavg())
    if out_dir is not None:
        titles = [t for name in PAINTINGS for t in (f"{name} (never seen)", "300 L-BFGS steps", "AdaIN, one pass")]
        nst.show_images(pictures, titles, ncols=3, size=3.2).savefig(out_dir / "arbitrary.png", dpi=80)
        recon = [ar.paint(decoder, model, p, p, alpha=0, size=256) for p in photos]
        originals = [nst.load_image(p, size=256) for p in photos]
        grid = [x for pair in zip(originals, recon) for x in pair] + layer_pictures
        names = [t for p in photos for t in (f"{p.stem} (held out)", "decoded (alpha 0)")]
        names += [f"{layer}, {SHORT_STEPS} steps" for layer in ar.ENCODER_LAYERS]
        nst.show_images(grid, names, ncols=2, size=3.2).savefig(out_dir / "arbitrary_decoder.png", dpi=80)
    return result
