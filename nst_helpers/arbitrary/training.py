"""Training a decoder to invert VGG19's features, from photos alone (Li et al. 2017's idea, AdaIN's decoder).

The loss of a batch of photo crops x, with f = VGG19 up to the decoder's layer (frozen) and g = the decoder:

    pixel   = mean (g(f(x)) - x)^2                       the picture back
    feature = mean (f(g(f(x))) - f(x))^2 / mean f(x)^2   its features back (sharper than pixels alone)

A decoder that inverts f well paints whatever features it is given, AdaIN's too: trained on photos, it
paints any painting's statistics. Where paintings are given (``styles``), each step also decodes
t = AdaIN(f(x), f(painting crop)) with Huang and Belongie's content loss (f(g(t)) against t) and style
loss (means and standard deviations of relu1_1 ... the encoder's layer, against the painting's), weighted
by ``style_weight``: the decoder learns to paint statistics it will be given, at a cost in generality.

How a decoder is trained is a frozen ``DecoderConfig`` (presets ``DECODER_PRESETS``); ``train_decoder``
runs unchanged under ``torchrun --nproc_per_node N`` (``distributed``): every process draws its own
crops, DistributedDataParallel averages the gradients, only rank 0 writes and prints.
"""

import math
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from .. import distributed, files
from ..checks import MAX_RANDOM_SEED, MAX_STEPS, check_choice, check_number, check_weight
from ..config import _opt
from ..devices import PRECISIONS, resolve_device
from ..errors import NSTError, memory_errors
from ..images import image_files
from ..photos import PhotoCrops, check_training_photos, photo_files
from ..vgg import load_vgg19
from ..weights import weights_file
from .adain import ENCODER_LAYERS, Decoder, adain, encoder_fingerprint, mean_std, statistic_layers
from .paint import _fast_arithmetic
from .store import save_decoder

MAX_BATCH = 64


@dataclass(frozen=True)
class DecoderConfig:
    """How a decoder is trained. Frozen: change it with ``make_decoder_config`` or ``dataclasses.replace``
    (both check). The defaults are ``python -m nst_helpers train --arbitrary``'s (``make benchmark`` times it
    on a 2-core CPU); notebook 11 trains the ``"notebook"`` preset."""

    name: str = "custom"
    description: str = field(default="", compare=False)
    layer: str = field(
        default="relu3_1",
        metadata=_opt(
            "the encoder's last layer (relu3_1: quicker to learn; relu4_1: larger strokes)", choices=ENCODER_LAYERS
        ),
    )
    width: int = field(default=32, metadata=_opt("decoder channels of its last block (VGG19's: 64)", metavar="N"))
    steps: int = field(default=2000, metadata=_opt("Adam steps", metavar="N"))
    batch_size: int = field(default=4, metadata=_opt("crops per step (per process)", metavar="N"))
    crop: int = field(default=128, metadata=_opt("side of the square training crops in px", metavar="PX"))
    lr: float = field(default=2e-3, metadata=_opt("Adam's learning rate (half cosine to a tenth)", metavar="LR"))
    # The feature term is relative (divided by the features' mean square) and starts near 1 while the pixel
    # term starts near 0.1; at weight 1 it drowned the pixels and the decoder painted in greys for hundreds of
    # steps; 0.05 rebuilt held-out photos about 2 dB better after 300 steps (the report of issue 29).
    feature_weight: float = field(
        default=0.05, metadata=_opt("weight of the feature reconstruction loss (pixel loss: 1)", metavar="W")
    )
    style_weight: float = field(default=1.0, metadata=_opt("AdaIN style loss weight (with --styles)", metavar="W"))
    colour_jitter: float = field(
        default=0.5,
        metadata=_opt("share of photo crops given shuffled and tinted colours (0..1; see recolour)", metavar="P"),
    )
    seed: int = field(default=0, metadata=_opt("random seed for crops and initial weights", metavar="N"))
    checkpoint_every: int = field(default=100, metadata=_opt("write the checkpoint every N steps", metavar="N"))
    precision: str = field(
        default="auto",
        metadata=_opt(
            "arithmetic of the passes; auto: bfloat16 where the device has it", choices=("auto", *PRECISIONS)
        ),
    )

    def __post_init__(self):
        set_ = object.__setattr__

        def whole(name, what, low=1, high=MAX_STEPS):
            set_(self, name, int(check_number(getattr(self, name), what, minimum=low, maximum=high, integer=True)))

        set_(self, "layer", check_choice(self.layer, ENCODER_LAYERS, "encoder layer"))
        whole("width", "decoder width", 4, 256)
        whole("steps", "steps")
        whole("batch_size", "batch size", 1, MAX_BATCH)
        whole("crop", "crop size", 32, 1024)
        whole("checkpoint_every", "checkpoint interval")
        whole("seed", "random seed", 0, MAX_RANDOM_SEED)
        set_(self, "lr", check_number(self.lr, "learning rate", above=0, maximum=1))
        set_(self, "feature_weight", check_weight(self.feature_weight, "feature weight"))
        set_(self, "style_weight", check_weight(self.style_weight, "style weight"))
        set_(self, "precision", check_choice(self.precision, ("auto", *PRECISIONS), "precision"))
        set_(self, "colour_jitter", check_number(self.colour_jitter, "colour jitter", minimum=0, maximum=1))

    def to_dict(self):
        return asdict(self)


