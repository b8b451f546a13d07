"""Where VGG19's weights come from.

``resolve_weights(weights)`` looks, in this order, at

1. the ``weights`` argument: a path to a local file, or ``"random"`` for a seeded, randomly
   initialised network (tests and fast mode; it says so on stderr);
2. the environment variable ``NST_VGG19_WEIGHTS`` (a path, or ``random``);
3. torchvision's ``VGG19_Weights.IMAGENET1K_V1``: a features-only copy in torch's cache
   (``$TORCH_HOME/hub/checkpoints``) if there is one (about 80 MB, quick to read); otherwise the full
   548 MB file, downloaded once with a progress bar, from which the features-only copy is written.

A local file may hold a full VGG19 state dict (``features.N.*`` and ``classifier.*`` keys) or a
features-only one (``features.N.*`` or ``N.*`` keys), in float32 or float16; it is read with
``torch.load(..., weights_only=True)``.
"""

import functools
import hashlib
import os
import sys
import warnings
import zipfile
from pathlib import Path

import torch

from . import files
from .errors import NSTError
from .layers import LAYERS

ENV_VAR = "NST_VGG19_WEIGHTS"
RANDOM = "random"
RANDOM_SEED = 0

_cache = {}


#: The shape of every tensor of ``vgg19().features``, keyed as in its state dict (``N.weight``, ``N.bias``).
EXPECTED_SHAPES = {
    key: shape
    for r in LAYERS
    if r.kind == "conv"
    for key, shape in ((f"{r.index}.weight", (r.channels, r.in_channels, 3, 3)), (f"{r.index}.bias", (r.channels,)))
}


def features_state_dict(state, source="weights file"):
    """Keep the ``features`` tensors of a VGG19 state dict, keyed ``N.weight`` / ``N.bias``, as float32.

    Raises ``NSTError`` when ``state`` is not a VGG19 (features) state dict.
    """
    if not isinstance(state, dict) or not state:
        raise NSTError(f"{source} does not hold a state dict: save one with torch.save(model.state_dict(), path)")
    out = {}
    for key, value in state.items():
        key = str(key)
        for prefix in ("module.", "features."):
            if key.startswith(prefix):
                key = key[len(prefix) :]
        if key in EXPECTED_SHAPES:
            if not torch.is_tensor(value):
                raise NSTError(f"{source}: entry {key!r} is not a tensor; expected a VGG19 state dict")
            out[key] = value.detach().to(torch.float32)
    missing = [k for k in EXPECTED_SHAPES if k not in out]
    if missing:
        raise NSTError(
            f"{source} is not a VGG19 state dict: {len(missing)} of {len(EXPECTED_SHAPES)} tensors are missing "
            f"(first: features.{missing[0]}); use torchvision's vgg19 weights or a features-only copy"
        )
    for key, shape in EXPECTED_SHAPES.items():
        if tuple(out[key].shape) != shape:
            raise NSTError(
                f"{source} is not a VGG19 state dict: features.{key} has shape {tuple(out[key].shape)}, "
                f"expected {shape}"
            )
        if not bool(torch.isfinite(out[key]).all()):
            raise NSTError(
                f"{source} holds NaN or infinite values (in features.{key}): the file is damaged; "
                f"download or copy it again"
            )
    return out


