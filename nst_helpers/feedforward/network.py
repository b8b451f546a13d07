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

import math
import numbers
import os
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import files
from ..checks import MAX_SIZE, MAX_WEIGHT, MIN_SIZE, check_number, check_size
from ..devices import resolve_device
from ..errors import NSTError, memory_errors
from ..images import check_finite, check_target, check_tensor_image, image_files, load_image, probe_image, save_image
from ..memory import check_bytes

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
        self.body = nn.Sequential(
            _conv_norm_relu(channels, channels, 3),
            _conv(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

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
        self.down = nn.Sequential(
            _conv_norm_relu(3, w, 9), _conv_norm_relu(w, 2 * w, 3, 2), _conv_norm_relu(2 * w, 4 * w, 3, 2)
        )
        self.res = nn.Sequential(*(ResidualBlock(4 * w) for _ in range(self.depth)))
        self.up = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            _conv_norm_relu(4 * w, 2 * w, 3),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _conv_norm_relu(2 * w, w, 3),
            _conv(w, 3, 9),
        )

    def forward(self, x):
        h, w = x.shape[-2:]
        # to a multiple of 4, and at least 8 px: the 9x9 convolution's reflection padding needs 5
        pad_h, pad_w = max(-h % 4, 8 - h), max(-w % 4, 8 - w)
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
        raise NSTError(
            f"unknown network size {size!r}: use one of {', '.join(NETWORK_SIZES)} (or give width and depth)"
        )
    w, d = NETWORK_SIZES[size]
    return check_width(w if width is None else width), check_depth(d if depth is None else depth)


def make_network(size="small", width=None, depth=None):
    """A new ``TransformNet``: a named size (``NETWORK_SIZES``), with ``width``/``depth`` overriding it."""
    return TransformNet(*network_shape(size, width, depth))


# ------------------------------------------------------------------------------------- files


def save_network(network, path, meta=None, overwrite=False, protect=()):
    """Write a network and its metadata atomically as a ``weights_only``-loadable file; returns the path.

    Without ``overwrite`` an existing file is never replaced (``NSTError``); a file in ``protect`` (the
    painting, photos and weights it was trained from) never is."""
    if not isinstance(network, TransformNet):
        raise NSTError(f"save_network saves a TransformNet, not {type(network).__name__}")
    path = files.check_output(path, protect, overwrite=overwrite, what="network file")
    meta = dict(meta or {})
    meta.update(format=FILE_FORMAT, version=FILE_VERSION, width=network.width, depth=network.depth)
    data = {"meta": meta, "state_dict": {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}}
    files.atomic_write(path, lambda fh: torch.save(data, fh), replace=overwrite)
    return path


def read_network_file(path):
    """The (meta, state dict) of a saved network, checked; every problem is one ``NSTError`` line."""
    from ..weights import load_torch_file

    path = files.input_file(
        path,
        "network file",
        missing="train one with 'python -m nst_helpers train'",
        folder="give the .pt file train wrote",
    )
    data = load_torch_file(path, "style network file", "give the .pt file train wrote")
    name = repr(str(path)[:80])
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("meta"), dict)
        or data["meta"].get("format") != FILE_FORMAT
    ):
        hint = (
            " (it looks like VGG19 weights: give those with --weights)"
            if isinstance(data, dict) and any(str(k).endswith("0.weight") for k in data)
            else ""
        )
        raise NSTError(
            f"{name} is not a style network written by nst_helpers{hint}: train one with 'python -m nst_helpers train'"
        )
    meta = data["meta"]
    version = meta.get("version")
    if isinstance(version, bool) or version != FILE_VERSION:
        shown = repr(version)[:40]
        raise NSTError(
            f"{name} is a style network of file version {shown}; this nst_helpers reads "
            f"version {FILE_VERSION}: update nst_helpers or train the network again"
        )
    state = data.get("state_dict")
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items())
    ):
        raise NSTError(f"{name} has no network weights in it: the file is damaged; train the network again")
    check_meta(meta, name)
    return meta, state


def _whole(low, high):
    def ok(value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool) and low <= value <= high

    return ok, f"a whole number from {low} to {high}"


def _real(low, high):
    def ok(value):
        return (
            isinstance(value, numbers.Real)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and low <= value <= high
        )

    return ok, f"a number from {low:g} to {high:g}"


def _text(value):
    return isinstance(value, str) and len(value) <= 1000