DECODER_PRESETS = {
    "default": DecoderConfig(
        name="default", description="train --arbitrary: relu3_1, width 32, 2000 steps of 4 crops of 128 px"
    ),
    "notebook": DecoderConfig(
        name="notebook",
        # 400 steps of 2 crops left the decoder painting in grey-violet, every painting alike (notebook 11's
        # timing run, 2026-11-30); with 4 crops the colours come after about 400 steps (issue 29's report).
        description="notebook 11 on a CPU: the default with 1000 steps",
        steps=1000,
    ),
}
DECODER_OPTIONS = tuple(f.name for f in fields(DecoderConfig) if f.metadata)


def make_decoder_config(training="default", **overrides):
    """A checked ``DecoderConfig``: a preset name (None: default) or a config, with ``overrides``."""
    if training is None:
        training = "default"
    if isinstance(training, str):
        if training not in DECODER_PRESETS:
            raise NSTError(f"unknown decoder preset {training!r}: use one of {', '.join(DECODER_PRESETS)}")
        training = DECODER_PRESETS[training]
    elif not isinstance(training, DecoderConfig):
        raise NSTError(f"training must be a decoder preset name or a DecoderConfig, not {type(training).__name__}")
    unknown = [k for k in overrides if k not in DECODER_OPTIONS]
    if unknown:
        raise NSTError(f"unknown option {unknown[0]!r}: the options are {', '.join(DECODER_OPTIONS)}")
    return replace(training, **overrides) if overrides else training


# ------------------------------------------------------------------------------------------- losses


def recolour(batch, share, generator):
    """Each crop, with probability ``share``, with its colour channels shuffled and a random tint
    (x_c -> a_c x_c + b_c, a_c in [0.5, 1], b_c in [0, 1 - a_c]: still in [0, 1]). Half the bundled
    photos are greyscale and few are saturated: a decoder trained on them alone paints in greys; it must
    see every colour a painting's statistics may ask of it."""
    out = batch.clone()
    for i in range(len(batch)):
        if torch.rand((), generator=generator).item() >= share:
            continue
        perm = torch.randperm(3, generator=generator)
        a = 0.5 + 0.5 * torch.rand(3, generator=generator)
        b = (1 - a) * torch.rand(3, generator=generator)
        out[i] = batch[i, perm] * a.view(3, 1, 1).to(batch) + b.view(3, 1, 1).to(batch)
    return out


