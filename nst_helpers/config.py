"""One configuration object for a style transfer: ``StyleConfig``, and the named presets.

A preset *is* a configuration: ``PRESETS["seed"]`` is the course's original configuration, and
``make_config("seed", style_weight=1e6)`` is that with one field changed (``dataclasses.replace``).
Every field is checked once, here, when a configuration is made, so ``stylize``, the command line
and the laboratory accept and refuse exactly the same values. The command line's options are made
from the fields (``cli.py`` reads each field's ``help``), so a new option is written once.
"""

from dataclasses import asdict, dataclass, field, fields, replace

from . import color
from .checks import MAX_RANDOM_SEED, MAX_STEPS, check_choice, check_number, check_size, check_weight
from .devices import PRECISIONS
from .errors import NSTError
from .layers import layer_info
from .losses import CONTENT_NORMS, GRAM_NORMS, normalize_blend
from .statistics import STYLE_LOSSES
from .vgg import POOLINGS

OPTIMIZERS = ("lbfgs", "adam")
LINE_SEARCHES = ("strong_wolfe", "none")
INITS = ("content", "noise")
#: How several styles are balanced: not at all, once at the start (``objective.balance_factors``), or all along
#: the run (``objective.DynamicBalance``).
BALANCE_RULES = ("none", "static", "dynamic")


def _opt(help, kind="text", **extra):
    """Field metadata: ``help`` for ``--help``; ``kind`` tells the command line how to read the value."""
    return {"help": help, "kind": kind, **extra}


