"""The objective of Gatys et al., composed of the functions the notebooks teach.

    total(x) = alpha * sum_l content_loss(F_l(x), F_l(p))                       (content terms)
             + beta  * sum_s b_s * sum_l w_l * style_loss(G_l(x), G_l(a_s))      (style terms)
             + gamma * tv_loss(x)                                                (smoothness)
             + lambda * temporal_loss(x, w, c)                 (video: w the previous picture warped)

p is the content photo, a_s the style images with blend weights b_s (sum 1), w_l the layer weights.
``content_loss`` is a mean unless the configuration's ``content_norm`` asks for the paper's half sum, and
``gram_norm="paper"`` makes ``style_loss`` the paper's E_l: the ``gatys`` preset is the paper's objective exactly.
Each term is a small object that calls ``losses.content_loss``, ``losses.gram_matrix`` and
``losses.style_loss``; the pieces beyond the paper are separate too: a style term may carry a mask
(spatial control), ``balance_factors`` rescales each style so blend weights mean what they say, and
a ``TemporalTerm`` ties a video frame to the previous one (``video.py``).
"""

import math
import warnings

import torch
from torch.nn import functional as F

from .checks import check_choice, check_weight
from .devices import bfloat16_is_fast
from .errors import NSTError
from .losses import CONTENT_NORMS, content_loss, gram_matrix, normalize_blend, style_loss, temporal_loss, tv_loss
from .statistics import make_statistic

#: The weighted parts of the objective recorded at every step (``OptimizationResult.history``).
PARTS = ("content", "style", "tv", "total")


class ContentTerm:
    """content_loss between the picture's and the photo's activations at one layer (``norm``: the
    objective's ``content_norm``, the mean squared difference unless it says otherwise)."""

    def __init__(self, layer, target):
        self.layer, self.target = layer, target.detach()

    def __call__(self, feats, norm="mean"):
        return content_loss(feats[self.layer], self.target, norm)


def content_terms(model, content, layers):
    """One ``ContentTerm`` per layer, its target the photo's activations there (computed without gradients)."""
    with torch.no_grad():
        feats = model(content, list(layers)) if layers else {}
    return [ContentTerm(layer, feats[layer]) for layer in layers]


class TemporalTerm:
    """temporal_loss between the picture and ``warped`` (the previous frame's picture moved onto this
    frame by the optical flow) where ``mask`` says the flow is reliable (``video.py``)."""

    def __init__(self, warped, mask):
        self.warped, self.mask = warped.detach(), mask.detach()

    def __call__(self, image):
        return temporal_loss(image, self.warped, self.mask)


class StyleTerm:
    """style_loss between the picture's and one painting's Gram matrices at one layer.

    With a ``mask`` (1x1xHxW in [0, 1], the picture's size) only the masked region is compared
    (Gatys et al. 2017): the activations are weighted by the mask shrunk to the layer's grid, and the
    Gram matrix is divided by the mask's mean square so that it has the whole-image scale.

    With a ``statistic`` (``statistics.py``: mean and standard deviation, sliced Wasserstein, patches)
    the term compares that statistic instead, ``target`` being what ``statistic.target`` made of the
    painting's activations; masks work with Gram matrices only.
    """

    def __init__(self, layer, target_gram, norm="chw", mask=None, statistic=None):
        if statistic is not None and mask is not None:
            raise NSTError(f"a mask works with the Gram statistic only, not with style loss {statistic.name}")
        target = target_gram.detach() if torch.is_tensor(target_gram) else target_gram
        self.layer, self.target, self.norm, self.mask, self.statistic = layer, target, norm, mask, statistic

    def gram(self, feats):
        f = feats[self.layer]
        if self.mask is None:
            return gram_matrix(f, self.norm, fast=True)
        m = F.interpolate(self.mask, size=f.shape[-2:], mode="bilinear", align_corners=False)
        return gram_matrix(f * m, self.norm, fast=True) / m.pow(2).mean().clamp_min(1e-6)

    def __call__(self, feats, grams=None):
        """``grams``: a dict shared by the terms of one evaluation, so that styles compared without
        masks compute the picture's Gram matrix at a layer once."""
        if self.statistic is not None:
            return self.statistic.loss(feats[self.layer], self.target)
        if grams is None:
            return style_loss(self.gram(feats), self.target)
        key = (self.layer, None if self.mask is None else id(self.mask))
        if key not in grams:
            grams[key] = self.gram(feats)
        return style_loss(grams[key], self.target)


def balance_factors(blend, scales):
    """Blend weights rescaled so that style s holds share blend[s] of the style loss where its scale
    (its loss at the content image) was measured, keeping the total the size it had without balancing."""
    mean_scale = sum(b * s for b, s in zip(blend, scales))
    return [b * mean_scale / s for b, s in zip(blend, scales)]


