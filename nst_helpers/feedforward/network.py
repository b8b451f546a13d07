"""The image transformation network (Johnson, Alahi and Fei-Fei 2016) and its files: building it,
saving and loading it (a plain dict of tensors and metadata, read with ``torch.load(...,
weights_only=True)``: no code is run when a file is loaded), and applying it to photos.

The network (``TransformNet``), as in their paper with the later fixes most implementations adopted:

    photo -> 9x9 conv (w)  -> 3x3 conv stride 2 (2w) -> 3x3 conv stride 2 (4w)     down: 1/4 size
          -> ``depth`` residual blocks (4w)                                         the painting's work
          -> upsample x2 + 3x3 conv (2w) -> upsample x2 + 3x3 conv (w) -> 9x9 conv (3) -> sigmoid

with instance normalisation after every convolution but the last (Ulyanov et al., 2016: the
statistics of each picture on its own, which removes the photo's contrast from what the network
has to undo), reflection padding (no dark frame), and nearest-neighbour upsampling followed by a
convolution instead of a transposed convolution (Odena et al., 2016: no checkerboard artefacts).
``width`` and ``depth`` set its size: ``NETWORK_SIZES["small"]`` trains on a laptop CPU in minutes,
``"full"`` has Johnson et al.'s widths and wants a GPU.
"""

import os
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import files
from ..checks import MAX_SIZE, check_number
from ..devices import resolve_device
from ..errors import NSTError
from ..images import image_files, load_image, save_image

#: (width, residual blocks): "small" (16 channels, Johnson et al.'s 5 blocks) paints a 256 px photo in
#: tens of milliseconds on a 2-core CPU and trains there in minutes; "full" is Johnson et al.'s network
#: (32 channels, 5 blocks), for a GPU.
NETWORK_SIZES = {"small": (16, 5), "full": (32, 5)}
#: What a saved network file says it is.
FILE_FORMAT = "nst_helpers.feedforward"
FILE_VERSION = 1
#: The largest network a file may describe, and the largest training batch.
MAX_WIDTH, MAX_DEPTH, MAX_BATCH = 128, 16, 64


# --------------------------------------------------------------------------------------------- network

def _conv(c_in, c_out, kernel, stride=1):
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(c_in, c_out, kernel, stride))


def _conv_norm_relu(c_in, c_out, kernel, stride=1):
    return nn.Sequential(_conv(c_in, c_out, kernel, stride), nn.InstanceNorm2d(c_out, affine=True), nn.ReLU(True))


class ResidualBlock(nn.Module):
    """x + (conv, norm, relu, conv, norm)(x): the block keeps the picture and learns a change to it."""

    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(_conv_norm_relu(channels, channels, 3), _conv(channels, channels, 3),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x):
        return x + self.body(x)


class TransformNet(nn.Module):
    """The image transformation network: 1x3xHxW (or Bx3xHxW) in [0, 1] -> the same size in [0, 1].

    Any size works: the input is reflection-padded to a multiple of 4 (two stride-2 convolutions)
    and the output cropped back.
    """

    def __init__(self, width=16, depth=5):
        super().__init__()
        self.width, self.depth = check_width(width), check_depth(depth)
        w = self.width
        self.down = nn.Sequential(_conv_norm_relu(3, w, 9), _conv_norm_relu(w, 2 * w, 3, 2),
                                  _conv_norm_relu(2 * w, 4 * w, 3, 2))
        self.res = nn.Sequential(*(ResidualBlock(4 * w) for _ in range(self.depth)))
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv_norm_relu(4 * w, 2 * w, 3),
                                nn.Upsample(scale_factor=2, mode="nearest"), _conv_norm_relu(2 * w, w, 3),
                                _conv(w, 3, 9))

    def forward(self, x):
        h, w = x.shape[-2:]
        pad_h, pad_w = -h % 4, -w % 4
        if pad_h or pad_w:
            mode = "reflect" if h > pad_h and w > pad_w else "replicate"
            x = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        y = torch.sigmoid(self.up(self.res(self.down(x))))
        return y[..., :h, :w]

    def describe(self):
        n = sum(p.numel() for p in self.parameters())
        return f"TransformNet(width={self.width}, depth={self.depth}): {n:,} parameters"