def reconstruction_losses(model, decoder, photos, layer, dtype=None, feature_weight=1.0):
    """(total, parts) of decoding a batch of photos' own features: pixel and feature MSE (``parts``
    also has ``psnr`` in dB of the pixel loss). ``decoder`` may be wrapped in DistributedDataParallel."""
    with torch.no_grad(), torch.autocast(photos.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        target = model(photos, [layer])[layer].float()
    with torch.autocast(photos.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        picture = decoder(target).float()
        again = model(picture, [layer])[layer].float()
    pixel = F.mse_loss(picture, photos)
    feature = F.mse_loss(again, target) / target.pow(2).mean().clamp_min(1e-12)
    total = pixel + feature_weight * feature
    return total, {"pixel": pixel.item(), "feature": feature.item(), "psnr": -10 * math.log10(max(pixel.item(), 1e-12))}


def style_statistics_loss(features, targets, layers):
    """Huang and Belongie's style loss: sum over ``layers`` of the squared differences of the channel
    means and standard deviations, each layer's divided by the painting's mean square statistic (so
    every layer counts alike whatever the weights' scale)."""
    total = 0.0
    for name in layers:
        m, s = mean_std(features[name])
        tm, ts = mean_std(targets[name])
        scale = (tm.pow(2).mean() + ts.pow(2).mean()).clamp_min(1e-12)
        total = total + (F.mse_loss(m, tm.expand_as(m)) + F.mse_loss(s, ts.expand_as(s))) / scale
    return total


def adain_losses(model, decoder, photos, paintings, layer, dtype=None, feature_weight=1.0, style_weight=1.0):
    """The reconstruction losses plus AdaIN's content and style losses for photo crops restyled with
    painting crops, in one pass of the decoder over both (DistributedDataParallel allows one)."""
    stats = statistic_layers(layer)
    on = dict(device_type=photos.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)
    with torch.no_grad(), torch.autocast(**on):
        f = model(photos, [layer])[layer].float()
        s = {k: v.float() for k, v in model(paintings, list(stats)).items()}
        t = adain(f, s[layer])
    with torch.autocast(**on):
        pictures = decoder(torch.cat([f, t])).float()
        out = {k: v.float() for k, v in model(pictures, list(stats)).items()}
    n = len(photos)
    pixel = F.mse_loss(pictures[:n], photos)
    feature = F.mse_loss(out[layer][:n], f) / f.pow(2).mean().clamp_min(1e-12)
    content = F.mse_loss(out[layer][n:], t) / t.pow(2).mean().clamp_min(1e-12)
    style = style_statistics_loss({k: v[n:] for k, v in out.items()}, s, stats)
    total = pixel + feature_weight * (feature + content) + style_weight * style
    style = style.detach()
    parts = {"pixel": pixel.item(), "feature": feature.item(), "content": content.item(), "style": style.item()}
    parts["psnr"] = -10 * math.log10(max(parts["pixel"], 1e-12))
    return total, parts


# ------------------------------------------------------------------------------------------ training


@dataclass
class DecoderResult:
    """What ``train_decoder`` returns: the decoder (eval mode), per-step losses, steps, seconds, why it
    stopped (None: all steps; "interrupted"; "stop"), the metadata saved with it."""

    decoder: Decoder
    history: dict = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    stopped: str = None
    meta: dict = field(default_factory=dict)
    inputs: tuple = ()

    def save(self, path, overwrite=False):
        return save_decoder(self.decoder, path, self.meta, overwrite=overwrite, protect=self.inputs)


def style_files(styles):
    """Paintings for fine-tuning: None (none), a folder, or a list of image files or bundled names."""
    if styles is None:
        return []
    if isinstance(styles, (str,)) or hasattr(styles, "__fspath__"):
        return image_files(styles, "paintings folder")
    from ..images import source_path

    return [source_path(s, "style image") for s in styles]


@memory_errors("training the decoder", "give a smaller --crop or --batch-size")
def train_decoder(
    photos=None,
    styles=None,
    training=None,
    *,
    model=None,
    weights=None,
    device="auto",
    checkpoint=None,
    preview=None,
    preview_every=100,
    should_stop=None,
    progress=True,
    **overrides,
):
    """Train a ``Decoder`` to invert VGG19's features at ``training.layer``; returns a ``DecoderResult``.

    photos: a folder, a list of files, or None (the bundled training photos). styles: paintings to
    fine-tune with AdaIN's losses (a folder or list; default none: photos alone). training: a
    ``DecoderConfig`` or preset name, any field overridable by keyword. model: a loaded ``load_vgg19``
    (else ``weights`` is loaded). checkpoint: a path written every ``checkpoint_every`` steps and at the
    end. preview(step, decoder, history) every ``preview_every`` steps. Under torchrun each process
    trains on its own crops and DistributedDataParallel averages the gradients; rank 0 writes."""
    t = make_decoder_config(training, **overrides)
    photo_list = photo_files(photos)
    painting_list = style_files(styles)
    vgg_file = weights_file(weights if model is None else getattr(model, "source", "random"))
    inputs = tuple(p for p in (*photo_list, *painting_list, vgg_file) if p is not None)
    if checkpoint is not None:
        checkpoint = files.check_output(checkpoint, inputs, overwrite=True, what="decoder file")
    run = distributed.start(device if model is None else next(model.parameters()).device)
    if not run.active:
        run = replace(run, device=resolve_device(device) if model is None else next(model.parameters()).device)
    try:
        return _train(
            t,
            photo_list,
            painting_list,
            model,
            weights,
            run,
            checkpoint,
            inputs,
            preview,
            preview_every,
            should_stop,
            progress,
        )
    finally:
        distributed.stop(run)


def _train(
    t, photo_list, painting_list, model, weights, run, checkpoint, inputs, preview, preview_every, should_stop, progress
):
    photo_list = check_training_photos(photo_list, t.crop)
    if painting_list:
        painting_list = check_training_photos(painting_list, t.crop)
    if model is None:
        model = load_vgg19(weights, device=run.device, progress=progress and run.is_main)
    model = model.to(run.device)
    dtype = _fast_arithmetic(t.precision, run.device)
    torch.manual_seed(t.seed)  # the same initial weights in every process
    decoder = Decoder(t.layer, t.width).to(run.device).train()
    trainer = distributed.wrap(decoder, run)
    crops = PhotoCrops(distributed.shard(photo_list, run), t.crop, seed=distributed.seed(t.seed, run))
    painting_crops = None
    if painting_list:
        painting_crops = PhotoCrops(painting_list, t.crop, seed=distributed.seed(t.seed + 1, run), zoom=1.5)
    meta = {
        "steps": 0,
        "seconds": 0.0,
        "encoder": encoder_fingerprint(model, t.layer),
        "vgg_weights": str(getattr(model, "source", "")),
        "styles": [p.stem for p in painting_list],
        "photos": len(photo_list),
        "processes": run.world_size,
        "training": t.to_dict(),
    }
    colours = torch.Generator().manual_seed(distributed.seed(t.seed + 2, run))
    optimizer = torch.optim.Adam(decoder.parameters(), lr=t.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=t.steps, eta_min=t.lr / 10)
    history = {}
    bar = tqdm(total=t.steps, desc="training the decoder", disable=not (progress and run.is_main))
    stopped, start = None, time.perf_counter()

    def save():
        meta["seconds"] = time.perf_counter() - start
        if checkpoint is not None and run.is_main:
            decoder.eval()
            save_decoder(decoder, checkpoint, meta, overwrite=True, protect=inputs)
            decoder.train()

    try:
        for step in range(1, t.steps + 1):
            if should_stop is not None and should_stop():
                stopped = "stop"
                break
            batch = recolour(crops.batch(t.batch_size, run.device), t.colour_jitter, colours)
            if painting_crops is None:
                total, parts = reconstruction_losses(model, trainer, batch, t.layer, dtype, t.feature_weight)
            else:
                paintings = painting_crops.batch(t.batch_size, run.device)
                total, parts = adain_losses(
                    model, trainer, batch, paintings, t.layer, dtype, t.feature_weight, t.style_weight
                )
            if not math.isfinite(total.item()):
                raise NSTError(f"the training loss became {total.item()} at step {step}: lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            schedule.step()
            meta["steps"] = step
            for key, value in parts.items():
                history.setdefault(key, []).append(value)
            bar.update(1)
            if progress and run.is_main:
                bar.set_postfix_str(f"PSNR {parts['psnr']:.1f} dB", refresh=False)
            if step % t.checkpoint_every == 0:
                save()
            if preview is not None and run.is_main and (step % preview_every == 0 or step == t.steps):
                decoder.eval()
                with torch.no_grad():
                    preview(step, decoder, history)
                decoder.train()
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    save()
    decoder.eval().requires_grad_(False)
    decoder.meta = dict(meta)
    if stopped == "interrupted" and progress and run.is_main:
        print(
            f"nst_helpers: training interrupted after {meta['steps']} steps"
            + (f"; the decoder so far is saved in {checkpoint}" if checkpoint else ""),
            file=sys.stderr,
        )
    return DecoderResult(decoder, history, meta["steps"], seconds, stopped, dict(meta), inputs)
