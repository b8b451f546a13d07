"""The alpha/beta laboratory (notebook 6): a live style transfer and the widgets that drive it.

=========  ==================================================================================
live       ``LiveSession`` (a worker thread owns the optimisation; commands reach it safely) and
           ``beta_sweep`` (one picture per style weight)
widgets    ``Lab``: sliders, buttons and previews over a live session (ipywidgets 7 or 8)
display    what the laboratory shows besides widgets: CSS, numbers and progress as text, thumbnails
=========  ==================================================================================
"""

from .display import SWEEP_DECADES, fmt, mix_text, png_bytes, progress_text, style_label, sweep_values_around
from .live import STATES, LiveSession, SweepResult, Update, beta_sweep
from .widgets import Lab

__all__ = [
    "Lab",
    "LiveSession",
    "STATES",
    "SWEEP_DECADES",
    "SweepResult",
    "Update",
    "beta_sweep",
    "fmt",
    "mix_text",
    "png_bytes",
    "progress_text",
    "style_label",
    "sweep_values_around",
]
