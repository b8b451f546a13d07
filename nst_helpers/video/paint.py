"""Painting a clip: three ways (``METHODS``) with the same ``StyleConfig`` and objective as ``stylize``.

``independent`` paints each frame from its photo (the flicker baseline); ``warm`` starts each frame
from w(S_{t-1}), the previous painted frame moved along the motion (its photo where the occlusion mask
c_t = 0); ``temporal`` is ``warm`` plus the temporal loss lambda * sum c_t (x - w(S_{t-1}))^2 / D in
the objective (Ruder, Dosovitskiy and Brox 2016).
"""

import time
from dataclasses import asdict, dataclass, field, fields, replace

import torch
from tqdm.auto import tqdm

from ..checks import check_choice, check_number, check_weight
from ..config import _opt, make_config
from ..devices import resolve_device
from ..errors import NSTError, memory_errors
from ..memory import check_bytes, check_memory, estimate_bytes
from ..objective import TemporalTerm, build_objective, content_terms
from ..optimize import initial_image, optimize_image
from ..prepare import start_run
from ..transfer import input_files
from ..vgg import describe_vgg
from ..weights import weights_file
from .clips import DEFAULT_MAX_FRAMES, EXAMPLE_CLIP, READ_BYTES_PER_PIXEL, Clip, _check_frames, clip_shape, read_clip
from .motion import FLOW_METHODS, clip_flows, warp, warping_error
from .output import write_clip

#: The ways to paint a clip by optimisation (see the module's docstring).
METHODS = ("independent", "warm", "temporal")
#: Every way to paint a clip: the optimisation methods and a trained network, frame by frame (``network.py``).
ALL_METHODS = (*METHODS, "network")
#: The temporal weight lambda used when none is given (chosen in notebook 9 and the benchmark).
DEFAULT_TEMPORAL_WEIGHT = 5.0
#: The stopping rule for each frame used by the notebook, the command line and the benchmark (``StyleConfig.tol``)
#: when the configuration sets none.
DEFAULT_TOL = 5e-3


@dataclass(frozen=True)
class VideoConfig:
    """How a clip is painted, besides the ``StyleConfig`` that paints each frame. Frozen: change a
    field with ``make_video_config`` (or ``dataclasses.replace``); both check the result. The fields'
    metadata (``help``, ``kind``, ``metavar``, ``choices``) is ``StyleConfig``'s form, for the command line."""

    method: str = field(
        default="temporal",
        metadata=_opt(
            "independent (each frame on its own: flickers), warm (each frame starts from the previous picture moved "
            "by the optical flow), temporal (warm plus the temporal loss) or network (a trained real-time network, "
            "frame by frame: give --network)",
            choices=ALL_METHODS,
        ),
    )
    temporal_weight: float = field(
        default=DEFAULT_TEMPORAL_WEIGHT,
        metadata=_opt("weight lambda of the temporal loss (method temporal; None: the default)", metavar="LAMBDA"),
    )
    tol: float = field(
        default=None,
        metadata=_opt(
            f"each frame stops once its objective improved by less than this fraction over 20 steps (default: the "
            f"configuration's tol if it sets one, else {DEFAULT_TOL:g}; 0: every frame gets all its steps)",
            metavar="TOL",
        ),
    )
    flow: str = field(default="dis", metadata=_opt("optical flow (OpenCV)", choices=FLOW_METHODS))
    max_frames: int = field(default=DEFAULT_MAX_FRAMES, metadata=_opt("read at most N frames", metavar="N"))

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "method", check_choice(self.method, ALL_METHODS, "method"))
        set_(self, "flow", check_choice(self.flow, FLOW_METHODS, "flow method"))
        lam = DEFAULT_TEMPORAL_WEIGHT if self.temporal_weight is None else self.temporal_weight
        set_(self, "temporal_weight", check_weight(lam, "temporal weight"))
        if self.tol is not None:
            set_(self, "tol", check_number(self.tol, "tol", minimum=0, maximum=0.5))
        set_(self, "max_frames", int(_check_frames(self.max_frames)))

    def frame_tol(self, config):
        """Each frame's stopping rule: this tol if set, else ``config``'s if it sets one, else ``DEFAULT_TOL``."""
        return (config.tol or DEFAULT_TOL) if self.tol is None else self.tol

    def to_dict(self):
        return asdict(self)


#: The fields a caller may set.
VIDEO_OPTIONS = tuple(f.name for f in fields(VideoConfig))


