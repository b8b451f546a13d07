"""Video: style transfer frame by frame, kept steady with optical flow (Ruder, Dosovitskiy and Brox 2016).

Notation (notebook 9): frames p_1 .. p_T, stylised pictures S_1 .. S_T, pixel positions x.

* Optical flow. The *backward* flow b_t of frame t says where each of its pixels was in frame t-1:
  p_t(x) ~ p_{t-1}(x + b_t(x)); the *forward* flow f_t says where each pixel of frame t-1 goes in
  frame t. Both are estimated by OpenCV (DIS or Farneback) on the grey frames, in pixels, and
  stored as 1x2xHxW tensors (x then y).
* Warping: w(S_{t-1})(x) = S_{t-1}(x + b_t(x)), sampled bilinearly with ``grid_sample``.
* Occlusions: where following b_t and then f_t does not come back to the start, the pixel was hidden
  in frame t-1 (or the flow is wrong there); motion boundaries are unreliable too. The mask c_t is 1
  where the flow can be trusted (Ruder et al.'s two tests, ``occlusion_mask``).
* Three ways to paint a clip (``METHODS``), with the same ``StyleConfig`` and objective as ``stylize``:
  ``independent`` (each frame from its photo: the flicker baseline), ``warm`` (each frame starts
  from w(S_{t-1}), its photo where c_t = 0) and ``temporal`` (``warm`` plus the temporal loss
  lambda * sum c_t (x - w(S_{t-1}))^2 / D in the objective).
* Stability: the warping error mean |S_t - w(S_{t-1})| over the pixels with c_t = 1, averaged over t.

Clips come from MP4 / AVI / MOV files (OpenCV), animated GIF / WebP / PNG files (Pillow), folders
of images, lists of images, or the bundled ``camera_move`` clip: a camera pan and zoom over a bundled
photo with a ball rolling across it, made here, so its true flow and occlusions are known exactly.
"""

import base64
import io
import math
import os
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from PIL import Image, ImageSequence
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import files
from .checks import MAX_SIZE, check_choice, check_number, check_size, check_weight
from .config import make_config
from .devices import default_size, resolve_device
from .errors import NSTError
from .images import IMAGE_SUFFIXES, image_files, load_image, pil_to_tensor, resize, to_pil
from .layers import check_image_size
from .memory import check_memory
from .objective import TemporalTerm, build_objective, content_terms
from .optimize import initial_image, optimize_image
from .transfer import input_files, prepare_images
from .vgg import load_vgg19

#: The ways to paint a clip (see the module's docstring).
METHODS = ("independent", "warm", "temporal")
#: Optical flow estimators (OpenCV).
FLOW_METHODS = ("dis", "farneback")
#: The temporal weight lambda used when none is given (chosen in notebook 9 and the benchmark).
DEFAULT_TEMPORAL_WEIGHT = 5.0
#: The stopping rule for each frame used by the notebook, the command line and the benchmark (``StyleConfig.tol``).
DEFAULT_TOL = 5e-3
#: A clip's frames are read up to this many unless ``max_frames`` says otherwise, and never more than the limit.
DEFAULT_MAX_FRAMES, MAX_FRAMES = 120, 2000
#: Video files OpenCV reads and writes here; animated images Pillow reads and writes.
WRITE_SUFFIXES = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".gif": None}
#: The bundled clip's name (``read_clip("camera_move")``).
EXAMPLE_CLIP = "camera_move"
#: Ruder et al.'s thresholds for the forward-backward check and for motion boundaries.
CONSISTENCY = (0.01, 0.5)
MOTION_BOUNDARY = (0.01, 0.002)


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
        return self.frames[t:t + 1]


def _cv2():
    # FFmpeg's and OpenCV's own log lines ("moov atom not found") would come before the package's one-line
    # error; quiet them unless the user chose a level (read when cv2 is first imported)
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    try:
        import cv2
    except ImportError:
        raise NSTError("OpenCV is needed for video (reading video files and optical flow): pip install "
                       "opencv-python-headless") from None
    return cv2


# ----------------------------------------------------------------------------------------------- reading

def _check_frames(max_frames):
    return check_number(max_frames, "max frames", minimum=1, maximum=MAX_FRAMES, integer=True)


