"""Figures for the course (matplotlib): rows of images, loss curves, Gram-matrix heatmaps, feature maps,
receptive fields and a diagram of the method.

Sizes suit a projector: panels 4 in wide and 14 pt labels by default, content | style | result in that
order wherever the three appear together."""

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


def show_images(images, titles=None, ncols=None, size=4.0, suptitle=None, fontsize=14):
    """Show images (tensors or PIL) in a grid with titles (14 pt by default: legible on a projector
    once the figure is scaled to the page's width); returns the figure."""
    images = list(images)
    titles = list(titles) if titles is not None else [""] * len(images)
    ncols = ncols or len(images)
    nrows = math.ceil(len(images) / ncols)
    pils = [_as_pil(im) for im in images]
    aspect = max(p.height / p.width for p in pils)
    fig, axes = _pyplot().subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * aspect + 0.6 * nrows), squeeze=False
    )
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


def plot_losses(history, title="losses", log=True, ax=None, fontsize=14):
    """Plot the weighted content, style, tv and total losses per step from a result's ``history``."""
    if ax is None:
        fig, ax = _pyplot().subplots(figsize=(8, 4.5))
    else:
        fig = ax.figure
    draw_losses(ax, history, log=log, fontsize=fontsize)
    ax.set_title(title, fontsize=fontsize)
    fig.tight_layout()
    return fig


def loss_plot_png(
    history, keys=("content_loss", "style_loss"), marks=(), width=4.0, height=2.4, dpi=80, fontsize=8, title=None
):
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


def _gram_panel(gram, order):
    g = gram.detach().float().cpu()
    g = g[0] if g.dim() == 3 else g
    return g[order][:, order]


def gram_order(grams, max_channels=32):
    """The channels to show: the ``max_channels`` with the largest mean diagonal (the most active
    channels) over all ``grams``, strongest first, the same for every panel so that they compare."""
    diag = sum(((g[0] if g.dim() == 3 else g).detach().float().cpu().diagonal()) for g in grams)
    return torch.argsort(diag, descending=True)[:max_channels]


def show_grams(grams, titles, size=4.0, max_channels=32, difference=False, fontsize=14):
    """Heatmaps of Gram matrices (C x C, or 1 x C x C) on one colour scale (log10 |G|), showing the same
    ``max_channels`` channels of each, the most active first (``gram_order``). ``difference=True``
    (two Gram matrices) adds a third panel: (second - first) / the largest |entry|, red where the second
    is larger, blue where it is smaller."""
    plt = _pyplot()
    if len({tuple(g.shape[-2:]) for g in grams}) > 1:
        raise ValueError(
            "show_grams compares Gram matrices of one layer (the same number of channels): call it once per layer"
        )
    order = gram_order(grams, max_channels)
    panels = [_gram_panel(g, order) for g in grams]
    logs = [torch.log10(p.abs() + 1e-8) for p in panels]
    vmax = max(float(lg.max()) for lg in logs)
    vmin = max(min(float(lg.min()) for lg in logs), vmax - 4)  # four decades: tiny entries look alike
    extra = 1 if difference else 0
    if difference and len(grams) != 2:
        raise ValueError("difference=True compares exactly two Gram matrices")
    fig, axes = plt.subplots(
        1,
        len(grams) + extra,
        figsize=(size * (len(grams) + extra) + 1.5, size + 0.3),
        squeeze=False,
        layout="constrained",
    )
    axes = axes[0]
    for ax, lg, title in zip(axes, logs, titles):
        im = ax.imshow(lg.numpy(), cmap="magma", vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=fontsize)
    fig.colorbar(im, ax=list(axes[: len(grams)]), fraction=0.03, label="log10 |G| (one scale)")
    if difference:
        scale = max(float(panels[0].abs().max()), float(panels[1].abs().max()), 1e-12)
        d = ((panels[1] - panels[0]) / scale).numpy()
        im = axes[-1].imshow(d, cmap="RdBu_r", vmin=-1, vmax=1)
        axes[-1].set_title("difference (2nd - 1st)", fontsize=fontsize)
        fig.colorbar(im, ax=axes[-1], fraction=0.046, label="/ largest |G|")
    for ax in axes:
        ax.set_xlabel(f"channel (top {len(order)}, most active first)", fontsize=fontsize - 3)
        ax.set_ylabel("channel", fontsize=fontsize - 3)
    return fig


