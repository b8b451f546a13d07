"""Gram matrices, the content, style and total-variation losses, and the objective that adds them.

Notation: a layer's activations F have C channels over H x W positions; flattened, F is C x (H*W).

* Gram matrix: G = F F^T / N, a C x C matrix of channel co-activations summed over positions. The
  seed (the PyTorch tutorial) divides by N = C*H*W (``norm="chw"``); the paper leaves G unnormalised
  and divides the loss by 4 C^2 (H W)^2 instead (``norm="none"``); ``norm="hw"`` divides by H*W.
* content loss: mean squared difference between the image's and the content image's activations.
* style loss: mean squared difference between Gram matrices, summed over layers with layer weights.
* several style images s with blend weights b_s (normalised to sum 1): sum_s b_s * style_loss_s.
  Because the loss is quadratic in G this equals, up to a constant, the loss against one blended
  Gram matrix sum_s b_s G_s.
* total variation: mean squared difference between neighbouring pixels, down and across.
* spatial control (``masks``): each style is matched only inside its own region of the output.
"""

import math

import torch
from torch.nn import functional as F

from .errors import NSTError

GRAM_NORMS = ("chw", "hw", "none")


class _Gram(torch.autograd.Function):
    """G = F F^T with a backward of one matrix product, dF = (dG + dG^T) F.

    Left to autograd, F F^T is differentiated as a product of two different matrices: two products
    in the backward pass. Gram matrices are a large part of an evaluation's time (see
    benchmarks/RESULTS.md); ``test_losses.py`` checks the gradient with gradcheck. ``positions_first``
    takes F as B x N x C (activations stored channels-last) so that no copy is needed.
    """

    @staticmethod
    def forward(ctx, flat, positions_first):
        ctx.save_for_backward(flat)
        ctx.positions_first = positions_first
        if positions_first:
            return torch.bmm(flat.transpose(1, 2), flat)
        return torch.bmm(flat, flat.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad):
        (flat,) = ctx.saved_tensors
        sym = grad + grad.transpose(1, 2)
        if ctx.positions_first:
            return torch.bmm(flat, sym), None
        return torch.bmm(sym, flat), None


def gram_matrix(features, norm="chw"):
    """Gram matrices of a batch of activations (B x C x H x W) -> B x C x C (see the module docstring)."""
    if features.dim() != 4:
        raise NSTError(f"gram_matrix expects B x C x H x W activations, got shape {tuple(features.shape)}")
    b, c, h, w = features.shape
    if features.is_contiguous(memory_format=torch.channels_last) and not features.is_contiguous():
        gram = _Gram.apply(features.permute(0, 2, 3, 1).reshape(b, h * w, c), True)
    else:
        gram = _Gram.apply(features.reshape(b, c, h * w), False)
    if norm == "chw":
        return gram / (c * h * w)
    if norm == "hw":
        return gram / (h * w)
    if norm == "none":
        return gram
    raise NSTError(f"unknown Gram normalisation {norm!r}: use one of {', '.join(GRAM_NORMS)}")


def content_loss(features, target):
    """Mean squared difference between activations."""
    return F.mse_loss(features, target.expand_as(features), reduction="mean")


def style_loss(gram, target_gram):
    """Mean squared difference between Gram matrices."""
    return F.mse_loss(gram, target_gram.expand_as(gram), reduction="mean")


def tv_per_image(image):
    """Total variation of each image in a batch: mean squared difference of vertical plus horizontal
    neighbours (a vector of length B)."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.pow(2).flatten(1).mean(1) + dx.pow(2).flatten(1).mean(1)


def tv_loss(image):
    """Total variation (see ``tv_per_image``), averaged over the batch."""
    return tv_per_image(image).mean()


def check_weight(value, name):
    """A finite, non-negative float, or an ``NSTError`` that says which weight is wrong."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise NSTError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(value) or value < 0:
        raise NSTError(f"{name} must be a finite number >= 0, not {value!r}")
    return value


def normalize_blend(blend, n_styles):
    """Blend weights for ``n_styles`` style images, checked and scaled to sum to 1 (``None``: equal)."""
    if blend is None:
        return [1.0 / n_styles] * n_styles
    blend = list(blend)
    if len(blend) != n_styles:
        raise NSTError(f"got {len(blend)} blend weights for {n_styles} style images: give one weight per style image")
    blend = [check_weight(b, "each blend weight") for b in blend]
    total = sum(blend)
    if total <= 0:
        raise NSTError("the blend weights are all zero: give at least one style image a positive weight")
    return [b / total for b in blend]


def _checked_weight(label):
    """A property that stores a weight after ``check_weight`` (finite, >= 0)."""
    attr = "_" + label.replace(" ", "_")

    def get(self):
        return getattr(self, attr)

    def set(self, value):
        setattr(self, attr, check_weight(value, label))

    return property(get, set, doc=f"The {label}, checked whenever it is set.")


