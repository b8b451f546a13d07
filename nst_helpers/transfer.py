"""Style transfer: the presets and ``stylize``, the one function that makes a stylised picture.

The ``seed`` preset is the course's original configuration and the default: content layer ``conv_4``,
style layers ``conv_1`` ... ``conv_5`` (the tutorial's numbering, see ``layers.py``), content weight 1,
style weight 1e5, Gram matrices divided by C*H*W, 300 steps of L-BFGS starting from a copy of the
content image, pixels kept in [0, 1]. Steps are evaluations of the objective (see ``optimize.py``).
"""

from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from . import color
from .devices import default_size, resolve_device
from .errors import NSTError
from .images import DEFAULT_CONTENT, DEFAULT_STYLES, load_image
from .layers import layer_info, min_image_side
from .losses import GRAM_NORMS, StyleTransferLoss, check_weight, normalize_blend
from .optimize import OPTIMIZERS, OptimizationResult, optimize_image
from .vgg import load_vgg19

INITS = ("content", "noise")


@dataclass(frozen=True)
class Preset:
    """A named configuration of the algorithm; ``stylize`` arguments override its fields."""

    content_layers: tuple
    style_layers: tuple
    content_weight: float
    style_weight: float
    steps: int = 300
    optimizer: str = "lbfgs"
    init: str = "content"
    gram_norm: str = "chw"
    pooling: str = "max"
    layer_weights: tuple = None
    tv_weight: float = 0.0
    line_search: str = "strong_wolfe"
    description: str = ""


PRESETS = {
    "seed": Preset(
        content_layers=("conv_4",),
        style_layers=("conv_1", "conv_2", "conv_3", "conv_4", "conv_5"),
        content_weight=1.0,
        style_weight=1e5,
        description="the course's original configuration (the PyTorch tutorial's layers and weights)",
    ),
    "gatys": Preset(
        content_layers=("relu4_2",),
        style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        layer_weights=(0.2, 0.2, 0.2, 0.2, 0.2),
        content_weight=1.0,
        style_weight=1e7,  # with the seed's Gram normalisation; 1e6 left the photo almost untouched
        description="Gatys et al. (2016): content relu4_2, style relu1_1..relu5_1 weighted 1/5 each, beta 1e7",
    ),
}


@dataclass
class StyleResult(OptimizationResult):
    """``OptimizationResult`` plus the configuration that made it (``config``)."""

    config: dict = field(default_factory=dict)


def get_preset(name):
    if isinstance(name, Preset):
        return name
    if name not in PRESETS:
        raise NSTError(f"unknown preset {name!r}: use one of {', '.join(PRESETS)}")
    return PRESETS[name]


