"""Motion, the ideas of notebook 9 (Ruder, Dosovitskiy and Brox 2016): optical flow, warping, occlusion
masks and the warping error.

* Optical flow. The *backward* flow b_t of frame t says where each of its pixels was in frame t-1:
  p_t(x) ~ p_{t-1}(x + b_t(x)); the *forward* flow f_t says where each pixel of frame t-1 goes in
  frame t. Both are estimated by OpenCV (DIS or Farneback) on the grey frames, in pixels, and
  stored as 1x2xHxW tensors (x then y).
* Warping: w(S_{t-1})(x) = S_{t-1}(x + b_t(x)), sampled bilinearly with ``grid_sample``.
* Occlusions: where following b_t and then f_t does not come back to the start, the pixel was hidden
  in frame t-1 (or the flow is wrong there); motion boundaries are unreliable too. The mask c_t is 1
  where the flow can be trusted (Ruder et al.'s two tests, ``occlusion_mask``).
* Stability: the warping error mean |S_t - w(S_{t-1})| over the pixels with c_t = 1, averaged over t.
"""

import math

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..checks import check_choice
from ..errors import NSTError
from ..images import pil_to_tensor
from .clips import opencv

#: Optical flow estimators (OpenCV).
FLOW_METHODS = ("dis", "farneback")
#: Ruder et al.'s thresholds for the forward-backward check and for motion boundaries.
CONSISTENCY = (0.01, 0.5)
MOTION_BOUNDARY = (0.01, 0.002)


def _grey_uint8(picture):
    rgb = picture.detach().float().cpu().clamp(0, 1)[0]
    grey = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return (grey * 255 + 0.5).to(torch.uint8).numpy()


def estimate_flow(a, b, method="dis"):
    """The optical flow from picture ``a`` to picture ``b`` (1x3xHxW each): a 1x2xHxW tensor of
    pixel offsets (x, y) with a(x) ~ b(x + flow(x)), estimated by OpenCV's DIS (default) or Farneback."""
    method = check_choice(method, FLOW_METHODS, "flow method")
    if a.shape != b.shape:
        raise NSTError(
            f"the two frames differ in shape ({tuple(a.shape)} and {tuple(b.shape)}): give frames of one size"
        )
    cv2 = opencv()
    ga, gb = _grey_uint8(a), _grey_uint8(b)
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        flow = dis.calc(ga, gb, None)
    else:
        flow = cv2.calcOpticalFlowFarneback(
            ga, gb, None, pyr_scale=0.5, levels=4, winsize=15, iterations=5, poly_n=5, poly_sigma=1.1, flags=0
        )
    return torch.from_numpy(np.ascontiguousarray(flow)).permute(2, 0, 1)[None].float().to(a.device)


def warp(picture, flow):
    """``picture`` (1xCxHxW) moved by ``flow`` (1x2xHxW): out(x) = picture(x + flow(x)), bilinear.

    Returns (warped, inside): ``inside`` (1x1xHxW) is 1 where x + flow(x) lies within the picture
    (elsewhere the nearest border pixel is used and the value means nothing).
    """
    h, w = picture.shape[-2:]
    ys, xs = torch.meshgrid(
        torch.arange(h, device=flow.device, dtype=flow.dtype),
        torch.arange(w, device=flow.device, dtype=flow.dtype),
        indexing="ij",
    )
    sx, sy = xs + flow[:, 0], ys + flow[:, 1]
    grid = torch.stack([2 * sx / max(w - 1, 1) - 1, 2 * sy / max(h - 1, 1) - 1], dim=-1)
    warped = F.grid_sample(picture, grid.to(picture.dtype), mode="bilinear", padding_mode="border", align_corners=True)
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


def flow_to_rgb(flow, max_magnitude=None):
    """A flow field (1x2xHxW) as a picture (1x3xHxW): hue is the direction, brightness the length
    (``max_magnitude`` px is full brightness; default the field's largest)."""
    fx, fy = flow[0, 0].cpu(), flow[0, 1].cpu()
    mag = torch.sqrt(fx**2 + fy**2)
    top = float(max_magnitude or mag.max().clamp_min(1e-6))
    hue = (torch.atan2(fy, fx) / (2 * math.pi)) % 1.0
    value = (mag / top).clamp(0, 1)
    hsv = torch.stack([hue, torch.ones_like(hue), value], dim=-1).numpy()
    rgb = Image.fromarray((hsv * 255).astype(np.uint8), "HSV").convert("RGB")
    return pil_to_tensor(rgb)
