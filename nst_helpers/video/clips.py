"""Clips in: the ``Clip`` type, reading clips from files, folders, lists and tensors, and the bundled
``camera_move`` clip (a camera pan and zoom over a bundled photo with a ball rolling across it, drawn
here, so its true flow and occlusions are known exactly)."""

import math
import os
import warnings
from dataclasses import dataclass, replace

import torch
from PIL import Image, ImageSequence
from torch.nn import functional as F

from .. import files
from ..checks import MAX_SIZE, MIN_SIZE, check_number, check_size
from ..errors import NSTError, memory_errors
from ..images import IMAGE_SUFFIXES, check_target, check_tensor_image, image_files, load_image, probe_image, resize
from ..memory import check_bytes

#: A clip's frames are read up to this many unless ``max_frames`` says otherwise, and never more than the limit.
DEFAULT_MAX_FRAMES, MAX_FRAMES = 120, 2000
#: Bytes per pixel of each frame while a clip is read: the decoded frame (kept small), its float tensor
#: and the stacked clip (``read_clip`` checks the memory with it before reading, from ``clip_shape``).
READ_BYTES_PER_PIXEL = 3 + 12 + 12
#: The bundled clip's name (``read_clip("camera_move")``).
EXAMPLE_CLIP = "camera_move"


@dataclass
class Clip:
    """Frames (a Tx3xHxW tensor in [0, 1]) and their rate; a made clip also knows its true backward
    flows (Tx2xHxW, frame 0's all zero) and masks of reliable pixels (Tx1xHxW, frame 0's all one)."""

    frames: torch.Tensor
    fps: float = 10.0
    name: str = "clip"
    true_flows: torch.Tensor = None
    true_masks: torch.Tensor = None
    source: object = None

    def __len__(self):
        return self.frames.shape[0]

    def frame(self, t):
        """Frame ``t`` as a 1x3xHxW picture."""
        return self.frames[t : t + 1]


def opencv():
    """OpenCV, imported on first use (a one-line error where it is missing)."""
    # FFmpeg's and OpenCV's own log lines ("moov atom not found") would come before the package's one-line
    # error; quiet them unless the user chose a level (read when cv2 is first imported)
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    try:
        import cv2
    except ImportError:
        raise NSTError(
            "OpenCV is needed for video (reading video files and optical flow): pip install opencv-python-headless"
        ) from None
    return cv2


# ----------------------------------------------------------------------------------------------- reading


def _check_frames(max_frames):
    return check_number(max_frames, "max frames", minimum=1, maximum=MAX_FRAMES, integer=True)


def _dimensions(picture, what):
    """(width, height) of a frame given as a PIL image, a tensor or a file, without decoding a file."""
    if isinstance(picture, Image.Image):
        return picture.size
    if torch.is_tensor(picture):
        h, w = check_tensor_image(picture, what).shape[-2:]
        return w, h
    info = probe_image(picture, what)
    return info.width, info.height


def _frames_to_clip(pictures, size, name, fps, source, limit, total):
    """Resize a list of PIL images or tensors to one shape and stack them."""
    if not pictures:
        raise NSTError(f"{name} has no frames: give a video with at least one frame")
    check_target(*_dimensions(pictures[0], f"{name} frame 1"), size, f"the frames of {name}", "size (--size)")
    first = load_image(pictures[0], size=size, what=f"{name} frame 1")
    shape = tuple(first.shape[-2:])
    frames = [first] + [load_image(p, size=shape, what=f"{name} frame {i + 2}") for i, p in enumerate(pictures[1:])]
    if total > limit:
        warnings.warn(
            f"{name} has more than {limit} frames: only the first {limit} are used (raise max_frames, "
            f"--max-frames, to use more)",
            stacklevel=3,
        )
    return Clip(torch.cat(frames), fps=float(fps), name=name, source=source)


def _fps(value, default):
    if value is None:
        return default
    return check_number(value, "fps", above=0, maximum=1000)


