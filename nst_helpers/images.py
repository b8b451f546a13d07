"""Images in and out: bundled examples, loading, resizing, tensors, saving.

A picture inside the package is always a float tensor of shape 1x3xHxW with values in [0, 1]
(RGB, not normalised: the ImageNet normalisation lives inside the model, see ``vgg.py``).
"""

import functools
import io
import struct
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from . import files
from .checks import MAX_SIZE, MIN_SIZE, check_size
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


def open_image(source, what="image", size=None, max_side=None):
    """Open ``source`` (a path, a bundled example name or a PIL image) as an upright RGB PIL image.

    The EXIF orientation is applied and every mode becomes RGB. A missing, unreadable or truncated
    file, one that is not a regular file, one smaller than ``MIN_SIZE`` px on a side, or one whose
    header claims an absurd number of pixels raises ``NSTError``. With ``size`` (see ``target_size``)
    a large picture is decoded at a reduced scale (JPEG's draft mode, else Pillow's ``reduce``), which
    keeps memory low; ``max_side`` (with no ``size``) caps the long side the same way.
    """
    if isinstance(source, Image.Image):
        return _to_rgb(ImageOps.exif_transpose(source))
    _check_source_type(source, what)
    path, name = _image_path(source, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # large real images (handled below), odd metadata: not the user's concern
            with Image.open(path) as img:
                _check_header(img, what, name)
                if size is None and max_side is not None and max(img.size) > max_side:
                    size = max_side
                target = None if size is None else target_size(*_upright(img), size)
                if target is not None and img.width * img.height > LARGE_PIXELS:
                    long_side = max(target)
                    img.draft("RGB", (long_side, long_side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
                img.load()
                img = _reduced(img, target)
                img = ImageOps.exif_transpose(img)
                return _to_rgb(img)
    except Exception as err:  # every failure of a decoder is one line
        _decoding_error(err, what, name)


def _image_path(source, what):
    """The regular file behind ``source`` and its name for messages."""
    path = source_path(source, what)
    path = files.input_file(
        path,
        what,
        missing=f"check the path, or use a bundled example ({', '.join(EXAMPLES)})",
        folder="give the path of an image file",
    )
    return path, repr(str(source)[:80])


def _upright(img):
    """(width, height) of ``img`` as it will be shown, its EXIF orientation applied."""
    try:
        turned = img.getexif().get(0x0112) in (5, 6, 7, 8)
    except Exception:  # damaged EXIF: the picture itself may still be fine
        turned = False
    return (img.height, img.width) if turned else (img.width, img.height)


def _check_header(img, what, name):
    if img.width * img.height > MAX_INPUT_PIXELS or img.width < 1 or img.height < 1:
        raise Image.DecompressionBombError()
    if min(img.size) < MIN_SIZE:
        raise NSTError(
            f"{what} {name} is {img.width}x{img.height} px, smaller than {MIN_SIZE} px on a side: give a "
            f"picture at least {MIN_SIZE}x{MIN_SIZE} px"
        )


def _reduced(img, target):
    """A loaded large picture shrunk by a whole factor (Pillow's ``reduce``, a box filter) while it stays at
    least twice the ``target`` (h, w): the conversion to RGB and the resampling then work on fewer pixels."""
    if target is None or img.width * img.height <= LARGE_PIXELS:
        return img
    (width, height), (h, w) = _upright(img), target
    factor = int(min(width / w, height / h) // 2)
    if factor < 2:
        return img
    try:
        return img.reduce(factor)
    except (ValueError, NotImplementedError):  # a mode reduce does not take (palette, 1-bit): keep it
        return img


def _decoding_error(err, what, name):
    """Raise the one-line ``NSTError`` for a failure while opening or decoding ``name``."""
    if isinstance(err, NSTError):
        raise err
    if isinstance(err, Image.DecompressionBombError):
        raise NSTError(
            f"{what} {name} claims to be larger than {MAX_INPUT_PIXELS // 10**6} megapixels (a "
            f"damaged file or a decompression bomb): downscale it with an image editor first"
        ) from None
    if isinstance(err, UnidentifiedImageError):
        raise NSTError(f"{what} {name} is not an image Pillow can read: use a JPEG or PNG file") from None
    if isinstance(err, MemoryError):
        raise NSTError(f"{what} {name} is too large to decode in this machine's memory: downscale it first") from None
    if isinstance(
        err,
        (
            OSError,
            SyntaxError,
            ValueError,
            EOFError,
            IndexError,
            TypeError,
            KeyError,
            struct.error,
            ZeroDivisionError,
            OverflowError,
            RuntimeError,
            AttributeError,
            AssertionError,
        ),
    ):
        first = " ".join(str(err).split())[:100] or type(err).__name__
        raise NSTError(
            f"{what} {name} could not be read ({first}): the file may be damaged or truncated; save it again"
        ) from None
    raise err


def probe_images(sources, what="image"):
    """``probe_image`` for every source that is a file (path or bundled name); pictures already in memory
    (PIL images, tensors) pass. Returns the ``ImageInfo`` of each file, None for the others."""
    return [probe_image(s, what) if isinstance(s, (str, Path)) or hasattr(s, "__fspath__") else None for s in sources]


class ImageInfo(NamedTuple):
    """What ``probe_image`` found: the upright size and Pillow's format name (None for a PIL image)."""

    width: int
    height: int
    format: str = None


def decode_bytes(info, target=None):
    """An estimate of the memory that decoding a picture (an ``ImageInfo``) and bringing it to ``target``
    (h, w) takes, as ``open_image`` and ``load_image`` do it: the decoded pixels (fewer where JPEG's draft
    mode applies), their RGB copy, and the float tensor."""
    pixels = info.width * info.height
    if target is not None and pixels > LARGE_PIXELS and info.format == "JPEG":
        scale = 1
        while scale < 8 and max(info.width, info.height) / (2 * scale) >= max(target):
            scale *= 2
        pixels //= scale * scale
    out = 0 if target is None else target[0] * target[1]
    return pixels * 4 * 3 + (out or pixels) * 4 * 3 * 2


def probe_image(source, what="image"):
    """Check that the picture ``source`` (a path or bundled name) can be read to its end, without keeping it;
    returns its upright size as an ``ImageInfo`` (width, height, format). What ``open_image`` would refuse
    is refused here, before any work: a missing, damaged, truncated or tiny file, a decompression bomb.
    JPEGs are decoded at 1/8 scale (every byte is still read), PNGs have their chunks verified (and are
    decoded if that fails), other formats are decoded."""
    if isinstance(source, Image.Image):
        return ImageInfo(*_upright(source))
    _check_source_type(source, what)
    path, name = _image_path(source, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                _check_header(img, what, name)
                shape = ImageInfo(*_upright(img), img.format)
                if img.format == "PNG":
                    try:
                        img.verify()  # reads every chunk and checks its CRC, without decompressing
                        return shape
                    except Exception:  # strict about the end of the file: decoding decides
                        pass
            with Image.open(path) as img:
                if img.format == "JPEG":
                    img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
                img.load()
                return shape
    except Exception as err:
        _decoding_error(err, what, name)


def _check_source_type(source, what):
    if isinstance(source, np.ndarray):
        raise NSTError(
            f"{what} is a numpy array: pass PIL.Image.fromarray(array) (uint8, HxWx3) or a "
            f"1x3xHxW float tensor in [0, 1]"
        )
    if not isinstance(source, (str, Path)) and not hasattr(source, "__fspath__"):
        raise NSTError(
            f"{what} must be a file path, a bundled example name ({', '.join(EXAMPLES)}), a PIL image "
            f"or a 1x3xHxW tensor, not {type(source).__name__}"
        )


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


def check_target(width, height, size, what="the picture", option="size"):
    """(h, w) of a ``width`` x ``height`` picture at ``size`` (see ``target_size``), or an ``NSTError`` if a
    side would be under ``MIN_SIZE`` px: a long side of ``size`` px gives a wide picture a short side the user
    never asked for, so the message names that side and the ``size`` that works."""
    h, w = target_size(width, height, size)
    if min(h, w) >= MIN_SIZE:
        return h, w
    if size is None:
        raise NSTError(f"{what} is {width}x{height} px, smaller than {MIN_SIZE} px on a side: give a larger picture")
    if isinstance(check_size(size), tuple):
        raise NSTError(f"{option} {h}x{w} is under {MIN_SIZE} px on a side: give at least {MIN_SIZE} px each")
    need = check_size(size)
    while need < MAX_SIZE and min(target_size(width, height, need)) < MIN_SIZE:
        need += 1
    if min(target_size(width, height, need)) < MIN_SIZE:
        raise NSTError(
            f"{what} is {width}x{height} px, too narrow: at any size up to {MAX_SIZE} px its short side "
            f"stays under {MIN_SIZE} px; crop it to a wider shape"
        )
    short = "height" if h < w else "width"
    raise NSTError(
        f"{option} {size} makes {what} {w}x{h} px, and its {short} must be at least {MIN_SIZE} px: give "
        f"{option} {need} or more"
    )


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
        raise NSTError(
            f"{what} tensor has values from {lo:.3g} to {hi:.3g}, not in [0, 1]: divide 0..255 values "
            f"by 255 (or undo a normalisation) first"
        )
    return t.clamp(0, 1)


def load_image(source, size=None, device="cpu", what="image", max_side=None):
    """Load ``source`` (path, example name, PIL image or tensor) as a 1x3xHxW tensor in [0, 1]. ``max_side``
    (with no ``size``): a picture longer than that is shrunk to it, decoded at a reduced scale where it can be."""
    if torch.is_tensor(source):
        t = check_tensor_image(source, what)
        if size is not None:
            h, w = target_size(t.shape[-1], t.shape[-2], size)
            if (h, w) != tuple(t.shape[-2:]):
                t = torch.nn.functional.interpolate(
                    t, size=(h, w), mode="bilinear", align_corners=False, antialias=True
                ).clamp(0, 1)
        return t.to(device)
    img = open_image(source, what, size=size, max_side=max_side)
    if size is None and max_side is not None and max(img.size) > max_side:
        size = max_side
    return pil_to_tensor(resize(img, size), device)


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
        raise NSTError(
            f"cannot save a picture as {str(path)[:80]!r} ({what} is not a format Pillow can write "
            f"RGB to): end the name in .png or .jpg"
        )
    return fmt


def check_finite(picture, what="the picture"):
    """An ``NSTError`` if a picture tensor holds NaN or infinite values: saved, they would be black pixels
    that look like a result. Every writer checks this before it writes."""
    if torch.is_tensor(picture) and picture.is_floating_point() and not bool(torch.isfinite(picture).all()):
        raise NSTError(
            f"{what} holds NaN or infinite values (the network or the optimisation diverged): nothing "
            f"was written; train the network again with a lower learning rate, or lower the weights"
        )
    return picture


def save_image(image, path, overwrite=True, protect=()):
    """Save a tensor or PIL image atomically (see ``files.atomic_write``).

    ``protect`` lists files that must never be replaced (the inputs of the run); with
    ``overwrite=False`` an existing ``path`` raises ``NSTError``. A tensor with NaN or infinite values
    is refused (``check_finite``).
    """
    fmt = image_format(path)
    path = files.check_output(path, protect, overwrite=overwrite, what="output")
    if not isinstance(image, Image.Image):
        check_finite(image)
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
        raise NSTError(
            f"{what} {str(folder)[:80]!r} holds no images ({', '.join(IMAGE_SUFFIXES[:3])}, ...): put some images in it"
        )
    return found
