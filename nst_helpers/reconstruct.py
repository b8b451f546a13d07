"""Reconstructions for teaching (Gatys et al. 2016, Fig. 1): what one layer's representation keeps.

* ``reconstruct_content``: from white noise, find an image whose activations at one layer match the
  photo's. Shallow layers give the photo back almost exactly; deep layers keep the layout and lose
  the exact pixels.
* ``reconstruct_style``: from white noise, find an image whose Gram matrices at a set of layers match
  the painting's. With more (and deeper) layers the texture grows in scale.

Both objectives are divided by the target's own size (its mean square), so every layer starts at a
loss near 1 and the same number of steps means the same thing at every depth.

Both start from low-amplitude white noise (0.5 +- 0.1, ``noise_amplitude=0.2``). Deep layers do not
care about much of the noise, so whatever the start holds stays in the picture; a quiet start
leaves the layout visible instead of drowning it in full-strength noise.
"""

import torch

from .devices import resolve_device
from .images import load_image
from .layers import layer_info
from .losses import StyleTransferLoss
from .optimize import optimize_image
from .transfer import check_image_size, initial_image
from .vgg import load_vgg19

NOISE_AMPLITUDE = 0.2


def _setup(image, size, device, model, weights):
    dev = resolve_device(device)
    target = load_image(image, size=size, device=dev, what="image")
    if model is None:
        model = load_vgg19(weights, device=dev)
    return target, model


def reconstruct_content(image, layer, steps=200, size=128, model=None, weights=None, device="auto", seed=0,
                        optimizer="lbfgs", progress=True, callback=None, callback_every=50):
    """Reconstruct ``image`` from white noise using only ``layer``'s activations; an ``OptimizationResult``."""
    layer_info(layer)
    target, model = _setup(image, size, device, model, weights)
    check_image_size(target, [layer], "the image")
    objective = StyleTransferLoss(model, target, [], [layer], [], content_weight=1.0, style_weight=0.0)
    objective.content_weight = 1.0 / max(float(objective.content_targets[layer].pow(2).mean()), 1e-12)
    start = initial_image("noise", target, seed, NOISE_AMPLITUDE)
    return optimize_image(objective, start, steps=steps, optimizer=optimizer,
                          progress=progress, log_every=0, desc=f"content from {layer}", callback=callback,
                          callback_every=callback_every)


def reconstruct_style(image, layers, steps=200, size=128, output_size=None, model=None, weights=None,
                      device="auto", seed=0, optimizer="lbfgs", progress=True, callback=None, callback_every=50):
    """Synthesise a texture from white noise matching ``image``'s Gram matrices at ``layers``.

    Each layer's loss is divided by its target's mean square and the layers are averaged, so each
    contributes equally. ``output_size`` (default: the image's size) is the texture's size.
    """
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    for name in layers:
        layer_info(name)
    target, model = _setup(image, size, device, model, weights)
    check_image_size(target, layers, "the image")
    objective = StyleTransferLoss(model, None, [target], [], layers, content_weight=0.0, style_weight=1.0)
    grams = objective.style_targets[0]
    objective.layer_weights = [1.0 / (len(layers) * max(float(grams[n].pow(2).mean()), 1e-12)) for n in layers]
    shape = target.shape if output_size is None else load_image(target, size=output_size).shape
    start = initial_image("noise", torch.empty(shape, device=target.device), seed, NOISE_AMPLITUDE)
    return optimize_image(objective, start, steps=steps, optimizer=optimizer, progress=progress, log_every=0,
                          desc=f"style from {len(layers)} layer(s)", callback=callback, callback_every=callback_every)
