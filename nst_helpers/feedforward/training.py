"""Training a transformation network with the course's objective (Johnson et al. 2016).

Training (``train_network``) minimises the course's objective (``objective.build_objective`` with a
``StyleConfig``: content, style and TV terms exactly as ``stylize`` uses them) of the network's
output for random crops of photos, with Adam. Each batch gets new content terms (the crops'
activations); the style terms, Gram matrices of the painting at the size of the pictures the network
is made for (``style_size``), are computed once. The crops may be smaller than those pictures: a
step costs less and the strokes keep their size. Where the device computes bfloat16 natively, the
forward passes (the network's and VGG19's) run in bfloat16 under autocast while the weights, the
losses and Adam stay float32 (``training_config``).

How a network is trained (its size, the steps, batches, crops, learning rate, ...) is a
``TrainConfig``, as what a picture computes is a ``StyleConfig``; ``TRAIN_PRESETS`` names two.
``train_network`` reads as: ``prepare_training`` (every check, then the set-up), then the loop of
``Training.step`` with a checkpoint and a preview every so many steps.
"""

import math
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import distributed, files
from ..checks import (
    MAX_RANDOM_SEED,
    MAX_SIZE,
    MAX_STEPS,
    MIN_SIZE,
    check_choice,
    check_number,
    check_size,
    check_weight,
)
from ..config import StyleConfig, _opt, make_config
from ..devices import PRECISIONS, bfloat16_is_fast
from ..errors import NSTError, memory_errors
from ..images import load_image
from ..layers import check_image_size
from ..memory import check_memory
from ..objective import Objective, build_objective, content_terms
from ..photos import (
    PhotoCrops,
    check_training_photos,
    photo_files,
)
from ..prepare import run_device, start_run
from ..transfer import input_files
from ..vgg import describe_vgg
from ..weights import weights_file
from .network import (
    FILE_FORMAT,
    FILE_VERSION,
    MAX_BATCH,
    NETWORK_SIZES,
    TransformNet,
    apply_network,
    make_network,
    network_shape,
    save_network,
)

# ----------------------------------------------------------------------------------- configuration


