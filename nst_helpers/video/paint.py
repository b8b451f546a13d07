"""Painting a clip: three ways (``METHODS``) with the same ``StyleConfig`` and objective as ``stylize``.

``independent`` paints each frame from its photo (the flicker baseline); ``warm`` starts each frame
from w(S_{t-1}), the previous painted frame moved along the motion (its photo where the occlusion mask
c_t = 0); ``temporal`` is ``warm`` plus the temporal loss lambda * sum c_t (x - w(S_{t-1}))^2 / D in
the objective (Ruder, Dosovitskiy and Brox 2016).
"""

import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ..checks import check_choice, check_number, check_weight
from ..config import make_config
from ..devices import default_size, resolve_device
from ..errors import NSTError, memory_errors
from ..layers import check_image_size
from ..memory import check_bytes, check_memory, estimate_bytes
from ..objective import TemporalTerm, build_objective, content_terms
from ..optimize import initial_image, optimize_image
from ..transfer import input_files, prepare_images
from ..vgg import load_vgg19
from ..weights import weights_file
from .clips import DEFAULT_MAX_FRAMES, EXAMPLE_CLIP, READ_BYTES_PER_PIXEL, Clip, clip_shape, read_clip
from .motion import FLOW_METHODS, clip_flows, warp, warping_error
from .output import write_clip

#: The ways to paint a clip (see the module's docstring).
METHODS = ("independent", "warm", "temporal")
#: The temporal weight lambda used when none is given (chosen in notebook 9 and the benchmark).
DEFAULT_TEMPORAL_WEIGHT = 5.0
#: The stopping rule for each frame used by the notebook, the command line and the benchmark (``StyleConfig.tol``).
DEFAULT_TOL = 5e-3

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


@memory_errors("painting the clip", "give a smaller size (--size) or fewer frames (--max-frames)")
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
    from ..images import DEFAULT_STYLES, as_image_list, probe_images

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
    probe_images(styles, "style image")  # every painting read to its end before the clip is read
    dev = resolve_device(device) if model is None else next(model.parameters()).device
    size = config.size
    if size is None and not (isinstance(clip, Clip) or torch.is_tensor(clip)):  # a made clip keeps its size
        size = default_size(dev)
    check_clip_memory(clip, size, max_frames, config, dev, len(styles))
    clip = read_clip(clip, size=size, max_frames=max_frames)
    first = clip.frame(0).to(dev)
    check_image_size(first, config.content_layers + config.style_layers, "a frame")
    _, style_ts = prepare_images(first, styles, None, config.style_scale, dev)
    for s in style_ts:
        check_image_size(s, config.style_layers, "a style image")
    check_memory(*first.shape[-2:], config.content_layers + config.style_layers, dev, styles=len(styles),
                 lbfgs_history=min(100, config.steps))
    if config.preserve_color == "histogram":
        from ..color import match_histogram

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
                         inputs=(*input_files([clip.source, *styles]), *filter(None, [weights_file(model.source)])))
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