def progress_shares(losses, start_losses, blend):
    """Each style's share of the progress: p_s = 1 - L_s(x) / L_s(x_0), the fraction of its loss at the start
    that the picture has removed, divided by the sum of the p_s. A ratio of one style's own losses, so it does
    not depend on the scale of the network's activations. Before any progress: the blend itself."""
    progress = [max(0.0, 1.0 - loss / start) if start > 0 else 0.0 for loss, start in zip(losses, start_losses)]
    total = sum(p for p, b in zip(progress, blend) if b > 0)
    if total <= 0:
        return list(blend)
    return [p / total if b > 0 else 0.0 for p, b in zip(progress, blend)]


class DynamicBalance:
    """The dynamic rule: every ``every`` evaluations, each style's factor is multiplied by
    (blend[s] / share[s]) ** ``rate`` (``progress_shares``), so a style that lags behind its share pulls harder and
    one ahead of it pulls less. One change is at most ``max_change`` either way, the factors keep a weighted
    geometric mean of 1 (the style term keeps its size) and stay within ``limit`` of the static rule's."""

    def __init__(self, start_losses, every=10, rate=0.5, max_change=2.0, limit=100.0):
        self.start_losses = [float(v) for v in start_losses]
        self.every, self.rate, self.max_change, self.limit = every, rate, max_change, limit
        self.multipliers = [1.0] * len(self.start_losses)
        self.evaluations = 0

    def observe(self, losses, blend):
        """One evaluation's per-style losses (unweighted); adjusts the multipliers every ``every`` calls."""
        self.evaluations += 1
        if self.evaluations % self.every:
            return
        shares = progress_shares(losses, self.start_losses, blend)
        logs = []
        for m, b, q in zip(self.multipliers, blend, shares):
            change = (b / q) ** self.rate if b > 0 and q > 0 else (self.max_change if b > 0 else 1.0)
            logs.append(math.log(m * min(self.max_change, max(1.0 / self.max_change, change))))
        mean = sum(b * v for b, v in zip(blend, logs)) / (sum(blend) or 1.0)
        bound = math.log(self.limit)
        self.multipliers = [math.exp(min(bound, max(-bound, v - mean))) for v in logs]


def _weight_property(label):
    attr = "_" + label.replace(" ", "_")

    def set_(self, value):
        setattr(self, attr, check_weight(value, label))

    return property(lambda self: getattr(self, attr), set_, doc=f"The {label}, checked whenever it is set.")


class Objective:
    """content + style + TV (+ temporal) terms with their weights; ``objective(image) -> (total, parts)``.

    ``style_terms`` holds one list of (layer weight, ``StyleTerm``) per style image. The weights
    (``content_weight``, ``style_weight``, ``tv_weight``, ``temporal_weight``, ``blend``) are checked
    when set and may be changed between evaluations: the laboratory's sliders do that. A video sets
    ``content_terms`` and ``temporal_term`` anew for each frame. ``precision="bfloat16"`` runs VGG19
    under autocast and compares the activations in float32 (``features``). ``content_norm``: how
    the content terms reduce their squared differences (``losses.CONTENT_NORMS``), kept by the
    objective so that content terms set anew (video frames, training batches) follow it too.
    """

    content_weight = _weight_property("content weight")
    style_weight = _weight_property("style weight")
    tv_weight = _weight_property("tv weight")
    temporal_weight = _weight_property("temporal weight")

    def __init__(
        self,
        model,
        content_terms=(),
        style_terms=(),
        content_weight=1.0,
        style_weight=1.0,
        tv_weight=0.0,
        blend=None,
        style_scales=None,
        temporal_term=None,
        temporal_weight=0.0,
        precision="float32",
        content_norm="mean",
    ):
        self.model, self.precision = model, precision
        self.content_norm = check_choice(content_norm, CONTENT_NORMS, "content loss normalisation")
        self.content_terms = list(content_terms)
        self.style_terms = [list(group) for group in style_terms]
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        self.style_scales = style_scales  # set: balance the styles (see ``balance_factors``)
        self.balancer = None  # a ``DynamicBalance``: the styles balanced all along the run
        self.temporal_term, self.temporal_weight = temporal_term, temporal_weight
        self.blend = blend
        layers = [t.layer for t in self.content_terms] + [t.layer for g in self.style_terms for _, t in g]
        self.layers = list(dict.fromkeys(layers))

    @property
    def blend(self):
        return self._blend

    @blend.setter
    def blend(self, value):
        self._blend = normalize_blend(value, len(self.style_terms)) if self.style_terms else []

    def style_factors(self):
        """Each style image's factor in the style loss: its blend weight, rescaled if balancing."""
        if self.style_scales is None:
            return list(self.blend)
        factors = balance_factors(self.blend, self.style_scales)
        if self.balancer is not None:
            factors = [f * m for f, m in zip(factors, self.balancer.multipliers)]
        return factors

    def features(self, image):
        """VGG19's activations of ``image`` at the objective's layers, as float32. In bfloat16 the
        convolutions run in 16-bit (autocast) and only their outputs are widened: the Gram matrices
        and differences, where small numbers are subtracted from each other, stay in float32."""
        if self.precision == "float32":
            return self.model(image, self.layers)
        with torch.autocast(image.device.type, dtype=torch.bfloat16):
            feats = self.model(image, self.layers)
        return {name: f.float() for name, f in feats.items()}

    def losses(self, image):
        """The unweighted losses at ``image`` (tensors): ``content``, ``style`` (blended), ``tv``,
        ``temporal`` and ``per_style`` (each style image's loss before blending)."""
        feats = self.features(image)
        zero = image.new_zeros(())
        content = sum((term(feats, self.content_norm) for term in self.content_terms), zero)
        grams = {}
        per_style = [sum((w * term(feats, grams) for w, term in group), zero) for group in self.style_terms]
        style = sum((f * loss for f, loss in zip(self.style_factors(), per_style)), zero)
        tv = tv_loss(image) if self.tv_weight else zero
        temporal = self.temporal_term(image) if self.temporal_term is not None else zero
        return {"content": content, "style": style, "tv": tv, "temporal": temporal, "per_style": per_style}

    def __call__(self, image):
        raw = self.losses(image)
        weighted = {
            "content": self.content_weight * raw["content"],
            "style": self.style_weight * raw["style"],
            "tv": self.tv_weight * raw["tv"],
        }
        total = weighted["content"] + weighted["style"] + weighted["tv"]
        if self.temporal_term is not None:  # a video frame after the first
            weighted["temporal"] = self.temporal_weight * raw["temporal"]
            total = total + weighted["temporal"]
        parts = {k: v.item() for k, v in weighted.items()}
        parts["total"] = total.item()
        parts["unweighted"] = {k: raw[k].item() for k in ("content", "style", "tv", "temporal")}
        parts["style_per_image"] = [v.item() for v in raw["per_style"]]
        if self.balancer is not None:  # the next evaluations use the factors this one's losses call for
            self.balancer.observe(parts["style_per_image"], self.blend)
        return total, parts


