"""nst_helpers: the tested implementation behind the neural style transfer course.

Use it as ``import nst_helpers as nst``. Where each idea lives:

=================  ==============================================================
images             loading, resizing, tensors, atomic saving, bundled examples
devices            cuda / mps / cpu and the seed's 128 / 512 px sizes
layers             VGG19 layer names: the paper's (conv4_2) and the tutorial's (conv_10)
weights            where VGG19's weights come from (file, env var, torchvision cache)
vgg                the feature extractor with ImageNet normalisation in front
losses             Gram matrices, content / style / TV losses, the full objective
optimize           the L-BFGS / Adam loop over pixels (what a "step" is)
transfer           presets and ``stylize``
reconstruct        content and style reconstructions (the paper's Fig. 1)
color              colour preservation (luminance, histogram)
plotting           image grids, loss curves, Gram heatmaps
lab                the interactive alpha/beta laboratory (ipywidgets)
cli                ``python -m nst_helpers``
=================  ==============================================================
"""

from .color import color_stats, match_histogram, match_luminance
from .devices import CPU_SIZE, GPU_SIZE, default_size, resolve_device
from .errors import NSTError
from .images import (EXAMPLES, example_path, load_image, open_image, pil_to_tensor, quantize, resize,
                     save_image, to_pil)
from .lab import Lab, LiveSession, beta_sweep
from .layers import LAYERS, layer_index, layer_info, layer_table, paper_name, tutorial_name
from .losses import StyleTransferLoss, content_loss, gram_matrix, normalize_blend, style_loss, tv_loss
from .optimize import OptimizationResult, optimize_image
from .plotting import plot_losses, show_grams, show_images
from .reconstruct import reconstruct_content, reconstruct_style
from .transfer import PRESETS, Preset, StyleResult, multiscale_plan, stylize
from .vgg import IMAGENET_MEAN, IMAGENET_STD, Normalization, VGGFeatures, load_vgg19
from .weights import ENV_VAR as WEIGHTS_ENV_VAR
from . import course

__version__ = "0.1.0"


def fast_mode():
    """True when the environment variable NST_FAST=1 asks for tiny images, few steps and random weights."""
    import os

    return os.environ.get("NST_FAST", "").strip() not in ("", "0", "false", "no")
