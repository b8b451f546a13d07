"""One way to set up a run: what ``stylize``, ``stylize_video``, ``train_network``, the laboratory and the
reconstructions do before they optimise, written once.

A run is set up in four stages. Each reports a problem as one line (``NSTError``), and they come in
this order, so that a bad argument is reported before any file is read, and a bad file before the
memory is checked and VGG19 is loaded (or downloaded):

1. ``start_run``, arguments only: the device (a given model's, else ``device``), the style images
   (the bundled painting when none are given) and their count against the configuration's blend.
2. ``RunSetup.load_images``: the content image and the style images as tensors on the device (the
   styles at ``style_scale`` times the content's long side), each checked against the layers.
3. ``RunSetup.check_memory``: the run's estimated peak memory against what the device has free.
4. ``RunSetup.load_model``: VGG19 as the configuration describes it (``NETWORK_FIELDS``: its
   pooling, and the paper's normalised network or not), or a given model checked against it.

``prepare_run`` does the four in order. An entry point with steps of its own between them (a
multiscale plan, a mask, a clip, training crops) calls the stages itself, its own steps in between.
"""

from dataclasses import dataclass, field

import torch

from .checks import MAX_SIZE, MIN_SIZE
from .config import StyleConfig, make_config
from .devices import default_size, resolve_device
from .errors import NSTError
from .images import DEFAULT_CONTENT, DEFAULT_STYLES, as_image_list, load_image
from .layers import check_image_size
from .memory import check_memory
from .vgg import load_vgg19

#: What a configuration decides about VGG19 itself: configuration field -> (``load_vgg19``'s argument, the
#: attribute of a loaded model that must match it).
NETWORK_FIELDS = {"pooling": ("pooling", "pooling"), "normalize_network": ("normalize", "normalized")}


def run_device(model=None, device="auto"):
    """The device of a run: the given model's, else ``device`` (``"auto"``: cuda, then mps, then cpu)."""
    return resolve_device(device) if model is None else next(model.parameters()).device


def check_model(model, config):
    """``model``, unless it is not the network ``config`` describes (``NETWORK_FIELDS``): an ``NSTError``."""
    for name, (_, attribute) in NETWORK_FIELDS.items():
        have, want = getattr(model, attribute, False if attribute == "normalized" else None), getattr(config, name)
        if have == want:
            continue
        if name == "pooling":
            raise NSTError(
                f"the model uses {have} pooling but the configuration asks for {want}: "
                f"load it with load_vgg19(..., pooling={want!r})"
            )
        if want:
            raise NSTError(
                "the configuration asks for the paper's normalised network (normalize_network) but the model is "
                "not normalised: load it with load_vgg19(..., normalize=True) or pass nst.normalize_vgg19(model)"
            )
        raise NSTError(
            "the model is the paper's normalised network but the configuration does not ask for it: load it "
            "with load_vgg19(..., normalize=False), or set normalize_network=True"
        )
    return model


@dataclass
class RunSetup:
    """A run being set up, filled in stage by stage (see the module's docstring).

    config: the checked ``StyleConfig``; device; sources: the style images as given (paths, names,
    images or tensors); content, styles: the images as 1x3xHxW tensors on the device (after
    ``load_images``); memory: the estimated peak bytes (after ``check_memory``); model: VGG19 (given,
    or after ``load_model``).
    """

    config: StyleConfig
    device: torch.device
    sources: list = field(default_factory=list)
    model: object = None
    content: torch.Tensor = None
    styles: list = field(default_factory=list)
    memory: int = None

    @property
    def layers(self):
        """Every layer the objective reads: the content layers, then the style layers."""
        return self.config.content_layers + self.config.style_layers

    def load_size(self, image):
        """The size to load ``image`` at: the configuration's; else none for a tensor (it keeps its
        own size); else the device's default (128 px on a CPU, 512 px on a GPU)."""
        if self.config.size is None and not torch.is_tensor(image):
            return default_size(self.device)
        return self.config.size

    def load_images(self, content, size, what="content image", label=None):
        """Stage 2: ``content`` at ``size`` (None: its own), each style image at ``style_scale`` times the
        content's long side, then every image checked against the layers (the content as ``label``,
        by default "the ``what``"). Returns the set-up."""
        self.content = load_image(content, size=size, device=self.device, what=what)
        if self.sources:
            style_scale = self.config.style_scale
            style_long = round(max(self.content.shape[-2:]) * style_scale)
            if not MIN_SIZE <= style_long <= MAX_SIZE:
                raise NSTError(
                    f"style scale {style_scale:g} makes the style images {style_long} px long, outside "
                    f"{MIN_SIZE}..{MAX_SIZE} px: choose a style scale nearer 1"
                )
            self.styles = [load_image(s, size=style_long, device=self.device, what="style image") for s in self.sources]
        check_image_size(self.content, self.layers, label or f"the {what}")
        for style in self.styles:
            check_image_size(style, self.config.style_layers, "a style image")
        return self

    def check_memory(self, steps=None):
        """Stage 3: the estimated peak memory of optimising the content's size, L-BFGS remembering up to
        ``steps`` (default the configuration's; at most 100), against what the device has free."""
        steps = self.config.steps if steps is None else steps
        self.memory = check_memory(
            *self.content.shape[-2:],
            self.layers,
            self.device,
            styles=len(self.sources) or 1,
            lbfgs_history=min(100, steps),
        )
        return self

    def load_model(self, weights=None):
        """Stage 4: VGG19 with ``weights`` (a path, ``"random"`` or None: see ``weights.py``) as the
        configuration describes it, on the run's device; or the given model, checked against it."""
        if self.model is None:
            options = {argument: getattr(self.config, name) for name, (argument, _) in NETWORK_FIELDS.items()}
            self.model = load_vgg19(weights, device=self.device, **options)
        else:
            check_model(self.model, self.config)
        return self


def start_run(styles, config, *, model=None, device="auto"):
    """Stage 1, arguments only (nothing is read yet): a ``RunSetup`` with the run's device and style images.

    styles: one style image or a list (paths, bundled names, PIL images, tensors); None: the bundled
    painting. config: a ``StyleConfig`` or preset name. model: a loaded ``load_vgg19`` network (the run
    takes its device), else ``device``.
    """
    config = make_config(config)
    run = RunSetup(config, run_device(model, device), model=model)
    run.sources = list(DEFAULT_STYLES) if styles is None else as_image_list(styles)
    if not run.sources:
        raise NSTError("no style image given: pass at least one")
    config.blend_for(len(run.sources))  # the count of blend weights, before any loading
    return run


def prepare_run(content, styles, config, *, model=None, weights=None, device="auto"):
    """The four stages in order, for a run without steps of its own between them; returns the ``RunSetup``.

    content: the photo (None: the bundled cat), loaded at the configuration's size (a tensor keeps its
    own when the configuration sets none); the rest as for ``start_run`` and ``RunSetup.load_model``.
    """
    run = start_run(styles, config, model=model, device=device)
    content = DEFAULT_CONTENT if content is None else content
    run.load_images(content, run.load_size(content))
    run.check_memory()
    return run.load_model(weights)
