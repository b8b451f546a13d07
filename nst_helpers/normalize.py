"""The paper's network: VGG19 normalised so that every filter's mean activation is 1.

Gatys et al. (CVPR 2016, section 2) "normalized the network by scaling the weights such that the mean
activation of each convolutional filter over images and positions is equal to one". VGG19's features
are convolutions, ReLUs and poolings, so one positive factor per channel passes through unchanged:

* a convolution's filter i (its weights and bias) times c > 0 gives output channel i times c;
* ReLU(c z) = c ReLU(z) for c > 0;
* max and average pooling work on each channel alone: max(c a, c b) = c max(a, b), and an average
  of c a and c b is c times the average;
* the next convolution's weights for input channel i divided by c undo the factor exactly.

So dividing filter i of every convolution by m_i, its mean activation (after the ReLU, over the
calibration images and all positions), and multiplying the next convolution's input channel i by m_i,
gives a network whose activations are the original's divided by those means, layer by layer: the same
network up to one factor per channel, with every mean 1. All the means come from one forward pass of the
original network, because dividing the filters below a layer does not change what that layer computes.

Why it matters: weights carry an arbitrary factor per channel (two copies of a network that differ only
by such factors classify every image alike), but the style loss does not ignore them: a channel ten
times larger weighs a hundred times more in a Gram matrix. Normalising removes the factors: weights
rescaled by any positive per-channel factors give the same normalised network, so the same picture.

Choices made here (the paper does not say):

* Calibration images: the bundled photos (``nst_helpers/examples/photos``), each at a long side of
  ``CALIBRATION_SIZE`` = 224 px, the size of the crops VGG19 was trained on, so the filters see
  objects at the scale they learned. One pass over them takes seconds on a CPU, once: the means are
  cached (below). Any other set of images can be given.
* The means are measured with max pooling, the network as it was trained, whatever pooling the model
  uses: the factors commute with both, so an average-pooling model gets the same factors.
* Filters that (almost) never fire on the calibration images. One that never fires has mean 0 and cannot
  be brought to 1; one that fires at a handful of positions, weakly, has a mean of 1e-7 and would be
  multiplied by ten million, so that on a painting, where it may fire properly, it alone outweighs the
  whole layer (measured with random weights and with weights fine-tuned for another task: style losses
  of 1e13 and more from white noise, and a loss that overflows). So each filter is divided by its mean
  activation, but never by less than ``MIN_MEAN`` = 1/100 of the root mean square of its input to the
  ReLU over the same positions: a filter whose mean is below that fires too rarely to be measured, and is
  scaled by the size of its input instead. Both numbers move with the filter's scale, so the normalised
  network still does not depend on the factors the weights came with; a filter's normalised activation
  is at most 100 times its input's size. Such filters are counted (``model.normalization["rare"]``):
  check how many your weights have.
* Cache: the means (a few thousand numbers) are kept in memory, keyed by a hash of the weights
  themselves and of the calibration set, and, for weights read from a file or torchvision's cache, on
  disk beside torchvision's cache (``$TORCH_HOME/hub/checkpoints/vgg19-means-*.pt``, 150 KB), so the
  pass runs once per weights file and calibration set.
"""

import copy
import hashlib
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from . import files
from .checks import check_size
from .errors import NSTError
from .images import EXAMPLES_DIR, image_files, load_image, source_path
from .layers import LAYERS
from .weights import RANDOM, cache_dir

#: Long side, in px, of each calibration image (VGG19 was trained on 224 x 224 crops).
CALIBRATION_SIZE = 224
#: The bundled calibration photos (also the real-time networks' training photos).
CALIBRATION_DIR = EXAMPLES_DIR / "photos"
#: A filter is divided by its mean activation, but never by less than this fraction of the root mean square of
#: its input to the ReLU (see the module docstring).
MIN_MEAN = 0.01
#: Changes whenever what a cached file holds would change.
CACHE_VERSION = 1

#: The convolutions, in order: (index in ``features``, index of the next convolution or None).
_CONVS = [r.index for r in LAYERS if r.kind == "conv"]
_NEXT = dict(zip(_CONVS, _CONVS[1:] + [None]))

_memory = {}  # (weights hash, calibration key) -> statistics; a few entries
_MEMORY_ENTRIES = 4