@dataclass(frozen=True)
class StyleConfig:
    """Everything that decides what a style transfer computes (not where it runs: device and weights
    are arguments of ``stylize``). Frozen: change a field with ``dataclasses.replace`` or
    ``make_config``; both check the result."""

    name: str = "custom"
    description: str = field(default="", compare=False)
    content_layers: tuple = field(
        default=("conv_4",),
        metadata=_opt(
            "content layers (paper names like conv4_2 or tutorial names like conv_4)", "list", metavar="LAYER"
        ),
    )
    style_layers: tuple = field(
        default=("conv_1", "conv_2", "conv_3", "conv_4", "conv_5"),
        metadata=_opt("style layers", "list", metavar="LAYER"),
    )
    layer_weights: tuple = field(
        default=None, metadata=_opt("one weight per style layer (default 1 each)", "list", metavar="W")
    )
    content_weight: float = field(default=1.0, metadata=_opt("content weight alpha", metavar="ALPHA"))
    style_weight: float = field(default=1e5, metadata=_opt("style weight beta", metavar="BETA"))
    tv_weight: float = field(default=0.0, metadata=_opt("total-variation weight (smoothness)", metavar="W"))
    gram_norm: str = field(
        default="chw",
        metadata=_opt(
            "Gram matrix normalisation: G = F F^T / (C H W), / (H W), / (2 H W) (the style loss is then the "
            "paper's E_l) or none",
            choices=GRAM_NORMS,
        ),
    )
    content_norm: str = field(
        default="mean",
        metadata=_opt(
            "content loss: the mean squared difference, or the paper's half sum of squared differences",
            choices=CONTENT_NORMS,
        ),
    )
    style_loss: str = field(
        default="gram",
        metadata=_opt(
            "the style statistic: Gram matrices, per-channel mean and std, sliced Wasserstein, or 3x3 patches "
            "(Li and Wand: use deep layers such as relu3_1 relu4_1)",
            choices=STYLE_LOSSES,
        ),
    )
    pooling: str = field(default="max", metadata=_opt("VGG pooling (the paper recommends avg)", choices=POOLINGS))
    normalize_network: bool = field(
        default=False,
        metadata=_opt(
            "use the paper's normalised VGG19: every filter's mean activation over the bundled photos is 1", "flag"
        ),
    )
    steps: int = field(
        default=300, metadata=_opt("evaluations of the objective (forward + backward passes)", metavar="N")
    )
    tol: float = field(
        default=0.0,
        metadata=_opt(
            "stop early once the objective improved by less than this fraction over the last 20 steps (0: never)",
            metavar="TOL",
        ),
    )
    optimizer: str = field(default="lbfgs", metadata=_opt("optimiser", choices=OPTIMIZERS))
    lr: float = field(default=None, metadata=_opt("learning rate (L-BFGS 1, Adam 0.02)", metavar="LR"))
    line_search: str = field(default="strong_wolfe", metadata=_opt("L-BFGS line search", choices=LINE_SEARCHES))
    init: str = field(default="content", metadata=_opt("start from the content image or from noise", choices=INITS))
    random_seed: int = field(default=0, metadata=_opt("random seed for the noise start", metavar="N"))
    size: object = field(
        default=None, metadata=_opt("long side in px, or HxW (default 128 on a CPU, 512 on a GPU)", metavar="PX")
    )
    style_scale: float = field(
        default=1.0, metadata=_opt("style image size relative to the output: <1 finer strokes, >1 coarser", metavar="S")
    )
    blend: tuple = field(
        default=None, metadata=_opt("one weight per style image (normalised to sum 1)", "list", metavar="W")
    )
    balance_styles: str = field(
        default="none",
        metadata=_opt(
            "balance several styles: none; static (each style divided by its loss at the photo); dynamic (and "
            "adjusted during the run so each style's share of the progress is its blend weight)",
            choices=BALANCE_RULES,
        ),
    )
    preserve_color: str = field(default=None, metadata=_opt("keep the content's colours", choices=color.MODES))
    multiscale: object = field(default=False, metadata=_opt("coarse-to-fine: optimise small, then refine", "flag"))
    precision: str = field(
        default="float32",
        metadata=_opt(
            "arithmetic of the VGG19 passes: bfloat16 is faster on CPUs with AVX512-BF16 and on GPUs",
            choices=PRECISIONS,
        ),
    )

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "content_layers", _layers(self.content_layers, "content layers"))
        set_(self, "style_layers", _layers(self.style_layers, "style layers"))
        if not self.content_layers and not self.style_layers:
            raise NSTError("no content and no style layers: give at least one layer")
        if self.layer_weights is not None:
            weights = _sequence(self.layer_weights, "layer weights")
            if len(weights) != len(self.style_layers):
                raise NSTError(
                    f"got {len(weights)} layer weights for {len(self.style_layers)} style layers: "
                    f"give one per style layer"
                )
            set_(self, "layer_weights", tuple(check_weight(w, "each layer weight") for w in weights))
        for name in ("content_weight", "style_weight", "tv_weight"):
            set_(self, name, check_weight(getattr(self, name), name.replace("_", " ")))
        set_(self, "gram_norm", check_choice(self.gram_norm, GRAM_NORMS, "Gram normalisation"))
        set_(self, "content_norm", check_choice(self.content_norm, CONTENT_NORMS, "content loss normalisation"))
        set_(self, "style_loss", check_choice(self.style_loss, STYLE_LOSSES, "style loss"))
        set_(self, "pooling", check_choice(self.pooling, POOLINGS, "pooling"))
        set_(self, "normalize_network", _flag(self.normalize_network, "normalize_network"))
        set_(self, "steps", check_number(self.steps, "steps", minimum=1, maximum=MAX_STEPS, integer=True))
        set_(self, "tol", check_number(self.tol, "tol", minimum=0, maximum=0.5))
        set_(self, "optimizer", check_choice(self.optimizer, OPTIMIZERS, "optimizer"))
        if self.lr is not None:
            set_(self, "lr", check_number(self.lr, "learning rate", above=0, maximum=1e6))
        set_(self, "line_search", check_choice(self.line_search, LINE_SEARCHES, "line search"))
        set_(self, "init", check_choice(self.init, INITS, "init"))
        set_(
            self,
            "random_seed",
            check_number(self.random_seed, "random seed", minimum=0, maximum=MAX_RANDOM_SEED, integer=True),
        )
        set_(self, "size", check_size(self.size))
        set_(self, "style_scale", check_number(self.style_scale, "style scale", above=0, maximum=8))
        if self.blend is not None:
            blend = _sequence(self.blend, "blend")
            set_(self, "blend", tuple(normalize_blend(blend, len(blend))))
        set_(self, "balance_styles", _balance(self.balance_styles))
        set_(self, "preserve_color", color.check_mode(self.preserve_color))
        set_(self, "multiscale", _multiscale(self.multiscale))
        set_(self, "precision", check_choice(self.precision, PRECISIONS, "precision"))

    def blend_for(self, n_styles):
        """The blend weights for ``n_styles`` style images (equal when none were given), checked."""
        return normalize_blend(self.blend, n_styles)

    def style_layer_weights(self):
        """One weight per style layer (1 each unless ``layer_weights`` says otherwise)."""
        return self.layer_weights or (1.0,) * len(self.style_layers)

    def to_dict(self):
        """The fields as plain values (tuples as lists), for reports and ``StyleResult.config``."""
        return {k: _plain(v) for k, v in asdict(self).items()}


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def _layers(names, what):
    names = (names,) if isinstance(names, str) else _sequence(names, what)
    for name in names:
        layer_info(name)
    return tuple(dict.fromkeys(names))  # each layer once, in the order given


def _sequence(value, what):
    if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise NSTError(f"{what} must be a list, not {type(value).__name__}")
    return tuple(value)


def _flag(value, what):
    if value in (True, False, 0, 1):
        return bool(value)
    raise NSTError(f"{what} must be True or False, not {value!r}")


def _balance(rule):
    """``balance_styles``: a rule name; True (the static rule, as before there were two) or False (none)."""
    if rule is True or rule is False or rule in (0, 1) and not isinstance(rule, str):
        return "static" if rule else "none"
    if isinstance(rule, str) and rule in BALANCE_RULES:
        return rule
    raise NSTError(f"balance_styles must be one of {', '.join(BALANCE_RULES)} (or True / False), not {rule!r}")


