"""Plotting helpers shared by the lecture notebooks.

The lectures draw the same few kinds of figure over and over (image grids, labelled heatmaps,
train/test curves, block diagrams of networks). Keeping them here means every notebook looks the
same and each notebook's code cells stay about the idea they teach, not about matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

# Anything np.asarray accepts, or a torch tensor (this module does not import torch).
ArrayLike = Any

# One palette for the whole course, so "train" and "test" keep their colours across lectures.
COLORS: tuple[str, ...] = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")


def use_style() -> None:
    """Set one readable style for every lecture (call once, in the setup cell).

    Figures are small and dense on purpose: a notebook shows them inline, between paragraphs.
    """
    mpl.rcParams.update(
        {
            "figure.figsize": (6.0, 3.6),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "image.cmap": "viridis",
            "axes.prop_cycle": mpl.cycler(color=list(COLORS)),
        }
    )


def _to_numpy(x: ArrayLike) -> np.ndarray:
    """Accept torch tensors (on any device, with or without grad) as well as arrays."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _squeeze_channels(arr: np.ndarray) -> np.ndarray:
    """[N, 1, H, W] -> [N, H, W] and [N, 3, H, W] -> [N, H, W, 3], what imshow expects."""
    if arr.ndim == 4 and arr.shape[1] == 1:
        return arr[:, 0]
    if arr.ndim == 4 and arr.shape[1] == 3:
        return arr.transpose(0, 2, 3, 1)
    return arr


def show_images(
    images: ArrayLike | Sequence[ArrayLike],
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str = "gray_r",
    size: float = 1.1,
    suptitle: str | None = None,
    **imshow_kwargs: Any,
) -> Figure:
    """Show a batch of images [N, H, W] or [N, 1, H, W] (or [N, 3, H, W]) as a grid.

    `images` may also be a list of images of different sizes (an input next to its pooled
    version). Used for digits, feature maps and filters alike; each image gets its own colour
    scale so a feature map with small values is still visible, unless `vmin`/`vmax` are passed
    through `imshow_kwargs` (weights are best shown on one symmetric scale).
    """
    if isinstance(images, (list, tuple)):
        arr = [_squeeze_channels(_to_numpy(im)[None])[0] for im in images]
    else:
        arr = _squeeze_channels(_to_numpy(images))
    n = len(arr)
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if suptitle else 0)))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(arr[i], cmap=cmap, **imshow_kwargs)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def heatmap(
    matrix: ArrayLike,
    ax: Axes | None = None,
    xlabels: Sequence[str] | None = None,
    ylabels: Sequence[str] | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    cmap: str = "viridis",
    annotate: bool = False,
    fmt: str = ".2f",
    colorbar: bool = True,
    **imshow_kwargs: Any,
) -> Axes:
    """Draw a 2-D array as a labelled heatmap (attention maps, bigram tables, encodings).

    Tick labels are shown only when given, and `annotate` writes each value in its cell, which is
    what a reader needs for small matrices such as a 6x6 attention map.
    """
    m = _to_numpy(matrix)
    if ax is None:
        _, ax = plt.subplots()
    im = ax.imshow(m, cmap=cmap, aspect="auto", **imshow_kwargs)
    ax.grid(False)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), labels=list(xlabels), fontsize=8)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), labels=list(ylabels), fontsize=8)
    if annotate:
        for (i, j), v in np.ndenumerate(m):
            r, g, b, _ = im.cmap(im.norm(v))
            light = 0.299 * r + 0.587 * g + 0.114 * b > 0.5  # dark text on light cells, and vice versa
            ax.text(
                j,
                i,
                format(v, fmt),
                ha="center",
                va="center",
                fontsize=7,
                color="black" if light else "white",
            )
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


def plot_curves(
    curves: Mapping[str, ArrayLike],
    x: ArrayLike | Mapping[str, ArrayLike] | None = None,
    ax: Axes | None = None,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
    marker: str | None = None,
) -> Axes:
    """Plot named curves (train/validation/test, or one per setting) on shared axes.

    `x` is either one sequence shared by every curve or a mapping giving each curve its own.
    """
    if ax is None:
        _, ax = plt.subplots()
    for name, ys in curves.items():
        ys = _to_numpy(ys)
        xs = x.get(name) if isinstance(x, Mapping) else x
        xs = np.arange(1, len(ys) + 1) if xs is None else _to_numpy(xs)
        ax.plot(xs, ys, label=name, marker=marker)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    return ax


def draw_blocks(
    labels: Sequence[str],
    ax: Axes | None = None,
    colors: Sequence[str] | None = None,
    skips: Sequence[tuple[int, int]] = (),
    title: str | None = None,
    width: float = 2.4,
) -> Axes:
    """Draw a network as a bottom-to-top stack of boxes, the way LBDL draws architectures.

    `labels[0]` is the input, drawn at the bottom; `skips` holds (i, j) pairs meaning "the output
    of box i is added to the output of box j" and is drawn as a bypass on the right.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(0.7 * width + 1.2, 0.5 * len(labels) + 0.5))
    n = len(labels)
    colors = list(colors) if colors is not None else ["#e8eef7"] * n
    h, gap = 0.6, 0.45
    ys = [i * (h + gap) for i in range(n)]
    for i, (lab, y) in enumerate(zip(labels, ys, strict=True)):
        ax.add_patch(
            FancyBboxPatch(
                (-width / 2, y),
                width,
                h,
                boxstyle="round,pad=0.02,rounding_size=0.12",
                fc=colors[i],
                ec="0.3",
                lw=1,
            )
        )
        ax.text(0, y + h / 2, lab, ha="center", va="center", fontsize=8)
        if i + 1 < n:
            ax.add_patch(
                FancyArrowPatch((0, y + h), (0, ys[i + 1]), arrowstyle="-|>", mutation_scale=9, color="0.3")
            )
    for k, (i, j) in enumerate(skips):
        # leave box i's top, run up on the right, and join the main path just above box j, at a "+" node
        x_side = width / 2 + 0.35 + 0.25 * k
        y_from, y_to = ys[i] + h + gap / 2, ys[j] + h + gap / 2
        ax.plot([0, x_side, x_side], [y_from, y_from, y_to], color=COLORS[1], lw=1.2)
        ax.add_patch(
            FancyArrowPatch(
                (x_side, y_to), (0.14, y_to), arrowstyle="-|>", mutation_scale=9, color=COLORS[1], lw=1.2
            )
        )
        ax.add_patch(Circle((0, y_to), 0.13, fc="white", ec=COLORS[1], lw=1.2, zorder=3))
        ax.text(0, y_to, "+", color=COLORS[1], fontsize=9, ha="center", va="center", zorder=4)
    ax.set_xlim(-width / 2 - 0.3, width / 2 + 0.6 + 0.25 * len(skips))
    ax.set_ylim(-0.3, ys[-1] + h + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