#: The metadata fields the package reads, and what each must be (width and depth must be there; the rest
#: may be missing, as in a file ``save_network`` wrote without ``meta``).
META_FIELDS = {
    "width": _whole(1, MAX_WIDTH),
    "depth": _whole(0, MAX_DEPTH),
    "steps": _whole(0, 10**9),
    "seconds": _real(0, 1e9),
    "crop": _whole(MIN_SIZE, MAX_SIZE),
    "style_size": _whole(MIN_SIZE, MAX_SIZE),
    "batch_size": _whole(1, MAX_BATCH),
    "lr": _real(0, 1e6),
    "photos": _whole(0, 10**9),
    "processes": _whole(1, 10**6),
    "adversarial_weight": _real(0, MAX_WEIGHT),
    "temporal_weight": _real(0, MAX_WEIGHT),
    "style": (_text, "a text"),
    "vgg_weights": (_text, "a text"),
    "config": (lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v), "a dict of settings"),
}
REQUIRED_META = ("width", "depth")


def check_meta(meta, name="network file"):
    """An ``NSTError`` unless every metadata field the package reads has its type and range (``META_FIELDS``):
    a file whose ``steps`` is text or whose ``width`` is a float string is damaged, and is refused when it
    is loaded rather than failing later."""
    for key, (ok, expected) in META_FIELDS.items():
        if key not in meta:
            if key in REQUIRED_META:
                raise NSTError(f"{name} has no {key!r} in its metadata: the file is damaged; train the network again")
            continue
        value = meta[key]
        if not ok(value):
            shown = repr(value) if isinstance(value, (str, numbers.Number, type(None))) else type(value).__name__
            raise NSTError(
                f"{name} has a damaged metadata field {key!r} ({shown[:40]}; expected {expected}): "
                f"train the network again"
            )
    return meta


@memory_errors("loading the network", "close other programs or use a smaller network")
def load_network(path, device="cpu"):
    """A saved network (``save_network``, ``train_network(checkpoint=...)``) in eval mode, with its
    metadata as ``network.meta`` and its file as ``network.path`` (which the API's writers never replace).

    The file is checked before it is used: its metadata (``check_meta``), its weights (finite, matching
    the size it states) and one pass over a small test picture, whose result must be finite (a network
    with absurd weights would paint NaN, saved as black)."""
    meta, state = read_network_file(path)
    name = repr(str(path)[:80])
    try:
        net = TransformNet(meta["width"], meta["depth"])
        net.load_state_dict({k: v.float() for k, v in state.items()})
    except (NSTError, RuntimeError, TypeError, ValueError) as err:
        first = " ".join(str(err).split())[:100]
        raise NSTError(
            f"{name} does not match the network it describes ({first}): the file is damaged; train the network again"
        ) from None
    if not all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()):
        raise NSTError(
            f"{name} holds NaN or infinite weights: the training diverged; train again with a lower learning rate"
        )
    net = net.to(resolve_device(device)).eval()
    with torch.inference_mode():
        ramp = torch.linspace(0, 1, 32 * 32).view(1, 1, 32, 32)
        test = net(torch.cat([ramp, ramp.flip(-1), ramp.transpose(-1, -2)], 1).to(next(net.parameters()).device))
    if not bool(torch.isfinite(test).all()):
        raise NSTError(
            f"{name} paints NaN or infinite values: its weights are unusable (the training diverged); "
            f"train again with a lower learning rate"
        )
    net.meta = meta
    net.path = files.as_path(path, "network file")
    return net


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
    extras = [f"{k.split('_')[0]} weight {meta[k]:g}" for k in ("adversarial_weight", "temporal_weight") if meta.get(k)]
    if extras:
        text += ", " + " and ".join(extras)
    return text


# --------------------------------------------------------------------------------------- applying

#: Bytes per pixel of a network's pass, per unit of its width, and for the pictures around it (input,
#: output, their copies): measured peaks of ``TransformNet(16)`` and ``(32)`` at 512 and 1024 px on a CPU.
APPLY_BYTES_PER_WIDTH, APPLY_BYTES_PER_PIXEL = 30, 64


def apply_bytes(network, height, width):
    """An estimate of the memory painting one ``height`` x ``width`` picture with ``network`` needs."""
    return height * width * (APPLY_BYTES_PER_WIDTH * getattr(network, "width", 32) + APPLY_BYTES_PER_PIXEL)


def _check_network(network):
    if not isinstance(network, TransformNet):
        raise NSTError(f"expected a TransformNet (from train_network or load_network), not {type(network).__name__}")