def _multiscale(plan):
    """``False``, ``True`` (the automatic plan) or a list of (size, steps) levels, coarse to fine."""
    if plan in (True, False, None, 0, 1) and not isinstance(plan, (tuple, list)):
        return bool(plan)
    levels = _sequence(plan, "multiscale plan")
    if not levels:
        raise NSTError("multiscale plan is empty: give (size, steps) pairs, or True for the automatic plan")
    out = []
    for level in levels:
        if not isinstance(level, (tuple, list)) or len(level) != 2:
            raise NSTError(f"multiscale level {level!r} must be a pair (size, steps)")
        size = check_size(level[0], "multiscale level size")
        if isinstance(size, tuple):
            raise NSTError("multiscale level sizes are long sides (one number each), not HxW pairs")
        out.append((size, check_number(level[1], "multiscale level steps", minimum=1, maximum=MAX_STEPS, integer=True)))
    return tuple(out)


#: The named configurations.
PRESETS = {
    "seed": StyleConfig(
        name="seed",
        description="the course's original configuration (the PyTorch tutorial's layers and 300 L-BFGS steps; "
        "beta 1e5, where the tutorial uses 1e6)",
    ),
    # Gatys, Ecker and Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016, as
    # published (sections 2 and 3, the captions of Figs. 5 and 6), nothing tuned on any weights file:
    # * the network: VGG19 normalised so that every filter's mean activation is 1 (section 2; ``normalize.py``),
    #   with average pooling ("the images shown were generated with average pooling");
    # * content conv4_2 and style conv1_1 ... conv5_1 with w_l = 1/5 (the opening of section 3): in Caffe, which
    #   the paper used, a ReLU works in place, so those blobs hold the rectified activations: relu4_2, reluN_1;
    # * L_content = 1/2 sum (F - P)^2 and E_l = sum (G - A)^2 / (4 N_l^2 M_l^2) (sections 2.1, 2.2), exactly, at
    #   any size: content_norm="paper", gram_norm="paper";
    # * alpha/beta = 1e-3 (alpha 1, beta 1e3): "The ratio alpha/beta was either 1e-3 (Fig 3 B), 8e-4 (Fig 3 C),
    #   5e-3 (Fig 3 D), or 5e-4 (Fig 3 E, F)" (section 3): 1e-3 is Fig. 3 B's (The Shipwreck of the Minotaur) and
    #   the one the captions of Figs. 5 and 6 give for all their images;
    # * the start: the content photo, the start of the paper's Fig. 6 A. The paper's other images start from
    #   white noise, and Fig. 6 shows that the start has no strong effect on the outcome; but the paper ran
    #   L-BFGS to convergence, and within the course's 300 steps a noise start is far from it.
    #   init="noise" with more steps gives the paper's start.
    # Not in the paper: the number of L-BFGS steps (the course's 300) and the image size (128 px on a CPU).
    "gatys": StyleConfig(
        name="gatys",
        description="Gatys et al. (CVPR 2016) as published: the normalised VGG19 with average pooling, content "
        "relu4_2, style relu1_1..relu5_1 weighted 1/5 each, the paper's L_content and E_l exactly, "
        "alpha/beta 1e-3 (Fig. 3 B, Figs. 5 and 6), starting from the photo (Fig. 6 A)",
        content_layers=("relu4_2",),
        style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        layer_weights=(0.2, 0.2, 0.2, 0.2, 0.2),
        gram_norm="paper",
        content_norm="paper",
        pooling="avg",
        normalize_network=True,
        content_weight=1.0,
        style_weight=1e3,
    ),
}

#: The fields a caller may set (everything but the bookkeeping ``name`` and ``description``).
OPTIONS = tuple(f.name for f in fields(StyleConfig) if f.metadata)


def make_config(config="seed", **overrides):
    """A checked ``StyleConfig``: a preset (by name) or a given config, with ``overrides`` applied."""
    if isinstance(config, str):
        if config not in PRESETS:
            raise NSTError(f"unknown preset {config!r}: use one of {', '.join(PRESETS)}")
        config = PRESETS[config]
    elif isinstance(config, dict):  # a saved configuration (``StyleConfig.to_dict()``, a report's "config")
        saved = dict(config)
        config = StyleConfig(name=str(saved.pop("name", "custom")), description=str(saved.pop("description", "")))
        overrides = {**saved, **overrides}
    elif not isinstance(config, StyleConfig):
        raise NSTError(
            f"config must be a preset name ({', '.join(PRESETS)}) or a StyleConfig, not {type(config).__name__}"
        )
    unknown = [k for k in overrides if k not in OPTIONS]
    if unknown:
        raise NSTError(f"unknown option {unknown[0]!r}: the options are {', '.join(OPTIONS)}")
    return replace(config, **overrides) if overrides else config


def describe_presets():
    """One line per preset, for the command line's help and the notebooks."""
    return "\n".join(f"{name}: {p.description}" for name, p in PRESETS.items())
