"""Painting a photo in the style of any painting in one pass: encode both, AdaIN, decode.

``paint(decoder, model, photo, styles)``: VGG19 (``model``, frozen, the weights the decoder was trained
for) encodes the photo and each painting up to the decoder's layer; ``adain_target`` gives the photo's
features the paintings' blended statistics, alpha of the way; the decoder paints the result. The
photo is reflection-padded to a multiple of the encoder's downsampling and the picture cropped back.
Colour preservation works as in ``stylize``: ``"histogram"`` gives each painting the photo's colours
first; ``"luminance"`` paints the photo's luminance and puts its colours back afterwards.
"""

import torch
from torch.nn import functional as F

from .. import color
from ..checks import MAX_SIZE, MIN_SIZE, check_size
from ..devices import bfloat16_is_fast
from ..errors import NSTError, memory_errors
from ..images import check_finite, load_image
from .adain import Decoder, adain_target


def _fast_arithmetic(precision, device):
    """bfloat16 where the device computes it natively (``"auto"``), else float32."""
    if precision == "auto":
        return torch.bfloat16 if bfloat16_is_fast(device) else None
    if precision == "bfloat16":
        return torch.bfloat16
    if precision == "float32":
        return None
    raise NSTError(f"precision must be auto, float32 or bfloat16, not {str(precision)[:20]!r}")


def _padded(image, multiple):
    h, w = image.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h or pad_w:
        mode = "reflect" if h > pad_h and w > pad_w else "replicate"
        image = F.pad(image, (0, pad_w, 0, pad_h), mode=mode)
    return image


def encode_padded(model, image, layer, dtype=None):
    """The features of ``image`` at ``layer``, the image reflection-padded to a multiple of 8 first."""
    with torch.autocast(image.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        return model(_padded(image, 8), [layer])[layer].float()


def decode(decoder, features, shape, dtype=None):
    """The decoder's picture of ``features``, clamped to [0, 1] and cropped to ``shape`` (h, w)."""
    with torch.autocast(features.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        picture = decoder(features).float()
    return picture[..., : shape[0], : shape[1]].clamp(0, 1)


@memory_errors("painting a photo", "give a smaller --size (size=...)")
def paint(
    decoder,
    model,
    photo,
    styles,
    alpha=1.0,
    blend=None,
    size=None,
    style_size=None,
    preserve_color=None,
    precision="auto",
):
    """Paint ``photo`` in the style of ``styles`` (one or a list: paths, bundled names or tensors) in one
    pass; returns a 1x3xHxW tensor in [0, 1].

    alpha (0..1): how far the photo's feature statistics move to the paintings'. blend: one weight per
    painting (default equal). size: the photo's long side (default its own, at most ``MAX_SIZE``);
    style_size: the paintings' long side (default the photo's: strokes then have the painting's scale
    relative to the picture). preserve_color: None, ``"histogram"`` or ``"luminance"``. precision:
    ``"auto"`` (bfloat16 where the device has it natively), ``"float32"`` or ``"bfloat16"``."""
    if not isinstance(decoder, Decoder):
        raise NSTError(f"expected a Decoder (from train_decoder or load_decoder), not {type(decoder).__name__}")
    if not isinstance(styles, (list, tuple)):
        styles = [styles]
    if not styles:
        raise NSTError("give at least one painting (style image)")
    mode = color.check_mode(preserve_color)
    size, style_size = check_size(size), check_size(style_size, "style size")
    device = next(decoder.parameters()).device
    dtype = _fast_arithmetic(precision, device)
    content = load_image(photo, size=size, device=device, what="photo", max_side=MAX_SIZE)
    if min(content.shape[-2:]) < MIN_SIZE:
        raise NSTError(f"the photo is {content.shape[-1]}x{content.shape[-2]} px: give one at least {MIN_SIZE} px")
    long_side = style_size or max(content.shape[-2:])
    paintings = [load_image(s, size=long_side, device=device, what="style image") for s in styles]
    original = content
    if mode == "histogram":
        paintings = [color.match_histogram(p, content) for p in paintings]
    elif mode == "luminance":
        paintings = [color.match_luminance(p, content) for p in paintings]
        content = color.grey(color.luminance(content))
    with torch.inference_mode():
        c = encode_padded(model, content, decoder.layer, dtype)
        s = [encode_padded(model, p, decoder.layer, dtype) for p in paintings]
        picture = decode(decoder, adain_target(c, s, alpha, blend), content.shape[-2:], dtype).clone()
    if mode == "luminance":
        picture = color.recombine_luminance(picture, original).clamp(0, 1)
    return check_finite(picture, "the painted picture")