def make_video_config(video=None, **overrides):
    """A checked ``VideoConfig``: the defaults (None), a given one or a dict (``to_dict()``), with ``overrides``."""
    if video is None:
        video = VideoConfig()
    elif isinstance(video, dict):
        video, overrides = VideoConfig(), {**video, **overrides}
    elif not isinstance(video, VideoConfig):
        raise NSTError(f"video must be a VideoConfig, not {type(video).__name__}")
    unknown = [k for k in overrides if k not in VIDEO_OPTIONS]
    if unknown:
        raise NSTError(f"unknown option {unknown[0]!r}: the options are {', '.join(VIDEO_OPTIONS)}")
    return replace(video, **overrides) if overrides else video


#: Bytes per pixel of each frame while a clip is painted, besides reading it: the flows both ways and the
#: occlusion masks, the painted frames and the result's stacked copy.
PAINT_BYTES_PER_PIXEL = 2 * 2 * 4 + 4 + 12 + 12


def check_clip_memory(clip, size, max_frames, config, device, styles=1):
    """Before any frame is read: an ``NSTError`` if reading and painting ``clip`` at ``size`` (its frames'
    shape from their headers, ``clip_shape``) would need more memory than is free. Returns the estimate."""
    shape = clip_shape(clip, size, max_frames)
    if shape is None:
        return 0
    count, h, w = shape
    device = resolve_device(device)
    frames = count * h * w * (READ_BYTES_PER_PIXEL + PAINT_BYTES_PER_PIXEL)
    run = estimate_bytes(h, w, config.content_layers + config.style_layers, styles, min(100, config.steps))
    what = f"painting {count} frames of {w}x{h} px"
    advice = "give a smaller size (--size) or fewer frames (--max-frames)"
    if device.type == "cpu":
        return check_bytes(frames + run, device, what, advice)
    check_memory(h, w, config.content_layers + config.style_layers, device, styles, min(100, config.steps))
    return check_bytes(frames, torch.device("cpu"), what, advice)


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

    @property
    def frames_per_second(self):
        """Frames painted per second (painting only: no reading, flow or writing)."""
        return len(self.seconds) / sum(self.seconds) if self.seconds and sum(self.seconds) > 0 else float("nan")

    def summary(self):
        """One line: frames, seconds and steps per frame, style loss and warping error."""
        n = len(self.steps)
        if not n:
            return f"{self.method}: no frames painted"
        if self.method == "network":
            return (
                f"network: {n} frames, {self.frames_per_second:.1f} frames per second, warping error "
                f"{self.warping_error:.4f} ({self.flow_source} flow)"
            )
        return (
            f"{self.method}: {n} frames, {sum(self.seconds) / n:.2f} s and {sum(self.steps) / n:.0f} steps per "
            f"frame, style loss {sum(self.style_losses) / n:.4g}, warping error {self.warping_error:.4f} "
            f"({self.flow_source} flow)"
        )

    def save(self, path, overwrite=True):
        return write_clip(self.frames, path, self.fps, overwrite=overwrite, protect=self.inputs)