def _frames_to_clip(pictures, size, name, fps, source, limit, total):
    """Resize a list of PIL images or tensors to one shape and stack them."""
    if not pictures:
        raise NSTError(f"{name} has no frames: give a video with at least one frame")
    first = load_image(pictures[0], size=size, what=f"{name} frame 1")
    shape = tuple(first.shape[-2:])
    frames = [first] + [load_image(p, size=shape, what=f"{name} frame {i + 2}") for i, p in enumerate(pictures[1:])]
    if total > limit:
        warnings.warn(f"{name} has more than {limit} frames: only the first {limit} are used (raise max_frames, "
                      f"--max-frames, to use more)", stacklevel=3)
    return Clip(torch.cat(frames), fps=float(fps), name=name, source=source)


def _fps(value, default):
    if value is None:
        return default
    return check_number(value, "fps", above=0, maximum=1000)


def _read_video_file(path, limit, label, size):
    """Frames (PIL images) and rate of a video file, read with OpenCV."""
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise NSTError(f"{label} could not be opened as a video: give an MP4, AVI, MOV, animated GIF or a "
                           f"folder of images")
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
            picture = Image.fromarray(frame[:, :, ::-1].copy())  # BGR -> RGB
            pictures.append(picture if size is None else resize(picture, size))  # small as soon as read
    finally:
        capture.release()
    if not pictures:
        raise NSTError(f"{label} has no frames OpenCV can decode: the file may be damaged or not a video")
    return pictures, (rate if math.isfinite(rate) and 0 < rate <= 1000 else 10.0), total


def _read_animation(path, limit, label, what, size):
    """Frames (PIL images) and rate of an image file: an animation (GIF, WebP, PNG) or one picture."""
    from .images import open_image

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
        raise NSTError(f"{label} could not be read frame by frame ({' '.join(str(err).split())[:80]}): the file "
                       f"may be damaged") from None
    ms = [d for d in durations if d and d > 0]
    return pictures, (1000.0 / (sum(ms) / len(ms)) if ms else 10.0), total


def read_clip(source=EXAMPLE_CLIP, size=None, max_frames=DEFAULT_MAX_FRAMES, fps=None, what="clip"):
    """A ``Clip`` from ``source``, each frame resized so its long side is ``size`` (None: kept).

    source: ``"camera_move"`` (the bundled clip, see ``example_clip``), a video file (MP4, AVI,
    MOV, ... read by OpenCV), an animated GIF / WebP / PNG, a folder of images (sorted by name), a
    list of images (paths, PIL images or 1x3xHxW tensors), a Tx3xHxW tensor or a ``Clip``. At most
    ``max_frames`` frames are read (a warning says when there were more). ``fps`` overrides the rate.
    """
    limit = _check_frames(max_frames)
    size = check_size(size)
    if isinstance(source, Clip):
        clip = source
        if size is not None:
            frames = torch.cat([load_image(clip.frame(t), size=size) for t in range(len(clip))])
            if frames.shape[-2:] != clip.frames.shape[-2:]:
                clip = example_clip(len(clip), size) if clip.name == EXAMPLE_CLIP and clip.true_flows is not None \
                    else Clip(frames, clip.fps, clip.name, source=clip.source)
        if len(clip) > limit:
            clip = Clip(clip.frames[:limit], clip.fps, clip.name,
                        None if clip.true_flows is None else clip.true_flows[:limit],
                        None if clip.true_masks is None else clip.true_masks[:limit], clip.source)
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
        raise NSTError(f"{what} must be a video file, an animated GIF, a folder of images, a list of images or "
                       f"{EXAMPLE_CLIP!r}, not {type(source).__name__}")
    path = files.as_path(source, what)
    label = f"{what} {str(source)[:80]!r}"
    if not files.exists(path, what):
        raise NSTError(f"{label} not found: check the path (or use the bundled clip {EXAMPLE_CLIP!r})")
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


def example_clip(frames=10, size=128, photo="chelsea", ball="coffee", zoom=0.015, pan=(1.5, 0.5),
                 roll=(4.0, 1.0), fps=8.0):
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
        centre = torch.tensor([W / 2 + pan[0] * (W / w) * (t - (frames - 1) / 2),
                               H / 2 + pan[1] * (W / w) * (t - (frames - 1) / 2)])
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
    return Clip(torch.cat(pictures), fps=fps, name=EXAMPLE_CLIP, true_flows=torch.cat(flows),
                true_masks=torch.cat(masks), source=None)


