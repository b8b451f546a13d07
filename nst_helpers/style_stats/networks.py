"""The networks whose activations the style statistics are taken in (notebook 10, "what the weights buy").

* ``vgg19``: VGG19 with loaded weights (``load_vgg19``; ImageNet's where they are available);
* ``vgg19_random``: the same architecture with seeded random weights (torchvision's initialisation), as
  He et al. (2016) used for style transfer;
* ``shallow``: one layer of random filters at several scales, after Ustyuzhaninov et al. (2016).

Ustyuzhaninov et al.'s multi-scale network is a single convolutional layer with eight filter sizes
from 3 to 55 px (1024 feature maps in all) at the image's full resolution, followed by a ReLU. Filters of
55 x 55 at full resolution cost far too much on a CPU, so ``ShallowMultiScale`` keeps one layer of random
filters and a ReLU per scale but takes the larger scales on an average-pooled copy of the image (an image
pyramid): a k x k filter on the image pooled by f sees about k f pixels. Its five scales (3, 10, 28, 56 and
144 px) follow the receptive fields of VGG19's relu1_1 ... relu5_1 (3, 10, 24, 60, 132 px), 128 filters each.

The network answers VGG19's layer names, so the objective, ``stylize`` and the checks run on it unchanged:
a layer of VGG19 block b (downsampled 2^(b-1) times) is the scale pooled as much, relu4_2 being the
fourth scale like relu4_1.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..devices import resolve_device
from ..errors import NSTError
from ..layers import layer_info
from ..vgg import POOLINGS, Normalization, VGGFeatures, build_features, load_vgg19

NETWORKS = ("vgg19", "vgg19_random", "shallow")

#: The shallow network's scales: (pooling factor of the image, filter size).
SCALES = ((1, 3), (2, 5), (4, 7), (8, 7), (16, 9))


class ShallowMultiScale(nn.Module):
    """One layer of seeded random filters (He initialisation, no bias) and a ReLU at each of ``SCALES``.

    ``model(image, ["relu1_1", "relu4_2"])`` returns a dict like ``VGGFeatures``. ``pooling`` ("avg" or
    "max") is how the image is shrunk for the larger scales; like VGG19's, it must match the
    configuration's (``prepare.check_model``).
    """

    def __init__(self, filters=128, seed=0, pooling="max"):
        super().__init__()
        if pooling not in POOLINGS:
            raise NSTError(f"pooling must be 'max' or 'avg', not {pooling!r}")
        self.normalize = Normalization()
        self.convs = nn.ModuleList(nn.Conv2d(3, filters, k, padding=k // 2, bias=False) for _, k in SCALES)
        generator = torch.Generator().manual_seed(int(seed))
        for conv in self.convs:
            fan_in = conv.weight[0].numel()
            w = torch.randn(conv.weight.shape, generator=generator) * math.sqrt(2.0 / fan_in)
            conv.weight.data.copy_(w)
        self.filters, self.seed, self.pooling = filters, seed, pooling
        self.normalization, self.normalized = None, False  # never the paper's normalised network
        self.about = (
            f"a random shallow multi-scale network ({filters} filters at each of {len(SCALES)} scales, seed {seed})"
        )
        self.source = "random"  # no weights file: what ``stylize`` reports and protects
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def scale_of(name):
        """The scale (index into ``SCALES``) that answers VGG19 layer ``name``."""
        return min(int(math.log2(layer_info(name).downsample)), len(SCALES) - 1)

    def forward(self, image, layers):
        if isinstance(layers, str):
            layers = [layers]
        x = self.normalize(image)
        by_scale, out = {}, {}
        for name in layers:
            s = self.scale_of(name)
            if s not in by_scale:
                factor, _ = SCALES[s]
                pool = F.avg_pool2d if self.pooling == "avg" else F.max_pool2d
                shrunk = x if factor == 1 else pool(x, factor, factor)
                by_scale[s] = F.relu(self.convs[s](shrunk))
            out[name] = by_scale[s]
        return out


def random_vgg19(seed=0, pooling="max", device="cpu"):
    """VGG19's architecture with seeded random weights, drawn as torchvision initialises VGG19 (He's normal
    initialisation for the ReLUs, fan-out mode, biases 0), without building its classifier."""
    dev = resolve_device(device)
    features = build_features(pooling)
    generator = torch.Generator().manual_seed(int(seed))
    for module in features:
        if isinstance(module, nn.Conv2d):
            fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
            module.weight.data.copy_(torch.randn(module.weight.shape, generator=generator) * math.sqrt(2.0 / fan_out))
            module.bias.data.zero_()
    model = VGGFeatures(features.state_dict(), pooling=pooling, source="random").to(dev)
    model.about = f"VGG19 with random weights (He initialisation, seed {int(seed)})"
    if dev.type == "cpu":
        model.features.to(memory_format=torch.channels_last)
        model.channels_last = True
    return model


def load_network(name, weights=None, seed=0, pooling="max", device="cpu"):
    """One of ``NETWORKS`` by name: ``weights`` is for ``vgg19``; ``seed`` for the two random ones."""
    if name == "vgg19":
        return load_vgg19(weights, device=device, pooling=pooling, progress=False)
    if name == "vgg19_random":
        return random_vgg19(seed, pooling, device)
    if name == "shallow":
        return ShallowMultiScale(seed=seed, pooling=pooling).to(resolve_device(device))
    raise NSTError(f"unknown network {name!r}: use one of {', '.join(NETWORKS)}")
