"""Judging style statistics fairly (notebook 10, ``benchmarks/statistics.py``).

A picture optimised to match one statistic in one network is, by construction, close to the painting by
that statistic in that network: scoring it there measures the optimiser, not the style. So

* every (statistic, network) objective is **calibrated** the same way (``calibrate``): the content term
  is divided by its value at the painting and the style term by its value at the photo, and the style
  term is then weighted ``ratio`` times the content term. Each starts on the same scale whatever the
  statistic's units or the network's activations;
* each picture is **cross-evaluated** (``cross_evaluate``): its distance to the painting under every
  statistic in every network, relative to the photo's distance (1: as far from the painting as the
  photo; 0: as close as the painting itself), and the content kept, 1 - (its content distance to the
  photo over the painting's) at ``CONTENT_LAYER``;
* ``judge_table`` summarises a picture only by the judges it was not optimised in: networks other than
  its own (the *fair* score), the judge of its own statistic and network (*self*) shown apart.
"""

from dataclasses import replace

import torch
from torch.nn import functional as F

from ..config import make_config
from ..errors import NSTError
from ..images import load_image
from ..objective import build_objective
from ..statistics import STYLE_LOSSES, make_statistic
from ..transfer import stylize

#: The style layers of each statistic: VGG19's relu1_1 ... relu5_1 (Gatys et al.), and for patches the
#: layers Li and Wand used (relu3_1, relu4_1).
JUDGE_LAYERS = {
    "gram": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    "mean_std": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    "sliced_wasserstein": ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    "patch": ("relu3_1", "relu4_1"),
}
CONTENT_LAYER = "relu4_2"


def statistic_config(statistic, base="gatys", **overrides):
    """``base`` with the statistic's style layers (``JUDGE_LAYERS``, equal weights) and ``style_loss``, on the
    network as it is loaded here (max pooling, not normalised; Gram / H W, the mean content loss): ``calibrate``
    makes the weights independent of the activations' scale, and every network of the chapter is compared alike."""
    layers = overrides.pop("style_layers", JUDGE_LAYERS[statistic])
    fields = {"style_layers": layers, "layer_weights": (1.0 / len(layers),) * len(layers)}
    fields.update(content_layers=(CONTENT_LAYER,), style_loss=statistic)
    fields.update(pooling="max", normalize_network=False, gram_norm="hw", content_norm="mean")
    return make_config(base, **{**fields, **overrides})


def calibrate(model, content, styles, config, ratio=10.0):
    """``config`` with ``content_weight`` = 1 / (the content loss of the painting) and ``style_weight`` =
    ``ratio`` / (the style loss of the photo), measured in ``model``: both terms are 1 where a transfer
    from the photo starts and ``ratio`` weighs style against content on that common scale."""
    styles = list(styles) if isinstance(styles, (list, tuple)) else [styles]
    plain = replace(config, content_weight=1.0, style_weight=1.0, balance_styles=False)
    objective = build_objective(model, content, styles, plain)
    with torch.no_grad():
        style0 = objective.losses(content)["style"].item()
        painting = _like(styles[0], content)
        content0 = objective.losses(painting)["content"].item()
    for value, what in ((style0, "the photo's style loss"), (content0, "the painting's content loss")):
        if not value > 0 or value != value or value == float("inf"):
            raise NSTError(f"cannot calibrate: {what} is {value:g} (the photo and the painting look the same here)")
    return make_config(config, content_weight=1.0 / content0, style_weight=ratio / style0)


def _like(image, reference):
    """``image`` resized to ``reference``'s height and width."""
    if image.shape[-2:] == reference.shape[-2:]:
        return image
    return F.interpolate(image, size=reference.shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)


def transfer(content, style, model, statistic, ratio=10.0, seed=0, steps=100, tol=0.01, init="content", **overrides):
    """One calibrated style transfer with ``statistic`` in ``model`` (a ``StyleResult``)."""
    config = statistic_config(statistic, steps=steps, tol=tol, init=init, random_seed=seed, **overrides)
    style = load_image(style, size=max(content.shape[-2:]), device=content.device)
    config = calibrate(model, content, [style], config, ratio)
    return stylize(content, style, config, model=model, progress=False)


