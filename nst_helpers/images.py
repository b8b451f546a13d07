"""Images in and out: loading (paths or bundled examples), resizing, tensors, atomic saving.

A picture inside the package is always a float tensor of shape 1x3xHxW with values in [0, 1]
(RGB, not normalised: the ImageNet normalisation lives inside the model, see ``vgg.py``).
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import NSTError

EXAMPLES_DIR = Path(__file__).with_name("examples")

#: Bundled example images (sources and licences: ``nst_helpers/examples/SOURCES.md``).
EXAMPLES = {
    "chelsea": "chelsea.jpg",  # content photo: Chelsea the cat, CC0
    "starry_night": "starry_night.jpg",  # Vincent van Gogh, The Starry Night (1889), public domain
    "the_scream": "the_scream.jpg",  # Edvard Munch, The Scream (1893), public domain
}
#: Which examples the command line and the notebooks use when given no images.
DEFAULT_CONTENT = "chelsea"
DEFAULT_STYLES = ("starry_night",)


def example_path(name):
    """Path of a bundled example image, by name (see ``EXAMPLES``)."""
    if name not in EXAMPLES:
        raise NSTError(f"no bundled example called {name!r}: choose one of {', '.join(EXAMPLES)}")
    return EXAMPLES_DIR / EXAMPLES[name]


def _to_rgb(img):
    """Any Pillow mode to RGB; transparency is composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def open_image(source, what="image"):
    """Open ``source`` (a path, a bundled example name or a PIL image) as an upright RGB PIL image.

    The EXIF orientation is applied, every mode is turned into RGB, and a missing, unreadable or
    truncated file raises ``NSTError`` with a one-line message.
    """
    if isinstance(source, Image.Image):
        return _to_rgb(ImageOps.exif_transpose(source))
    if isinstance(source, str) and source in EXAMPLES and not Path(source).exists():
        source = example_path(source)
    path = Path(source)
    if not path.exists():
        raise NSTError(
            f"{what} {str(source)!r} not found: check the path, or use a bundled example "
            f"({', '.join(EXAMPLES)})"
        )
    if path.is_dir():
        raise NSTError(f"{what} {str(source)!r} is a folder: give the path of an image file")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            return _to_rgb(img)
    except UnidentifiedImageError:
        raise NSTError(f"{what} {str(source)!r} is not an image Pillow can read: use a JPEG or PNG file") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise NSTError(f"{what} {str(source)!r} could not be read ({err}): the file may be truncated; save it again") from None


def target_size(width, height, size):
    """(h, w) for an image of ``width`` x ``height`` resized to ``size``.

    ``size`` is ``None`` (keep), an int (the long side; aspect ratio kept) or a pair (h, w) (exact;
    the seed's square images are ``(128, 128)`` or ``(512, 512)``).
    """
    if size is None:
        return height, width
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise NSTError(f"size {size!r} must be one number (the long side) or a pair (height, width)")
        h, w = (int(s) for s in size)
    else:
        long_side = int(size)
        scale = long_side / max(width, height)
        h, w = max(1, round(height * scale)), max(1, round(width * scale))
    if h < 1 or w < 1:
        raise NSTError(f"size {size!r} must be positive")
    return h, w


def resize(img, size):
    """Resize a PIL image (see ``target_size``) with a high-quality filter."""
    h, w = target_size(img.width, img.height, size)
    if (h, w) == (img.height, img.width):
        return img
    return img.resize((w, h), Image.Resampling.LANCZOS)


def pil_to_tensor(img, device="cpu"):
    """RGB PIL image to a 1x3xHxW float tensor in [0, 1]."""
    arr = np.asarray(_to_rgb(img), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)


def load_image(source, size=None, device="cpu", what="image"):
    """Load ``source`` (path, example name, PIL image or tensor) as a 1x3xHxW tensor in [0, 1]."""
    if torch.is_tensor(source):
        t = source.detach()
        if t.dim() == 3:
            t = t.unsqueeze(0)
        if t.dim() != 4 or t.shape[:2] != (1, 3):
            raise NSTError(f"{what} tensor has shape {tuple(source.shape)}: expected 1x3xHxW or 3xHxW")
        if size is not None:
            h, w = target_size(t.shape[-1], t.shape[-2], size)
            if (h, w) != tuple(t.shape[-2:]):
                t = torch.nn.functional.interpolate(t.float(), size=(h, w), mode="bilinear",
                                                    align_corners=False, antialias=True)
        return t.float().clamp(0, 1).to(device)
    return pil_to_tensor(resize(open_image(source, what), size), device)


def to_pil(tensor):
    """A 1x3xHxW (or 3xHxW) tensor in [0, 1] to an 8-bit RGB PIL image."""
    t = tensor.detach().float().cpu()
    if t.dim() == 4:
        t = t[0]
    arr = (t.clamp(0, 1).permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def quantize(tensor):
    """The tensor as it will be after saving to an 8-bit file (for losses 'as saved')."""
    return (tensor.detach().clamp(0, 1) * 255.0).round() / 255.0


def _file_mode(path):
    """The mode of the file being replaced, or what the umask gives a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save_image(image, path, overwrite=True):
    """Save a tensor or PIL image atomically: written to a temporary file beside ``path``, then renamed.

    An interrupted save never leaves a half-written file, and an existing file is replaced only in
    one step. With ``overwrite=False`` an existing ``path`` raises ``NSTError``.
    """
    path = Path(path)
    img = image if isinstance(image, Image.Image) else to_pil(image)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise NSTError(f"cannot save to {str(path)!r}: folder {str(folder)!r} does not exist; create it first")
    if not overwrite and path.exists():
        raise NSTError(f"{str(path)!r} already exists: choose another output name (or allow overwriting)")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise NSTError(f"cannot tell the image format of {str(path)!r}: end the name in .png or .jpg")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise NSTError(f"cannot write in folder {str(folder)!r} ({err.strerror}): choose a folder you can write to") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            img.save(fh, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        os.chmod(tmp, _file_mode(path))  # mkstemp makes 0600; give the file the mode a new one would have
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
