"""Video: style transfer frame by frame, kept steady with optical flow (Ruder, Dosovitskiy and Brox 2016).

Notebook 9's chapter, in five modules:

=========  ==================================================================================
motion     the ideas the chapter teaches: optical flow, warping, occlusion masks, warping error
clips      clips in: ``Clip``, ``read_clip`` (files, folders, lists, tensors), the bundled clip
output     clips out: ``write_clip`` (MP4 / MOV / AVI, GIF, PNG frames), ``show_clips``
paint      ``stylize_video``, ``VideoConfig``: three ways to paint a clip (``METHODS``), and a network
network    a trained real-time network applied frame by frame (``paint_with_network``)
=========  ==================================================================================

Notation (notebook 9): frames p_1 .. p_T, stylised pictures S_1 .. S_T, pixel positions x.
"""

from .clips import DEFAULT_MAX_FRAMES, EXAMPLE_CLIP, MAX_FRAMES, Clip, example_clip, opencv, read_clip
from .motion import (
    CONSISTENCY,
    FLOW_METHODS,
    MOTION_BOUNDARY,
    clip_flows,
    estimate_flow,
    flow_to_rgb,
    occlusion_mask,
    warp,
    warping_error,
)
from .network import NETWORK_METHOD, paint_with_network
from .output import WRITE_SUFFIXES, check_clip_output, clips_html, gif_bytes, show_clips, video_format, write_clip
from .paint import (
    ALL_METHODS,
    DEFAULT_TEMPORAL_WEIGHT,
    DEFAULT_TOL,
    METHODS,
    VIDEO_OPTIONS,
    VideoConfig,
    VideoResult,
    make_video_config,
    stylize_video,
)

__all__ = [
    "ALL_METHODS",
    "NETWORK_METHOD",
    "paint_with_network",
    "CONSISTENCY",
    "Clip",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_TEMPORAL_WEIGHT",
    "DEFAULT_TOL",
    "EXAMPLE_CLIP",
    "FLOW_METHODS",
    "MAX_FRAMES",
    "METHODS",
    "MOTION_BOUNDARY",
    "VIDEO_OPTIONS",
    "VideoConfig",
    "VideoResult",
    "WRITE_SUFFIXES",
    "check_clip_output",
    "clip_flows",
    "clips_html",
    "estimate_flow",
    "example_clip",
    "flow_to_rgb",
    "gif_bytes",
    "make_video_config",
    "occlusion_mask",
    "opencv",
    "read_clip",
    "show_clips",
    "stylize_video",
    "video_format",
    "warp",
    "warping_error",
    "write_clip",
]
