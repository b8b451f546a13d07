"""Figures for the course: rows of images, loss curves and Gram-matrix heatmaps (matplotlib)."""

import math

import torch
from PIL import Image

from .images import to_pil
from .objective import PARTS


def _pyplot():
    import matplotlib.pyplot as plt  # imported when first plotting: keeps the command line's start quick

    return plt


def _as_pil(image):
    return image if isinstance(image, Image.Image) else to_pil(image)


def show_images(images, titles=None, ncols=None, size=3.0, suptitle=None, fontsize=14):
    """Show images (tensors or PIL) in a grid with titles (14 pt by default: legible on a projector
    once the figure is scaled to the page's width); returns the figure."""
    images = list(images)
    titles = list(titles) if titles is not None else [""] * len(images)
    ncols = ncols or len(images)
    nrows = math.ceil(len(images) / ncols)
    pils = [_as_pil(im) for im in images]
    aspect = max(p.height / p.width for p in pils)
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(size * ncols, size * nrows * aspect + 0.6 * nrows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, pil, title in zip(axes.flat, pils, titles):
        ax.imshow(pil)
        ax.set_title(title, fontsize=fontsize)
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize + 2)
    fig.tight_layout()
    return fig


def draw_losses(ax, history, keys=PARTS, log=True, marks=(), fontsize=10):
    """Draw the losses named by ``keys`` from a ``history`` (one value per step) on ``ax``; vertical
    lines at the steps in ``marks`` (where the weights changed)."""
    for key in keys:
        values = history.get(key, [])
        if values and any(v > 0 for v in values):
            ax.plot(range(1, len(values) + 1), values, label=key.replace("_", " "), lw=1.5 if key == "total" else 1)
    for step in marks:
        ax.axvline(step, color="0.6", lw=0.8, ls="--")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step (one forward + backward pass)", fontsize=fontsize)
    ax.set_ylabel("loss", fontsize=fontsize)
    ax.tick_params(labelsize=fontsize)
    if ax.lines:
        ax.legend(fontsize=fontsize)


def plot_losses(history, title="losses", log=True, ax=None):
    """Plot the weighted content, style, tv and total losses per step from a result's ``history``."""
    if ax is None:
        fig, ax = _pyplot().subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    draw_losses(ax, history, log=log)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def loss_plot_png(history, keys=("content_loss", "style_loss"), marks=(), width=4.0, height=2.4, dpi=80, fontsize=8,
                  title=None):
    """A loss plot as PNG bytes, drawn on matplotlib's Agg canvas (no pyplot state: safe from a thread)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw_losses(ax, history, keys=keys, marks=marks, fontsize=fontsize)
    if title:
        ax.set_title(title, fontsize=fontsize)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def show_grams(grams, titles, size=3.2, max_channels=64):
    """Heatmaps of Gram matrices (C x C, or 1 x C x C), the first ``max_channels`` channels of each."""
    fig, axes = _pyplot().subplots(1, len(grams), figsize=(size * len(grams), size), squeeze=False)
    for ax, gram, title in zip(axes.flat, grams, titles):
        g = gram.detach().float().cpu()
        g = g[0] if g.dim() == 3 else g
        g = g[:max_channels, :max_channels]
        im = ax.imshow(torch.log10(g.abs() + 1e-8).numpy(), cmap="magma")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("channel")
        ax.set_ylabel("channel")
        fig.colorbar(im, ax=ax, fraction=0.046, label="log10 |G|")
    fig.tight_layout()
    return fig
