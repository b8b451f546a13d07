"""Reconstructions for teaching (Gatys et al. 2016, Fig. 1): what one layer's representation keeps.

* ``reconstruct_content``: from white noise, find an image whose activations at one layer match the
  photo's (one ``ContentTerm``). Shallow layers give the photo back almost exactly; deep layers keep
  the layout and lose the exact pixels.
* ``reconstruct_style``: from white noise, find an image whose Gram matrices at a set of layers match
  the painting's (one ``StyleTerm`` per layer). With more (and deeper) layers the texture grows in scale.

Each term is divided by its target's own mean square, so every layer starts at a loss near 1 and the
same number of steps means the same thing at every depth.

Both start from quiet white noise, 0.5 +- 0.1 (``noise_amplitude=0.2``): deep layers do not care
about much of the noise, so whatever the start holds stays in the picture, and a quiet start leaves
the layout visible instead of drowning it in full-strength noise.
"""

import torch

from .devices import resolve_device
from .images import load_image
from .layers import check_image_size, layer_info
from .losses import gram_matrix
from .objective import ContentTerm, Objective, StyleTerm
from .optimize import initial_image, optimize_image
from .vgg import load_vgg19

NOISE_AMPLITUDE = 0.2


def _setup(image, size, device, model, weights):
    dev = resolve_device(device) if model is None else next(model.parameters()).device
    target = load_image(image, size=size, device=dev, what="image")
    if model is None:
        model = load_vgg19(weights, device=dev)
    return target, model


def _mean_square(t):
    return max(float(t.pow(2).mean()), 1e-12)


def reconstruct_content(image, layer, steps=200, size=128, model=None, weights=None, device="auto", random_seed=0,
                        optimizer="lbfgs", progress=True, callback=None, callback_every=50):
    """Reconstruct ``image`` from white noise using only ``layer``'s activations; an ``OptimizationResult``."""
    layer_info(layer)
    target, model = _setup(image, size, device, model, weights)
    check_image_size(target, [layer], "the image")
    with torch.no_grad():
        features = model(target, [layer])[layer]
    objective = Objective(model, content_terms=[ContentTerm(layer, features)], style_weight=0.0,
                          content_weight=1.0 / _mean_square(features))
    start = initial_image("noise", target, random_seed, NOISE_AMPLITUDE)
    return optimize_image(objective, start, steps=steps, optimizer=optimizer, progress=progress, log_every=0,
                          desc=f"content from {layer}", callback=callback, callback_every=callback_every)


def reconstruct_style(image, layers, steps=200, size=128, output_size=None, model=None, weights=None,
                      device="auto", random_seed=0, optimizer="lbfgs", progress=True, callback=None,
                      callback_every=50):
    """Synthesise a texture from white noise matching ``image``'s Gram matrices at ``layers``.

    Each layer's term is divided by its target's mean square and the layers are averaged, so each
    contributes equally. ``output_size`` (default: the image's size) is the texture's size.
    """
    layers = [layers] if isinstance(layers, str) else list(layers)
    for name in layers:
        layer_info(name)
    target, model = _setup(image, size, device, model, weights)
    check_image_size(target, layers, "the image")
    with torch.no_grad():
        feats = model(target, layers)
        grams = {n: gram_matrix(feats[n]) for n in layers}
    terms = [(1.0 / (len(layers) * _mean_square(grams[n])), StyleTerm(n, grams[n])) for n in layers]
    objective = Objective(model, style_terms=[terms], content_weight=0.0, style_weight=1.0)
    shape = target.shape if output_size is None else load_image(target, size=output_size).shape
    start = initial_image("noise", torch.empty(shape, device=target.device), random_seed, NOISE_AMPLITUDE)
    return optimize_image(objective, start, steps=steps, optimizer=optimizer, progress=progress, log_every=0,
                          desc=f"style from {len(layers)} layer(s)", callback=callback, callback_every=callback_every)
