"""Training a transformation network with the course's objective (Johnson et al. 2016).

Training (``train_network``) minimises the course's objective (``objective.build_objective`` with a
``StyleConfig``: content, style and TV terms exactly as ``stylize`` uses them) of the network's
output for random crops of photos, with Adam. Each batch gets new content terms (the crops'
activations); the style terms, Gram matrices of the painting at the size of the pictures the network
is made for (``style_size``), are computed once. The crops may be smaller than those pictures: a
step costs less and the strokes keep their size. Where the device computes bfloat16 natively, the
forward passes (the network's and VGG19's) run in bfloat16 under autocast while the weights, the
losses and Adam stay float32 (``training_config``).
"""

import math
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import files
from ..checks import MAX_RANDOM_SEED, MAX_SIZE, MAX_STEPS, MIN_SIZE, check_choice, check_number, check_size
from ..config import make_config
from ..devices import PRECISIONS, bfloat16_is_fast, resolve_device
from ..errors import NSTError, memory_errors
from ..images import EXAMPLES_DIR, example_path, image_files, load_image, open_image, pil_to_tensor, resize
from ..layers import check_image_size
from ..memory import check_memory
from ..objective import build_objective, content_terms
from ..transfer import input_files
from ..weights import weights_file
from .network import FILE_FORMAT, FILE_VERSION, MAX_BATCH, TransformNet, apply_network, make_network, save_network

#: The bundled training photos (public domain or CC0; ``examples/SOURCES.md``).
TRAINING_PHOTOS = EXAMPLES_DIR / "photos"
#: Bundled examples that are not in the training photos, for judging a network on photos it never saw.
HELD_OUT_PHOTOS = ("chelsea", "coffee")
#: The style weight beta a network is trained with by default: half the seed's 1e5. One network paints
#: every photo and cannot reach each photo's optimum as ``stylize`` does, so it has to trade; at the
#: seed's beta it leans to the painting (style at 0.5-0.8x optimisation's, content at 2x), at half it
#: keeps both within 2x with room to spare (``make benchmark``, benchmarks/RESULTS.md).
TRAINING_STYLE_WEIGHT = 5e4


def training_config(config=None, device="cpu", **overrides):
    """The objective a network is trained with (a ``StyleConfig``): by default the ``seed`` preset's
    layers and losses (conv_4; conv_1 ... conv_5; alpha 1, no TV) with beta ``TRAINING_STYLE_WEIGHT``,
    and VGG19's passes in the precision ``training_precision("auto", device)`` picks. The pictures are
    judged with the seed's own objective, loss for loss against ``stylize``. A given ``config`` is kept
    as it is (its own beta and precision)."""
    if config is None:
        overrides.setdefault("precision", training_precision("auto", device))
        overrides.setdefault("style_weight", TRAINING_STYLE_WEIGHT)
        config = "seed"
    return make_config(config, **overrides)


#: The training that ``python -m nst_helpers train`` does by default (notebook 8 runs fewer steps): a
#: small network on 96 px crops of the bundled photos, the painting at 128 px, the size of the pictures
#: it is made for (``make benchmark`` times it on a 2-core CPU). Crops smaller than the pictures make a
#: step about half as costly as 128 px crops, so twice as many steps fit in the same time.
TRAINING_DEFAULTS = {"network": "small", "steps": 2800, "batch_size": 4, "crop": 96, "style_size": 128, "lr": 2e-3}


def check_side(value, name, meaning):
    """One length in px (a crop's side, the painting's long side): ``check_size`` without HxW or None."""
    side = check_size(value, name)
    if side is None or isinstance(side, tuple):
        raise NSTError(f"{name} is one number ({meaning}), not {'None' if side is None else 'HxW'}")
    return side


def training_precision(precision, device):
    """The arithmetic of VGG19's passes while training: ``"auto"`` is bfloat16 where the device computes
    it natively (about 1.5x faster per step on a CPU with AVX512-BF16: benchmarks/RESULTS.md), else
    float32. The losses are the same functions either way (``Objective.features``)."""
    if check_choice(precision, ("auto", *PRECISIONS), "precision") == "auto":
        return "bfloat16" if bfloat16_is_fast(device) else "float32"
    return precision




# ------------------------------------------------------------------------------------------ photos

def bundled_photos(held_out=False):
    """The bundled training photos, or (``held_out=True``) the bundled photos kept out of training."""
    if held_out:
        return [example_path(name) for name in HELD_OUT_PHOTOS]
    return image_files(TRAINING_PHOTOS, "bundled photos folder")