class StyleTransferLoss:
    """The objective of Gatys et al.: content_weight * content + style_weight * style (+ tv_weight * TV).

    Targets (content activations, style Gram matrices) are computed once, without gradients. The
    weights are plain attributes and may be changed between evaluations (the live sliders do that).
    Calling the objective on an image returns ``(total, parts)``: ``total`` is a tensor to
    differentiate, ``parts`` holds floats: ``content``, ``style``, ``tv``, ``total`` (each already
    multiplied by its weight) and ``style_per_image`` (each style image's unweighted loss).
    """

    def __init__(self, model, content, styles, content_layers, style_layers, content_weight=1.0,
                 style_weight=1e5, blend=None, layer_weights=None, tv_weight=0.0, gram_norm="chw",
                 balance_styles=False, masks=None):
        if torch.is_tensor(styles):
            styles = [styles]
        if not styles and style_weight:
            raise NSTError("no style image given: pass at least one")
        self.model = model
        self.content_layers = list(content_layers)
        self.style_layers = list(style_layers)
        self.layers = list(dict.fromkeys(self.content_layers + self.style_layers))
        self.gram_norm = gram_norm
        if layer_weights is None:
            layer_weights = [1.0] * len(self.style_layers)
        if len(layer_weights) != len(self.style_layers):
            raise NSTError(f"got {len(layer_weights)} layer weights for {len(self.style_layers)} style layers")
        self.layer_weights = [check_weight(w, "each layer weight") for w in layer_weights]
        self.content_weight = content_weight
        self.style_weight = style_weight
        self.tv_weight = tv_weight
        self.balance_styles = balance_styles
        self.masks = None
        if masks is not None:
            if len(masks) != len(styles):
                raise NSTError(f"got {len(masks)} masks for {len(styles)} style images: give one region per style")
            size = content.shape[-2:] if content is not None else masks[0].shape[-2:]
            self.masks = [F.interpolate(m.to(styles[0]), size=size, mode="bilinear", align_corners=False)
                          for m in masks]
        with torch.no_grad():
            feats = model(content, self.content_layers) if content is not None else {}
            self.content_targets = {n: feats[n].detach() for n in self.content_layers}
            self.style_targets = []
            for style in styles:
                feats = model(style, self.style_layers)
                self.style_targets.append({n: gram_matrix(feats[n], gram_norm).detach() for n in self.style_layers})
            # A style's scale, used to balance styles: its loss at the content image, where a transfer
            # starts (without a content image: its loss against an all-zero Gram matrix).
            if content is not None and self.style_targets:
                feats = model(content, self.style_layers)
                grams = {n: self._grams(feats[n]) for n in self.style_layers}
            else:
                grams = {n: [0.0] * len(self.style_targets) for n in self.style_layers}
            self.style_scales = [
                sum(w * float((grams[n][i] - t[n]).pow(2).mean()) for n, w in zip(self.style_layers, self.layer_weights))
                or 1.0
                for i, t in enumerate(self.style_targets)
            ]
        self.blend = blend

    # Weights are checked whenever they are set, so a bad slider value fails where it is given.
    content_weight = _checked_weight("content weight")
    style_weight = _checked_weight("style weight")
    tv_weight = _checked_weight("tv weight")

    @property
    def blend(self):
        return self._blend

    @blend.setter
    def blend(self, value):
        self._blend = normalize_blend(value, len(self.style_targets)) if self.style_targets else []

    def style_factors(self):
        """Each style image's weight in the style loss: its blend weight, rescaled if balancing."""
        if not self.balance_styles:
            return list(self.blend)
        # With balancing, style s at the content image contributes blend[s] of the style loss; the
        # factors are scaled so the total stays the same size as without balancing.
        mean_scale = sum(b * s for b, s in zip(self.blend, self.style_scales))
        return [b * mean_scale / s for b, s in zip(self.blend, self.style_scales)]

    def _grams(self, feats):
        """The output's Gram matrix for each style: the same one, or, with masks, one per region.

        Spatial control (Gatys et al. 2017): the activations are weighted by the style's region,
        downsampled to the layer's grid, and the Gram matrix is divided by the region's mean, so that
        it describes the texture inside the region on the same scale as the painting's whole-image one.
        """
        if self.masks is None:
            gram = gram_matrix(feats, self.gram_norm)
            return [gram] * len(self.style_targets)
        grams = []
        for mask in self.masks:
            m = F.interpolate(mask, size=feats.shape[-2:], mode="bilinear", align_corners=False)
            grams.append(gram_matrix(feats * m, self.gram_norm) / m.pow(2).mean().clamp_min(1e-6))
        return grams

    def style_shares(self, image):
        """Each style image's share of the weighted style loss at ``image`` (they sum to 1)."""
        with torch.no_grad():
            per_style = self.per_image(image)[3]
        weighted = [f * float(v.sum()) for f, v in zip(self.style_factors(), per_style)]
        total = sum(weighted) or 1.0
        return [w / total for w in weighted]

    def per_image(self, image):
        """Unweighted losses of each image in a batch: (content, style, tv), each a vector of length B,
        and the style loss of each style image (a list of such vectors). The blend (and balancing)
        factors are applied to ``style``; the content, style and tv weights are not."""
        feats = self.model(image, self.layers)
        b = image.shape[0]
        content = image.new_zeros(b)
        for name in self.content_layers:
            content = content + (feats[name] - self.content_targets[name]).pow(2).flatten(1).mean(1)
        per_style = [image.new_zeros(b) for _ in self.style_targets]
        if self.style_targets:
            for name, lw in zip(self.style_layers, self.layer_weights):
                grams = self._grams(feats[name])
                for i, targets in enumerate(self.style_targets):
                    per_style[i] = per_style[i] + lw * (grams[i] - targets[name]).pow(2).flatten(1).mean(1)
        style = image.new_zeros(b)
        for factor, loss in zip(self.style_factors(), per_style):
            style = style + factor * loss
        tv = tv_per_image(image) if self.tv_weight else image.new_zeros(b)
        return content, style, tv, per_style

    def __call__(self, image):
        content, style, tv, per_style = self.per_image(image)
        c = self.content_weight * content.sum()
        s = self.style_weight * style.sum()
        t = self.tv_weight * tv.sum()
        total = c + s + t
        parts = {"content": c.item(), "style": s.item(), "tv": t.item(), "total": total.item(),
                 "style_per_image": [v.sum().item() for v in per_style]}
        return total, parts
