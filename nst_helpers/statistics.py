"""Style statistics: what "the style of a layer" is, as a choice (``StyleConfig.style_loss``, notebook 10).

Each statistic turns one layer's activations F (B x C x H x W; N = H*W positions, each a point in R^C)
into a *target* once, from the painting, and compares the picture's activations against it:

* ``gram`` (the seed's): G = F F^T / n, compared by the mean squared difference (``losses.py``). Li et
  al. (2017) showed this is a maximum mean discrepancy between the two sets of N points with the
  kernel k(f, g) = (f . g)^2: it matches all second moments of the activations.
* ``mean_std``: each channel's mean mu_c and standard deviation sigma_c over the positions (the
  statistics batch normalisation and AdaIN use), loss = mean_c (mu_c - mu'_c)^2 + mean_c (sigma_c -
  sigma'_c)^2. First and second moments per channel only: no correlations between channels.
* ``sliced_wasserstein`` (Heitz et al. 2021): project the N points on P = C unit directions drawn
  once from ``seed`` (the same for every style at a layer), sort each projection; the loss is the mean
  squared difference of the sorted values, the squared 1-D Wasserstein-2 distance averaged over the
  directions. It matches whole distributions along each direction, not just two moments. Heitz et al.
  redraw the directions at every step; here they are fixed, so that the objective is one function
  that L-BFGS's line search can trust, and a run is repeatable given the seed. A picture with a
  different number of positions than the painting compares against the painting's sorted values
  resampled (linearly) to its own count.
* ``patch`` (Li and Wand 2016, "MRF"): every 3x3 patch of the picture's activations is matched to the
  painting's patch of highest normalised cross-correlation (cosine similarity), and the loss is the
  mean squared difference between each patch and its match. The matching is a choice, not
  differentiated. At most ``MAX_PATCHES`` of the painting's patches are kept (an even subsample), so
  a shallow, large layer stays affordable; Li and Wand used relu3_1 and relu4_1.
"""

import torch
from torch.nn import functional as F

from .errors import NSTError
from .losses import gram_matrix, style_loss

STYLE_LOSSES = ("gram", "mean_std", "sliced_wasserstein", "patch")

#: The painting's patches a ``patch`` target keeps at most (an even subsample beyond that).
MAX_PATCHES = 4096
#: How many of the picture's patches are matched at once (bounds the similarity matrix's memory).
_CHUNK = 2048
_EPS = 1e-5


def _check(features):
    if not torch.is_tensor(features) or features.dim() != 4:
        shape = tuple(features.shape) if torch.is_tensor(features) else type(features).__name__
        raise NSTError(f"a style statistic expects B x C x H x W activations, got {shape}")
    return features


class Gram:
    """The Gram matrix and the mean squared difference between two of them (``losses.gram_matrix``)."""

    name = "gram"

    def __init__(self, norm="chw"):
        self.norm = norm

    def target(self, features):
        return gram_matrix(_check(features), self.norm).detach()

    def loss(self, features, target):
        return style_loss(gram_matrix(_check(features), self.norm, fast=True), target)


def mean_std(features):
    """Each channel's mean and standard deviation over the positions: two B x C tensors."""
    flat = _check(features).flatten(2)
    mean = flat.mean(2)
    std = (flat.var(2, unbiased=False) + _EPS).sqrt()  # + eps: a finite gradient where a channel is constant
    return mean, std


class MeanStd:
    """Per-channel mean and standard deviation (Li et al. 2017; Huang and Belongie 2017)."""

    name = "mean_std"

    def target(self, features):
        return tuple(t.detach() for t in mean_std(features))

    def loss(self, features, target):
        mean, std = mean_std(features)
        return F.mse_loss(mean, target[0].expand_as(mean)) + F.mse_loss(std, target[1].expand_as(std))


def directions(channels, seed, count=None):
    """``count`` (default ``channels``) unit vectors in R^channels, a C x P matrix drawn from ``seed``."""
    generator = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(channels))
    d = torch.randn(channels, count or channels, generator=generator, dtype=torch.float64)
    return d / d.norm(dim=0, keepdim=True)


def sorted_projections(features, dirs):
    """The positions' projections on each direction, sorted: B x P x N."""
    flat = _check(features).flatten(2)  # B x C x N
    return (dirs.to(flat).t() @ flat).sort(dim=-1).values


class SlicedWasserstein:
    """Squared sliced Wasserstein-2 distance over fixed random directions (Heitz et al. 2021)."""

    name = "sliced_wasserstein"

    def __init__(self, seed=0):
        self.seed = seed

    def target(self, features):
        dirs = directions(features.shape[1], self.seed)
        return dirs, sorted_projections(features, dirs).detach()

    def loss(self, features, target):
        dirs, wanted = target
        mine = sorted_projections(features, dirs)
        if wanted.shape[-1] != mine.shape[-1]:  # another count of positions: resample the painting's quantiles
            wanted = F.interpolate(wanted, size=mine.shape[-1], mode="linear", align_corners=True)
        return F.mse_loss(mine, wanted.expand_as(mine))


def patches(features, size=3):
    """Every size x size patch of the activations (stride 1): B x N x (C size^2)."""
    _check(features)
    if min(features.shape[-2:]) < size:
        raise NSTError(
            f"the patch statistic needs activations of at least {size}x{size} positions, got "
            f"{tuple(features.shape[-2:])}: use a shallower layer or a larger picture"
        )
    return F.unfold(features, size).transpose(1, 2)


def _unit(rows):
    return rows / rows.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def nearest_patches(mine, theirs):
    """For each row of ``mine`` (B x N x D), the index of the row of ``theirs`` (1 x M x D) with the highest
    normalised cross-correlation: B x N."""
    with torch.no_grad():
        unit_theirs = _unit(theirs[0]).t()
        out = []
        for start in range(0, mine.shape[1], _CHUNK):
            out.append((_unit(mine[:, start : start + _CHUNK]) @ unit_theirs).argmax(dim=-1))
        return torch.cat(out, dim=1)


class Patch:
    """Li and Wand's patch loss: each 3x3 patch against its nearest painting patch (cosine similarity)."""

    name = "patch"

    def __init__(self, size=3, max_patches=MAX_PATCHES):
        self.size, self.max_patches = size, max_patches

    def target(self, features):
        theirs = patches(features[:1], self.size).detach()
        if theirs.shape[1] > self.max_patches:  # an even subsample of the painting's patches
            keep = torch.linspace(0, theirs.shape[1] - 1, self.max_patches).round().long()
            theirs = theirs[:, keep.to(theirs.device)]
        return theirs

    def loss(self, features, target):
        mine = patches(features, self.size)
        match = target[0][nearest_patches(mine, target)]  # B x N x D
        return F.mse_loss(mine, match)


def make_statistic(name="gram", gram_norm="chw", seed=0):
    """The statistic called ``name`` (one of ``STYLE_LOSSES``): an object with ``target(features)`` (made
    once from the painting's activations) and ``loss(features, target)`` (a scalar tensor)."""
    if name == "gram":
        return Gram(gram_norm)
    if name == "mean_std":
        return MeanStd()
    if name == "sliced_wasserstein":
        return SlicedWasserstein(seed)
    if name == "patch":
        return Patch()
    raise NSTError(f"unknown style loss {name!r}: use one of {', '.join(STYLE_LOSSES)}")