def check_side(value, name, meaning):
    """One length in px (a crop's side, the painting's long side): ``check_size`` without HxW or None."""
    side = check_size(value, name)
    if side is None or isinstance(side, tuple):
        raise NSTError(f"{name} is one number ({meaning}), not {'None' if side is None else 'HxW'}")
    return side


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how a network is trained: not what it learns (the objective, a
    ``StyleConfig``: ``training_config``'s by default), nor where (device and weights are arguments of
    ``train_network``). Frozen: change a field with ``make_train_config`` or ``dataclasses.replace``;
    both check the result. The fields' metadata (``help``, ``kind``, ``metavar``, ``choices``) has
    ``StyleConfig``'s form, for the command line.

    The defaults are what ``python -m nst_helpers train`` does (notebook 8 runs fewer steps): a small
    network on 96 px crops of the bundled photos, the painting at 128 px, the size of the pictures it
    is made for (``make benchmark`` times it on a 2-core CPU). Crops smaller than the pictures make a
    step about half as costly as 128 px crops, so twice as many steps fit in the same time.
    ``precision`` and ``style_weight`` shape the default objective only: a given ``StyleConfig`` keeps
    its own.
    """

    name: str = "custom"
    description: str = field(default="", compare=False)
    network: str = field(
        default="small", metadata=_opt("network size (see NETWORK_SIZES)", choices=tuple(NETWORK_SIZES))
    )
    width: int = field(default=None, metadata=_opt("channels of the first layer (overrides network)", metavar="N"))
    depth: int = field(default=None, metadata=_opt("residual blocks (overrides network)", metavar="N"))
    steps: int = field(default=2800, metadata=_opt("Adam steps", metavar="N"))
    batch_size: int = field(default=4, metadata=_opt("crops per step", metavar="N"))
    crop: int = field(default=96, metadata=_opt("side of the square training crops in px", metavar="PX"))
    style_size: int = field(
        default=128,
        metadata=_opt(
            "long side of the painting in px: strokes are learned at the scale of pictures this size (None: the "
            "crop's)",
            metavar="PX",
        ),
    )
    lr: float = field(
        default=2e-3,
        metadata=_opt("Adam's learning rate (it falls along a half cosine to a tenth of it)", metavar="LR"),
    )
    seed: int = field(default=0, metadata=_opt("random seed for crops and initial weights", metavar="N"))
    checkpoint_every: int = field(default=100, metadata=_opt("write the checkpoint every N steps", metavar="N"))
    preview_every: int = field(default=100, metadata=_opt("show a preview every N steps", metavar="N"))
    precision: str = field(
        default="auto",
        metadata=_opt(
            "arithmetic of VGG19's passes; auto: bfloat16 where the CPU or GPU has it natively",
            choices=("auto", *PRECISIONS),
        ),
    )
    # Half the seed's 1e5. One network paints every photo and cannot reach each photo's optimum as
    # ``stylize`` does, so it has to trade; at the seed's beta it leans to the painting (style at 0.5-0.8x
    # optimisation's, content at 2x), at half it keeps both within 2x with room to spare (``make
    # benchmark``, benchmarks/RESULTS.md).
    style_weight: float = field(
        default=5e4, metadata=_opt("style weight beta of the training objective: half the seed's", metavar="BETA")
    )
    # Off by default: the patch critic (``critic.py``) and the temporal term (``temporal.py``), issue 31.
    adversarial_weight: float = field(
        default=0.0,
        metadata=_opt("weight of a patch discriminator's adversarial loss (0: off; see critic.py)", metavar="W"),
    )
    temporal_weight: float = field(
        default=0.0,
        metadata=_opt(
            "weight of the temporal loss between outputs of two frames related by known motion (0: off; see "
            "temporal.py)",
            metavar="W",
        ),
    )

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "steps", int(check_number(self.steps, "steps", minimum=1, maximum=MAX_STEPS, integer=True)))
        set_(
            self,
            "batch_size",
            int(check_number(self.batch_size, "batch size", minimum=1, maximum=MAX_BATCH, integer=True)),
        )
        set_(self, "crop", check_side(self.crop, "crop size", "the side of the square crops, like 96"))
        if self.style_size is not None:
            set_(self, "style_size", check_side(self.style_size, "style size", "the painting's long side, like 128"))
        set_(self, "lr", check_number(self.lr, "learning rate", above=0, maximum=1))
        set_(
            self,
            "checkpoint_every",
            int(check_number(self.checkpoint_every, "checkpoint interval", minimum=1, maximum=MAX_STEPS, integer=True)),
        )
        set_(
            self,
            "preview_every",
            int(check_number(self.preview_every, "preview interval", minimum=1, maximum=MAX_STEPS, integer=True)),
        )
        set_(
            self, "seed", int(check_number(self.seed, "random seed", minimum=0, maximum=MAX_RANDOM_SEED, integer=True))
        )
        width, depth = network_shape(self.network, self.width, self.depth)
        set_(self, "width", None if self.width is None else width)
        set_(self, "depth", None if self.depth is None else depth)
        set_(self, "precision", check_choice(self.precision, ("auto", *PRECISIONS), "precision"))
        set_(self, "style_weight", check_weight(self.style_weight, "style weight"))
        set_(self, "adversarial_weight", check_weight(self.adversarial_weight, "adversarial weight"))
        set_(self, "temporal_weight", check_weight(self.temporal_weight, "temporal weight"))

    @property
    def painting_size(self):
        """The painting's long side in px: ``style_size``, or the crop's when that is None."""
        return self.crop if self.style_size is None else self.style_size

    def to_dict(self):
        """The fields as plain values, for reports."""
        return asdict(self)


#: The named training configurations.
TRAIN_PRESETS = {
    "default": TrainConfig(
        name="default",
        description="what python -m nst_helpers train does: the small network, "
        "2800 steps of 4 crops of 96 px, the painting at 128 px",
    ),
    "notebook": TrainConfig(
        name="notebook", description="notebook 8 on a CPU: the default with 1000 steps", steps=1000
    ),
}

#: The fields a caller may set (everything but the bookkeeping ``name`` and ``description``).
TRAIN_OPTIONS = tuple(f.name for f in fields(TrainConfig) if f.metadata)


def make_train_config(training="default", **overrides):
    """A checked ``TrainConfig``: a preset (by name; None: ``"default"``), a given one or a dict
    (``to_dict()``, a network file's metadata), with ``overrides`` applied."""
    if training is None:
        training = "default"
    if isinstance(training, str):
        if training not in TRAIN_PRESETS:
            raise NSTError(f"unknown training preset {training!r}: use one of {', '.join(TRAIN_PRESETS)}")
        training = TRAIN_PRESETS[training]
    elif isinstance(training, dict):
        saved = dict(training)
        training = TrainConfig(name=str(saved.pop("name", "custom")), description=str(saved.pop("description", "")))
        overrides = {**saved, **overrides}
    elif not isinstance(training, TrainConfig):
        raise NSTError(
            f"training must be a training preset name ({', '.join(TRAIN_PRESETS)}) or a TrainConfig, "
            f"not {type(training).__name__}"
        )
    unknown = [k for k in overrides if k not in TRAIN_OPTIONS]
    if unknown:
        raise NSTError(f"unknown option {unknown[0]!r}: the options are {', '.join(TRAIN_OPTIONS)}")
    return replace(training, **overrides) if overrides else training


def training_precision(precision, device):
    """The arithmetic of VGG19's passes while training: ``"auto"`` is bfloat16 where the device computes
    it natively (about 1.5x faster per step on a CPU with AVX512-BF16: benchmarks/RESULTS.md), else
    float32. The losses are the same functions either way (``Objective.features``)."""
    if check_choice(precision, ("auto", *PRECISIONS), "precision") == "auto":
        return "bfloat16" if bfloat16_is_fast(device) else "float32"
    return precision


def training_config(config=None, device="cpu", training=None, **overrides):
    """The objective a network is trained with (a ``StyleConfig``): by default the ``seed`` preset's
    layers and losses (conv_4; conv_1 ... conv_5; alpha 1, no TV) with the training configuration's
    beta (``TrainConfig.style_weight``, 5e4) and VGG19's passes in the precision its ``precision``
    picks for ``device`` (``training_precision``). The pictures are judged with the seed's own
    objective, loss for loss against ``stylize``. A given ``config`` is kept as it is (its own beta and
    precision)."""
    if config is None:
        training = make_train_config(training)
        overrides.setdefault("precision", training_precision(training.precision, device))
        overrides.setdefault("style_weight", training.style_weight)
        config = "seed"
    return make_config(config, **overrides)


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


def load_painting(style, size, config, device):
    """The painting at ``size`` times the configuration's ``style_scale`` (as ``stylize`` loads it for a
    picture of that size), checked against the style layers."""
    style_px = max(MIN_SIZE, round(size * config.style_scale))
    if style_px > MAX_SIZE:
        raise NSTError(
            f"style size {size} times style scale {config.style_scale:g} makes the painting "
            f"{style_px} px long, over {MAX_SIZE} px: lower the style size or the style scale"
        )
    painting = load_image(style, size=style_px, device=device, what="style image")
    check_image_size(painting, config.style_layers, "the style image")
    return painting


@contextmanager
def _eval_mode(network):
    """The network in eval mode for a while (a preview, a checkpoint), then back as it was."""
    was_training = network.training
    network.eval()
    try:
        yield network
    finally:
        network.train(was_training)


@dataclass
class Training:
    """A training run, checked and set up by ``prepare_training``: what ``train_network``'s loop works on."""

    training: TrainConfig
    config: StyleConfig
    device: torch.device
    network: TransformNet
    objective: Objective
    crops: PhotoCrops
    meta: dict
    checkpoint: Path = None
    prior_seconds: float = 0.0
    inputs: tuple = ()  # every file the run reads: never replaced by the checkpoint
    painting: torch.Tensor = None  # the painting at the style size: the critic's real patches
    critic: object = None  # a ``critic.Critic`` when adversarial_weight > 0
    motion: torch.Generator = None  # the synthetic motion's random numbers when temporal_weight > 0
    trainer: nn.Module = None  # the network in DistributedDataParallel under torchrun (``distributed.wrap``)
    is_main: bool = True  # False in torchrun's processes but the first: they neither write nor show

    def step(self, optimizer, step):
        """One Adam step on a new batch of crops; returns the losses (``parts``)."""
        t = self.training
        batch = self.crops.batch(t.batch_size, self.device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bfloat16"):
            output = (self.trainer or self.network)(
                batch
            )  # in bfloat16 too when VGG19 is: its convolutions cost as much again
        total, parts = objective_loss(self.objective, output.float(), batch)
        total = total + self._extra_terms(batch, output.float(), parts)
        if not math.isfinite(parts["total"]):
            raise NSTError(
                f"the training loss became {parts['total']} at step {step}: lower the learning rate or the weights"
            )
        total.backward()
        optimizer.step()
        if self.critic is not None:
            parts["critic"] = self.critic.update(output.float())
        return parts

    def _extra_terms(self, batch, output, parts):
        """The adversarial and temporal terms (weighted; 0 when both are off), recorded in ``parts``."""
        from .critic import Critic
        from .temporal import pair_loss

        t, extra = self.training, 0.0
        if t.adversarial_weight > 0:
            if self.critic is None:
                self.critic = Critic(self.painting, t.crop, seed=t.seed)
            adversarial = t.adversarial_weight * self.critic.loss(output)
            parts["adversarial"] = float(adversarial.detach())
            extra = extra + adversarial
        if t.temporal_weight > 0:
            if self.motion is None:
                self.motion = torch.Generator().manual_seed(t.seed + 104729)
            bf16 = self.config.precision == "bfloat16"
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
                temporal = t.temporal_weight * pair_loss(self.network, batch, output, self.motion)
            parts["temporal"] = float(temporal.detach())
            extra = extra + temporal
        if t.adversarial_weight > 0 or t.temporal_weight > 0:
            parts["total"] = parts["total"] + float(extra.detach())
        return extra

    def save_checkpoint(self, seconds):
        """The metadata's time (``seconds`` of this run, after those of a network trained further), and the
        network written (atomically) to the checkpoint, if there is one."""
        self.meta["seconds"] = self.prior_seconds + seconds
        if self.checkpoint is not None and self.is_main:
            with _eval_mode(self.network):
                save_network(self.network, self.checkpoint, self.meta, overwrite=True, protect=self.inputs)

    def show_preview(self, preview, step, history):
        """``preview(step, network, history)`` with the network in eval mode and no gradients."""
        with _eval_mode(self.network), torch.no_grad():
            preview(step, self.network, history)


def prepare_training(
    style,
    photos=None,
    config=None,
    training=None,
    *,
    network=None,
    model=None,
    weights=None,
    device="auto",
    checkpoint=None,
    **overrides,
):
    """Check a training run and set it up; returns a ``Training`` (arguments as for ``train_network``).

    Problems are reported in this order: the objective and the training configuration, the checkpoint's
    name, the photos, the device and the painting's count against the blend (``prepare.start_run``),
    the painting, VGG19 (loaded, or a given model checked against the objective), the memory, the
    first crop.
    """
    prior = {}
    if isinstance(network, TransformNet):  # a network to train further
        prior = dict(getattr(network, "meta", {}) or {})
    elif network is not None:
        overrides["network"] = network
    config = None if config is None else training_config(config)  # a bad one is reported first
    t = make_train_config(training, **overrides)
    photo_list = photo_files(photos)
    # every file the run reads is protected from the checkpoint: the painting, the photos, VGG19's weights
    vgg_file = weights_file(weights if model is None else getattr(model, "source", "random"))
    inputs = tuple(p for p in (*input_files([style]), *photo_list, vgg_file) if p is not None)
    if checkpoint is not None:
        checkpoint = files.check_output(checkpoint, inputs, overwrite=True, what="checkpoint")
    dev = run_device(model, device)
    config = training_config(config, dev, t)
    run = start_run([style], config, model=model, device=dev)
    # Memory: a batch is about as costly as one picture of crop x (batch * crop) px, plus the network.
    check_memory(
        t.crop,
        t.crop * t.batch_size,
        run.layers,
        dev,
        lbfgs_history=0,
        what=f"training on batches of {t.batch_size} crops of {t.crop} px",
    )
    photo_list = check_training_photos(photo_list, t.crop)  # every photo read to its end before training
    torch.manual_seed(t.seed)  # the new network's initial weights; crops come from their own generator
    net = network if isinstance(network, TransformNet) else make_network(t.network, t.width, t.depth)
    net = net.to(dev).train()
    # the painting first: a missing or unreadable one is reported before VGG19 is loaded (or downloaded)
    painting = load_painting(style, t.painting_size, config, dev)
    model = run.load_model(weights).model
    check_memory(
        *painting.shape[-2:],
        config.style_layers,
        dev,
        lbfgs_history=0,
        what=f"the painting at {max(painting.shape[-2:])} px (style size)",
    )
    crops = PhotoCrops(photo_list, t.crop, seed=t.seed)
    first = crops.batch(1, dev)
    check_image_size(first, run.layers, "a training crop")
    objective = build_objective(model, first, [painting], config)
    meta = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "width": net.width,
        "depth": net.depth,
        "style": _name_of(style),
        "config": config.to_dict(),
        "crop": t.crop,
        "style_size": t.painting_size,
        "batch_size": t.batch_size,
        "lr": t.lr,
        "steps": int(prior.get("steps", 0)),
        "seconds": 0.0,
        "vgg_weights": str(getattr(model, "source", "")),
        "vgg_network": describe_vgg(model)[0],
        "photos": len(photo_list),
        "adversarial_weight": t.adversarial_weight,
        "temporal_weight": t.temporal_weight,
    }
    prior_seconds = float(prior.get("seconds", 0.0))
    return Training(t, config, dev, net, objective, crops, meta, checkpoint, prior_seconds, inputs, painting)


#: What ``TrainResult.history`` records per step: the weighted parts, and the unweighted content and style losses.
HISTORY = ("content", "style", "tv", "total", "content_loss", "style_loss")


def _record(history, parts):
    for key in ("content", "style", "tv", "total"):
        history[key].append(parts[key])
    for key in ("adversarial", "critic", "temporal"):  # with TrainConfig's adversarial / temporal terms on
        if key in parts:
            history.setdefault(key, []).append(parts[key])
    history["content_loss"].append(parts["unweighted"]["content"])
    history["style_loss"].append(parts["unweighted"]["style"])


def _log(bar, step, steps, parts, progress, log_every):
    bar.update(1)
    if progress:
        bar.set_postfix_str(f"content {parts['content']:.3g} style {parts['style']:.3g}", refresh=False)
        if log_every and step % log_every == 0:
            tqdm.write(
                f"step {step}/{steps}: " + "  ".join(f"{k} {parts[k]:.4g}" for k in ("content", "style", "tv", "total"))
            )


@memory_errors("training", "give a smaller --crop, --batch-size or --style-size")
def train_network(
    style,
    photos=None,
    config=None,
    training=None,
    *,
    network=None,
    model=None,
    weights=None,
    device="auto",
    checkpoint=None,
    preview=None,
    should_stop=None,
    progress=True,
    log_every=0,
    **overrides,
):
    """Train a ``TransformNet`` to paint photos in the style of ``style``; returns a ``TrainResult``.

    style: a path, bundled example name or image. photos: a folder, a list of image files, or None
    for the bundled training photos. config: a ``StyleConfig`` or preset name (default
    ``training_config(device=...)``): its layers, weights, Gram normalisation, pooling and style scale
    define the loss. training: a ``TrainConfig`` or preset name (default ``"default"``): the network's
    size, the steps, batches, crops, painting size, learning rate, seed, checkpoint and preview
    intervals; any of its fields may be given by keyword (``steps=100``, ``crop=64``, ...).
    network: a size name (as ``training.network``) or a ``TransformNet`` to train further. model: a
    loaded ``load_vgg19`` network (checked against ``config``), else ``weights`` is loaded on ``device``.
    checkpoint: a path written (atomically) every ``checkpoint_every`` steps and when the run ends,
    Ctrl-C included. preview(step, network, history) is called every ``preview_every`` steps and after
    the last; ``should_stop()`` is asked before every step.

    Under ``torchrun --nproc_per_node N`` the processes train together (``distributed``): each draws its
    own crops, DistributedDataParallel averages the gradients, only the first writes, shows and prints.
    """
    dist = distributed.start(device if model is None else next(model.parameters()).device)
    try:
        return _train_network(
            dist,
            device,
            style,
            photos,
            config,
            training,
            network,
            model,
            weights,
            checkpoint,
            preview,
            should_stop,
            progress,
            log_every,
            overrides,
        )
    finally:
        distributed.stop(dist)


def _train_network(
    dist,
    device,
    style,
    photos,
    config,
    training,
    network,
    model,
    weights,
    checkpoint,
    preview,
    should_stop,
    progress,
    log_every,
    overrides,
):
    device = dist.device if dist.active else device
    run = prepare_training(
        style,
        photos,
        config,
        training,
        network=network,
        model=model,
        weights=weights,
        device=device,
        checkpoint=checkpoint,
        **overrides,
    )
    run.meta["processes"] = dist.world_size
    if dist.active:
        run.trainer, run.is_main = distributed.wrap(run.network, dist), dist.is_main
        run.crops = PhotoCrops(
            distributed.shard(run.crops.paths, dist), run.training.crop, seed=distributed.seed(run.training.seed, dist)
        )
        progress = progress and dist.is_main
        preview = preview if dist.is_main else None
    t, history = run.training, {key: [] for key in HISTORY}
    optimizer = torch.optim.Adam(run.network.parameters(), lr=t.lr)
    # The learning rate falls along a half cosine to a tenth: big steps first, then settling.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=t.steps, eta_min=t.lr / 10)
    bar = tqdm(total=t.steps, desc="training", disable=not progress)
    stopped, done, start = None, 0, time.perf_counter()
    try:
        for step in range(1, t.steps + 1):
            if should_stop is not None and should_stop():
                stopped = "stop"
                break
            parts = run.step(optimizer, step)
            schedule.step()
            done = step
            _record(history, parts)
            run.meta["steps"] += 1
            _log(bar, step, t.steps, parts, progress, log_every)
            if step % t.checkpoint_every == 0:
                run.save_checkpoint(time.perf_counter() - start)
            if preview is not None and (step % t.preview_every == 0 or step == t.steps):
                run.show_preview(preview, step, history)
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    run.network.eval()
    run.save_checkpoint(seconds)
    run.network.meta = dict(run.meta)
    if stopped == "interrupted" and progress:
        print(
            f"nst_helpers: training interrupted after {done} steps"
            + (f"; the network so far is saved in {run.checkpoint}" if run.checkpoint else ""),
            file=sys.stderr,
        )
    return TrainResult(
        network=run.network,
        history=history,
        steps=done,
        seconds=seconds,
        stopped=stopped,
        meta=dict(run.meta),
        inputs=run.inputs,
    )
