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

from .config import StyleConfig
from .images import load_image
from .losses import gram_matrix
from .objective import ContentTerm, Objective, StyleTerm
from .optimize import initial_image, optimize_image
from .prepare import RunSetup, run_device

NOISE_AMPLITUDE = 0.2


def _setup(image, size, config, device, model, weights):
    """The run's set-up (``prepare.py``) with no style images: the image at ``size`` checked against the
    layers, the memory, VGG19. The configuration takes a given model's pooling: any model will do."""
    run = RunSetup(config, run_device(model, device), model=model)
    run.load_images(image, size, what="image")
    run.check_memory()
    return run.content, run.load_model(weights).model


def _config(content_layers, style_layers, steps, size, model, random_seed, optimizer):
    """What a reconstruction computes, as a ``StyleConfig`` (checked, and handed whole to ``optimize_image``)."""
    return StyleConfig(
        name="reconstruction",
        content_layers=content_layers,
        style_layers=style_layers,
        steps=steps,
        size=size,
        init="noise",
        random_seed=random_seed,
        optimizer=optimizer,
        pooling="max" if model is None else getattr(model, "pooling", "max"),
        normalize_network=model is not None and getattr(model, "normalized", False),
    )


def _mean_square(t):
    return max(float(t.pow(2).mean()), 1e-12)


def reconstruct_content(
    image,
    layer,
    steps=200,
    size=128,
    model=None,
    weights=None,
    device="auto",
    random_seed=0,
    optimizer="lbfgs",
    progress=True,
    callback=None,
    callback_every=50,
):
    """Reconstruct ``image`` from white noise using only ``layer``'s activations; an ``OptimizationResult``."""
    config = _config((layer,), (), steps, size, model, random_seed, optimizer)
    target, model = _setup(image, size, config, device, model, weights)
    with torch.no_grad():
        features = model(target, [layer])[layer]
    objective = Objective(
        model,
        content_terms=[ContentTerm(layer, features)],
        style_weight=0.0,
        content_weight=1.0 / _mean_square(features),
    )
    start = initial_image("noise", target, random_seed, NOISE_AMPLITUDE)
    return optimize_image(
        objective,
        start,
        config,
        progress=progress,
        log_every=0,
        desc=f"content from {layer}",
        callback=callback,
        callback_every=callback_every,
    )


def reconstruct_style(
    image,
    layers,
    steps=200,
    size=128,
    output_size=None,
    model=None,
    weights=None,
    device="auto",
    random_seed=0,
    optimizer="lbfgs",
    progress=True,
    callback=None,
    callback_every=50,
):
    """Synthesise a texture from white noise matching ``image``'s Gram matrices at ``layers``.

    Each layer's term is divided by its target's mean square and the layers are averaged, so each
    contributes equally. ``output_size`` (default: the image's size) is the texture's size.
    """
    layers = [layers] if isinstance(layers, str) else list(layers)
    config = _config((), layers, steps, size, model, random_seed, optimizer)
    target, model = _setup(image, size, config, device, model, weights)
    with torch.no_grad():
        feats = model(target, layers)
        grams = {n: gram_matrix(feats[n]) for n in layers}
    terms = [(1.0 / (len(layers) * _mean_square(grams[n])), StyleTerm(n, grams[n])) for n in layers]
    objective = Objective(model, style_terms=[terms], content_weight=0.0, style_weight=1.0)
    shape = target.shape if output_size is None else load_image(target, size=output_size).shape
    start = initial_image("noise", torch.empty(shape, device=target.device), random_seed, NOISE_AMPLITUDE)
    return optimize_image(
        objective,
        start,
        config,
        progress=progress,
        log_every=0,
        desc=f"style from {len(layers)} layer(s)",
        callback=callback,
        callback_every=callback_every,
    )
