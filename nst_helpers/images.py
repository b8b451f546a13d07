"""Images in and out: bundled examples, loading, resizing, tensors, saving.

A picture inside the package is always a float tensor of shape 1x3xHxW with values in [0, 1]
(RGB, not normalised: the ImageNet normalisation lives inside the model, see ``vgg.py``).
"""

import functools
import io
import struct
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from . import files
from .checks import MAX_SIZE, check_size
from .errors import NSTError

EXAMPLES_DIR = Path(__file__).with_name("examples")

#: Bundled example images (sources and licences: ``nst_helpers/examples/SOURCES.md``).
EXAMPLES = {
    "chelsea": "chelsea.jpg",  # content photo: Chelsea the cat, CC0
    "coffee": "coffee.jpg",  # content photo: a cup of coffee, CC0
    "starry_night": "starry_night.jpg",  # Vincent van Gogh, The Starry Night (1889), public domain
    "the_scream": "the_scream.jpg",  # Edvard Munch, The Scream (1893), public domain
}
#: Which examples the command line and the notebooks use when given no images.
DEFAULT_CONTENT = "chelsea"
DEFAULT_STYLES = ("starry_night",)

#: Pictures whose header claims more pixels than this are refused before decoding (a 'decompression
#: bomb' or a scan far beyond any use here); Pillow's own warning threshold is half of it.
MAX_INPUT_PIXELS = 2 * Image.MAX_IMAGE_PIXELS
#: Above this many pixels a picture is decoded at a reduced scale when it will be shrunk anyway
#: (JPEG's draft mode), to keep memory low; smaller ones are resized exactly as notebook 1 shows.
LARGE_PIXELS = 24_000_000


def example_path(name):
    """Path of a bundled example image, by name (see ``EXAMPLES``)."""
    if name not in EXAMPLES:
        raise NSTError(f"no bundled example called {name!r}: choose one of {', '.join(EXAMPLES)}")
    return EXAMPLES_DIR / EXAMPLES[name]


def source_path(source, what="image"):
    """The file behind an image given by path or bundled-example name (a file of that name wins)."""
    path = files.as_path(source, what)
    if isinstance(source, str) and source in EXAMPLES and not files.exists(path, what):
        return example_path(source)
    return path


def as_image_list(images):
    """One image (path, name, PIL image or tensor) or several, as a list."""
    if isinstance(images, (str, bytes, Path, Image.Image)) or torch.is_tensor(images) or isinstance(images, np.ndarray):
        return [images]
    if isinstance(images, (list, tuple)):
        return list(images)
    return [images]  # anything else is checked (and refused with a clear message) when it is loaded


