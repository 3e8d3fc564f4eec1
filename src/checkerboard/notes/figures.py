"""The notes' pictures: padding, pooling and the transposed convolution drawn from the real ops."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; no display needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from checkerboard import arithmetic
from checkerboard.notes import examples as notes  # noqa: E402
from checkerboard.pictures.plots import PIXEL_COLOURS, cells, figure, frame, grid2d, outline


@figure("padding", group="notes")
def padding_figure(i: int = 5, k: int = 3) -> Figure:
    """Valid, same and full padding of a 5x5 image: how many outputs each pixel reaches."""
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 4.3))
    shades = plt.get_cmap("Blues")
    for ax, mode in zip(axes, ("valid", "same", "full")):
        p = arithmetic.padding_for(mode, k)
        o = F.conv2d(torch.zeros(1, 1, i, i), torch.ones(1, 1, k, k), padding=p).shape[-1]
        # Sending a 1 back from every output along a kernel of ones counts the outputs each pixel feeds.
        reach = grid2d(F.conv_transpose2d(torch.ones(1, 1, o, o), torch.ones(1, 1, k, k), padding=p))
        side = i + 2 * (arithmetic.padding_for("full", k))  # every panel on the widest canvas
        shift = (side - i - 2 * p) / 2
        padded = i + 2 * p
        cells(ax, torch.zeros(padded, padded), shift, shift, fill=lambda r, c: "0.88", fontsize=8,
              only=lambda r, c: not (p <= r < p + i and p <= c < p + i))
        # Light shades only, so the numbers stay readable on the darkest cell.
        cells(ax, reach, shift + p, shift + p, fill=lambda r, c: shades(0.05 + 0.4 * reach[r, c].item() / (k * k)))
        outline(ax, shift, shift, k, k, "#d62728")  # the kernel at its first position
        outline(ax, shift + p, shift + p, i, i, "black")
        frame(ax, side, side, f"'{mode}': p = {p}, {i}x{i} \u2192 {o}x{o}")
    fig.suptitle(f"Padding a {i}x{i} image for a {k}x{k} kernel (red: its first position). "
                 "Each pixel shows how many outputs it feeds; grey: zero padding", fontsize=10)
    fig.tight_layout()
    return fig


@figure("pooled", group="notes")
def pooled_figure() -> Figure:
    """2x2 max pooling of the notes' 4x4 input, the selected pixels and where the gradient goes."""
    x = notes.POOL_4.clone().requires_grad_()
    pooled, chosen = F.max_pool2d(x, kernel_size=2, stride=2, return_indices=True)
    pooled.sum().backward()
    winners = set(chosen.flatten().tolist())
    tint = ["#c6dbef", "#fcbba1", "#c7e9c0", "#fdd0a2"]  # one pastel per window

    def window(r: int, c: int) -> int:
        return (r // 2) * 2 + c // 2

    def colour_input(r: int, c: int) -> str:
        return PIXEL_COLOURS[window(r, c)] if r * 4 + c in winners else tint[window(r, c)]

    fig, axes = plt.subplots(1, 3, figsize=(9, 3.6), gridspec_kw={"width_ratios": [4, 4, 4]})
    cells(axes[0], grid2d(x.detach()), fill=colour_input, bold=lambda r, c: r * 4 + c in winners)
    frame(axes[0], 4, 4, "input 4x4: 2x2 windows,\nthe maximum of each in strong colour")
    cells(axes[1], grid2d(pooled.detach()), 1, 1, fill=lambda r, c: PIXEL_COLOURS[r * 2 + c],
          bold=lambda r, c: True)
    frame(axes[1], 4, 4, "F.max_pool2d(x, 2, stride=2)\n2x2 output")
    cells(axes[2], grid2d(x.grad), fill=lambda r, c: colour_input(r, c) if r * 4 + c in winners else "white")
    frame(axes[2], 4, 4, "gradient of the output's sum:\n1 at each selected pixel, 0 elsewhere")
    for r, c in ((0, 0), (0, 2), (2, 0), (2, 2)):
        for ax in (axes[0], axes[2]):
            outline(ax, c, r, 2, 2, "black")
    fig.tight_layout()
    return fig


def _copies(x: torch.Tensor, k: int, s: int) -> list[torch.Tensor]:
    """Where each input pixel's copy of a k x k kernel lands: a transposed conv of that pixel alone."""
    one_hot = torch.eye(x.numel()).view(-1, 1, *x.shape[-2:])
    return list(F.conv_transpose2d(one_hot, torch.ones(1, 1, k, k), stride=s)[:, 0] > 0)


def _transpose_row(axes, x: torch.Tensor, w: torch.Tensor, s: int, label: str) -> None:
    k = w.shape[-1]
    out = grid2d(F.conv_transpose2d(x, w, stride=s))
    overlap = grid2d(F.conv_transpose2d(torch.ones_like(x, dtype=torch.float32),
                                        torch.ones(1, 1, k, k), stride=s)).int()
    greys = {1: "white", 2: "0.82", 4: "0.62"}
    width = arithmetic.transposed_conv_output_size(2, 3, 2)  # the widest output in the figure
    cells(axes[0], grid2d(x), 0, 1.5, fill=lambda r, c: PIXEL_COLOURS[r * 2 + c] + "55")
    frame(axes[0], 2, width, f"{label}\ninput x")
    cells(axes[1], grid2d(w), 0, 1.5 - (k - 2) / 2, fill=lambda r, c: "0.93")
    frame(axes[1], 3, width, f"kernel w, {k}x{k}")
    at = (width - out.shape[-1]) / 2
    cells(axes[2], out, at, at, fill=lambda r, c: greys.get(overlap[r, c].item(), "0.5"))
    for n, mask in enumerate(_copies(x, k, s)):
        rows, cols = mask.nonzero().T
        inset = 0.06 + 0.07 * n  # stagger the outlines so overlapping copies stay visible
        outline(axes[2], at + cols.min().item(), at + rows.min().item(), k, k, PIXEL_COLOURS[n], inset,
                linestyle="-" if n % 2 == 0 else "--")
    counts = sorted(set(overlap.flatten().tolist()))
    frame(axes[2], width, width, f"F.conv_transpose2d(x, w, stride={s}): {out.shape[-1]}x{out.shape[-1]}\n"
          f"copies per output: {', '.join(map(str, counts))} (darker grey: more)")


@figure("transpose", group="notes")
def transpose_figure() -> Figure:
    """A 2x2 input through stride-2 transposed convolutions: where each copy lands and overlaps."""
    fig, axes = plt.subplots(2, 3, figsize=(10, 7.6), gridspec_kw={"width_ratios": [2, 3, 5]})
    _transpose_row(axes[0], notes.T_INPUT, notes.T_KERNEL, 2, "the notes: k = 2, s = 2")
    _transpose_row(axes[1], notes.T_INPUT, torch.ones(1, 1, 3, 3, dtype=torch.int64), 2, "k = 3, s = 2")
    fig.suptitle("Each input pixel stamps a copy of the kernel (outlined in its colour) s pixels apart;\n"
                 "where copies overlap, their values add", fontsize=11)
    fig.tight_layout()
    return fig