@memory_errors("painting the clip", "give a smaller size (--size) or fewer frames (--max-frames)")
def stylize_video(
    clip=EXAMPLE_CLIP,
    styles=None,
    config="seed",
    video=None,
    *,
    model=None,
    weights=None,
    device="auto",
    callback=None,
    should_stop=None,
    progress=True,
    network=None,
    **overrides,
):
    """Paint every frame of ``clip`` in the style of ``styles``; returns a ``VideoResult``.

    clip: anything ``read_clip`` reads (default the bundled ``camera_move``). styles and config as
    for ``stylize`` (the seed preset by default); ``config.steps`` is each frame's budget. video: a
    ``VideoConfig`` (default ``VideoConfig()``): ``method`` (``"independent"``, ``"warm"`` or
    ``"temporal"``, see ``METHODS``), ``temporal_weight`` (lambda of the temporal loss), ``tol`` (a
    frame stops once its objective improved by less than this fraction over 20 steps; default: the
    configuration's ``tol`` if it sets one, else ``DEFAULT_TOL``; 0: every frame gets all its steps),
    ``flow`` (``"dis"`` or ``"farneback"``) and ``max_frames``. Any field of either configuration may
    be given by keyword (``method="warm"``, ``steps=100``, ``size=256``, ...; ``tol=`` is the video's).
    callback(t, picture) after each frame; ``should_stop()`` is asked before each step. Ctrl-C ends
    the run with the frames painted so far.

    network: a trained real-time network (``feedforward.load_network``) paints the frames instead, one
    pass each (method ``"network"``, ``network.paint_with_network``); ``styles`` is then None and only
    ``size``, ``max_frames``, ``flow``, ``batch_size`` and ``precision`` apply.
    """
    video_overrides = {k: overrides.pop(k) for k in VIDEO_OPTIONS if k in overrides}
    if network is not None or video_overrides.get("method") == "network" or getattr(video, "method", "") == "network":
        return _paint_with_network(clip, styles, video, network, device, progress, video_overrides, overrides)
    config = make_config(config, **overrides)
    video = make_video_config(video, **video_overrides)
    tol = video.frame_tol(config)
    if config.multiscale:
        raise NSTError(
            "a clip is painted at one scale: leave multiscale off (frames after the first start from "
            "the previous picture, which already saves most of the work)"
        )
    if config.preserve_color == "luminance":
        raise NSTError("preserve_color='luminance' is not available for clips: use 'histogram'")
    setup = start_run(styles, config, model=model, device=device)  # arguments: nothing is read yet
    from ..images import probe_images

    probe_images(setup.sources, "style image")  # every painting read to its end before the clip is read
    size = setup.load_size(clip.frames if isinstance(clip, Clip) else clip)  # a made clip keeps its size
    check_clip_memory(clip, size, video.max_frames, config, setup.device, len(setup.sources))
    clip = read_clip(clip, size=size, max_frames=video.max_frames)
    setup.load_images(clip.frame(0), None, label="a frame")
    setup.check_memory()
    first, style_ts = setup.content, setup.styles
    if config.preserve_color == "histogram":
        from ..color import match_histogram

        style_ts = [match_histogram(s, first) for s in style_ts]
    model, dev, method = setup.load_model(weights).model, setup.device, video.method

    start = time.perf_counter()
    moving = len(clip) > 1 and method != "independent"
    backward, forward, masks = clip_flows(clip, video.flow, progress=progress) if moving else (None, None, None)
    flow_seconds = time.perf_counter() - start
    objective = build_objective(model, first, style_ts, config)
    objective.temporal_weight = video.temporal_weight
    result = VideoResult(
        frames=clip.frames[:0],
        method=method,
        fps=clip.fps,
        flow_seconds=flow_seconds,
        config=dict(
            config.to_dict(),
            method=method,
            temporal_weight=video.temporal_weight,
            flow=video.flow,
            tol=tol,
            device=str(dev),
            weights=model.source,
            network=describe_vgg(model)[0],
            frames=len(clip),
            frame_size=list(first.shape[-2:]),
        ),
        inputs=(*input_files([clip.source, *setup.sources]), *filter(None, [weights_file(model.source)])),
    )
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
            run = optimize_image(
                objective,
                start_picture,
                config,
                tol=tol,
                should_stop=should_stop,
                progress=False,
                desc=f"frame {t + 1}",
            )
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
            flows, _, reliable = clip_flows(Clip(clip.frames[: len(painted)]), video.flow)
        result.warping_error = warping_error(result.frames, flows, reliable)
    return result


def _paint_with_network(clip, styles, video, network, device, progress, video_overrides, overrides):
    """``stylize_video`` with a network: the checks that belong to this way, then ``paint_with_network``."""
    from .network import DEFAULT_BATCH, paint_with_network

    if video_overrides.get("method", getattr(video, "method", "network")) != "network":
        raise NSTError("a network paints the frames itself: leave out method, or give method='network'")
    if network is None:
        raise NSTError("method 'network' paints with a trained network: give network=load_network('NET.pt')")
    if styles is not None:
        raise NSTError("a network paints in the style it was trained on: leave out styles")
    size = overrides.pop("size", None)
    batch_size = overrides.pop("batch_size", DEFAULT_BATCH)
    precision = overrides.pop("precision", "auto")
    if overrides:
        raise NSTError(f"option {next(iter(overrides))!r} is for the optimisation methods, not for a network")
    video = make_video_config(video, **{**video_overrides, "method": "network"})
    return paint_with_network(
        clip,
        network,
        size=size,
        max_frames=video.max_frames,
        batch_size=batch_size,
        precision=precision,
        flow=video.flow,
        device=None if device == "auto" else device,
        progress=progress,
    )