class Calibration:
    """A calibration set: the images (loaded only when a pass is needed), a key and a description."""

    def __init__(self, calibration=None, size=CALIBRATION_SIZE):
        self.size = check_size(size, "calibration size")
        if isinstance(self.size, tuple):
            raise NSTError("the calibration size is one number, the long side of each image in px, like 224")
        size = self.size
        if calibration is None:
            self.sources = image_files(CALIBRATION_DIR, "bundled photos folder")
            self.description = f"the {len(self.sources)} bundled photos at {size} px"
        elif isinstance(calibration, (str, Path)) and files.is_dir(
            files.as_path(calibration, "calibration set"), "calibration set"
        ):
            self.sources = image_files(calibration, "calibration folder")
            self.description = f"{len(self.sources)} images from {Path(calibration).name}/ at {size} px"
        elif isinstance(calibration, (list, tuple)):
            if not calibration:
                raise NSTError("the calibration set is empty: give at least one image (or None for the bundled photos)")
            self.sources = list(calibration)
            self.description = f"{len(self.sources)} given image{'s' * (len(self.sources) > 1)} at {size} px"
        else:
            raise NSTError(
                f"calibration must be None (the bundled photos), a folder or a list of images, not "
                f"{type(calibration).__name__}"
            )
        self._images = None
        self.key = self._key()

    def _key(self):
        """sha256 of the size and of each image: a file's bytes, or the pixels of a picture given in memory."""
        h = hashlib.sha256(f"calibration v{CACHE_VERSION} size {self.size}".encode())
        for source in self.sources:
            if isinstance(source, (str, Path)):
                path = source_path(source, "calibration image")
                if files.exists(path, "calibration image") and path.is_file():
                    try:
                        h.update(path.read_bytes())
                        continue
                    except OSError:
                        pass  # loading it below says what is wrong
            h.update(_image_bytes(load_image(source, size=self.size, what="calibration image")))
        return h.hexdigest()

    def images(self):
        """The calibration images as 1x3xHxW tensors in [0, 1] (loaded once)."""
        if self._images is None:
            self._images = [load_image(s, size=self.size, what="calibration image") for s in self.sources]
        return self._images


def _image_bytes(t):
    return (t.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).contiguous().numpy().tobytes()


def weights_hash(model):
    """sha256 of a model's convolution weights and biases: what the network computes, whatever file,
    device or memory layout it came from."""
    h = hashlib.sha256()
    state = model.features.state_dict()
    for key in sorted(state, key=lambda k: (int(k.split(".")[0]), k)):
        t = state[key].detach().cpu().contiguous()
        h.update(f"{key} {t.dtype}".encode())
        h.update(memoryview(t.numpy()).cast("B"))
    return h.hexdigest()


def _check_model(model):
    features = getattr(model, "features", None)
    if (
        not isinstance(features, nn.Sequential)
        or len(features) != len(LAYERS)
        or not all(isinstance(features[i], nn.Conv2d) for i in _CONVS)
    ):
        raise NSTError(f"normalize_vgg19 takes a VGG19 from nst.load_vgg19, not {type(model).__name__}")


def measure(model, calibration):
    """Per convolution (by index in ``features``): the mean of its ReLU's output over every position of
    the calibration images, how often it fired, and the root mean square of its input (float64, CPU).
    One forward pass with max pooling (the network as trained); the model is not changed."""
    stats = {i: {"sum": 0.0, "fired": 0.0, "square": 0.0} for i in _CONVS}
    counts = dict.fromkeys(_CONVS, 0)
    device = next(model.parameters()).device
    images = calibration.images()
    groups = {}
    for img in images:  # images of one shape go through together
        groups.setdefault(tuple(img.shape[-2:]), []).append(img)
    with torch.no_grad():
        for group in groups.values():
            for start in range(0, len(group), 4):
                x = model.normalize(torch.cat(group[start : start + 4]).to(device))
                if getattr(model, "channels_last", False):
                    x = x.contiguous(memory_format=torch.channels_last)
                for index, module in enumerate(model.features):
                    if isinstance(module, nn.Conv2d):
                        pre, s = module(x.to(module.weight.dtype)), stats[index]
                        x = F.relu(pre)
                        # sums over one image's positions in the activations' own dtype (fast), then over
                        # images and batches in float64
                        (before, axis), (after, _) = _positions(pre), _positions(x)
                        s["sum"] = s["sum"] + _total(after.sum(axis))
                        s["fired"] = s["fired"] + _total(torch.sign(after).sum(axis))  # exact: < 2^24 each
                        s["square"] = s["square"] + _total(before.square().sum(axis))
                        counts[index] += x.shape[0] * x.shape[2] * x.shape[3]
                    elif not isinstance(module, nn.ReLU):  # a pooling: max, whatever the model uses
                        x = F.max_pool2d(x, 2, 2)
    return {
        i: {"mean": s["sum"] / counts[i], "fired": s["fired"] / counts[i], "rms": (s["square"] / counts[i]).sqrt()}
        for i, s in stats.items()
    }


def _positions(x):
    """Activations B x C x H x W as a view with one axis of positions: (B, H*W, C) for channels-last ones, where
    summing over positions is then fast, else (B, C, H*W); and that axis."""
    b, c = x.shape[:2]
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return x.permute(0, 2, 3, 1).reshape(b, -1, c), 1
    return x.reshape(b, c, -1), 2


def _total(per_image):
    """Per-image, per-channel sums (B x C) added over the images in float64, on the CPU."""
    return per_image.cpu().double().sum(0)


def _disk_path(weights_key, calibration_key):
    return cache_dir() / f"vgg19-means-{weights_key[:16]}-{calibration_key[:16]}.pt"


