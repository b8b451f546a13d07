"""A temporal term for the real-time network (Huang et al. 2017, Real-Time Neural Style Transfer for Videos).

A network trained on still photos paints each frame of a clip on its own, and small changes between
frames (a shift of a pixel, a little zoom) can change its strokes: the clip flickers. Huang et al. add
to the training objective a loss between the outputs of two frames related by known motion:

    L_temporal = mean over reliable pixels x of | N(p_2)(x) - N(p_1)(x + b(x)) |^2

where b is the backward flow from frame 2 to frame 1 (p_2(x) = p_1(x + b(x)), notebook 9's
convention) and N the network. Huang et al. train on consecutive frames of real videos, with their
optical flow; with only still photos, the pairs are made here from the training crops: frame 2 is frame
1 moved by a small random affine motion (shift, rotation, zoom) whose flow is known exactly by
construction (``synthetic_motion``).
The warping is bilinear, as ``video.motion.warp`` (an application does not import another, so the
few lines are here too).
"""

import math

import torch
from torch.nn import functional as F

#: The synthetic motion's largest shift (px), rotation (degrees) and zoom (fraction) per pair.
MAX_SHIFT, MAX_ANGLE, MAX_ZOOM = 4.0, 1.5, 0.03


def warp_batch(pictures, flow):
    """``pictures`` (BxCxHxW) moved by ``flow`` (Bx2xHxW, px, x then y): out(x) = pictures(x + flow(x)),
    bilinear. Returns (warped, valid): ``valid`` (Bx1xHxW) is 1 where x + flow(x) lies inside the picture."""
    h, w = pictures.shape[-2:]
    ys, xs = torch.meshgrid(
        torch.arange(h, device=flow.device, dtype=flow.dtype),
        torch.arange(w, device=flow.device, dtype=flow.dtype),
        indexing="ij",
    )
    sx, sy = xs + flow[:, 0], ys + flow[:, 1]
    grid = torch.stack([2 * sx / max(w - 1, 1) - 1, 2 * sy / max(h - 1, 1) - 1], dim=-1)
    warped = F.grid_sample(
        pictures, grid.to(pictures.dtype), mode="bilinear", padding_mode="border", align_corners=True
    )
    valid = ((sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)).to(pictures.dtype)[:, None]
    return warped, valid


def affine_flow(batch, height, width, shift, angle, zoom, device="cpu"):
    """The backward flow (Bx2xHxW) of an affine motion per picture: frame 2's pixel x shows frame 1's
    pixel c + s R(angle) (x - c) + shift (c the centre, s = 1 + zoom). ``shift``: Bx2 px; ``angle``: B
    degrees; ``zoom``: B fractions."""
    ys, xs = torch.meshgrid(
        torch.arange(height, device=device, dtype=torch.float32),
        torch.arange(width, device=device, dtype=torch.float32),
        indexing="ij",
    )
    cx, cy = (width - 1) / 2, (height - 1) / 2
    dx, dy = xs - cx, ys - cy
    theta = angle.to(device).float() * math.pi / 180
    s = (1 + zoom.to(device).float())[:, None, None]
    cos, sin = torch.cos(theta)[:, None, None], torch.sin(theta)[:, None, None]
    src_x = cx + s * (cos * dx - sin * dy) + shift[:, 0, None, None].to(device)
    src_y = cy + s * (sin * dx + cos * dy) + shift[:, 1, None, None].to(device)
    return torch.stack([src_x - xs, src_y - ys], dim=1)


def synthetic_motion(frames, generator=None, max_shift=MAX_SHIFT, max_angle=MAX_ANGLE, max_zoom=MAX_ZOOM):
    """Second frames for ``frames`` (Bx3xHxW), each moved by its own random affine motion (shift up to
    ``max_shift`` px each way, rotation up to ``max_angle`` degrees, zoom up to ``max_zoom``).
    Returns (frames_2, flow, valid): frames_2(x) = frames(x + flow(x)) exactly where ``valid`` is 1."""
    b, _, h, w = frames.shape
    rand = lambda *shape: 2 * torch.rand(*shape, generator=generator) - 1  # noqa: E731  uniform in [-1, 1]
    flow = affine_flow(b, h, w, max_shift * rand(b, 2), max_angle * rand(b), max_zoom * rand(b), frames.device)
    second, valid = warp_batch(frames, flow)
    return second, flow, valid


def temporal_loss(output_1, output_2, flow, valid):
    """Mean over the valid pixels (and channels) of |output_2 - w(output_1)|^2, w the warp by ``flow``."""
    warped, inside = warp_batch(output_1, flow)
    mask = (valid * inside).expand_as(warped)
    return ((output_2 - warped).pow(2) * mask).sum() / mask.sum().clamp_min(1)


def pair_loss(network, frames, output_1, generator=None):
    """The temporal term for one batch: a second frame per crop by ``synthetic_motion``, painted by
    ``network``, against the first output (``output_1 = network(frames)``) moved by the same motion."""
    second, flow, valid = synthetic_motion(frames, generator)
    return temporal_loss(output_1, network(second).float(), flow, valid)