def build_objective(model, content, styles, config, masks=None):
    """The objective of a ``StyleConfig`` for a content image and a list of style images (tensors).

    Targets are computed once, without gradients: the photo's activations at the content layers and
    each painting's Gram matrices (or the statistic ``config.style_loss`` names) at the style layers.
    ``masks``: one region per style image or None.
    """
    if masks is not None and len(masks) != len(styles):
        raise NSTError(f"got {len(masks)} masks for {len(styles)} style images: give one region per style")
    if masks is not None and config.style_loss != "gram":
        raise NSTError(f"a mask works with style loss gram only, not {config.style_loss}: use --style-loss gram")
    statistic = None if config.style_loss == "gram" else make_statistic(config.style_loss, seed=config.random_seed)
    blend = config.blend_for(len(styles)) if styles else None
    if config.precision == "bfloat16":
        if content.device.type not in ("cpu", "cuda"):
            raise NSTError(
                f"precision bfloat16 runs on a CPU or a CUDA GPU, not on {content.device.type}: use precision float32"
            )
        if not bfloat16_is_fast(content.device):
            warnings.warn(
                "this device has no native bfloat16 arithmetic, so precision bfloat16 will be slower "
                "than float32: use precision float32",
                RuntimeWarning,
                stacklevel=2,
            )
    layer_weights = config.style_layer_weights()
    terms = content_terms(model, content, config.content_layers)
    with torch.no_grad():
        style_terms = []
        for i, style in enumerate(styles):
            feats = model(style, config.style_layers)
            mask = (
                None
                if masks is None
                else F.interpolate(masks[i].to(content), size=content.shape[-2:], mode="bilinear", align_corners=False)
            )
            if statistic is not None:
                group = [
                    (w, StyleTerm(layer, statistic.target(feats[layer]), statistic=statistic))
                    for layer, w in zip(config.style_layers, layer_weights)
                ]
            else:
                group = [
                    (w, StyleTerm(layer, gram_matrix(feats[layer], config.gram_norm), config.gram_norm, mask))
                    for layer, w in zip(config.style_layers, layer_weights)
                ]
            style_terms.append(group)
        objective = Objective(
            model,
            terms,
            style_terms,
            config.content_weight,
            config.style_weight,
            config.tv_weight,
            blend,
            precision=config.precision,
            content_norm=config.content_norm,
        )
        if config.balance_styles != "none" and style_terms:
            # A style's scale: its loss at the content image, where a transfer starts.
            objective.style_scales = [v.item() or 1.0 for v in objective.losses(content)["per_style"]]
            if config.balance_styles == "dynamic":
                objective.balancer = DynamicBalance(objective.style_scales)
    return objective
