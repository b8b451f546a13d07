"""Real-time video: a trained network (notebook 8's ``TransformNet``) applied to a clip frame by frame.

No optimisation and no optical flow while painting: each frame is one forward pass (frames go through in
batches). What this costs in stability is measured with the same warping error as the optimisation
methods (``motion.warping_error``: the clip's true flow where it has one, else the flow OpenCV
estimates, computed after the painting and not counted in its frames per second). A network trained
with a temporal term (``feedforward.temporal``, Huang et al. 2017) is applied the same way.

The network is any ``torch.nn.Module`` mapping Bx3xHxW pictures in [0, 1] to pictures of the same shape
(``feedforward.load_network`` reads one from a file); this module does not import ``feedforward``.
"""

import time

import torch
from torch import nn
from tqdm.auto import tqdm

from ..checks import check_choice, check_number
from ..devices import PRECISIONS, bfloat16_is_fast, resolve_device
from ..errors import NSTError, memory_errors
from ..images import check_finite
from ..memory import check_bytes
from .clips import READ_BYTES_PER_PIXEL, Clip, clip_shape, read_clip
from .motion import clip_flows, warping_error

#: The method name of painting with a network (``VideoConfig.method``).
NETWORK_METHOD = "network"
#: Frames painted per forward pass by default, and at most.
DEFAULT_BATCH, MAX_BATCH = 4, 64
#: Bytes per pixel of a network's pass, per unit of its width, and around it (``feedforward.apply_bytes``'s).
PASS_BYTES_PER_WIDTH, PASS_BYTES_PER_PIXEL = 30, 64


def check_network_module(network):
    """``network`` if it is a torch module with parameters (a trained ``TransformNet``), else an ``NSTError``."""
    if not isinstance(network, nn.Module) or next(network.parameters(), None) is None:
        raise NSTError(
            f"method 'network' paints with a trained network (feedforward.load_network('NET.pt')), "
            f"not {type(network).__name__}"
        )
    return network


def check_network_memory(clip, size, max_frames, network, batch_size, device):
    """Before any frame is read: an ``NSTError`` if reading ``clip`` at ``size`` and painting it in batches of
    ``batch_size`` would need more memory than is free. Returns the estimate (0 when the shape is unknown)."""
    shape = clip_shape(clip, size, max_frames)
    if shape is None:
        return 0
    count, h, w = shape
    width = getattr(network, "width", 32)
    need = count * h * w * (READ_BYTES_PER_PIXEL + 12) + batch_size * h * w * (
        PASS_BYTES_PER_WIDTH * width + PASS_BYTES_PER_PIXEL
    )
    return check_bytes(
        need,
        resolve_device(device),
        f"painting {count} frames of {w}x{h} px with a network",
        "give a smaller size (--size), fewer frames (--max-frames) or a smaller batch",
    )


@memory_errors("painting the clip with a network", "give a smaller size (--size) or fewer frames (--max-frames)")
def paint_with_network(
    clip,
    network,
    *,
    size=None,
    max_frames=None,
    batch_size=DEFAULT_BATCH,
    precision="auto",
    flow="dis",
    device=None,
    progress=True,
):
    """Paint every frame of ``clip`` with ``network``; returns a ``paint.VideoResult`` of method "network".

    ``seconds`` per frame are those of the forward passes (a warm-up pass first, not counted), and
    ``frames_per_second`` = frames / their sum; the warping error uses the clip's true flow where it has
    one, else ``flow``'s estimate. ``clip``: anything ``read_clip`` reads, at ``size``. ``precision``: the
    passes' arithmetic; ``"auto"`` is bfloat16 (autocast) where the device computes it natively (about 2x
    faster on such a CPU), else float32."""
    from .paint import VideoResult

    network = check_network_module(network)
    batch_size = int(check_number(batch_size, "batch size", minimum=1, maximum=MAX_BATCH, integer=True))
    dev = next(network.parameters()).device if device is None else resolve_device(device)
    precision = check_choice(precision, ("auto", *PRECISIONS), "precision")
    if precision == "auto":
        precision = "bfloat16" if bfloat16_is_fast(dev) else "float32"
    if not isinstance(clip, Clip):
        from .clips import DEFAULT_MAX_FRAMES

        limit = DEFAULT_MAX_FRAMES if max_frames is None else max_frames
        check_network_memory(clip, size, limit, network, batch_size, dev)
        clip = read_clip(clip, size=size, max_frames=limit)
    network = network.to(dev).eval()
    frames = clip.frames
    painted, seconds = [], []
    bar = tqdm(total=len(clip), desc="video (network)", unit="frame", disable=not progress)
    stopped = None
    try:
        bf16 = precision == "bfloat16"
        with torch.inference_mode(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            network(frames[:1].to(dev))  # warm-up: the first pass allocates
            for start in range(0, len(clip), batch_size):
                batch = frames[start : start + batch_size].to(dev)
                began = time.perf_counter()
                out = network(batch)
                if out.device.type == "cuda":
                    torch.cuda.synchronize(out.device)
                took = time.perf_counter() - began
                painted.append(out.float().clamp(0, 1).cpu())
                seconds += [took / len(batch)] * len(batch)
                bar.update(len(batch))
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        bar.close()
    result = VideoResult(
        frames=frames[:0],
        method=NETWORK_METHOD,
        fps=clip.fps,
        stopped=stopped,
        config={
            "method": NETWORK_METHOD,
            "batch_size": batch_size,
            "precision": precision,
            "device": str(dev),
            "frames": len(clip),
            "frame_size": list(frames.shape[-2:]),
            "network": getattr(network, "describe", lambda: type(network).__name__)(),
        },
    )
    if not painted:
        return result
    result.frames = check_finite(torch.cat(painted), "the painted clip")
    if tuple(result.frames.shape[1:]) != tuple(frames.shape[1:]):
        raise NSTError(
            f"the network turned {tuple(frames.shape[1:])} frames into {tuple(result.frames.shape[1:])}: "
            "give a network that keeps the picture's shape (a real-time network from train)"
        )
    n = len(result.frames)
    result.seconds, result.steps = seconds[:n], [1] * n
    if clip.true_flows is not None:
        result.warping_error = warping_error(result.frames, clip.true_flows[:n], clip.true_masks[:n])
        result.flow_source = "true"
    elif n > 1:
        began = time.perf_counter()
        backward, _, masks = clip_flows(Clip(frames[:n]), flow)
        result.flow_seconds = time.perf_counter() - began
        result.warping_error = warping_error(result.frames, backward, masks)
    return result
