"""Figures for the course: rows of images, loss curves and Gram-matrix heatmaps (matplotlib)."""

import math

import torch
from PIL import Image

from .images import to_pil


def _pyplot():
    import matplotlib.pyplot as plt  # imported when first plotting: keeps the command line's start quick

    return plt


def _as_pil(image):
    return image if isinstance(image, Image.Image) else to_pil(image)


def show_images(images, titles=None, ncols=None, size=3.0, suptitle=None):
    """Show images (tensors or PIL) in a grid with titles; returns the figure."""
    images = list(images)
    titles = list(titles) if titles is not None else [""] * len(images)
    ncols = ncols or len(images)
    nrows = math.ceil(len(images) / ncols)
    pils = [_as_pil(im) for im in images]
    aspect = max(p.height / p.width for p in pils)
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(size * ncols, size * nrows * aspect + 0.4 * nrows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, pil, title in zip(axes.flat, pils, titles):
        ax.imshow(pil)
        ax.set_title(title, fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_losses(history, title="losses", log=True, ax=None):
    """Plot the weighted content, style, tv and total losses per step from a result's ``history``."""
    if ax is None:
        fig, ax = _pyplot().subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for key in ("content", "style", "tv", "total"):
        values = history.get(key, [])
        if values and any(v > 0 for v in values):
            ax.plot(range(1, len(values) + 1), values, label=key, lw=1.5 if key == "total" else 1)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step (one forward + backward pass)")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


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