# ------------------------------------------------------------------------------------------ optical flow

def _grey_uint8(picture):
    rgb = picture.detach().float().cpu().clamp(0, 1)[0]
    grey = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (grey * 255 + 0.5).to(torch.uint8).numpy()


def estimate_flow(a, b, method="dis"):
    """The optical flow from picture ``a`` to picture ``b`` (1x3xHxW each): a 1x2xHxW tensor of
    pixel offsets (x, y) with a(x) ~ b(x + flow(x)), estimated by OpenCV's DIS (default) or Farneback."""
    method = check_choice(method, FLOW_METHODS, "flow method")
    if a.shape != b.shape:
        raise NSTError(f"the two frames differ in shape ({tuple(a.shape)} and {tuple(b.shape)}): give frames of "
                       f"one size")
    cv2 = _cv2()
    ga, gb = _grey_uint8(a), _grey_uint8(b)
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        flow = dis.calc(ga, gb, None)
    else:
        flow = cv2.calcOpticalFlowFarneback(ga, gb, None, pyr_scale=0.5, levels=4, winsize=15, iterations=5,
                                            poly_n=5, poly_sigma=1.1, flags=0)
    return torch.from_numpy(np.ascontiguousarray(flow)).permute(2, 0, 1)[None].float().to(a.device)


def warp(picture, flow):
    """``picture`` (1xCxHxW) moved by ``flow`` (1x2xHxW): out(x) = picture(x + flow(x)), bilinear.

    Returns (warped, inside): ``inside`` (1x1xHxW) is 1 where x + flow(x) lies within the picture
    (elsewhere the nearest border pixel is used and the value means nothing).
    """
    h, w = picture.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, device=flow.device, dtype=flow.dtype),
                            torch.arange(w, device=flow.device, dtype=flow.dtype), indexing="ij")
    sx, sy = xs + flow[:, 0], ys + flow[:, 1]
    grid = torch.stack([2 * sx / max(w - 1, 1) - 1, 2 * sy / max(h - 1, 1) - 1], dim=-1)
    warped = F.grid_sample(picture, grid.to(picture.dtype), mode="bilinear", padding_mode="border",
                           align_corners=True)
    inside = ((sx >= -0.5) & (sx <= w - 0.5) & (sy >= -0.5) & (sy <= h - 0.5)).to(picture.dtype)[:, None]
    return warped, inside


def occlusion_mask(backward, forward):
    """1 where frame t's backward flow can be trusted, 0 where it cannot (1x1xHxW).

    Ruder et al.'s tests: a pixel is *occluded* (it was hidden in frame t-1, or the flow is wrong)
    where going back by b_t and forward again by f_t does not return to the start,
    |b + f~|^2 > 0.01 (|b|^2 + |f~|^2) + 0.5 with f~ = f_t warped by b_t, and it lies on a *motion
    boundary* where |grad b_x|^2 + |grad b_y|^2 > 0.01 |b|^2 + 0.002. Pixels whose source lies
    outside frame t-1 are 0 too.
    """
    f_back, inside = warp(forward, backward)
    square = lambda v: v.pow(2).sum(1, keepdim=True)  # noqa: E731
    k, c = CONSISTENCY
    consistent = square(backward + f_back) <= k * (square(backward) + square(f_back)) + c
    dx = F.pad(backward[..., :, 1:] - backward[..., :, :-1], (0, 1, 0, 0))
    dy = F.pad(backward[..., 1:, :] - backward[..., :-1, :], (0, 0, 0, 1))
    k, c = MOTION_BOUNDARY
    boundary = square(dx) + square(dy) > k * square(backward) + c
    return (consistent & ~boundary).to(backward.dtype) * inside


def clip_flows(clip, method="dis", progress=False):
    """Backward flows, forward flows and masks of reliable pixels for every frame of ``clip`` (lists;
    frame 0 gets zero flows and a mask of ones), estimated from the frames."""
    backward, forward, masks = [], [], []
    h, w = clip.frames.shape[-2:]
    for t in tqdm(range(len(clip)), desc="optical flow", disable=not progress, leave=False):
        if t == 0:
            backward.append(clip.frames.new_zeros(1, 2, h, w))
            forward.append(clip.frames.new_zeros(1, 2, h, w))
            masks.append(clip.frames.new_ones(1, 1, h, w))
            continue
        b = estimate_flow(clip.frame(t), clip.frame(t - 1), method)
        f = estimate_flow(clip.frame(t - 1), clip.frame(t), method)
        backward.append(b)
        forward.append(f)
        masks.append(occlusion_mask(b, f))
    return backward, forward, masks


