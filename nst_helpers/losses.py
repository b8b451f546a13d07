"""The functions the course teaches: Gram matrices, the content, style and total-variation losses.

Notation: a layer's activations F have C channels (the paper's N_l) over H x W positions (the paper's
M_l = H*W); flattened, F is a C x (H*W) matrix.

* Gram matrix: G = F F^T / n, a C x C matrix of channel co-activations summed over positions. The
  seed (the PyTorch tutorial) divides by n = C*H*W (``norm="chw"``), ``norm="hw"`` divides by H*W,
  ``norm="paper"`` by 2*H*W, ``norm="none"`` keeps the plain sum.
* content loss: the mean squared difference between two layers' activations (``norm="mean"``), or the
  paper's L_content = 1/2 sum (F - P)^2 (``norm="paper"``).
* style loss: the mean squared difference between two Gram matrices (a mean over C^2 entries).
  The paper's E_l = sum (G - A)^2 / (4 N_l^2 M_l^2) with unnormalised G and A is exactly
  ``style_loss`` with ``norm="paper"`` (the mean over N_l^2 entries of ((G - A) / (2 M_l))^2), and
  ``norm="hw"`` gives 4 E_l; the seed's ``norm="chw"`` gives E_l times 4 / C^2, a factor that differs
  from layer to layer (notebook 3 derives it).
* total variation: mean squared difference between neighbouring pixels, down plus across.
* temporal loss (video, Ruder et al. 2016): the squared difference between a frame's picture and the
  previous picture warped onto it, counted where the flow is reliable (mask c = 1), divided by the
  number of values D = 3*H*W: sum c (x - w)^2 / D.
* blend weights: several style images mix by weights that sum to 1 (``normalize_blend``).

The objective that adds these up is in ``objective.py``.
"""

import math

import torch
from torch.nn import functional as F

from .checks import check_number
from .errors import NSTError

GRAM_NORMS = ("chw", "hw", "paper", "none")
#: How ``content_loss`` reduces the squared differences: their mean (the seed), or half their sum (the paper).
CONTENT_NORMS = ("mean", "paper")


def gram_matrix(features, norm="chw", fast=False):
    """Gram matrices of a batch of activations, B x C x H x W -> B x C x C: G = F F^T / n.

    ``fast=True`` computes the same product with a backward pass of one matrix product instead of
    two (see ``_SymmetricProduct``); ``test_losses.py`` checks that both agree, value and gradient.
    """
    b, c, h, w = _activation_shape(features)
    flat = features.reshape(b, c, h * w)  # F: C x (H W); a view also for channels-last activations
    product = _SymmetricProduct.apply(flat) if fast else flat @ flat.transpose(1, 2)
    return product / gram_divisor(norm, c, h, w)


def gram_divisor(norm, c, h, w):
    """The n of G = F F^T / n for a Gram normalisation (see the module docstring)."""
    divisors = {"chw": c * h * w, "hw": h * w, "paper": 2 * h * w, "none": 1}
    if norm not in divisors:
        raise NSTError(f"unknown Gram normalisation {norm!r}: use one of {', '.join(GRAM_NORMS)}")
    return divisors[norm]


def _activation_shape(features):
    if not torch.is_tensor(features) or features.dim() != 4:
        shape = tuple(features.shape) if torch.is_tensor(features) else type(features).__name__
        raise NSTError(f"gram_matrix expects B x C x H x W activations, got {shape}")
    return features.shape


class _SymmetricProduct(torch.autograd.Function):
    """P = F F^T, differentiated as dF = (dP + dP^T) F: one matrix product where autograd, which
    sees a product of two different matrices, does two. The Gram products are a large share of a
    step's time on a CPU (``make benchmark``)."""

    @staticmethod
    def forward(ctx, flat):
        ctx.save_for_backward(flat)
        return flat @ flat.transpose(1, 2)

    @staticmethod
    def backward(ctx, grad):
        (flat,) = ctx.saved_tensors
        sym = (grad + grad.transpose(1, 2)).to(flat.dtype)  # under autocast the product may be 16-bit
        if flat.stride(1) == 1 and flat.stride(2) != 1:  # channels-last activations: keep their layout
            return (flat.transpose(1, 2) @ sym).transpose(1, 2)
        return sym @ flat


def content_loss(features, target, norm="mean"):
    """Mean squared difference between activations; ``norm="paper"``: half their sum of squared
    differences, the paper's L_content = 1/2 sum_ij (F_ij - P_ij)^2."""
    if norm == "mean":
        return F.mse_loss(features, target.expand_as(features), reduction="mean")
    if norm == "paper":
        return 0.5 * F.mse_loss(features, target.expand_as(features), reduction="sum")
    raise NSTError(f"unknown content loss normalisation {norm!r}: use one of {', '.join(CONTENT_NORMS)}")


def style_loss(gram, target_gram):
    """Mean squared difference between Gram matrices."""
    return F.mse_loss(gram, target_gram.expand_as(gram), reduction="mean")


def tv_loss(image):
    """Total variation: mean squared difference of vertical plus of horizontal neighbours."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


def temporal_loss(image, warped, mask):
    """Ruder et al.'s temporal loss: sum of mask * (image - warped)^2 over all values, divided by their
    count (1x3xHxW pictures, a 1x1xHxW mask in [0, 1] of the pixels where the flow is reliable)."""
    return (mask * (image - warped).pow(2)).sum() / image.numel()


def normalize_blend(blend, n_styles):
    """Blend weights for ``n_styles`` style images, checked and scaled to sum to 1 (``None``: equal)."""
    if blend is None:
        return [1.0 / n_styles] * n_styles
    if isinstance(blend, (str, bytes)) or not hasattr(blend, "__len__"):
        raise NSTError(f"blend must be a list of numbers, one per style image, not {type(blend).__name__}")
    blend = list(blend)
    if len(blend) != n_styles:
        raise NSTError(f"got {len(blend)} blend weights for {n_styles} style images: give one weight per style image")
    blend = [check_number(b, "each blend weight", minimum=0) for b in blend]  # relative: any size
    largest = max(blend, default=0.0)
    if largest <= 0:
        raise NSTError("the blend weights are all zero: give at least one style image a positive weight")
    scaled = [b / largest for b in blend]  # divide by the largest first: the sum cannot overflow
    total = math.fsum(scaled)
    return [b / total for b in scaled]