def _read_disk(path, weights_key, calibration_key):
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if (
            saved.get("version") == CACHE_VERSION
            and saved.get("weights") == weights_key
            and saved.get("calibration") == calibration_key
        ):
            return {int(i): v for i, v in saved["stats"].items()}
    except Exception:  # an unreadable or foreign file is measured again and replaced
        pass
    return None


def _write_disk(path, weights_key, calibration_key, stats):
    data = {
        "version": CACHE_VERSION,
        "weights": weights_key,
        "calibration": calibration_key,
        "stats": {str(i): v for i, v in stats.items()},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.atomic_write(path, lambda fh: torch.save(data, fh))
    except (OSError, NSTError) as err:
        print(f"nst_helpers: could not write the normalisation cache {path} ({err})", file=sys.stderr)


def statistics(model, calibration=None, progress=False):
    """``measure``'s statistics for ``model`` and a calibration set, from the cache when it holds them.
    Returns (statistics, Calibration, where: "measured", "memory" or "disk")."""
    _check_model(model)
    cal = calibration if isinstance(calibration, Calibration) else Calibration(calibration)
    weights_key = weights_hash(model)
    key = (weights_key, cal.key)
    if key in _memory:
        return _memory[key], cal, "memory"
    on_disk = getattr(model, "source", RANDOM) != RANDOM
    path = _disk_path(*key) if on_disk else None
    stats = _read_disk(path, *key) if on_disk and path.is_file() else None
    where = "disk"
    if stats is None:
        if progress:
            print(
                f"nst_helpers: normalising VGG19 as in the paper: one pass over {cal.description} "
                f"(once: the result is cached)",
                file=sys.stderr,
            )
        stats, where = measure(model, cal), "measured"
        if on_disk:
            _write_disk(path, *key, stats)
    while len(_memory) >= _MEMORY_ENTRIES:
        _memory.pop(next(iter(_memory)))
    _memory[key] = stats
    return stats, cal, where


def scale_factors(stats, min_mean=MIN_MEAN):
    """Per convolution: the factor each filter is divided by, max(mean activation, ``min_mean`` x root mean
    square of its input to the ReLU), and which filters are not measured by their mean (rarely firing: the
    second is larger, or the mean is 0). A filter whose input to the ReLU is 0 at every position keeps its scale
    (factor 1)."""
    out = {}
    for i, s in stats.items():
        floor = min_mean * s["rms"]
        rare = (s["mean"] < floor) | (s["mean"] <= 0)
        factor = torch.where(rare, floor, s["mean"])
        out[i] = (torch.where(factor > 0, factor, torch.ones_like(factor)), rare)
    return out


def normalized_state_dict(model, factors):
    """The model's weights with filter i of each convolution divided by its factor and the next
    convolution's input channel i multiplied by it (in the model's dtype, on the CPU)."""
    state = {k: v.detach().to("cpu").clone() for k, v in model.features.state_dict().items()}
    for i, (factor, _) in factors.items():
        weight = state[f"{i}.weight"]
        factor = factor.to(weight.dtype)
        weight /= factor.view(-1, 1, 1, 1)
        state[f"{i}.bias"] /= factor
        if _NEXT[i] is not None:
            state[f"{_NEXT[i]}.weight"] *= factor.view(1, -1, 1, 1)
    return state


def normalize_vgg19(model, calibration=None, size=CALIBRATION_SIZE, progress=True):
    """The paper's normalised network made from ``model`` (a ``load_vgg19`` network, left unchanged).

    Every filter's mean activation over the calibration images (``calibration``: None for the bundled
    photos, a folder, or a list of images; each at a long side of ``size`` px) is 1 in the returned
    network, and its activations at any layer are ``model``'s divided by those means (``scale_factors``).
    ``.normalization`` of the result says with which images, and how many filters fired too rarely there
    to be measured (see the module docstring). The pass runs once per weights and calibration set
    (cached); a model already normalised with the same set is returned as it is.
    """
    _check_model(model)
    cal = Calibration(calibration, size)
    done = getattr(model, "normalization", None)
    if done and done.get("calibration_key") == cal.key[:16]:
        return model
    start = time.perf_counter()
    stats, cal, where = statistics(model, cal, progress=progress)
    factors = scale_factors(stats)
    out = copy.deepcopy(model)  # same class, device, dtype and memory layout; new tensors
    with torch.no_grad():
        for key, value in normalized_state_dict(model, factors).items():
            out.features.get_parameter(key).copy_(value)
    rare = {LAYERS[i + 1].paper: int(r.sum()) for i, (_, r) in factors.items() if r.any()}
    out.normalization = {
        "calibration": cal.description,
        "calibration_key": cal.key[:16],
        "size": cal.size,
        "images": len(cal.sources),
        "rare": rare,
        "rare_total": sum(rare.values()),
        "never_fired": sum(int((s["mean"] <= 0).sum()) for s in stats.values()),
        "filters": sum(LAYERS[i].channels for i in _CONVS),
        "from": where,
        "seconds": round(time.perf_counter() - start, 3),
    }
    return out
