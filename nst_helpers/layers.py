"""The names of VGG19's layers, in both conventions the course uses.

torchvision's ``vgg19().features`` is a flat ``nn.Sequential`` of 37 modules. Two naming schemes
point into it:

* the paper's (Gatys et al.): ``conv{block}_{i}``, ``relu{block}_{i}``, ``pool{block}``, for example
  ``conv4_2`` is the second convolution of the fourth block;
* the PyTorch tutorial's, which the seed uses: convolutions are counted in order over the whole
  network, ``conv_1`` ... ``conv_16``, and the ReLU and pooling layers take the number of the
  convolution before them (``relu_4``, ``pool_2``, ``pool_4``, ``pool_8``, ``pool_12``, ``pool_16``).

So the seed's content layer ``conv_4`` is the paper's ``conv2_2`` and its style layers
``conv_1`` ... ``conv_5`` are conv1_1, conv1_2, conv2_1, conv2_2 and conv3_1.
"""

from collections import namedtuple

from .errors import NSTError

#: Channels of each convolution, "M" for a 2x2 pooling (torchvision's configuration "E").
VGG19_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")

Layer = namedtuple("Layer", "index paper tutorial kind channels downsample in_channels")
Layer.__doc__ = """One module of ``vgg19().features``.

index: position in ``features``; paper / tutorial: its two names; kind: conv, relu or pool;
channels: channels of its output; downsample: how many times smaller than the input it is (1..32);
in_channels: channels of its input.
"""


def _build_table():
    rows, index, block, conv_in_block, conv_count, channels, down = [], 0, 1, 0, 0, 3, 1
    for item in VGG19_CONFIG:
        if item == "M":
            down *= 2
            rows.append(Layer(index, f"pool{block}", f"pool_{conv_count}", "pool", channels, down, channels))
            index, block, conv_in_block = index + 1, block + 1, 0
            continue
        conv_in_block += 1
        conv_count += 1
        rows.append(Layer(index, f"conv{block}_{conv_in_block}", f"conv_{conv_count}", "conv", item, down, channels))
        channels = item
        rows.append(Layer(index + 1, f"relu{block}_{conv_in_block}", f"relu_{conv_count}", "relu", item, down, item))
        index += 2
    return tuple(rows)


#: Every layer of ``vgg19().features``, in order.
LAYERS = _build_table()
_BY_NAME = {name: row for row in LAYERS for name in (row.paper, row.tutorial)}


def layer_info(name):
    """The ``Layer`` row for a name in either convention (``conv4_2`` or ``conv_10``)."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise NSTError(
            f"unknown VGG19 layer {name!r}: use the paper's names (conv1_1, relu4_2, pool5, ...) "
            f"or the tutorial's (conv_1 ... conv_16, relu_N, pool_N); see nst.layer_table()"
        ) from None


def layer_index(name):
    """Position of a layer in ``vgg19().features``."""
    return layer_info(name).index


def paper_name(name):
    """The paper's name of a layer given in either convention (``conv_4`` -> ``conv2_2``)."""
    return layer_info(name).paper


def tutorial_name(name):
    """The tutorial's name of a layer given in either convention (``conv2_2`` -> ``conv_4``)."""
    return layer_info(name).tutorial


def receptive_field(name):
    """How many pixels across the patch of the image that one position of layer ``name`` sees.

    Going up the network, a 3x3 convolution widens the patch by 2 positions of its input grid and a
    2x2 pooling by 1, each position being ``downsample`` pixels wide: conv1_1 sees 3 px, conv1_2 5,
    pool1 6, conv2_1 10, ... conv4_2 84, conv5_1 156 (more than a 128 px image)."""
    target = layer_info(name)
    size = 1
    for row in LAYERS[: target.index + 1]:
        step = row.downsample // (2 if row.kind == "pool" else 1)  # the input grid's spacing in pixels
        size += {"conv": 2, "pool": 1, "relu": 0}[row.kind] * step
    return size


def min_image_side(names):
    """The smallest image side for which every layer in ``names`` still has at least 1x1 features."""
    return max((layer_info(n).downsample for n in names), default=1)


def check_image_size(image, layers, what="the image"):
    """An ``NSTError`` unless ``image`` (…xHxW) is large enough for every layer in ``layers``."""
    need = min_image_side(layers)
    h, w = image.shape[-2:]
    if min(h, w) < need:
        deepest = max(layers, key=lambda n: layer_info(n).downsample)
        raise NSTError(
            f"{what} is {w}x{h} px, too small for layer {deepest}, which needs at least {need} px "
            f"on each side: use a larger size"
        )


def layer_table(kinds=("conv", "relu", "pool")):
    """Rows (index, paper name, tutorial name, channels, downsample) for printing or a DataFrame."""
    return [(r.index, r.paper, r.tutorial, r.channels, r.downsample) for r in LAYERS if r.kind in kinds]