def warping_error(pictures, flows, masks):
    """Mean |S_t - w(S_{t-1})| over the pixels with mask 1, averaged over frames 1..T-1 (0 for one
    frame): how much a clip changes beyond what the motion explains. ``pictures``: Tx3xHxW or a
    list of 1x3xHxW; ``flows``, ``masks``: backward flows and masks per frame (frame 0's unused), as
    Tx2xHxW / Tx1xHxW tensors or lists."""
    pictures, flows, masks = (_batched(x) for x in (pictures, flows, masks))
    errors = []
    for t in range(1, len(pictures)):
        warped, inside = warp(pictures[t - 1], flows[t].to(pictures[t - 1]))
        mask = (masks[t].to(warped) * inside).expand_as(warped)
        errors.append(float(((pictures[t] - warped).abs() * mask).sum() / mask.sum().clamp_min(1)))
    return sum(errors) / len(errors) if errors else 0.0


def _batched(items):
    """A list of 1xCxHxW tensors from a TxCxHxW tensor or a list of CxHxW / 1xCxHxW tensors."""
    return [x[None] if x.dim() == 3 else x for x in items]


# ------------------------------------------------------------------------------------------- painting

@dataclass
class VideoResult:
    """A painted clip. frames: Tx3xHxW in [0, 1]; per frame: ``steps`` (evaluations), ``seconds``,
    ``losses`` (the frame's weighted losses, as ``OptimizationResult.losses``) and ``style_losses``
    (unweighted); ``warping_error`` measured with ``flow_source``'s flows ("true" for the bundled clip,
    "estimated" otherwise); ``stopped``: None, or why the run ended early (then only the frames
    painted so far are in ``frames``)."""

    frames: torch.Tensor
    method: str
    fps: float
    steps: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    style_losses: list = field(default_factory=list)
    warping_error: float = float("nan")
    flow_source: str = "estimated"
    flow_seconds: float = 0.0
    stopped: str = None
    config: dict = field(default_factory=dict)
    inputs: tuple = ()

    def summary(self):
        """One line: frames, seconds and steps per frame, style loss and warping error."""
        n = len(self.steps)
        if not n:
            return f"{self.method}: no frames painted"
        return (f"{self.method}: {n} frames, {sum(self.seconds) / n:.2f} s and {sum(self.steps) / n:.0f} steps per "
                f"frame, style loss {sum(self.style_losses) / n:.4g}, warping error {self.warping_error:.4f} "
                f"({self.flow_source} flow)")

    def save(self, path, overwrite=True):
        return write_clip(self.frames, path, self.fps, overwrite=overwrite, protect=self.inputs)