def check_width(width):
    """A network's width (channels of its first layer), checked."""
    return int(check_number(width, "network width", minimum=1, maximum=MAX_WIDTH, integer=True))


def check_depth(depth):
    """A network's depth (residual blocks), checked."""
    return int(check_number(depth, "network depth", minimum=0, maximum=MAX_DEPTH, integer=True))


def network_shape(size="small", width=None, depth=None):
    """(width, depth) of a named size (``NETWORK_SIZES``) with ``width``/``depth`` overriding it, checked."""
    if not isinstance(size, str) or size not in NETWORK_SIZES:
        raise NSTError(f"unknown network size {size!r}: use one of {', '.join(NETWORK_SIZES)} (or give width and "
                       f"depth)")
    w, d = NETWORK_SIZES[size]
    return check_width(w if width is None else width), check_depth(d if depth is None else depth)


def make_network(size="small", width=None, depth=None):
    """A new ``TransformNet``: a named size (``NETWORK_SIZES``), with ``width``/``depth`` overriding it."""
    return TransformNet(*network_shape(size, width, depth))


# ------------------------------------------------------------------------------------- files

def save_network(network, path, meta=None, overwrite=False):
    """Write a network and its metadata atomically as a ``weights_only``-loadable file; returns the path.

    Without ``overwrite`` an existing file is never replaced (``NSTError``)."""
    if not isinstance(network, TransformNet):
        raise NSTError(f"save_network saves a TransformNet, not {type(network).__name__}")
    path = files.check_output(path, overwrite=overwrite, what="network file")
    meta = dict(meta or {})
    meta.update(format=FILE_FORMAT, version=FILE_VERSION, width=network.width, depth=network.depth)
    data = {"meta": meta, "state_dict": {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}}
    files.atomic_write(path, lambda fh: torch.save(data, fh), replace=overwrite)
    return path


def read_network_file(path):
    """The (meta, state dict) of a saved network, checked; every problem is one ``NSTError`` line."""
    path = files.as_path(path, "network file")
    if not files.exists(path, "network file"):
        raise NSTError(f"network file {str(path)[:80]!r} not found: train one with 'python -m nst_helpers train'")
    if files.is_dir(path, "network file"):
        raise NSTError(f"network file {str(path)[:80]!r} is a folder: give the .pt file train wrote")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:
        raise NSTError(f"{str(path)[:80]!r} is too large to be a style network: give the .pt file train wrote") from None
    except Exception as err:  # pickle, zip and format errors all mean "not a network file"
        first = " ".join(str(err).split())[:100] or type(err).__name__
        raise NSTError(f"{str(path)[:80]!r} is not a style network file ({first}): give the .pt file train "
                       f"wrote") from None
    name = repr(str(path)[:80])
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict) \
            or data["meta"].get("format") != FILE_FORMAT:
        hint = " (it looks like VGG19 weights: give those with --weights)" if isinstance(data, dict) and any(
            str(k).endswith("0.weight") for k in data) else ""
        raise NSTError(f"{name} is not a style network written by nst_helpers{hint}: train one with "
                       f"'python -m nst_helpers train'")
    meta = data["meta"]
    if meta.get("version") != FILE_VERSION:
        raise NSTError(f"{name} is a style network of file version {meta.get('version')!r}; this nst_helpers reads "
                       f"version {FILE_VERSION}: update nst_helpers or train the network again")
    state = data.get("state_dict")
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise NSTError(f"{name} has no network weights in it: the file is damaged; train the network again")
    return meta, state


