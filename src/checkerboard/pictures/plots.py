"""Matplotlib helpers every figure shares, the figure registry, and the two figures TensorBoard shows."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
import torch

matplotlib.use("Agg")  # files only; no display needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from checkerboard.formatting import number  # noqa: E402
from checkerboard.models.builders import DecoderSpec
from checkerboard.models.phases import overlap_counts


def plot_radial_spectra(ax, curves: dict[str, torch.Tensor], styles=None, **line) -> None:
    """On ``ax``: the mean radial power spectrum (``spectra.radial_spectrum``) of each named set of images,
    log axis, against frequency in cycles per pixel; the top half of the rings, where ``spectral_error``
    is taken, shaded."""
    from checkerboard.measures.spectra import radial_spectrum

    for i, (name, images) in enumerate(curves.items()):
        s = radial_spectrum(images.float()).mean(0).cpu()
        size = images.shape[-1]
        ax.semilogy(torch.arange(len(s)) / size, s.clamp_min(1e-12), *([styles[i]] if styles else []), label=name,
                    **line)
    ax.axvspan(len(s) // 2 / size, (len(s) - 1) / size, color="grey", alpha=0.15, label="spectral error taken")


def radial_spectra_figure(samples: torch.Tensor, real: torch.Tensor, label: str = "samples"):
    """``plot_radial_spectra`` of samples against real images, as a figure for TensorBoard."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 3.0), dpi=80, layout="constrained")  # not pyplot's: nothing keeps it alive
    ax = fig.subplots()
    plot_radial_spectra(ax, {"real (validation)": real, label: samples})
    ax.set(xlabel="frequency (cycles / pixel; corners past 0.5)", ylabel="mean power per ring")
    ax.legend(fontsize=7)
    return fig


def overlap_figure(decoder: str | DecoderSpec, depth: int):
    """``overlap_counts`` of two periods of the central region as a matplotlib figure: each cell
    with its count, and a colour bar (the counts are the scale)."""
    from matplotlib.figure import Figure

    spec = DecoderSpec.parse(decoder)
    counts = overlap_counts(spec, depth)
    p = 2**depth
    centre = counts[2 * p:4 * p, 2 * p:4 * p]  # two periods, away from the zero-padded border
    fig = Figure(figsize=(3.6, 3.0), dpi=80, layout="constrained")  # not pyplot's: nothing keeps it alive
    ax = fig.subplots()
    heatmap(ax, centre, 0, float(centre.max()), lambda v: f"{v:g}", fontsize=7)
    ax.set_title(f"{spec.label}: kernel taps per output pixel", fontsize=8)
    fig.colorbar(ax.images[0], ax=ax, shrink=0.8)
    return fig


DPI = 100  # small PNGs (tens of KB) that stay legible on GitHub


FIGURES: dict[str, Callable[[], Figure]] = {}


GROUPS: dict[str, list[str]] = {}


# One colour per input pixel, reused wherever that pixel's influence is drawn.
PIXEL_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"]


def figure(name: str, group: str):
    """Register a figure-drawing function under ``name`` (the PNG's stem) in ``group``."""
    def register(draw: Callable[[], Figure]) -> Callable[[], Figure]:
        FIGURES[name] = draw
        GROUPS.setdefault(group, []).append(name)
        return draw
    return register


def cells(ax, values: torch.Tensor, x0: float = 0, y0: float = 0, fill=None, bold=None, only=None,
          fontsize: int = 10) -> None:
    """Draw a 2D tensor as a grid of squares, row 0 at the top, each with its number.

    ``fill``, ``bold`` and ``only`` are optional functions of (row, col): a face colour, whether
    the number is bold, whether to draw that cell at all.
    """
    for (r, c), v in zip(torch.cartesian_prod(*map(torch.arange, values.shape)).tolist(), values.flatten().tolist()):
        if only and not only(r, c):
            continue
        ax.add_patch(Rectangle((x0 + c, y0 + r), 1, 1, facecolor=fill(r, c) if fill else "white",
                               edgecolor="0.55", linewidth=0.8))
        ax.text(x0 + c + 0.5, y0 + r + 0.5, number(v), ha="center", va="center", fontsize=fontsize,
                fontweight="bold" if bold and bold(r, c) else "normal")


def frame(ax, width: float, height: float, title: str = "") -> None:
    """Square cells, y pointing down like matrix rows, no axes."""
    ax.set_xlim(-0.15, width + 0.15)
    ax.set_ylim(height + 0.15, -0.15)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def outline(ax, x: float, y: float, w: float, h: float, colour: str, inset: float = 0.0, **kwargs) -> None:
    ax.add_patch(Rectangle((x + inset, y + inset), w - 2 * inset, h - 2 * inset, fill=False,
                           edgecolor=colour, linewidth=2.2, **kwargs))


def grid2d(t: torch.Tensor) -> torch.Tensor:
    return t[0, 0]


def heatmap(ax, values: torch.Tensor, vmin: float, vmax: float, fmt, fontsize: float, cmap: str = "magma") -> None:
    """``values`` as coloured cells (``vmin``..``vmax`` of ``cmap``) with ``fmt(v)`` written in each."""
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    colours = plt.get_cmap(cmap)
    span = max(vmax - vmin, 1e-12)
    for (r, c), v in zip(torch.cartesian_prod(*map(torch.arange, values.shape)).tolist(), values.flatten().tolist()):
        red, green, blue, _ = colours(min(max((v - vmin) / span, 0.0), 1.0))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # perceived brightness of the cell
        ax.text(c, r, fmt(v), ha="center", va="center", fontsize=fontsize, color="white" if dark else "black")
    ax.set_xticks([])
    ax.set_yticks([])