def stylize_video(clip=EXAMPLE_CLIP, styles=None, config="seed", *, method="temporal", temporal_weight=None,
                  tol=None, flow="dis", max_frames=DEFAULT_MAX_FRAMES, model=None, weights=None, device="auto",
                  callback=None, should_stop=None, progress=True, **overrides):
    """Paint every frame of ``clip`` in the style of ``styles``; returns a ``VideoResult``.

    clip: anything ``read_clip`` reads (default the bundled ``camera_move``). styles and config as
    for ``stylize`` (the seed preset by default; ``steps``, ``tol``, ``size``, ... may be given by
    keyword); ``config.steps`` is each frame's budget. tol: a frame stops once its objective improved
    by less than this fraction over 20 steps (default: the configuration's ``tol`` if it sets one,
    else ``DEFAULT_TOL``; 0: every frame gets all its steps). method: ``"independent"``, ``"warm"`` or
    ``"temporal"`` (see ``METHODS``); temporal_weight: lambda of the temporal loss (default
    ``DEFAULT_TEMPORAL_WEIGHT``). flow: ``"dis"`` or
    ``"farneback"``. callback(t, picture) after each frame; ``should_stop()`` is asked before each
    step. Ctrl-C ends the run with the frames painted so far.
    """
    from .images import DEFAULT_STYLES, as_image_list

    config = make_config(config, **overrides)
    method = check_choice(method, METHODS, "method")
    flow = check_choice(flow, FLOW_METHODS, "flow method")
    lam = check_weight(DEFAULT_TEMPORAL_WEIGHT if temporal_weight is None else temporal_weight, "temporal weight")
    tol = (config.tol or DEFAULT_TOL) if tol is None else check_number(tol, "tol", minimum=0, maximum=0.5)
    if config.multiscale:
        raise NSTError("a clip is painted at one scale: leave multiscale off (frames after the first start from "
                       "the previous picture, which already saves most of the work)")
    if config.preserve_color == "luminance":
        raise NSTError("preserve_color='luminance' is not available for clips: use 'histogram'")
    styles = list(DEFAULT_STYLES) if styles is None else as_image_list(styles)
    if not styles:
        raise NSTError("no style image given: pass at least one")
    config.blend_for(len(styles))
    dev = resolve_device(device) if model is None else next(model.parameters()).device
    size = config.size
    if size is None and not (isinstance(clip, Clip) or torch.is_tensor(clip)):  # a made clip keeps its size
        size = default_size(dev)
    clip = read_clip(clip, size=size, max_frames=max_frames)
    first = clip.frame(0).to(dev)
    check_image_size(first, config.content_layers + config.style_layers, "a frame")
    _, style_ts = prepare_images(first, styles, None, config.style_scale, dev)
    for s in style_ts:
        check_image_size(s, config.style_layers, "a style image")
    check_memory(*first.shape[-2:], config.content_layers + config.style_layers, dev, styles=len(styles),
                 lbfgs_history=min(100, config.steps))
    if config.preserve_color == "histogram":
        from .color import match_histogram

        style_ts = [match_histogram(s, first) for s in style_ts]
    if model is None:
        model = load_vgg19(weights, device=dev, pooling=config.pooling)
    elif model.pooling != config.pooling:
        raise NSTError(f"the model uses {model.pooling} pooling but the configuration asks for {config.pooling}: "
                       f"load it with load_vgg19(..., pooling={config.pooling!r})")

    start = time.perf_counter()
    backward, forward, masks = clip_flows(clip, flow, progress=progress) if len(clip) > 1 and method != "independent" \
        else (None, None, None)
    flow_seconds = time.perf_counter() - start
    objective = build_objective(model, first, style_ts, config)
    objective.temporal_weight = lam
    result = VideoResult(frames=clip.frames[:0], method=method, fps=clip.fps, flow_seconds=flow_seconds,
                         config=dict(config.to_dict(), method=method, temporal_weight=lam, flow=flow,
                                     tol=tol, device=str(dev), weights=model.source, frames=len(clip),
                                     frame_size=list(first.shape[-2:])),
                         inputs=input_files([clip.source, *styles]))
    painted, previous = [], None
    bar = tqdm(total=len(clip), desc=f"video ({method})", unit="frame", disable=not progress)
    try:
        for t in range(len(clip)):
            frame = clip.frame(t).to(dev)
            objective.content_terms = content_terms(model, frame, config.content_layers)
            objective.temporal_term = None
            start_picture = initial_image(config.init, frame, config.random_seed)
            if previous is not None and method != "independent":
                warped, inside = warp(previous, backward[t].to(dev))
                mask = masks[t].to(dev) * inside
                start_picture = mask * warped + (1 - mask) * start_picture
                if method == "temporal":
                    objective.temporal_term = TemporalTerm(warped, mask)
            run = optimize_image(objective, start_picture, steps=config.steps, optimizer=config.optimizer,
                                 lr=config.lr, line_search=config.line_search, tol=tol,
                                 should_stop=should_stop, progress=False, desc=f"frame {t + 1}")
            # a frame that diverged keeps its best picture (``optimize_image`` warned) and ends the run;
            # one that was stopped (Ctrl-C, should_stop) is dropped
            if run.evaluations == 0 or run.stopped not in (None, "converged", "diverged"):
                result.stopped = run.stopped or "stop"
                break
            previous = run.image
            painted.append(run.image.cpu())
            result.steps.append(run.evaluations)
            result.seconds.append(run.seconds)
            result.losses.append(run.losses)
            with torch.no_grad():  # the style loss of the kept picture
                result.style_losses.append(float(objective.losses(run.image)["style"]))
            bar.set_postfix_str(f"{run.evaluations} steps, {run.seconds:.1f} s", refresh=False)
            bar.update(1)
            if callback is not None:
                callback(t, run.image.detach())
            if run.stopped == "diverged":
                result.stopped = run.stopped
                break
    except KeyboardInterrupt:
        result.stopped = "interrupted"
    finally:
        bar.close()
    if painted:
        result.frames = torch.cat(painted)
        if clip.true_flows is not None:
            flows, reliable, result.flow_source = clip.true_flows, clip.true_masks, "true"
        elif backward is not None:
            flows, reliable = backward, masks
        else:
            flows, _, reliable = clip_flows(Clip(clip.frames[:len(painted)]), flow)
        result.warping_error = warping_error(result.frames, flows, reliable)
    return result