def check_training_photos(photos, crop, zoom=2.0):
    """The training photos that can be used, checked before training starts (each read to its end by
    ``images.probe_image``). A missing photo is an error; photos that cannot be read or are too narrow for
    the crops are left out with one warning line that names them; none usable is an ``NSTError`` (and no
    warning comes before it)."""
    from ..images import probe_image

    usable, problems = [], []
    for path in photos:
        files.input_file(path, "training photo", missing="check the list of training photos",
                         folder="give image files (or the folder as photos=)")
        try:
            info = probe_image(path, "training photo")
            problem = PhotoCrops.problem(info.width, info.height, crop, zoom)
            if problem:
                raise NSTError(f"training photo {Path(path).name!r} {problem}")
        except NSTError as err:
            problems.append(str(err))
            continue
        usable.append(path)
    if not usable:
        first = problems[0] if problems else "none given"
        raise NSTError(f"none of the {len(photos)} training photos could be read or used ({first}): give JPEG or "
                       f"PNG photos at least {crop} px on their short side")
    if problems:
        warnings.warn(f"skipping {len(problems)} of {len(photos)} training photos: " + "; ".join(problems[:3])
                      + ("; ..." if len(problems) > 3 else ""), RuntimeWarning, stacklevel=3)
    return usable


class PhotoCrops:
    """Random square crops of a set of photos, randomly flipped, as Bx3xSxS batches in [0, 1].

    Each photo is decoded once (on first use) at a long side of ``zoom * crop`` (at least one crop
    on its short side) and kept; a crop is a random square of side between ``crop`` and the short
    side, shrunk to ``crop``: the network sees photos at scales from the whole photo to ``zoom``
    times closer. A folder of more than ``max_cached`` photos is decoded as it goes. Photos that
    cannot be used are skipped with a warning; none usable is an ``NSTError``.
    """

    @staticmethod
    def problem(width, height, crop, zoom=2.0):
        """Why a ``width`` x ``height`` photo cannot give ``crop`` px crops, or None."""
        long_side = max(round(zoom * crop), math.ceil(crop * max(width, height) / min(width, height)))
        if long_side > MAX_SIZE:
            return f"({width}x{height}) is too narrow for {crop} px crops"
        return None

    def __init__(self, photos, crop=128, seed=0, max_cached=500, zoom=2.0):
        self.crop = int(check_number(crop, "crop size", minimum=MIN_SIZE, maximum=MAX_SIZE, integer=True))
        self.zoom = check_number(zoom, "zoom", minimum=1, maximum=8)
        self.paths = list(photos)
        if not self.paths:
            raise NSTError("no training photos given: give a folder of photos")
        self.rng = random.Random(seed)
        self.max_cached = max_cached
        self._cache = {}
        self._bad = set()

    def _photo(self, path):
        if path in self._cache:
            return self._cache[path]
        try:
            img = open_image(path, "training photo", size=round(self.zoom * self.crop))
            # long side zoom * crop, unless that leaves the short side under one crop
            long_side = max(round(self.zoom * self.crop), math.ceil(self.crop * max(img.size) / min(img.size)))
            if long_side > MAX_SIZE:
                raise NSTError(f"training photo {path.name!r} ({img.width}x{img.height}) is too narrow for "
                               f"{self.crop} px crops")
            t = pil_to_tensor(resize(img, long_side))
        except NSTError as err:
            if path not in self._bad:
                self._bad.add(path)
                warnings.warn(f"skipping a training photo: {err}", RuntimeWarning, stacklevel=3)
            return None
        if len(self._cache) < self.max_cached:
            self._cache[path] = t
        return t

    def sample(self):
        """One crop: a random photo, a random square of side between crop and the short side, shrunk to crop."""
        for _ in range(len(self.paths) * 3):
            photo = self._photo(self.rng.choice(self.paths))
            if photo is not None:
                break
        else:
            raise NSTError(f"none of the {len(self.paths)} training photos could be read: give JPEG or PNG photos")
        _, _, h, w = photo.shape
        side = self.rng.randint(self.crop, min(h, w))
        top, left = self.rng.randint(0, h - side), self.rng.randint(0, w - side)
        patch = photo[..., top:top + side, left:left + side]
        if side != self.crop:
            patch = nn.functional.interpolate(patch, size=(self.crop, self.crop), mode="bilinear",
                                              align_corners=False, antialias=True).clamp(0, 1)
        if self.rng.random() < 0.5:
            patch = patch.flip(-1)
        return patch

    def batch(self, size, device="cpu"):
        return torch.cat([self.sample() for _ in range(size)]).to(device)


# ---------------------------------------------------------------------------------------- training