def _to_rgb(img):
    """Any Pillow mode to RGB; transparency is composited on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        hi = 65535.0 if img.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def open_image(source, what="image", size=None):
    """Open ``source`` (a path, a bundled example name or a PIL image) as an upright RGB PIL image.

    The EXIF orientation is applied and every mode becomes RGB. A missing, unreadable or truncated
    file, or one whose header claims an absurd number of pixels, raises ``NSTError``. With ``size``
    (see ``target_size``) a large JPEG is decoded at a reduced scale, which keeps memory low.
    """
    if isinstance(source, Image.Image):
        return _to_rgb(ImageOps.exif_transpose(source))
    _check_source_type(source, what)
    path = source_path(source, what)
    if not files.exists(path, what):
        raise NSTError(f"{what} {str(source)[:80]!r} not found: check the path, or use a bundled example "
                       f"({', '.join(EXAMPLES)})")
    if files.is_dir(path, what):
        raise NSTError(f"{what} {str(source)[:80]!r} is a folder: give the path of an image file")
    name = repr(str(source)[:80])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # large real images: handled below
            with Image.open(path) as img:
                if img.width * img.height > MAX_INPUT_PIXELS or img.width < 1 or img.height < 1:
                    raise Image.DecompressionBombError()
                if size is not None and img.width * img.height > LARGE_PIXELS:
                    long_side = max(target_size(img.width, img.height, size))
                    img.draft("RGB", (long_side, long_side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
                img.load()
                img = ImageOps.exif_transpose(img)
                return _to_rgb(img)
    except Image.DecompressionBombError:
        raise NSTError(f"{what} {name} claims to be larger than {MAX_INPUT_PIXELS // 10**6} megapixels (a "
                       f"damaged file or a decompression bomb): downscale it with an image editor first") from None
    except UnidentifiedImageError:
        raise NSTError(f"{what} {name} is not an image Pillow can read: use a JPEG or PNG file") from None
    except MemoryError:
        raise NSTError(f"{what} {name} is too large to decode in this machine's memory: downscale it first") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, struct.error) as err:
        first = " ".join(str(err).split())[:100] or type(err).__name__
        raise NSTError(f"{what} {name} could not be read ({first}): the file may be damaged or truncated; save it again") from None


def _check_source_type(source, what):
    if isinstance(source, np.ndarray):
        raise NSTError(f"{what} is a numpy array: pass PIL.Image.fromarray(array) (uint8, HxWx3) or a "
                       f"1x3xHxW float tensor in [0, 1]")
    if not isinstance(source, (str, Path)) and not hasattr(source, "__fspath__"):
        raise NSTError(f"{what} must be a file path, a bundled example name ({', '.join(EXAMPLES)}), a PIL image "
                       f"or a 1x3xHxW tensor, not {type(source).__name__}")


def target_size(width, height, size):
    """(h, w) for an image of ``width`` x ``height`` resized to ``size``.

    ``size`` is ``None`` (keep), an int (the long side; aspect ratio kept) or a pair (h, w) (exact;
    the seed's square images are ``(128, 128)`` or ``(512, 512)``); see ``checks.check_size``.
    """
    size = check_size(size)
    if size is None:
        return height, width
    if isinstance(size, tuple):
        return size
    scale = size / max(width, height)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(img, size):
    """Resize a PIL image (see ``target_size``) with a high-quality filter."""
    h, w = target_size(img.width, img.height, size)
    if (h, w) == (img.height, img.width):
        return img
    gap = 3.0 if img.width * img.height > LARGE_PIXELS else None  # large: shrink in two passes, less memory
    return img.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=gap)


def pil_to_tensor(img, device="cpu"):
    """RGB PIL image to a 1x3xHxW float tensor in [0, 1]."""
    arr = np.asarray(_to_rgb(img), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)


def check_tensor_image(t, what="image"):
    """A tensor picture as a float 1x3xHxW tensor in [0, 1]: 3xHxW gets a batch axis, uint8 is divided
    by 255; other shapes, empty or non-finite tensors, and floats far outside [0, 1] are refused."""
    shape = tuple(t.shape)
    if t.is_complex() or t.dtype == torch.bool:
        raise NSTError(f"{what} tensor has dtype {t.dtype}: use a float tensor in [0, 1] (or uint8 in 0..255)")
    t = t.detach()
    if t.dim() == 3:
        t = t.unsqueeze(0)
    if t.dim() != 4 or t.shape[:2] != (1, 3):
        raise NSTError(f"{what} tensor has shape {shape}: expected 1x3xHxW or 3xHxW (RGB)")
    if t.numel() == 0:
        raise NSTError(f"{what} tensor has shape {shape}, with no pixels: give a picture")
    if t.dtype == torch.uint8:
        return t.float() / 255.0
    if not t.is_floating_point():
        raise NSTError(f"{what} tensor has dtype {t.dtype}: use a float tensor in [0, 1] (or uint8 in 0..255)")
    t = t.float()
    if not bool(torch.isfinite(t).all()):
        raise NSTError(f"{what} tensor holds NaN or infinite values: give a picture with values in [0, 1]")
    lo, hi = float(t.min()), float(t.max())
    if lo < -0.5 or hi > 1.5:
        raise NSTError(f"{what} tensor has values from {lo:.3g} to {hi:.3g}, not in [0, 1]: divide 0..255 values "
                       f"by 255 (or undo a normalisation) first")
    return t.clamp(0, 1)


def load_image(source, size=None, device="cpu", what="image"):
    """Load ``source`` (path, example name, PIL image or tensor) as a 1x3xHxW tensor in [0, 1]."""
    if torch.is_tensor(source):
        t = check_tensor_image(source, what)
        if size is not None:
            h, w = target_size(t.shape[-1], t.shape[-2], size)
            if (h, w) != tuple(t.shape[-2:]):
                t = torch.nn.functional.interpolate(t, size=(h, w), mode="bilinear", align_corners=False,
                                                    antialias=True).clamp(0, 1)
        return t.to(device)
    return pil_to_tensor(resize(open_image(source, what, size=size), size), device)


def to_pil(tensor):
    """A 1x3xHxW (or 3xHxW) tensor in [0, 1] to an 8-bit RGB PIL image."""
    t = tensor.detach().float().cpu()
    if t.dim() == 4:
        t = t[0]
    t = torch.nan_to_num(t, nan=0.0).clamp(0, 1)
    arr = (t.permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def quantize(tensor):
    """The tensor as it will be after saving to an 8-bit file (for losses 'as saved')."""
    return (tensor.detach().clamp(0, 1) * 255.0).round() / 255.0


@functools.lru_cache(maxsize=None)
def writable_formats():
    """{extension: Pillow format} for every extension Pillow can write an RGB picture to (tried once)."""
    out = {}
    probe = Image.new("RGB", (4, 4), (200, 30, 90))
    for ext, fmt in sorted(Image.registered_extensions().items()):
        if fmt not in Image.SAVE:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                probe.save(io.BytesIO(), format=fmt)
        except Exception:  # a format that cannot hold RGB (XBM), or needs a missing library
            continue
        out[ext] = fmt
    return out


def image_format(path):
    """The Pillow format for an output path, or an ``NSTError`` naming formats that work."""
    suffix = Path(path).suffix.lower()
    fmt = writable_formats().get(suffix)
    if fmt is None:
        what = f"'{suffix}'" if suffix else "no extension"
        raise NSTError(f"cannot save a picture as {str(path)[:80]!r} ({what} is not a format Pillow can write "
                       f"RGB to): end the name in .png or .jpg")
    return fmt


def save_image(image, path, overwrite=True, protect=()):
    """Save a tensor or PIL image atomically (see ``files.atomic_write``).

    ``protect`` lists files that must never be replaced (the inputs of the run); with
    ``overwrite=False`` an existing ``path`` raises ``NSTError``.
    """
    fmt = image_format(path)
    path = files.check_output(path, protect, overwrite=overwrite, what="output")
    img = image if isinstance(image, Image.Image) else to_pil(image)
    if img.width > MAX_SIZE * 4 or img.height > MAX_SIZE * 4:
        raise NSTError(f"picture of {img.width}x{img.height} px is too large to save: resize it first")
    options = {"quality": 95} if fmt == "JPEG" else {}
    return files.atomic_write(path, lambda fh: img.save(fh, format=fmt, **options), replace=overwrite)


#: The file name endings ``image_files`` takes for images.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


def image_files(folder, what="folder of images"):
    """The image files in ``folder`` (sorted; not recursive), or an ``NSTError`` saying what to give."""
    path = files.as_path(folder, what)
    if not files.exists(path, what):
        raise NSTError(f"{what} {str(folder)[:80]!r} not found: give a folder of images")
    if not files.is_dir(path, what):
        raise NSTError(f"{what} {str(folder)[:80]!r} is a file, not a folder: give a folder of images")
    try:
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    except OSError as err:
        raise NSTError(f"cannot read {what} {str(folder)[:80]!r} ({err.strerror}): check its permissions") from None
    if not found:
        raise NSTError(f"{what} {str(folder)[:80]!r} holds no images ({', '.join(IMAGE_SUFFIXES[:3])}, ...): "
                       f"put some images in it")
    return found