# ------------------------------------------------------------------------------------ writing and showing

def _as_frames(frames):
    """A list of checked 1x3xHxW pictures (NaN, out-of-range values and non-pictures are refused)."""
    if isinstance(frames, (VideoResult, Clip)):
        frames = frames.frames
    if torch.is_tensor(frames):
        if frames.dim() != 4 or frames.shape[1] != 3 or frames.shape[0] == 0:
            raise NSTError(f"frames have shape {tuple(frames.shape)}: expected Tx3xHxW with at least one frame")
        frames = [frames[t:t + 1] for t in range(frames.shape[0])]
    elif isinstance(frames, (list, tuple)):
        frames = list(frames)
    else:
        raise NSTError(f"frames must be a Tx3xHxW tensor, a list of pictures, a Clip or a VideoResult, not "
                       f"{type(frames).__name__}")
    if not frames:
        raise NSTError("no frames to write: give at least one")
    return [load_image(f, what=f"frame {t + 1}") for t, f in enumerate(frames)]


def video_format(path):
    """The writer for ``path``: ".gif" (Pillow), ".mp4"/".m4v"/".mov"/".avi" (OpenCV), or "folder"
    (a name without an ending, or an existing folder: numbered PNG files)."""
    path = files.as_path(path, "video output")
    if files.is_dir(path, "video output") or path.suffix == "":
        return "folder"
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise NSTError(f"cannot write a clip as {str(path)[:80]!r}: end the name in {', '.join(WRITE_SUFFIXES)}, or "
                       f"give a folder name for PNG frames")
    return suffix


def check_clip_output(path, count, protect=(), overwrite=False):
    """Check, before any work, that a clip of ``count`` frames can be written to ``path`` without
    replacing a file in ``protect`` (or any file, without ``overwrite``); returns (kind, names): the
    writer (see ``video_format``) and, for a folder, the frame files it will write."""
    kind = video_format(path)
    path = files.as_path(path, "video output")
    if kind != "folder":
        return kind, [files.check_output(path, protect, overwrite, "video output")]
    if any(files.same_file(path, p) for p in protect):
        raise NSTError(f"output folder {str(path)[:80]!r} is an input of this run: choose another folder")
    names = [path / f"frame_{t + 1:04d}.png" for t in range(count)]
    if files.is_dir(path, "video output"):
        for name in names:
            files.check_output(name, protect, overwrite, "frame")
    elif files.exists(path, "video output"):
        raise NSTError(f"{str(path)[:80]!r} is a file: give a folder name (or a name ending in .mp4 or .gif)")
    else:
        files.check_output(path, protect, overwrite, "video output")  # its parent folder must exist
    return kind, names


def gif_bytes(frames, fps=10.0):
    """An animated GIF (bytes, looping) of ``frames``."""
    pictures = [to_pil(f) for f in _as_frames(frames)]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], loop=0,
                     duration=max(20, round(1000 / fps)), disposal=1)
    return buf.getvalue()