def multiscale_plan(size, steps, levels=3, min_size=64):
    """Sizes and steps for coarse-to-fine: each level halves the size, down to ``min_size``.

    The coarse levels get the full ``steps`` (they are cheap), the finest level a sixth of them:
    the picture is mostly made small and only refined at full size.
    """
    sizes = [int(size)]
    while len(sizes) < levels and sizes[0] // 2 >= min_size:
        sizes.insert(0, sizes[0] // 2)
    if len(sizes) == 1:
        return [(sizes[0], steps)]
    plan = [(s, steps if i == 0 else max(1, steps // 3)) for i, s in enumerate(sizes[:-1])]
    return plan + [(sizes[-1], max(1, steps // 6))]


def check_image_size(image, layers, what):
    need = min_image_side(layers)
    h, w = image.shape[-2:]
    if min(h, w) < need:
        deepest = max(layers, key=lambda n: layer_info(n).downsample)
        raise NSTError(f"{what} is {w}x{h} px, too small for layer {deepest}, which needs at least {need} px "
                       f"on each side: use a larger size")


def as_style_list(styles):
    """One style image (path, name, PIL image or tensor) or several, as a list."""
    if isinstance(styles, (str, bytes)) or torch.is_tensor(styles) or not hasattr(styles, "__len__"):
        return [styles]
    return list(styles)


def prepare_images(content, styles, size, style_scale, device):
    """Load the content and style images: the content at ``size``, each style at ``style_scale`` times it."""
    content_t = load_image(content, size=size, device=device, what="content image")
    long_side = max(content_t.shape[-2:])
    style_scale = check_weight(style_scale, "style scale")
    if style_scale <= 0:
        raise NSTError("style scale must be greater than 0 (1 keeps the style image at the output's size)")
    style_long = max(1, round(long_side * style_scale))
    style_ts = [load_image(s, size=style_long, device=device, what="style image") for s in styles]
    return content_t, style_ts


def stylize(content=None, styles=None, *, preset="seed", blend=None, size=None, style_scale=1.0,
            content_weight=None, style_weight=None, tv_weight=None, steps=None, init=None, optimizer=None,
            lr=None, seed=0, device="auto", weights=None, model=None, pooling=None, content_layers=None,
            style_layers=None, layer_weights=None, gram_norm=None, balance_styles=False, preserve_color=None,
            multiscale=False, mask=None, callback=None, callback_every=50, should_stop=None, progress=True,
            log_every=50, line_search=None):
    """Paint ``content`` in the style of ``styles``; returns a ``StyleResult``.

    content, styles: paths, bundled example names (``nst.EXAMPLES``), PIL images or tensors; one style
    or a list. Without them, the bundled cat photo in the style of The Starry Night.
    preset: ``"seed"`` (default) or ``"gatys"``; every other argument left as ``None`` comes from it.
    blend: one weight per style image (normalised to sum 1). size: long side in px (an int, aspect
    kept) or an exact (h, w); default 128 on a CPU, 512 on a GPU (a tensor keeps its own size). style_scale: style images' long
    side relative to the output's (smaller: finer strokes). init: ``"content"``, ``"noise"`` or a
    tensor. optimizer: ``"lbfgs"`` or ``"adam"``. seed: makes ``init="noise"`` repeatable. device:
    ``"auto"`` (cuda, mps, cpu) or a name. weights: a path, ``"random"`` or ``None`` (see
    ``weights.py``); or pass a loaded ``model``. balance_styles: divide each style's loss by its own
    scale so blend weights mean what they say. preserve_color: ``None``, ``"luminance"`` or
    ``"histogram"``. multiscale: ``True`` (coarse-to-fine plan, see ``multiscale_plan``) or a list of
    (size, steps). mask: with exactly two style images, an image (path, PIL or tensor) whose white
    part gets the first style and black part the second (spatial control; grey blends them).
    callback(step, parts, image) every ``callback_every`` steps; return False to stop.
    """
    p = get_preset(preset)
    content_layers = tuple(content_layers or p.content_layers)
    style_layers = tuple(style_layers or p.style_layers)
    for name in content_layers + style_layers:
        layer_info(name)
    layer_weights = layer_weights if layer_weights is not None else p.layer_weights
    gram_norm = gram_norm or p.gram_norm
    if gram_norm not in GRAM_NORMS:
        raise NSTError(f"unknown Gram normalisation {gram_norm!r}: use one of {', '.join(GRAM_NORMS)}")
    optimizer = optimizer or p.optimizer
    line_search = line_search or p.line_search
    if optimizer not in OPTIMIZERS:
        raise NSTError(f"unknown optimizer {optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
    init = p.init if init is None else init
    if isinstance(init, str) and init not in INITS:
        raise NSTError(f"unknown init {init!r}: use one of {', '.join(INITS)}")
    steps = int(p.steps if steps is None else steps)
    if steps < 1:
        raise NSTError(f"steps must be at least 1, not {steps}")
    cw = check_weight(p.content_weight if content_weight is None else content_weight, "content weight")
    sw = check_weight(p.style_weight if style_weight is None else style_weight, "style weight")
    tw = check_weight(p.tv_weight if tv_weight is None else tv_weight, "tv weight")
    color.check_mode(preserve_color)

    dev = resolve_device(device)
    content = DEFAULT_CONTENT if content is None else content
    if size is None and not torch.is_tensor(content):  # a tensor keeps its own size
        size = default_size(dev)
    styles = list(DEFAULT_STYLES) if styles is None else as_style_list(styles)
    if not styles:
        raise NSTError("no style image given: pass at least one")
    blend = normalize_blend(blend, len(styles))
    content_t, style_ts = prepare_images(content, styles, size, style_scale, dev)
    check_image_size(content_t, content_layers + style_layers, "the content image")
    for s in style_ts:
        check_image_size(s, style_layers, "a style image")
    masks = None
    if mask is not None:
        if len(style_ts) != 2:
            raise NSTError(f"a mask splits the picture between two style images, but {len(style_ts)} were given")
        m = load_image(mask, size=tuple(content_t.shape[-2:]), device=dev, what="mask image").mean(1, keepdim=True)
        masks = [m, 1 - m]
    original_content = content_t
    if preserve_color == "histogram":
        style_ts = [color.match_histogram(s, content_t) for s in style_ts]
    elif preserve_color == "luminance":
        style_ts = [color.match_luminance(s, content_t) for s in style_ts]
        content_t = color.grey(color.luminance(content_t))

    if model is None:
        model = load_vgg19(weights, device=dev, pooling=pooling or p.pooling)
    torch.manual_seed(seed)
    if multiscale is True:
        plan = multiscale_plan(max(content_t.shape[-2:]), steps)
    elif multiscale:
        plan = [(int(s), int(n)) for s, n in multiscale]
    else:
        plan = [(max(content_t.shape[-2:]), steps)]

    config = dict(preset=preset if isinstance(preset, str) else "custom", content_layers=content_layers,
                  style_layers=style_layers, layer_weights=layer_weights, content_weight=cw, style_weight=sw,
                  tv_weight=tw, blend=blend, steps=steps, optimizer=optimizer,
                  init=init if isinstance(init, str) else "tensor", gram_norm=gram_norm, seed=seed,
                  line_search=line_search,
                  device=str(dev), size=tuple(content_t.shape[-2:]), style_scale=style_scale,
                  pooling=model.pooling, weights=model.source, balance_styles=balance_styles,
                  preserve_color=preserve_color, plan=plan, mask=mask is not None)

    current, history, evaluations, seconds, stopped, level_result = None, None, 0, 0.0, None, None
    for level, (level_size, level_steps) in enumerate(plan):
        last = level == len(plan) - 1
        c_level = content_t if last else load_image(content_t, size=level_size, device=dev)
        s_levels = style_ts if last else [load_image(s, size=round(max(s.shape[-2:]) * level_size
                                                                   / max(content_t.shape[-2:])), device=dev)
                                          for s in style_ts]
        objective = StyleTransferLoss(model, c_level, s_levels, content_layers, style_layers, cw, sw, blend=blend,
                                      layer_weights=layer_weights, tv_weight=tw, gram_norm=gram_norm,
                                      balance_styles=balance_styles, masks=masks)
        if current is None:
            start = initial_image(init, c_level, seed)
        else:
            start = F.interpolate(current, size=c_level.shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)
        desc = "style transfer" if len(plan) == 1 else f"style transfer {tuple(c_level.shape[-2:])}"
        level_result = optimize_image(objective, start, steps=level_steps, optimizer=optimizer, lr=lr,
                                      callback=callback, callback_every=callback_every, should_stop=should_stop,
                                      progress=progress, log_every=log_every, desc=desc, line_search=line_search)
        current, evaluations, seconds = level_result.image, evaluations + level_result.evaluations, \
            seconds + level_result.seconds
        history = level_result.history if history is None else {k: history[k] + level_result.history[k]
                                                                 for k in history}
        if level_result.stopped:
            stopped = level_result.stopped
            break

    image = current
    if preserve_color == "luminance":
        image = color.recombine_luminance(image, original_content)
    best_step = evaluations - level_result.evaluations + level_result.best_step
    return StyleResult(image=image, history=history, evaluations=evaluations, seconds=seconds, stopped=stopped,
                       best_step=best_step, config=config)


def initial_image(init, content, seed, noise_amplitude=1.0):
    """The starting picture: a copy of ``content``, a given tensor, or seeded white noise
    0.5 + noise_amplitude * (U(0, 1) - 0.5) (``noise_amplitude=1`` is uniform noise over [0, 1])."""
    if torch.is_tensor(init):
        if init.shape != content.shape:
            raise NSTError(f"init image has shape {tuple(init.shape)}, the content image {tuple(content.shape)}: "
                           f"resize it to the content's size")
        return init.detach().to(content).clamp(0, 1)
    if init == "content":
        return content.clone()
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    return (0.5 + noise_amplitude * (torch.rand(content.shape, generator=gen) - 0.5)).to(content)


def describe_presets():
    """One line per preset, for the command line's help and the notebooks."""
    return "\n".join(f"{name}: {p.description}" for name, p in PRESETS.items())