def load_network(path, device="cpu"):
    """A saved network (``save_network``, ``train_network(checkpoint=...)``) in eval mode, with its
    metadata as ``network.meta``."""
    meta, state = read_network_file(path)
    name = repr(str(path)[:80])
    try:
        net = TransformNet(meta.get("width"), meta.get("depth"))
        net.load_state_dict({k: v.float() for k, v in state.items()})
    except (NSTError, RuntimeError, TypeError) as err:
        first = " ".join(str(err).split())[:100]
        raise NSTError(f"{name} does not match the network it describes ({first}): the file is damaged; train "
                       f"the network again") from None
    if not all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()):
        raise NSTError(f"{name} holds NaN or infinite weights: the training diverged; train again with a lower "
                       f"learning rate")
    net.meta = meta
    return net.to(resolve_device(device)).eval()


def describe_network(network):
    """One line about a network: its size, the style, and how long it was trained."""
    meta = getattr(network, "meta", {}) or {}
    text = network.describe()
    if meta.get("style"):
        text += f", style {meta['style']!r}"
    if meta.get("steps"):
        seconds = meta.get("seconds")
        took = f" ({seconds:.0f} s)" if isinstance(seconds, (int, float)) else ""
        text += f", {meta['steps']} steps on {meta.get('crop')} px crops{took}"
    if meta.get("style_size"):
        text += f", strokes sized for {meta['style_size']} px pictures"
    return text


# --------------------------------------------------------------------------------------- applying

def apply_network(network, image, size=None, device=None):
    """Paint ``image`` (path, bundled name, PIL image or tensor) with a trained network, in one
    forward pass; returns a 1x3xHxW tensor in [0, 1] on the network's device. ``size``: the long side
    (or HxW) to work at; default the image's own size (at most ``MAX_SIZE``)."""
    if not isinstance(network, TransformNet):
        raise NSTError(f"expected a TransformNet (from train_network or load_network), not {type(network).__name__}")
    dev = next(network.parameters()).device if device is None else resolve_device(device)
    x = load_image(image, size=size, device=dev, what="photo")
    if max(x.shape[-2:]) > MAX_SIZE:
        x = load_image(x, size=MAX_SIZE, device=dev)
    network.eval()
    with torch.inference_mode():
        return network.to(dev)(x).clone()


def output_path_for(photo, out_dir, suffix=".png"):
    return Path(out_dir) / (Path(photo).stem + suffix)


def apply_to_folder(network, photos, out_dir, size=None, overwrite=False, suffix=".png", progress=True, protect=()):
    """Paint every photo in a folder (or a list of files) into ``out_dir`` as NAME.png; returns the paths.

    Every output name is checked before the first picture is painted: an existing file (without
    ``overwrite``) or an output that is one of the photos stops the run before anything is written.
    """
    paths = image_files(photos, "photos folder") if isinstance(photos, (str, os.PathLike)) \
        else [files.as_path(p, "photo") for p in photos]
    out_dir = files.as_path(out_dir, "output folder")
    if files.exists(out_dir, "output folder") and not files.is_dir(out_dir, "output folder"):
        raise NSTError(f"output folder {str(out_dir)[:80]!r} is a file: give a folder name")
    if not files.exists(out_dir, "output folder"):
        if not files.is_dir(out_dir.parent, "output folder"):
            raise NSTError(f"the folder {str(out_dir.parent)[:80]!r} does not exist: create it or choose another "
                           f"output folder")
        out_dir.mkdir()
    outputs = [output_path_for(p, out_dir, suffix) for p in paths]
    seen = {}
    for photo, out in zip(paths, outputs):
        if out in seen:
            raise NSTError(f"{seen[out].name!r} and {photo.name!r} would both be saved as {out.name!r}: rename one")
        seen[out] = photo
        files.check_output(out, [*paths, *protect], overwrite=overwrite, what="output")
    written = []
    for photo, out in tqdm(list(zip(paths, outputs)), desc="painting", disable=not progress):
        picture = apply_network(network, photo, size=size)
        written.append(save_image(picture, out, overwrite=overwrite, protect=[*paths, *protect]))
    return written
