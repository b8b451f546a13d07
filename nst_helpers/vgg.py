"""VGG19's convolutional part as a feature extractor, with the ImageNet normalisation in front.

VGG19 was trained on images normalised with ImageNet's per-channel mean and standard deviation, so
its filters expect such inputs. The course keeps pictures in plain [0, 1] RGB and lets the model
normalise them as its first layer: the optimised image never leaves pixel space.
"""

import torch
from torch import nn
from torch.nn import functional as F

from .devices import resolve_device
from .errors import NSTError
from .layers import LAYERS, layer_info
from .normalize import normalize_vgg19
from .weights import describe_source, load_state_dict

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalization(nn.Module):
    """(image - mean) / std per channel, for 1x3xHxW images in [0, 1]."""

    def __init__(self, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, image):
        return (image - self.mean) / self.std

    def inverse(self, normalised):
        """Undo the normalisation (to look at a normalised tensor)."""
        return normalised * self.std + self.mean


POOLINGS = ("max", "avg")


def build_features(pooling="max"):
    """An untrained ``vgg19().features`` layout (from ``layers.LAYERS``); ReLUs run in ``VGGFeatures.forward``."""
    if pooling not in POOLINGS:
        raise NSTError(f"pooling must be 'max' or 'avg', not {pooling!r}")
    pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
    make = {
        "conv": lambda r: nn.Conv2d(r.in_channels, r.channels, 3, padding=1),
        "relu": lambda r: nn.ReLU(),
        "pool": lambda r: pool(2, 2),
    }
    return nn.Sequential(*(make[r.kind](r) for r in LAYERS))


class VGGFeatures(nn.Module):
    """Returns the activations of named VGG19 layers from one forward pass.

    ``model(image, ["conv_4", "relu5_1"])`` gives ``{"conv_4": ..., "relu5_1": ...}``. The pass stops
    after the deepest requested layer. ReLUs work in place only where the tensor before them was not
    requested, so a returned convolution output is never changed afterwards.
    """

    def __init__(self, state_dict, pooling="max", source="weights"):
        super().__init__()
        self.normalize = Normalization()
        self.features = build_features(pooling)
        self.features.load_state_dict(state_dict)
        self.pooling = pooling
        self.source = source
        self.normalization = None  # set by ``normalize.normalize_vgg19``: the paper's normalised network
        self.channels_last = False
        self.requires_grad_(False)
        self.eval()

    def forward(self, image, layers):
        if isinstance(layers, str):
            layers = [layers]
        wanted = {layer_info(name).index: [] for name in layers}
        for name in layers:
            wanted[layer_info(name).index].append(name)
        if not wanted:
            return {}
        out, x = {}, self.normalize(image)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        last = max(wanted)
        for index, module in enumerate(self.features):
            if isinstance(module, nn.ReLU):
                x = F.relu(x, inplace=(index - 1) not in wanted)
            else:
                x = module(x)
            for name in wanted.get(index, ()):
                out[name] = x
            if index == last:
                break
        return out

    @property
    def normalized(self):
        """True for the paper's normalised network (``normalize.normalize_vgg19``)."""
        return bool(self.normalization)

    @property
    def description(self):
        """Which network this is, in one line (``describe_vgg``)."""
        return describe_vgg(self)[0]


def load_vgg19(weights=None, device="auto", pooling="max", progress=True, normalize=False):
    """VGG19 features in eval mode with gradients off, on ``device``; see ``weights.py`` for ``weights``.

    ``normalize=True`` gives the paper's normalised network (``normalize.normalize_vgg19``: every
    filter's mean activation over the bundled photos is 1; one pass over them the first time, cached).
    On a CPU the network runs channels-last (activations stored position by position): oneDNN's
    convolutions are about a third faster that way (benchmarks/RESULTS.md).
    """
    if normalize not in (True, False):
        raise NSTError(f"normalize must be True or False, not {normalize!r}")
    state, source = load_state_dict(weights, progress=progress)
    dev = resolve_device(device)
    model = VGGFeatures(state, pooling=pooling, source=source).to(dev)
    if dev.type == "cpu":
        model.features.to(memory_format=torch.channels_last)
        model.channels_last = True
    if normalize:
        model = normalize_vgg19(model, progress=progress)
    return model


def describe_vgg(model):
    """Which network made a picture: ``(text, info)``, a short line and a dict of plain values (the
    weights: torchvision's ImageNet VGG19 by its weights name and file, a local file by name and short
    sha256, or random with its seed; the pooling; normalised or not, and on which images). A model with an
    ``about`` attribute (a line) is described by it instead of by its weights."""
    info = {
        "weights": describe_source(getattr(model, "source", "unknown")),
        "pooling": getattr(model, "pooling", "max"),
    }
    norm = getattr(model, "normalization", None)
    info["normalized"] = bool(norm)
    if norm:
        info["calibration"] = norm["calibration"]
        info["calibration_key"] = norm["calibration_key"]
        info["rare_filters"] = norm["rare_total"]
    w = info["weights"]
    about = getattr(model, "about", None)  # a network that says what it is (notebook 10's random networks)
    if about:
        text = about
        info["about"] = about
    elif w["kind"] == "torchvision":
        text = f"VGG19 with torchvision's ImageNet weights ({w['name']}, {w['file']})"
    elif w["kind"] == "file":
        text = f"VGG19 with the weights file {w['name']} (sha256 {w['sha256']})"
    elif w["kind"] == "random":
        text = f"VGG19 with random weights (seed {w['seed']})"
    else:
        text = f"VGG19 with weights from {w['name']}"
    text += f", {info['pooling']} pooling"
    if norm:
        rare = (
            f" ({norm['rare_total']} of {norm['filters']} filters fire too rarely there to be measured)"
            if norm["rare_total"]
            else ""
        )
        text += f", normalised as in the paper on {norm['calibration']}{rare}"
    else:
        text += ", not normalised"
    return text, info