def _read_video_file(path, limit, label, size):
    """Frames (PIL images) and rate of a video file, read with OpenCV."""
    cv2 = opencv()
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise NSTError(
                f"{label} could not be opened as a video: give an MP4, AVI, MOV, animated GIF or a folder of images"
            )
        rate = capture.get(cv2.CAP_PROP_FPS)
        pictures, total = [], 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            total += 1
            if total > limit:
                break
            if frame is None or frame.ndim != 3 or min(frame.shape[:2]) < 1:
                raise NSTError(f"{label} frame {total} could not be decoded: the file may be damaged")
            h, w = frame.shape[:2]
            if h * w > MAX_SIZE * MAX_SIZE * 4:
                raise NSTError(f"{label} has frames of {w}x{h} px, too large: downscale the video first")
            if min(h, w) < MIN_SIZE:
                raise NSTError(
                    f"{label} has frames of {w}x{h} px, smaller than {MIN_SIZE} px on a side: give a larger video"
                )
            picture = Image.fromarray(frame[:, :, ::-1].copy())  # BGR -> RGB
            pictures.append(picture if size is None else resize(picture, size))  # small as soon as read
    finally:
        capture.release()
    if not pictures:
        raise NSTError(f"{label} has no frames OpenCV can decode: the file may be damaged or not a video")
    return pictures, (rate if math.isfinite(rate) and 0 < rate <= 1000 else 10.0), total


def _read_animation(path, limit, label, what, size):
    """Frames (PIL images) and rate of an image file: an animation (GIF, WebP, PNG) or one picture."""
    from ..images import open_image

    open_image(path, what)  # a clear error for a missing, damaged or absurdly large file
    try:
        with Image.open(path) as img:
            durations, pictures, total = [], [], 0
            for frame in ImageSequence.Iterator(img):
                total += 1
                if total > limit:
                    break
                durations.append(frame.info.get("duration") or 0)
                picture = frame.convert("RGBA")
                pictures.append(picture.copy() if size is None else resize(picture, size))
    except (OSError, ValueError, EOFError, SyntaxError) as err:
        raise NSTError(
            f"{label} could not be read frame by frame ({' '.join(str(err).split())[:80]}): the file may be damaged"
        ) from None
    ms = [d for d in durations if d and d > 0]
    return pictures, (1000.0 / (sum(ms) / len(ms)) if ms else 10.0), total