class _Judge:
    """One network's view of a painting: its targets under every statistic, made once."""

    def __init__(self, model, painting, statistics, seed):
        self.model, self.statistics = model, list(statistics)
        self.stats = {s: make_statistic(s, seed=seed) for s in self.statistics}
        self.layers = list(dict.fromkeys(n for s in self.statistics for n in JUDGE_LAYERS[s]))
        with torch.no_grad():
            feats = model(painting, self.layers)
            self.targets = {s: {n: self.stats[s].target(feats[n]) for n in JUDGE_LAYERS[s]} for s in self.statistics}

    def distances(self, picture):
        """{statistic: the mean over its layers of its loss between ``picture`` and the painting}."""
        with torch.no_grad():
            feats = self.model(picture, self.layers)
            return {
                s: sum(self.stats[s].loss(feats[n], t).item() for n, t in self.targets[s].items())
                / len(self.targets[s])
                for s in self.statistics
            }


def style_distance(model, picture, painting, statistic, seed=0):
    """The mean over the statistic's ``JUDGE_LAYERS`` of its loss between the picture's and the painting's
    activations in ``model``."""
    return _Judge(model, painting, [statistic], seed).distances(picture)[statistic]


def content_distance(model, picture, photo, layer=CONTENT_LAYER):
    """The mean squared difference of the activations at ``layer`` in ``model``."""
    with torch.no_grad():
        return F.mse_loss(model(picture, [layer])[layer], model(photo, [layer])[layer]).item()


def cross_evaluate(pictures, photo, painting, networks, statistics=STYLE_LOSSES, seed=0):
    """Score every picture under every statistic in every network.

    pictures: {key: 1x3xHxW picture}, the key a tuple whose first two items are the statistic and network it
    was optimised with (anything after them, say the seed, is kept); networks: {name: model}. Returns rows
    {"picture", "statistic", "network", "judge_statistic", "judge_network", "style", "content"}: the style
    distance relative to the photo's, and the content distance relative to the painting's (in the judge
    network; the same for every judge statistic)."""
    painting_like = _like(painting, photo)
    rows = []
    for net_name, model in networks.items():
        judge = _Judge(model, painting, statistics, seed)
        photo_style = judge.distances(photo)
        with torch.no_grad():
            photo_content = model(photo, [CONTENT_LAYER])[CONTENT_LAYER]
            painting_content = F.mse_loss(model(painting_like, [CONTENT_LAYER])[CONTENT_LAYER], photo_content).item()
        for key, picture in pictures.items():
            with torch.no_grad():
                content = F.mse_loss(model(picture, [CONTENT_LAYER])[CONTENT_LAYER], photo_content).item()
            style = judge.distances(picture)
            for s in statistics:
                rows.append(
                    {
                        "picture": key,
                        "statistic": key[0],
                        "network": key[1],
                        "judge_statistic": s,
                        "judge_network": net_name,
                        "style": style[s] / photo_style[s],
                        "content": content / painting_content,
                    }
                )
    return rows


def judge_table(rows):
    """Per picture: the *fair* style distance (the mean over judges in networks other than its own, every
    statistic), the *self* one (its own statistic in its own network), each judge statistic's fair mean,
    and the content kept (1 - the mean relative content distance in the other networks)."""
    out = {}
    for key in dict.fromkeys(r["picture"] for r in rows):
        mine = [r for r in rows if r["picture"] == key]
        fair = [r for r in mine if r["judge_network"] != r["network"]]
        if not fair:
            raise NSTError(f"picture {key!r} was judged only in its own network: give at least one other network")
        own = [r for r in mine if r["judge_network"] == r["network"] and r["judge_statistic"] == r["statistic"]]
        by_stat = {}
        for r in fair:
            by_stat.setdefault(r["judge_statistic"], []).append(r["style"])
        nets = {r["judge_network"]: r["content"] for r in fair}
        out[key] = {
            "fair_style": sum(r["style"] for r in fair) / len(fair),
            "self_style": own[0]["style"] if own else None,
            "by_judge": {s: sum(v) / len(v) for s, v in by_stat.items()},
            "content_kept": 1.0 - sum(nets.values()) / len(nets),
        }
    return out