def plan_photos(network, photos, size=None, device=None, what="photo"):
    """Check every photo before the first is painted and return the (h, w) each will be painted at.

    Each file is read to its end (``images.probe_image``: missing, damaged, truncated, tiny files and
    decompression bombs are refused), the size it will be painted at is worked out (``size``, or its own
    size up to ``MAX_SIZE``) and must be at least ``MIN_SIZE`` px on a side, and the memory the largest
    one needs must be free. Tensors and PIL images are checked the same way."""
    from ..images import decode_bytes

    _check_network(network)
    size = check_size(size)
    dev = next(network.parameters()).device if device is None else resolve_device(device)
    shapes, need = [], 0
    for photo in photos:
        label = f"{what} {str(photo)[:80]!r}" if isinstance(photo, (str, os.PathLike)) else what
        if torch.is_tensor(photo):
            info = None
            height, width = check_tensor_image(photo, what).shape[-2:]
        else:
            info = probe_image(photo, what)
            width, height = info.width, info.height
        wanted = size if size is not None or max(width, height) <= MAX_SIZE else MAX_SIZE
        h, w = check_target(width, height, wanted, label, option="size (--size)")
        shapes.append((h, w))
        need = max(need, apply_bytes(network, h, w) + (0 if info is None else decode_bytes(info, (h, w))))
    if shapes:
        h, w = max(shapes, key=lambda s: s[0] * s[1])
        check_bytes(
            need,
            dev,
            f"painting {w}x{h} px with this network",
            "give a smaller --size (size=...), or downscale the photos",
        )
    return shapes


@memory_errors("painting a photo", "give a smaller --size (size=...)")
def apply_network(network, image, size=None, device=None):
    """Paint ``image`` (path, bundled name, PIL image or tensor) with a trained network, in one
    forward pass; returns a 1x3xHxW tensor in [0, 1] on the network's device. ``size``: the long side
    (or HxW) to work at; default the image's own size, at most ``MAX_SIZE`` (a larger picture is
    decoded at a reduced scale). The photo is checked first (``plan_photos``: size, memory), and a
    result with NaN or infinite values is an ``NSTError`` (the network's weights are unusable)."""
    _check_network(network)
    dev = next(network.parameters()).device if device is None else resolve_device(device)
    plan_photos(network, [image], size, dev)
    x = load_image(image, size=size, device=dev, what="photo", max_side=MAX_SIZE)
    if max(x.shape[-2:]) > MAX_SIZE:
        x = load_image(x, size=MAX_SIZE, device=dev)
    network.eval()
    with torch.inference_mode():
        picture = network.to(dev)(x).clone()
    return check_finite(picture, "the painted picture")


def output_path_for(photo, out_dir, suffix=".png"):
    return Path(out_dir) / (Path(photo).stem + suffix)


@memory_errors("painting the photos", "give a smaller --size (size=...)")
def apply_to_folder(network, photos, out_dir, size=None, overwrite=False, suffix=".png", progress=True, protect=()):
    """Paint every photo in a folder (or a list of files) into ``out_dir`` as NAME.png; returns the paths.

    Everything is checked before the first picture is painted, and nothing is created before that (not
    even ``out_dir``): every output name (an existing file without ``overwrite``, two photos with one
    name, an output that is a photo, the network's file or a file in ``protect``), every photo (read to
    its end, its size and the memory it needs: ``plan_photos``)."""
    _check_network(network)
    paths = (
        image_files(photos, "photos folder")
        if isinstance(photos, (str, os.PathLike))
        else [files.as_path(p, "photo") for p in photos]
    )
    protect = [*paths, *protect, getattr(network, "path", None)]
    out_dir = files.as_path(out_dir, "output folder")
    files.check_not_input(out_dir, protect, "output folder")
    if files.exists(out_dir, "output folder") and not files.is_dir(out_dir, "output folder"):
        raise NSTError(f"output folder {str(out_dir)[:80]!r} is a file: give a folder name")
    new_folder = not files.exists(out_dir, "output folder")
    if new_folder:
        if not files.is_dir(out_dir.parent, "output folder"):
            raise NSTError(
                f"the folder {str(out_dir.parent)[:80]!r} does not exist: create it or choose another output folder"
            )
        files.check_output(out_dir, protect, what="output folder")  # a folder can be made there
    outputs = [output_path_for(p, out_dir, suffix) for p in paths]
    from ..images import image_format

    image_format(outputs[0] if outputs else out_dir / f"x{suffix}")
    seen = {}
    for photo, out in zip(paths, outputs):
        if out in seen:
            raise NSTError(f"{seen[out].name!r} and {photo.name!r} would both be saved as {out.name!r}: rename one")
        seen[out] = photo
        if new_folder:
            files.check_not_input(out, protect, "output")
        else:
            files.check_output(out, protect, overwrite=overwrite, what="output")
    plan_photos(network, paths, size)
    if new_folder:
        try:
            out_dir.mkdir()
        except OSError as err:
            raise NSTError(
                f"cannot create output folder {str(out_dir)[:80]!r} ({err.strerror}): choose another name"
            ) from None
    written = []
    for photo, out in tqdm(list(zip(paths, outputs)), desc="painting", disable=not progress):
        picture = apply_network(network, photo, size=size)
        written.append(save_image(picture, out, overwrite=overwrite, protect=protect))
    return written