def _video_header(path, label):
    """(frames or 0 if unknown, width, height) of a video file from OpenCV's header, nothing decoded."""
    cv2 = opencv()
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise NSTError(
                f"{label} could not be opened as a video: give an MP4, AVI, MOV, animated GIF or a folder of images"
            )
        count, w, h = (
            capture.get(p) for p in (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
        )
    finally:
        capture.release()
    ok = all(math.isfinite(v) and 0 <= v < 2**31 for v in (count, w, h))
    return (int(count), int(w), int(h)) if ok else (0, 0, 0)


def clip_shape(source=EXAMPLE_CLIP, size=None, max_frames=DEFAULT_MAX_FRAMES, what="clip"):
    """(frames, height, width) that ``read_clip`` will give, found from headers before any frame is decoded
    (an upper bound where a video does not say how many frames it has), or None where it cannot be told
    (a video whose header says nothing). The frames' size is checked here: a ``size`` that leaves a side
    under ``MIN_SIZE`` px is an ``NSTError`` that names the size that works. The source is checked as
    ``read_clip`` checks it (missing files, folders without images, files that are not regular files)."""
    limit = _check_frames(max_frames)
    size = check_size(size)
    label = f"{what} {str(source)[:80]!r}"
    if isinstance(source, Clip) or torch.is_tensor(source):
        frames = source.frames if isinstance(source, Clip) else source
        if not torch.is_tensor(frames) or frames.dim() != 4 or frames.shape[0] == 0:
            return None
        count, (height, width) = min(limit, frames.shape[0]), frames.shape[-2:]
    elif isinstance(source, (list, tuple)):
        if not source:
            return None
        count, (width, height) = min(limit, len(source)), _dimensions(source[0], f"{what} frame 1")
    elif isinstance(source, str) and source == EXAMPLE_CLIP and not files.exists(files.as_path(source), what):
        return None  # drawn here, at most 10 frames of at most 1024 px
    elif not isinstance(source, str) and not hasattr(source, "__fspath__"):
        return None  # read_clip says what is wrong
    else:
        path = files.as_path(source, what)
        if files.is_dir(path, what):
            names = image_files(path, f"{what} folder")
            info = probe_image(names[0], f"{label} frame 1")
            count, width, height = min(limit, len(names)), info.width, info.height
        else:
            path = _clip_file(path, what)
            if path.suffix.lower() in IMAGE_SUFFIXES:
                info = probe_image(path, what)
                count = 1
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        with Image.open(path) as img:
                            count = min(limit, max(1, int(getattr(img, "n_frames", 1))))
                    except Exception:  # noqa: S110 -- read_clip reports a damaged animation
                        pass
                width, height = info.width, info.height
            else:
                count, width, height = _video_header(path, label)
                if not (width and height):
                    return None
                count = min(limit, count) if count > 0 else limit
    h, w = check_target(width, height, size, f"the frames of {label}", "size (--size)")
    return count, h, w


def _clip_file(path, what):
    return files.input_file(
        path,
        what,
        missing=f"check the path (or use the bundled clip {EXAMPLE_CLIP!r})",
        folder="give a folder of images",
    )


@memory_errors("reading the clip", "give a smaller size (--size) or fewer frames (--max-frames)")
def read_clip(source=EXAMPLE_CLIP, size=None, max_frames=DEFAULT_MAX_FRAMES, fps=None, what="clip"):
    """A ``Clip`` from ``source``, each frame resized so its long side is ``size`` (None: kept).

    source: ``"camera_move"`` (the bundled clip, see ``example_clip``), a video file (MP4, AVI,
    MOV, ... read by OpenCV), an animated GIF / WebP / PNG, a folder of images (sorted by name), a
    list of images (paths, PIL images or 1x3xHxW tensors), a Tx3xHxW tensor or a ``Clip``. At most
    ``max_frames`` frames are read (a warning says when there were more). ``fps`` overrides the rate.
    Before any frame is decoded, the frames' size and the memory reading them takes are checked (``clip_shape``).
    """
    limit = _check_frames(max_frames)
    size = check_size(size)
    if fps is not None:
        _fps(fps, None)
    shape = None if isinstance(source, Clip) else clip_shape(source, size, limit, what)
    if shape is not None:
        count, h, w = shape
        check_bytes(
            count * h * w * READ_BYTES_PER_PIXEL,
            torch.device("cpu"),
            f"reading {count} frames of {w}x{h} px",
            "give a smaller size (--size) or fewer frames (--max-frames)",
        )
    if isinstance(source, Clip):
        clip = source
        if size is not None:
            frames = torch.cat([load_image(clip.frame(t), size=size) for t in range(len(clip))])
            if frames.shape[-2:] != clip.frames.shape[-2:]:
                clip = (
                    example_clip(len(clip), size)
                    if clip.name == EXAMPLE_CLIP and clip.true_flows is not None
                    else Clip(frames, clip.fps, clip.name, source=clip.source)
                )
        if len(clip) > limit:
            clip = Clip(
                clip.frames[:limit],
                clip.fps,
                clip.name,
                None if clip.true_flows is None else clip.true_flows[:limit],
                None if clip.true_masks is None else clip.true_masks[:limit],
                clip.source,
            )
        return replace(clip, fps=_fps(fps, clip.fps))  # a new Clip: the caller's is left as it was
    if isinstance(source, str) and source == EXAMPLE_CLIP and not files.exists(files.as_path(source), what):
        if isinstance(size, tuple):
            raise NSTError(f"the bundled clip {EXAMPLE_CLIP!r} takes a long side in px (like 128), not HxW")
        clip = example_clip(min(limit, 10), 128 if size is None else size)
        clip.fps = _fps(fps, clip.fps)
        return clip
    if torch.is_tensor(source):
        if source.dim() != 4 or source.shape[1] != 3:
            raise NSTError(f"{what} tensor has shape {tuple(source.shape)}: expected Tx3xHxW (T frames, RGB)")
        if source.shape[0] == 0:
            raise NSTError(f"{what} tensor has no frames: give at least one")
        total = source.shape[0]
        return _frames_to_clip(list(source[:limit].unbind(0)), size, what, _fps(fps, 10.0), None, limit, total)
    if isinstance(source, (list, tuple)):
        return _frames_to_clip(list(source[:limit]), size, what, _fps(fps, 10.0), None, limit, len(source))
    if not isinstance(source, str) and not hasattr(source, "__fspath__"):
        raise NSTError(
            f"{what} must be a video file, an animated GIF, a folder of images, a list of images or "
            f"{EXAMPLE_CLIP!r}, not {type(source).__name__}"
        )
    path = files.as_path(source, what)
    label = f"{what} {str(source)[:80]!r}"
    if not files.is_dir(path, what):
        path = _clip_file(path, what)
    if files.is_dir(path, what):
        names = image_files(path, f"{what} folder")
        pictures = names[:limit]
        return _frames_to_clip(pictures, size, label, _fps(fps, 10.0), path, limit, len(names))
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        pictures, rate, total = _read_animation(path, limit, label, what, size)
    else:  # a video file (MP4, AVI, MOV, ...), or anything else OpenCV may read
        pictures, rate, total = _read_video_file(path, limit, label, size)
    return _frames_to_clip(pictures, size, label, _fps(fps, rate), path, limit, total)


# ------------------------------------------------------------------------------------- the bundled clip


def _sample(picture, grid):
    """``picture`` (1x3xHxW) sampled at ``grid`` (HxWx2, the picture's pixel coordinates, x then y,
    pixel i covering [i, i+1))."""
    h, w = picture.shape[-2:]
    norm = torch.stack([grid[..., 0] * (2.0 / w) - 1, grid[..., 1] * (2.0 / h) - 1], dim=-1)
    return F.grid_sample(picture, norm[None], mode="bilinear", padding_mode="border", align_corners=False)


def example_clip(
    frames=10, size=128, photo="chelsea", ball="coffee", zoom=0.015, pan=(1.5, 0.5), roll=(4.0, 1.0), fps=8.0
):
    """The bundled clip ``camera_move``: a camera moving over ``photo`` (panning ``pan`` px and
    zooming in by ``zoom`` per frame) while a ball cut from ``ball`` rolls ``roll`` px per frame
    the other way, ``frames`` frames with a long side of ``size`` px.

    It is drawn here, so its true flow is known: ``true_flows[t]`` is the exact backward flow b_t
    and ``true_masks[t]`` is 1 where frame t's pixel was visible in frame t-1 (0 where the ball
    uncovered it, where it came into view at the border, and in a thin ring around the ball's edge).
    """
    frames = check_number(frames, "frames", minimum=1, maximum=MAX_FRAMES, integer=True)
    size = int(check_number(size, "size", minimum=32, maximum=1024, integer=True))
    source = load_image(photo, size=2 * size)  # drawn from twice the resolution: smooth resampling
    H, W = source.shape[-2:]
    h, w = round(H * size / max(H, W)), round(W * size / max(H, W))
    texture = load_image(ball, size=size)
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    pos = torch.stack([xs, ys], dim=-1)  # frame pixel centres, x then y

    def camera(t):  # photo position = a * frame position + o
        a = (W / w) * 0.8 * (1 - zoom) ** t
        centre = torch.tensor(
            [W / 2 + pan[0] * (W / w) * (t - (frames - 1) / 2), H / 2 + pan[1] * (W / w) * (t - (frames - 1) / 2)]
        )
        return a, centre - a * torch.tensor([w / 2, h / 2])

    radius = 0.18 * min(h, w)

    def ball_centre(t):
        return torch.tensor([w * 0.75 - roll[0] * t, h * 0.4 + roll[1] * t])

    th, tw = texture.shape[-2:]
    tex_scale = 0.9 * min(th, tw) / 2 / radius
    pictures, flows, masks = [], [], []
    for t in range(frames):
        a, o = camera(t)
        picture = _sample(source, a * pos + o)
        m = ball_centre(t)
        offset = pos - m
        inside = offset.norm(dim=-1) <= radius
        cup = _sample(texture, offset * tex_scale + torch.tensor([tw / 2, th / 2]))
        picture = torch.where(inside[None, None], cup, picture)
        pictures.append(picture.clamp(0, 1))
        if t == 0:
            flows.append(torch.zeros(1, 2, h, w))
            masks.append(torch.ones(1, 1, h, w))
            continue
        a0, o0 = camera(t - 1)
        back = ((a * pos + o) - o0) / a0 - pos  # the background's pixels in frame t-1
        back = torch.where(inside[..., None], (ball_centre(t - 1) - m).expand_as(back), back)
        was = pos + back
        seen = (was[..., 0] >= 0.5) & (was[..., 0] <= w - 0.5) & (was[..., 1] >= 0.5) & (was[..., 1] <= h - 0.5)
        covered = ((was - ball_centre(t - 1)).norm(dim=-1) <= radius + 1.5) & ~inside  # hidden by the ball
        edge = (offset.norm(dim=-1) - radius).abs() <= 1.5  # bilinear samples mix ball and background
        flows.append(back.permute(2, 0, 1)[None])
        masks.append((seen & ~covered & ~edge).float()[None, None])
    return Clip(
        torch.cat(pictures),
        fps=fps,
        name=EXAMPLE_CLIP,
        true_flows=torch.cat(flows),
        true_masks=torch.cat(masks),
        source=None,
    )
