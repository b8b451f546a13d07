"""Colour preservation (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer").

Two ways to keep the content photo's colours while taking the painting's strokes:

* ``luminance``: transfer style on the luminance channel only. Both images are turned into YIQ; the
  style's luminance is shifted and scaled to the content's mean and standard deviation; the transfer
  runs on grey images; the result's luminance is recombined with the content's I and Q channels.
* ``histogram``: before the transfer, give the style image the colour mean and covariance of the
  content image (a linear map x -> A (x - mu_s) + mu_c with A = Cov_c^1/2 Cov_s^-1/2).
"""

import torch

from .errors import NSTError

MODES = ("luminance", "histogram")

_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]])


def check_mode(mode):
    if mode not in (None, *MODES):
        raise NSTError(f"unknown colour preservation {mode!r}: use one of {', '.join(MODES)} (or none)")
    return mode


def rgb_to_yiq(image):
    """1x3xHxW RGB -> YIQ (Y is luminance in [0, 1])."""
    return torch.einsum("ij,bjhw->bihw", _RGB_TO_YIQ.to(image), image)


def yiq_to_rgb(image):
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(_RGB_TO_YIQ).to(image), image)


def luminance(image):
    """The Y channel, 1x1xHxW."""
    return rgb_to_yiq(image)[:, :1]


def grey(lum):
    """A 1x1xHxW luminance as a 3-channel grey image, for VGG."""
    return lum.expand(-1, 3, -1, -1).clamp(0, 1)


def match_luminance(style, content):
    """The style's luminance with the content's mean and standard deviation, as a grey image."""
    ls, lc = luminance(style), luminance(content)
    matched = (ls - ls.mean()) / (ls.std() + 1e-8) * lc.std() + lc.mean()
    return grey(matched)


def recombine_luminance(result, content):
    """The result's luminance with the content's chroma (I, Q), back in RGB."""
    yiq = rgb_to_yiq(content)
    if yiq.shape[-2:] != result.shape[-2:]:
        yiq = torch.nn.functional.interpolate(yiq, size=result.shape[-2:], mode="bilinear", align_corners=False)
    yiq = torch.cat([luminance(result), yiq[:, 1:]], dim=1)
    return yiq_to_rgb(yiq).clamp(0, 1)


def _stats(image):
    flat = image[0].reshape(3, -1).double()
    mean = flat.mean(dim=1, keepdim=True)
    centred = flat - mean
    return mean, centred @ centred.T / flat.shape[1]


def _sqrtm(cov, inverse=False):
    vals, vecs = torch.linalg.eigh(cov + 1e-6 * torch.eye(3, dtype=cov.dtype, device=cov.device))
    vals = vals.clamp_min(1e-10)
    power = -0.5 if inverse else 0.5
    return vecs @ torch.diag(vals**power) @ vecs.T


def match_histogram(style, content):
    """The style image with the content image's colour mean and covariance (clamped to [0, 1])."""
    ms, cs = _stats(style)
    mc, cc = _stats(content)
    a = _sqrtm(cc) @ _sqrtm(cs, inverse=True)
    flat = style[0].reshape(3, -1).double()
    out = a @ (flat - ms) + mc
    return out.reshape(style.shape).to(style.dtype).clamp(0, 1)


def color_stats(image):
    """(mean, covariance) of an image's RGB values, for checking colour preservation."""
    mean, cov = _stats(image)
    return mean.flatten().float(), cov.float()
