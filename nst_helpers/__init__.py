"""nst_helpers: the tested implementation behind the neural style transfer course.

Use it as ``import nst_helpers as nst``. The core, lowest first (each module imports only from those
above it; ``tests/test_layout.py`` checks it), is what notebooks 1 to 5 teach:

=================  ==============================================================
errors, checks     the one exception type; checks of values and the package's limits
files              safe paths, outputs that never replace an input, atomic writes
images             bundled examples, loading, resizing, tensors, saving
photos             the training photos, the held-out ones, random crops
devices            cuda / mps / cpu, the seed's 128 / 512 px, bfloat16
distributed        training on several processes (torchrun, DistributedDataParallel)
layers             VGG19 layer names: the paper's (conv4_2) and the tutorial's (conv_10)
memory             memory estimates before a run
weights            where VGG19's weights come from (file, env var, torchvision cache)
normalize          the paper's normalised VGG19: every filter's mean activation over the photos is 1
vgg                the feature extractor with ImageNet normalisation in front; which network it is
losses             Gram matrices, content / style / TV losses, blend weights
statistics         style statistics: Gram, mean and std, sliced Wasserstein, patches
color              colour preservation (luminance, histogram)
config             ``StyleConfig``: one configuration object, and the presets
prepare            one set-up of a run: device, images, sizes, memory, VGG19 (``prepare_run``)
objective          the objective as a sum of content, style and TV terms
optimize           the L-BFGS / Adam loop over pixels (what a "step" is)
transfer           ``stylize``
reconstruct        content and style reconstructions (the paper's Fig. 1)
plotting           image grids, loss curves, Gram heatmaps
course             the notebooks' list, badges and exercise checks
=================  ==============================================================

The applications, each a sub-package built on the core (they import from the core, never the
reverse, and not from each other):

=================  ==============================================================
lab                the alpha/beta laboratory (notebook 6): ``LiveSession``, ``Lab``
arbitrary          arbitrary style in one pass (notebook 11): AdaIN and a decoder trained on photos
feedforward        real-time style (notebook 8): a network trained with the same objective
video              clips (notebook 9): optical flow, warping, occlusions, the temporal loss
sound              sound (notebook 12): spectrograms, a random 1-D network, Griffin-Lim
style_stats        what is style? (notebook 10): random and shallow networks, fair cross-evaluation
=================  ==============================================================

``cli`` (``python -m nst_helpers``) sits on top of everything.

Names are imported on first use, so ``import nst_helpers`` is quick and the command line can answer
Ctrl-C cleanly while torch is still loading.
"""

import importlib
import os

__version__ = "0.2.0"

_EXPORTS = {
    "color": ["color_stats", "match_histogram", "match_luminance"],
    "checks": ["MAX_SIZE", "MAX_WEIGHT"],
    "config": ["PRESETS", "StyleConfig", "make_config", "describe_presets"],
    "devices": ["CPU_SIZE", "GPU_SIZE", "default_size", "resolve_device"],
    "errors": ["NSTError"],
    "feedforward": [
        "NETWORK_SIZES",
        "TransformNet",
        "apply_network",
        "apply_to_folder",
        "load_network",
        "save_network",
        "train_network",
    ],
    "images": [
        "EXAMPLES",
        "example_path",
        "load_image",
        "open_image",
        "pil_to_tensor",
        "quantize",
        "resize",
        "save_image",
        "to_pil",
    ],
    "lab": ["Lab", "LiveSession", "SweepResult", "beta_sweep"],
    "layers": ["LAYERS", "layer_index", "layer_info", "layer_table", "paper_name", "receptive_field", "tutorial_name"],
    "losses": ["content_loss", "gram_matrix", "normalize_blend", "style_loss", "tv_loss"],
    "normalize": ["normalize_vgg19"],
    "statistics": ["STYLE_LOSSES", "make_statistic"],
    "objective": ["ContentTerm", "Objective", "StyleTerm", "build_objective"],
    "optimize": ["OptimizationResult", "initial_image", "optimize_image"],
    "prepare": ["RunSetup", "prepare_run"],
    "plotting": [
        "method_diagram",
        "plot_losses",
        "show_feature_maps",
        "show_grams",
        "show_images",
        "show_receptive_fields",
    ],
    "reconstruct": ["reconstruct_content", "reconstruct_style"],
    "sound": ["SoundConfig", "stylize_sound"],
    "transfer": ["StyleResult", "multiscale_plan", "stylize"],
    "vgg": ["IMAGENET_MEAN", "IMAGENET_STD", "Normalization", "VGGFeatures", "describe_vgg", "load_vgg19"],
    "video": ["read_clip", "stylize_video", "write_clip"],
    "weights": ["WEIGHTS_ENV_VAR"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
_RENAMED = {"WEIGHTS_ENV_VAR": "ENV_VAR"}
__all__ = sorted(_WHERE) + ["course", "fast_mode"]


_MODULES = set(_EXPORTS) | {
    "arbitrary",
    "cli",
    "course",
    "distributed",
    "files",
    "memory",
    "optimize",
    "photos",
    "weights",
}


def __getattr__(name):
    if name in _MODULES:  # a module of the package, e.g. ``nst.weights``
        return importlib.import_module(f".{name}", __name__)
    if name not in _WHERE:
        raise AttributeError(f"module 'nst_helpers' has no attribute {name!r}")
    module = importlib.import_module(f".{_WHERE[name]}", __name__)
    value = getattr(module, _RENAMED.get(name, name))
    globals()[name] = value  # the next look-up is an ordinary attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


def fast_mode():
    """True when the environment variable NST_FAST=1 asks for tiny images, few steps and random weights."""
    return os.environ.get("NST_FAST", "").strip() not in ("", "0", "false", "no")