def show_feature_maps(features, channels=4, size=4.0, fontsize=14):
    """What the network sees: for each layer in ``features`` (name -> 1 x C x H x W), the ``channels``
    most active channels (largest mean activation) as grey images, one row per layer."""
    plt = _pyplot()
    names = list(features)
    fig, axes = plt.subplots(len(names), channels, figsize=(size * channels, size * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        f = features[name].detach().float().cpu()[0]
        strongest = torch.argsort(f.mean((1, 2)), descending=True)[:channels]
        for ax, c in zip(row, strongest):
            ax.imshow(f[c].numpy(), cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{name} ch {int(c)} ({f.shape[1]}x{f.shape[2]})", fontsize=fontsize)
    fig.tight_layout()
    return fig


def show_receptive_fields(image, layers, size=6.0, fontsize=14):
    """The image with, centred on it, the square patch that one position of each layer sees
    (``layers.receptive_field``); a patch larger than the picture is drawn past its edges."""
    from .layers import receptive_field

    plt = _pyplot()
    pil = _as_pil(image)
    fig, ax = plt.subplots(figsize=(size * 1.6, size))
    ax.imshow(pil)
    cx, cy = pil.width / 2, pil.height / 2
    colours = plt.get_cmap("tab10")
    half = max([receptive_field(n) for n in layers] + [pil.width, pil.height]) / 2 + 2
    for k, name in enumerate(layers):
        rf = receptive_field(name)
        ax.add_patch(
            plt.Rectangle(
                (cx - rf / 2, cy - rf / 2), rf, rf, fill=False, lw=2.5, color=colours(k), label=f"{name}: {rf} px"
            )
        )
    ax.add_patch(plt.Rectangle((-0.5, -0.5), pil.width, pil.height, fill=False, lw=1, ls=":", color="0.3"))
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy + half, cy - half)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=fontsize - 2, frameon=False)
    ax.set_title(f"what one position sees ({pil.width}x{pil.height} px picture)", fontsize=fontsize)
    ax.axis("off")
    fig.tight_layout()
    return fig


def method_diagram(fontsize=12):
    """The method in one picture (the idea of Gatys et al.'s Fig. 2, drawn by the course): the painting,
    the generated picture and the photo go through the same VGG19; Gram matrices of the painting's and
    the picture's activations give the style loss, the activations at the content layer give the content
    loss, and the gradient of their weighted sum flows back to the picture's pixels."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 5.5))
    ax.set_xlim(-0.3, 12)
    ax.set_ylim(-0.2, 5.5)
    ax.axis("off")

    def box(x, y, text, colour, w=1.9, h=0.8):
        ax.add_patch(plt.Rectangle((x - w / 2, y - h / 2), w, h, facecolor=colour, edgecolor="0.2", lw=1.2))
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)

    def arrow(x0, y0, x1, y1, colour="0.2", text=None, style="-|>"):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=dict(arrowstyle=style, color=colour, lw=1.5))
        if text:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.15, text, ha="center", fontsize=fontsize - 2, color=colour)

    rows = {"painting $a$": 4.5, "picture $x$": 2.75, "photo $p$": 1.0}
    for name, y in rows.items():
        box(1.1, y, name, "#f2e6c9")
        box(3.9, y, "VGG19\n(fixed weights)", "#d9e4f2")
        arrow(2.05, y, 2.95, y)
    box(6.9, 4.5, "Gram matrices $A^l$\nconv1_1 ... conv5_1", "#e8d9f2", w=2.6)
    box(6.9, 3.35, "Gram matrices $G^l$", "#e8d9f2", w=2.6)
    box(6.9, 2.15, "activations $F^l$\nat the content layer", "#d9f2e0", w=2.6)
    box(6.9, 1.0, "activations $P^l$", "#d9f2e0", w=2.6)
    arrow(4.85, 4.5, 5.6, 4.5)
    arrow(4.85, 2.85, 5.6, 3.3)
    arrow(4.85, 2.65, 5.6, 2.2)
    arrow(4.85, 1.0, 5.6, 1.0)
    box(9.7, 3.9, "$\\mathcal{L}_{style} = \\sum_l w_l E_l$", "#f2d9d9", w=2.3)
    box(9.7, 1.6, "$\\mathcal{L}_{content}$", "#f2d9d9", w=2.3)
    arrow(8.2, 4.5, 8.55, 4.05)
    arrow(8.2, 3.35, 8.55, 3.75)
    arrow(8.2, 2.15, 8.55, 1.75)
    arrow(8.2, 1.0, 8.55, 1.45)
    box(11.1, 2.75, "$\\alpha\\,\\mathcal{L}_{content}$\n$+\\,\\beta\\,\\mathcal{L}_{style}$", "#f2c9c9", w=1.6, h=1.1)
    arrow(10.85, 3.5, 11.05, 3.3)
    arrow(10.85, 2.0, 11.05, 2.2)
    path = [(11.1, 2.2), (11.1, 0.3), (-0.1, 0.3), (-0.1, 2.75)]  # below the boxes, back to the picture
    ax.plot(*zip(*path), color="#b03030", lw=2, ls="--")
    arrow(-0.1, 2.75, 0.15, 2.75, colour="#b03030")
    ax.text(
        5.5,
        0.0,
        "the gradient of the loss with respect to the pixels of $x$ (back-propagation): "
        "L-BFGS changes $x$, nothing else",
        ha="center",
        fontsize=fontsize - 1,
        color="#b03030",
    )
    ax.text(1.1, 5.25, "inputs", ha="center", fontsize=fontsize, weight="bold")
    ax.text(3.9, 5.25, "one network", ha="center", fontsize=fontsize, weight="bold")
    ax.text(6.9, 5.25, "what is compared", ha="center", fontsize=fontsize, weight="bold")
    ax.text(10.4, 5.25, "losses", ha="center", fontsize=fontsize, weight="bold")
    return fig
