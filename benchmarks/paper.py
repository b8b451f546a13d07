"""The paper's normalised network (notebook 7, section 1), for ``python -m benchmarks.run --only paper``.

* What normalising costs: loading VGG19 with ``normalize=True`` the first time (one pass over the bundled photos
  at 224 px), from the disk cache (a new process), and from memory; and how many filters fire too rarely on
  the photos to be measured by their mean (``normalize.MIN_MEAN``).
* The invariance that defines it: the ``gatys`` preset (64 px, 60 steps, the bundled cat and The Starry Night)
  with the weights and with a copy whose filters are rescaled by factors between 1/4 and 4 (filter i of every
  convolution times c_i, the next convolution's input channel i divided by c_i: the same network up to one factor
  per channel), on the raw network (the preset's objective with ``normalize_network=False``) and on the
  normalised one; the mean difference of the two pictures in levels of 255 (target: <= 3 normalised). As the
  floor, the same with a copy that differs from the weights only by float32 rounding (every weight multiplied and
  divided by its factor).
* Each style layer's share of the preset's style loss, sum_l w_l E_l, between the photo and the painting at
  128 px, on the raw network and on the normalised one (both with average pooling).

Everything runs under a temporary ``TORCH_HOME``, so the user's cache is not touched. The load average is
recorded: the seconds depend on it.
"""

import os
import tempfile
import time
from pathlib import Path

import torch

import nst_helpers as nst
from nst_helpers import normalize
from nst_helpers.layers import LAYERS
from nst_helpers.weights import read_weights_file

SIZE, STEPS, LOW, HIGH, SEED = 64, 60, 0.25, 4.0, 0


def rescaled_state(state, low=LOW, high=HIGH, seed=SEED, undo=False):
    """``state`` with every convolution's filter i times c_i and the next convolution's input channel i divided by
    c_i, c_i log-uniform in [low, high]; ``undo``: multiplied and divided back (float32 rounding only)."""
    g = torch.Generator().manual_seed(seed)
    out = {k: v.float().clone() for k, v in state.items()}
    convs = [r.index for r in LAYERS if r.kind == "conv"]
    for i, j in zip(convs, convs[1:] + [None]):
        n = out[f"features.{i}.weight"].shape[0]
        c = torch.exp(
            torch.empty(n).uniform_(
                float(torch.log(torch.tensor(low))), float(torch.log(torch.tensor(high))), generator=g
            )
        )
        out[f"features.{i}.weight"] *= c.view(-1, 1, 1, 1)
        out[f"features.{i}.bias"] *= c
        if undo:
            out[f"features.{i}.weight"] /= c.view(-1, 1, 1, 1)
            out[f"features.{i}.bias"] /= c
        elif j is not None:
            out[f"features.{j}.weight"] /= c.view(1, -1, 1, 1)
    return out


def _picture(weights, normalized):
    config = nst.make_config("gatys", size=SIZE, steps=STEPS, normalize_network=normalized)
    model = nst.load_vgg19(weights, device="cpu", pooling="avg", normalize=normalized, progress=False)
    return nst.stylize("chelsea", "starry_night", config, model=model, progress=False, log_every=0).image


def _levels(a, b):
    return round((a - b).abs().mean().item() * 255, 2)


def _shares(model, content, painting):
    gatys = nst.PRESETS["gatys"]
    with torch.no_grad():
        fx, fa = model(content, list(gatys.style_layers)), model(painting, list(gatys.style_layers))
        e = [
            w * nst.style_loss(nst.gram_matrix(fx[n], "paper"), nst.gram_matrix(fa[n], "paper")).item()
            for n, w in zip(gatys.style_layers, gatys.layer_weights)
        ]
    return {n: round(v / sum(e), 4) for n, v in zip(gatys.style_layers, e)}


def measure(weights, out_dir=None):
    load_before = os.getloadavg()
    old_home = os.environ.get("TORCH_HOME")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TORCH_HOME"] = tmp
        try:
            normalize._memory.clear()
            nst.load_vgg19(weights, device="cpu", progress=False)  # the weights read once (not the measurement)
            timing = {}
            for label in ("first", "disk", "memory"):
                if label == "disk":
                    normalize._memory.clear()
                start = time.perf_counter()
                model = nst.load_vgg19(weights, device="cpu", pooling="avg", normalize=True, progress=False)
                timing[label] = round(time.perf_counter() - start, 2)
            start = time.perf_counter()
            nst.load_vgg19(weights, device="cpu", pooling="avg", progress=False)
            timing["raw"] = round(time.perf_counter() - start, 2)
            norm = model.normalization
            description = model.description

            state = read_weights_file(weights)
            state = {(k if k.startswith("features.") else f"features.{k}"): v for k, v in state.items()}
            files = {}
            for name, undo in (("rescaled", False), ("rounded", True)):
                path = Path(tmp) / f"{name}.pth"
                torch.save(rescaled_state(state, undo=undo), path)
                files[name] = str(path)
            pictures = {}
            for normalized in (False, True):
                base = _picture(weights, normalized)
                pictures[normalized] = {
                    "rescaled": _levels(base, _picture(files["rescaled"], normalized)),
                    "rounded": _levels(base, _picture(files["rounded"], normalized)),
                }

            content = nst.load_image("chelsea", size=128)
            painting = nst.load_image("starry_night", size=128)
            raw_avg = nst.load_vgg19(weights, device="cpu", pooling="avg", progress=False)
            shares = {"raw": _shares(raw_avg, content, painting), "normalized": _shares(model, content, painting)}
        finally:
            if old_home is None:
                os.environ.pop("TORCH_HOME", None)
            else:
                os.environ["TORCH_HOME"] = old_home
    return {
        "weights": Path(weights).name,
        "network": description,
        "threads": torch.get_num_threads(),
        "load_average": list(load_before) + list(os.getloadavg()),
        "seconds": timing,
        "calibration": norm["calibration"],
        "rare": norm["rare"],
        "rare_total": norm["rare_total"],
        "never_fired": norm["never_fired"],
        "filters": norm["filters"],
        "size": SIZE,
        "steps": STEPS,
        "factors": [LOW, HIGH],
        "picture_difference": {"raw": pictures[False], "normalized": pictures[True]},
        "shares": shares,
    }
