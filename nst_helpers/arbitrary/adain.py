"""Adaptive instance normalisation (Huang and Belongie 2017) and the decoder that paints its result.

Chapter 10's statistic of style is each channel's mean and standard deviation over the picture's
positions. AdaIN gives the photo's features the painting's statistic and keeps everything else:

    AdaIN(c, s) = sigma(s) * (c - mu(c)) / sigma(c) + mu(s)        per channel, over positions

The features come from VGG19 up to one layer (``ENCODER_LAYERS``: relu3_1 or relu4_1), frozen; a decoder
(``Decoder``: VGG19's layers mirrored, nearest-neighbour upsampling and reflection-padded convolutions,
no normalisation) turns features back into a picture. ``adain_target`` adds the run-time controls: the
blend of several paintings' statistics and alpha, the share of the painting's statistic against the
photo's own.
"""

import hashlib

import torch
from torch import nn

from ..checks import check_number
from ..errors import NSTError
from ..layers import layer_info
from ..losses import normalize_blend

#: The layers the encoder may stop at. relu4_1 (the paper's): features at 1/8 of the picture's size,
#: larger strokes, a decoder that takes longer to learn; relu3_1: at 1/4, smaller strokes, quicker.
ENCODER_LAYERS = ("relu3_1", "relu4_1")
#: The layers whose statistics the style loss compares (the paper's: relu1_1 ... relu4_1, up to the encoder's).
STATISTIC_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
#: The decoder's layers: VGG19's convolutions up to the layer, as (in, out) channels, in reverse, and
#: an upsampling for each pooling.
_PLANS = {
    "relu4_1": [(512, 256), "up", (256, 256), (256, 256), (256, 256), (256, 128), "up", (128, 128), (128, 64)]
    + ["up", (64, 64), (64, 3)],
    "relu3_1": [(256, 128), "up", (128, 128), (128, 64), "up", (64, 64), (64, 3)],
}
EPS = 1e-5
MAX_DECODER_WIDTH = 256


def check_layer(layer):
    """An encoder layer (``ENCODER_LAYERS``), checked."""
    if layer not in ENCODER_LAYERS:
        raise NSTError(f"the encoder stops at relu3_1 or relu4_1, not {str(layer)[:40]!r}")
    return layer


def statistic_layers(layer):
    """The layers whose means and standard deviations the style loss compares, up to ``layer``."""
    return STATISTIC_LAYERS[: STATISTIC_LAYERS.index(check_layer(layer)) + 1]


def mean_std(features, eps=EPS):
    """Each channel's mean and standard deviation over the positions: two BxCx1x1 tensors.

    The standard deviation is sqrt(variance + eps): never zero, so a flat channel can be divided by it."""
    if features.dim() != 4:
        raise NSTError(f"features must be BxCxHxW, not of shape {tuple(features.shape)}")
    flat = features.flatten(2)
    mean = flat.mean(-1)[..., None, None]
    std = (flat.var(-1, unbiased=False) + eps).sqrt()[..., None, None]
    return mean, std


def adain(content_features, style_features, eps=EPS):
    """The content features with the style features' channel means and standard deviations.

    Shapes: Bx C x H x W and (B or 1) x C x H' x W' (the painting may have another size)."""
    if content_features.dim() != 4 or style_features.dim() != 4:
        raise NSTError("adain takes two BxCxHxW feature tensors")
    if content_features.shape[1] != style_features.shape[1]:
        raise NSTError(
            f"the content features have {content_features.shape[1]} channels and the style features "
            f"{style_features.shape[1]}: take both from the same layer"
        )
    c_mean, c_std = mean_std(content_features, eps)
    s_mean, s_std = mean_std(style_features, eps)
    return (content_features - c_mean) / c_std * s_std + s_mean


def adain_target(content_features, style_features, alpha=1.0, blend=None):
    """What the decoder paints: the blend (weights ``blend``, normalised; default equal) of AdaIN with
    each painting's features in ``style_features`` (a list), then ``alpha`` of that plus ``1 - alpha`` of
    the photo's own features (alpha 0: the photo, 1: the paintings' statistics)."""
    if torch.is_tensor(style_features):
        style_features = [style_features]
    alpha = check_number(alpha, "alpha", minimum=0, maximum=1)
    weights = normalize_blend(blend, len(style_features))
    target = sum(w * adain(content_features, s) for w, s in zip(weights, style_features))
    return alpha * target + (1 - alpha) * content_features


# --------------------------------------------------------------------------------------------- decoder


def _conv(c_in, c_out, relu=True):
    layers = [nn.ReflectionPad2d(1), nn.Conv2d(c_in, c_out, 3)]
    return layers + [nn.ReLU(inplace=True)] if relu else layers


def check_width(width):
    """The decoder's width (channels of its last block; VGG19's are 64), checked."""
    return int(check_number(width, "decoder width", minimum=4, maximum=MAX_DECODER_WIDTH, integer=True))


class Decoder(nn.Module):
    """VGG19's layers up to ``layer`` in reverse: features (Bx256 or Bx512 channels) -> a Bx3 picture.

    Each convolution of the encoder becomes one going the other way; each max-pooling becomes a
    nearest-neighbour upsampling (no checkerboard, Odena et al. 2016); every convolution is reflection
    padded (no dark frame) and followed by a ReLU but the last. ``width`` scales the channels (VGG19's
    64, 128, 256 become width, 2 width, 4 width); the input keeps the encoder's channels. Like the
    paper's decoder it has no normalisation layers: they would undo the statistics AdaIN sets."""

    def __init__(self, layer="relu4_1", width=64):
        super().__init__()
        self.layer, self.width = check_layer(layer), check_width(width)
        c = {3: 3, 64: self.width, 128: 2 * self.width, 256: 4 * self.width}
        plan = _PLANS[self.layer]
        in_channels = plan[0][0]
        layers = []
        for i, step in enumerate(plan):
            if step == "up":
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
                continue
            c_in, c_out = step
            layers += _conv(c_in if i == 0 else c[c_in], c[c_out], relu=c_out != 3)
        self.body = nn.Sequential(*layers)
        self.scale = 8 if self.layer == "relu4_1" else 4  # the encoder's downsampling
        self.in_channels = in_channels

    def forward(self, features):
        return self.body(features)

    def describe(self):
        n = sum(p.numel() for p in self.parameters())
        return f"Decoder({self.layer}, width={self.width}): {n:,} parameters"


def encode(model, image, layers):
    """VGG19's features of ``image`` at ``layers`` (a name or a list), as a dict (the model is frozen)."""
    return model(image, layers)


def encoder_fingerprint(model, layer="relu4_1"):
    """A short hash of the encoder's weights up to ``layer``: a decoder inverts the features of these
    weights, and is wrong for any other VGG19 (ImageNet's, a file's, random ones)."""
    last = layer_info(check_layer(layer)).index
    digest = hashlib.sha256()
    for index, module in enumerate(model.features):
        if index > last:
            break
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(f"{index}.{name}".encode())
            digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