@dataclass
class TrainResult:
    """What ``train_network`` returns: the network (eval mode), per-step losses (weighted parts and
    the unweighted ``content_loss`` / ``style_loss``), steps done, seconds, why it stopped (``None``:
    all steps; ``"interrupted"``: Ctrl-C; ``"stop"``: ``should_stop``), and the metadata saved with it."""

    network: TransformNet
    history: dict = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    stopped: str = None
    meta: dict = field(default_factory=dict)
    inputs: tuple = ()

    def save(self, path, overwrite=False):
        """Write the network (``save_network``); never over a file the training read (``inputs``)."""
        return save_network(self.network, path, self.meta, overwrite=overwrite, protect=self.inputs)

    def __call__(self, image, **kwargs):
        return apply_network(self.network, image, **kwargs)


def objective_loss(objective, output, content_batch):
    """The objective of the network's ``output`` for a batch whose photos are ``content_batch``.

    The content terms get this batch's activations as targets; the style terms (the painting's Gram
    matrices) stay. Every loss is a mean over the batch, so the value for a batch of one photo is
    exactly what ``stylize``'s objective gives for that photo and picture.
    """
    objective.content_terms = content_terms(objective.model, content_batch, [t.layer for t in objective.content_terms])
    return objective(output)


def _name_of(style):
    if isinstance(style, (str, os.PathLike)):
        return Path(os.fspath(style)).stem.replace("_", " ")
    return "style image"