def load_torch_file(path, kind, expected):
    """``torch.load(path, weights_only=True)`` of a file already checked by ``files.input_file``, with one
    ``NSTError`` line for anything that is not a plain PyTorch file of tensors: "NAME is not a ``kind``
    (why): ``expected``". torch's warnings are kept out of the user's way (the error is the one line), and
    a TorchScript archive is named as such."""
    name = repr(str(path)[:80])
    if _is_torchscript(path):
        raise NSTError(f"{name} is a TorchScript model (torch.jit.save), not a {kind}: {expected}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:  # memory-mapped reading is fastest, but only works for the zip format
                return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as err:
                if "out of memory" in str(err).lower() or "allocate" in str(err).lower():
                    raise
                return torch.load(path, map_location="cpu", weights_only=True)
    except MemoryError:
        raise NSTError(f"{name} is too large to be a {kind}: {expected}") from None
    except Exception as err:  # pickle, zip and format errors all mean "not such a file"
        raise NSTError(f"{name} is not a {kind} ({_reason(err)}): {expected}") from None


def _reason(err):
    """A short reason from torch.load's error (its own texts run to paragraphs of advice)."""
    text = " ".join(str(err).split())
    if "Weights only load failed" in text:
        return (
            "it holds Python objects, not only tensors"
            if "Unsupported global" in text or "GLOBAL" in text
            else "not a PyTorch file"
        )
    if isinstance(err, EOFError) or "EOF" in text:
        return "empty or cut short"
    if "zip archive" in text or "central directory" in text:
        return "a damaged or cut-short PyTorch file"
    if len(text) < 8 or not any(c.isalpha() for c in text):
        return "not a PyTorch file"
    return text[:100]


def _is_torchscript(path):
    """Whether ``path`` is a TorchScript archive (a zip with the compiled code beside the tensors)."""
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()[:10000]
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return False
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def read_weights_file(path):
    """Read and check a local weights file; returns the features-only float32 state dict."""
    path = files.input_file(
        path,
        "VGG19 weights file",
        missing=f"check the path given with --weights or {ENV_VAR}",
        folder="give the path of a .pth file (or 'random')",
    )
    state = load_torch_file(path, "PyTorch weights file", "give VGG19's weights (a .pth state dict), or 'random'")
    return features_state_dict(state, source=repr(str(path)))


def random_state_dict(seed=RANDOM_SEED):
    """A seeded, randomly initialised VGG19 features state dict (torchvision's initialisation): a fresh copy
    each call, made once per seed in a process (building the whole VGG19 to draw it takes about two seconds)."""
    return {k: v.clone() for k, v in _random_state_dict(int(seed)).items()}


@functools.lru_cache(maxsize=2)
def _random_state_dict(seed):
    from torchvision.models import vgg19

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        features = vgg19(weights=None).features
    return {k: v.detach().clone() for k, v in features.state_dict().items()}


#: torchvision's ``VGG19_Weights.IMAGENET1K_V1.url``, written out so that finding the cached copy does
#: not import torchvision (a second of start-up); ``test_weights.py`` checks it against torchvision.
#: The name of torchvision's weights the package downloads (``torchvision.models.VGG19_Weights``).
TORCHVISION_WEIGHTS = "VGG19_Weights.IMAGENET1K_V1"
TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


def cache_dir():
    """torch's checkpoint cache (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def features_cache_path():
    """Where the features-only copy of torchvision's weights is kept."""
    name = Path(TORCHVISION_URL).name  # vgg19-dcbb9e9d.pth
    return cache_dir() / name.replace(".pth", "-features.pth")


def torchvision_state_dict(progress=True):
    """torchvision's ImageNet VGG19 features, from the features-only cache or downloaded once."""
    cached = features_cache_path()
    if cached.is_file():
        return read_weights_file(cached)
    url = TORCHVISION_URL
    full = cache_dir() / Path(url).name
    if full.is_file():
        state = read_weights_file(full)
    else:
        try:
            raw = torch.hub.load_state_dict_from_url(url, progress=progress, map_location="cpu", check_hash=True)
        except Exception as err:  # URLError, socket errors, hash mismatch: all mean "no weights here"
            reason = str(getattr(err, "reason", err)).strip().splitlines()
            raise NSTError(
                f"cannot download the VGG19 weights ({reason[0][:100] if reason else type(err).__name__}): "
                f"connect to the internet once (they are cached), or set {ENV_VAR}=/path/to/vgg19.pth"
            ) from None
        state = features_state_dict(raw, source=f"downloaded {Path(url).name}")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        files.atomic_write(cached, lambda fh: torch.save(state, fh))
        if full.is_file():
            full.unlink()  # the features-only copy holds everything we use
    except (OSError, NSTError) as err:
        print(f"nst_helpers: could not write the features-only cache {cached} ({err})", file=sys.stderr)
    return state


def resolve_weights(weights=None):
    """Which weights to use, as a string: ``"random"``, a local path, or ``"torchvision"``."""
    if weights is None or weights == "":
        weights = os.environ.get(ENV_VAR, "").strip() or "torchvision"
    if not isinstance(weights, (str, os.PathLike)):
        raise NSTError(f"weights must be a file path, 'random' or None, not {type(weights).__name__}")
    weights = os.fspath(weights)
    if weights.lower() == RANDOM:
        return RANDOM
    if weights == "torchvision":
        return weights
    return str(files.as_path(weights, "VGG19 weights file"))


def weights_file(weights=None):
    """The local file the weights will be read from, or ``None`` (random or torchvision's cache):
    the command line refuses to write its outputs over it."""
    source = resolve_weights(weights)
    return None if source in (RANDOM, "torchvision") else Path(source)


def load_state_dict(weights=None, progress=True):
    """The features-only VGG19 state dict for ``weights`` (see the module docstring); cached in memory."""
    source = resolve_weights(weights)
    if source == RANDOM:
        print(
            "nst_helpers: using randomly initialised VGG19 weights (for tests and fast mode; "
            "results will not look like a painting)",
            file=sys.stderr,
        )
    key = source
    if source not in (RANDOM, "torchvision"):
        path = Path(source)
        key = (source, path.stat().st_mtime_ns if files.exists(path, "VGG19 weights file") and path.is_file() else None)
    if key not in _cache:
        if source == RANDOM:
            state = random_state_dict()
        elif source == "torchvision":
            state = torchvision_state_dict(progress=progress)
        else:
            state = read_weights_file(source)
        _cache.clear()  # keep one network's weights in memory, not every one ever used
        _cache[key] = state
    return _cache[key], source


_hashes = {}


def file_sha256(path):
    """The sha256 of a file (hex), computed once per file and modification time."""
    path = Path(path)
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _hashes:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _hashes[key] = h.hexdigest()
    return _hashes[key]


def describe_source(source):
    """Where weights came from, as a dict of plain values: ``{"kind": "torchvision", "name":
    "VGG19_Weights.IMAGENET1K_V1", "file": "vgg19-dcbb9e9d.pth"}`` (the file name holds the start of its
    sha256), ``{"kind": "file", "name": ..., "sha256": first 12 hex digits}``, ``{"kind": "random",
    "seed": 0}``, or ``{"kind": "unknown", "name": ...}``."""
    if source == RANDOM:
        return {"kind": "random", "seed": RANDOM_SEED}
    if source == "torchvision":
        return {"kind": "torchvision", "name": TORCHVISION_WEIGHTS, "file": Path(TORCHVISION_URL).name}
    path = Path(str(source))
    try:
        return {"kind": "file", "name": path.name, "sha256": file_sha256(path)[:12]}
    except OSError:
        return {"kind": "unknown", "name": str(source)}