def write_clip(frames, path, fps=10.0, overwrite=False, protect=()):
    """Write ``frames`` (Tx3xHxW, a list of 1x3xHxW, a ``Clip`` or ``VideoResult``) to ``path``:
    an MP4 / MOV / AVI video, an animated GIF, or a folder of PNG files ``frame_0001.png`` ...

    Never replaces a file in ``protect`` (the inputs); an existing output only with ``overwrite``.
    The file is written under a temporary name and moved into place when complete.
    """
    fps = check_number(fps, "fps", above=0, maximum=1000)
    frames = _as_frames(frames)
    kind, names = check_clip_output(path, len(frames), protect, overwrite)
    path = files.as_path(path, "video output")
    if kind == "folder":
        from .images import save_image

        try:
            path.mkdir(exist_ok=True)
        except OSError as err:
            raise NSTError(f"cannot create folder {str(path)[:80]!r} ({err.strerror}): choose another name") from None
        for name, frame in zip(names, frames):
            save_image(frame, name, overwrite=overwrite, protect=protect)
        return path
    path = files.check_output(path, protect, overwrite, "video output")
    if kind == ".gif":
        data = gif_bytes(frames, fps)
        return files.atomic_write(path, lambda fh: fh.write(data), replace=overwrite)
    cv2 = _cv2()
    h, w = frames[0].shape[-2:]
    if any(f.shape[-2:] != (h, w) for f in frames):
        raise NSTError("the frames differ in size: give frames of one size")

    def write(name):
        writer = cv2.VideoWriter(name, cv2.VideoWriter_fourcc(*WRITE_SUFFIXES[kind]), float(fps), (w, h))
        if not writer.isOpened():
            raise NSTError(f"OpenCV cannot write {kind} files here: write a .gif or a folder of frames instead")
        try:
            for f in frames:
                rgb = np.asarray(to_pil(f))
                writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))
        finally:
            writer.release()

    return files.atomic_write(path, write, replace=overwrite, by_name=True)


def clips_html(clips, fps=10.0, width=None):
    """HTML showing clips side by side as looping GIFs, each with its caption above: ``clips`` maps a
    caption to frames (Tx3xHxW, a ``Clip`` or ``VideoResult``). ``width``: each clip's width in px;
    by default the clips share one row, each between 160 and 480 px wide, growing with the page.
    Display it with ``IPython.display.HTML``."""
    cells = []
    for caption, frames in clips.items():
        rate = getattr(frames, "fps", fps)
        pictures = _as_frames(frames)
        data = base64.b64encode(gif_bytes(pictures, rate)).decode("ascii")
        box = f"width:{int(width)}px" if width else "flex:1 1 0;min-width:160px;max-width:480px"
        cells.append(f'<figure style="{box};margin:4px 8px;text-align:center">'
                     f'<figcaption style="font-size:14pt">{_escape(caption)}</figcaption>'
                     f'<img src="data:image/gif;base64,{data}" style="width:100%" alt="{_escape(caption)}"></figure>')
    return '<div style="display:flex;flex-wrap:wrap;align-items:flex-end">' + "".join(cells) + "</div>"


def show_clips(clips, fps=10.0, width=None):
    """Show clips side by side as looping animations in a notebook (see ``clips_html``)."""
    from IPython.display import HTML, display

    display(HTML(clips_html(clips, fps, width)))


def _escape(text):
    import html

    return html.escape(str(text), quote=True)


def flow_to_rgb(flow, max_magnitude=None):
    """A flow field (1x2xHxW) as a picture (1x3xHxW): hue is the direction, brightness the length
    (``max_magnitude`` px is full brightness; default the field's largest)."""
    fx, fy = flow[0, 0].cpu(), flow[0, 1].cpu()
    mag = torch.sqrt(fx ** 2 + fy ** 2)
    top = float(max_magnitude or mag.max().clamp_min(1e-6))
    hue = (torch.atan2(fy, fx) / (2 * math.pi)) % 1.0
    value = (mag / top).clamp(0, 1)
    hsv = torch.stack([hue, torch.ones_like(hue), value], dim=-1).numpy()
    rgb = Image.fromarray((hsv * 255).astype(np.uint8), "HSV").convert("RGB")
    return pil_to_tensor(rgb)


__all__ = ["Clip", "DEFAULT_TEMPORAL_WEIGHT", "EXAMPLE_CLIP", "METHODS", "VideoResult", "clip_flows", "clips_html",
           "estimate_flow", "example_clip", "flow_to_rgb", "gif_bytes", "occlusion_mask", "read_clip", "show_clips",
           "stylize_video", "video_format", "warp", "warping_error", "write_clip"]