@memory_errors("training", "give a smaller --crop, --batch-size or --style-size")
def train_network(style, photos=None, config=None, *, network=TRAINING_DEFAULTS["network"], width=None, depth=None,
                  steps=TRAINING_DEFAULTS["steps"], batch_size=TRAINING_DEFAULTS["batch_size"],
                  crop=TRAINING_DEFAULTS["crop"], style_size=TRAINING_DEFAULTS["style_size"],
                  lr=TRAINING_DEFAULTS["lr"], model=None, weights=None, device="auto", seed=0,
                  checkpoint=None, checkpoint_every=100, preview=None, preview_every=100, should_stop=None,
                  progress=True, log_every=0):
    """Train a ``TransformNet`` to paint photos in the style of ``style``; returns a ``TrainResult``.

    style: a path, bundled example name or image. photos: a folder, a list of image files, or None
    for the bundled training photos. config: a ``StyleConfig`` or preset name (default
    ``training_config(device=...)``): its layers, weights, Gram normalisation, pooling and style scale define
    the loss. network / width / depth: the network's size (or a ``TransformNet`` to train further).
    steps Adam steps over batches of ``batch_size`` random ``crop`` px crops with learning rate ``lr``.
    style_size: the long side in px of the pictures the network is made to paint (the seed's 128 px by
    default): the painting is loaded at that size times the config's ``style_scale``, as ``stylize``
    loads it for a picture of that size, and its Gram matrices are the style target; the crops may be
    smaller. ``None``: the crop size.
    checkpoint: a path written (atomically) every ``checkpoint_every`` steps and when the run ends,
    Ctrl-C included. preview(step, network, history) is called every ``preview_every`` steps.
    """
    config = None if config is None else training_config(config)  # a bad one is reported first
    steps = int(check_number(steps, "steps", minimum=1, maximum=MAX_STEPS, integer=True))
    batch_size = int(check_number(batch_size, "batch size", minimum=1, maximum=MAX_BATCH, integer=True))
    crop = check_side(crop, "crop size", "the side of the square crops, like 96")
    style_size = crop if style_size is None else check_side(style_size, "style size",
                                                            "the painting's long side, like 128")
    lr = check_number(lr, "learning rate", above=0, maximum=1)
    checkpoint_every = int(check_number(checkpoint_every, "checkpoint interval", minimum=1, maximum=MAX_STEPS,
                                        integer=True))
    preview_every = int(check_number(preview_every, "preview interval", minimum=1, maximum=MAX_STEPS, integer=True))
    seed = int(check_number(seed, "random seed", minimum=0, maximum=MAX_RANDOM_SEED, integer=True))
    if photos is None:
        photo_list = bundled_photos()
    elif isinstance(photos, (str, os.PathLike)):
        photo_list = image_files(photos, "training photos folder")
    else:
        photo_list = [files.as_path(p, "training photo") for p in photos]
    # every file the run reads is protected from the checkpoint: the painting, the photos, VGG19's weights
    vgg_file = weights_file(weights if model is None else getattr(model, "source", "random"))
    inputs = (*input_files([style]), *photo_list, vgg_file)
    if checkpoint is not None:
        checkpoint = files.check_output(checkpoint, inputs, overwrite=True, what="checkpoint")
    dev = resolve_device(device) if model is None else next(model.parameters()).device
    config = training_config(config, device=dev)
    # Memory: a batch is about as costly as one picture of crop x (batch * crop) px, plus the network.
    check_memory(crop, crop * batch_size, config.content_layers + config.style_layers, dev, lbfgs_history=0,
                 what=f"training on batches of {batch_size} crops of {crop} px")
    photo_list = check_training_photos(photo_list, crop)  # every photo read to its end before training
    torch.manual_seed(seed)  # the new network's initial weights; crops come from their own generator
    prior = {}
    if isinstance(network, TransformNet):
        net, prior = network, dict(getattr(network, "meta", {}) or {})
    else:
        net = make_network(network, width, depth)
    net = net.to(dev).train()
    # the painting first: a missing or unreadable one is reported before VGG19 is loaded (or downloaded)
    style_px = max(MIN_SIZE, round(style_size * config.style_scale))
    if style_px > MAX_SIZE:
        raise NSTError(f"style size {style_size} times style scale {config.style_scale:g} makes the painting "
                       f"{style_px} px long, over {MAX_SIZE} px: lower the style size or the style scale")
    style_t = load_image(style, size=style_px, device=dev, what="style image")
    check_image_size(style_t, config.style_layers, "the style image")

    from ..vgg import load_vgg19

    if model is None:
        model = load_vgg19(weights, device=dev, pooling=config.pooling)
    check_memory(*style_t.shape[-2:], config.style_layers, dev, lbfgs_history=0,
                 what=f"the painting at {max(style_t.shape[-2:])} px (style size)")
    crops = PhotoCrops(photo_list, crop, seed=seed)
    first = crops.batch(1, dev)
    check_image_size(first, config.content_layers + config.style_layers, "a training crop")
    objective = build_objective(model, first, [style_t], config)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    # The learning rate falls along a half cosine to a tenth: big steps first, then settling.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr / 10)
    history = {k: [] for k in ("content", "style", "tv", "total", "content_loss", "style_loss")}
    meta = {"format": FILE_FORMAT, "version": FILE_VERSION, "width": net.width, "depth": net.depth,
            "style": _name_of(style), "config": config.to_dict(), "crop": crop, "style_size": style_size,
            "batch_size": batch_size,
            "lr": lr, "steps": int(prior.get("steps", 0)), "seconds": 0.0, "vgg_weights": str(getattr(model, "source", "")),
            "photos": len(photo_list)}

    def write_checkpoint():
        if checkpoint is not None:
            net.eval()
            save_network(net, checkpoint, meta, overwrite=True, protect=inputs)
            net.train()

    bar = tqdm(total=steps, desc="training", disable=not progress)
    stopped, done, start = None, 0, time.perf_counter()
    try:
        for step in range(1, steps + 1):
            if should_stop is not None and should_stop():
                stopped = "stop"
                break
            batch = crops.batch(batch_size, dev)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=config.precision == "bfloat16"):
                output = net(batch)  # in bfloat16 too when VGG19 is: its convolutions cost as much again
            total, parts = objective_loss(objective, output.float(), batch)
            if not math.isfinite(parts["total"]):
                raise NSTError(f"the training loss became {parts['total']} at step {step}: lower the learning rate "
                               f"or the weights")
            total.backward()
            optimizer.step()
            schedule.step()
            done = step
            for k in ("content", "style", "tv", "total"):
                history[k].append(parts[k])
            history["content_loss"].append(parts["unweighted"]["content"])
            history["style_loss"].append(parts["unweighted"]["style"])
            meta["steps"] += 1
            bar.update(1)
            if progress:
                bar.set_postfix_str(f"content {parts['content']:.3g} style {parts['style']:.3g}", refresh=False)
                if log_every and step % log_every == 0:
                    tqdm.write(f"step {step}/{steps}: " + "  ".join(f"{k} {parts[k]:.4g}"
                                                                   for k in ("content", "style", "tv", "total")))
            if step % checkpoint_every == 0:
                meta["seconds"] = float(prior.get("seconds", 0.0)) + time.perf_counter() - start
                write_checkpoint()
            if preview is not None and (step % preview_every == 0 or step == steps):
                net.eval()
                with torch.no_grad():
                    preview(step, net, history)
                net.train()
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    meta["seconds"] = float(prior.get("seconds", 0.0)) + seconds
    net.eval()
    net.meta = dict(meta)
    write_checkpoint()
    if stopped == "interrupted" and progress:
        print(f"nst_helpers: training interrupted after {done} steps"
              + (f"; the network so far is saved in {checkpoint}" if checkpoint else ""), file=sys.stderr)
    return TrainResult(network=net, history=history, steps=done, seconds=seconds, stopped=stopped, meta=dict(meta),
                       inputs=tuple(p for p in inputs if p is not None))


