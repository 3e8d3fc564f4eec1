"""Figures drawn from the code, as PNGs for the README (`scripts/figures.py` is the command line).

Each figure is a function registered with ``@figure(name, group)``; each group gets its own flag
(``--notes`` draws the "notes" group). Every number drawn comes from running the torch op the
figure illustrates (or from training the real model), so a picture cannot disagree with the code.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed or wanted

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from checkerboard import ROOT, arithmetic, notes, visuals  # noqa: E402
from checkerboard.decoders import UPSAMPLERS  # noqa: E402
from checkerboard.formatting import number  # noqa: E402
from checkerboard.metrics import checkerboard_score  # noqa: E402

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


# --- drawing helpers -------------------------------------------------------------------------------

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


# --- the notes' three pictures ---------------------------------------------------------------------

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


# --- the README's figures: the artifacts at initialisation, and after a short training ----------

def _heatmap(ax, values: torch.Tensor, vmin: float, vmax: float, fmt, fontsize: float, cmap: str = "magma") -> None:
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


OVERLAP_SIDE = 12  # output pixels shown per side: 6 periods of one x2 layer, 3 of two


@figure("overlap", group="artifacts")
def overlap_figure() -> Figure:
    """Taps reaching each output pixel through one and two x2 layers of tconv, tconv4 and upsample."""
    names = ("tconv", "tconv4", "upsample")
    fig, axes = plt.subplots(2, 3, figsize=(10, 8.4))
    for row, depth in enumerate((1, 2)):
        p = 2**depth
        for ax, name in zip(axes[row], names):
            # A latent of 10 leaves a 12x12 window 2 periods away from the zero-padded border.
            counts = visuals.overlap_counts(name, depth, latent=10)[2 * p:2 * p + OVERLAP_SIDE,
                                                                    2 * p:2 * p + OVERLAP_SIDE]
            # Own scale per panel, from 0, so that a uniform panel is one flat colour.
            _heatmap(ax, counts, 0, counts.max().item(), number, fontsize=8)
            for k in range(p, OVERLAP_SIDE, p):  # the period of the stack, as thin lines
                ax.axhline(k - 0.5, color="0.6", linewidth=0.6)
                ax.axvline(k - 0.5, color="0.6", linewidth=0.6)
            values = counts.unique().int().tolist()
            spread = ("the same everywhere: " + number(values[0]) if len(values) == 1
                      else f"{', '.join(map(str, values))} ({values[-1] // values[0]}:1)")
            ax.set_title(f"{name}, {depth} layer{'s' * (depth > 1)}\ntaps per pixel: {spread}", fontsize=10)
    fig.suptitle(f"Kernel taps reaching each output pixel (one channel, every weight 1; the central "
                 f"{OVERLAP_SIDE}x{OVERLAP_SIDE} pixels; grey lines: one period)\ntconv (3x3, stride 2) "
                 "overlaps unevenly; tconv4 (4x4, stride 2) and upsample (nearest, then 3x3) evenly",
                 fontsize=11)
    fig.tight_layout()
    return fig


PHASE_TRIALS = 400  # random initialisations averaged: the estimate tests/test_artifacts.py checks


@figure("phase_variance", group="artifacts")
def phase_variance_figure() -> Figure:
    """Per-phase output variance of one random x2 layer of every decoder, relative to the smallest."""
    names = list(UPSAMPLERS)
    variances = {name: visuals.phase_variance(name, PHASE_TRIALS) for name in names}
    ratios = {name: v / v.min() for name, v in variances.items()}
    top = max(r.max().item() for r in ratios.values())
    # Taps per phase of one tconv layer with every weight 1: the variance ratio expected of it.
    taps = visuals.overlap_counts("tconv", 1)[4:6, 4:6]
    expected = taps / taps.min()
    fig, axes = plt.subplots(2, 3, figsize=(10, 7.6))
    for ax, name in zip(axes.flat, names):
        r = ratios[name]
        if name == "tconv":
            text = iter([f"{v:.2f}\n(expected {number(e)})" for v, e in zip(r.flatten().tolist(),
                                                                            expected.flatten().tolist())])
            _heatmap(ax, r, 1, top, lambda v: next(text), fontsize=11, cmap="YlOrBr")
            ratio = ":".join(number(e) for e in expected.flatten().sort().values.tolist())
            title = f"{name}: {ratio} expected (taps per phase)"
        else:
            _heatmap(ax, r, 1, top, lambda v: f"{v:.2f}", fontsize=12, cmap="YlOrBr")
            title = f"{name}: flat (max/min {r.max().item():.2f})"
        ax.set_xticks([0, 1], ["even col", "odd col"], fontsize=9)
        ax.set_yticks([0, 1], ["even row", "odd row"], fontsize=9)
        ax.set_title(title, fontsize=11)
    fig.suptitle(f"Output variance of one random x2 layer at each of its 2x2 output phases, relative to the "
                 f"smallest\n(fan-in init, biases zeroed, N(0, 1) input, mean over {PHASE_TRIALS} "
                 f"initialisations; one colour scale, 1 to {top:.1f})", fontsize=11)
    fig.tight_layout()
    return fig


# Every decoder is trained exactly so, on the built-in shapes data: half the default images in
# batches of 32, as many steps at half the compute. One CPU thread: layers this small gain little
# from a second, and when other work holds the second core each op's barrier waits for it.
TRAINING = ["data=shapes", "data.num_train=2048", "data.num_test=128", "data.batch_size=32", "seed=0",
            "num_threads=1", "trainer.max_epochs=3", "trainer.accelerator=cpu",
            "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]
VAL_IMAGE = 0  # which validation image is shown; the same for every decoder


def _trained(name: str, out: Path):
    """Train ``name`` with ``TRAINING`` through the real `train()`; the model at its last step, and its config."""
    from checkerboard.config import compose_config
    from checkerboard.model import Autoencoder
    from checkerboard.train import train

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no "GPU available" lines per run
    cfg = compose_config(out, [f"decoder={name}", *TRAINING])
    with contextlib.redirect_stdout(io.StringIO()):  # the run's own summary; the figure says what matters
        train(cfg)
    model = Autoencoder.load_from_checkpoint(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    return model.eval(), cfg


def _tiles(strip: torch.Tensor, n: int) -> list[torch.Tensor]:
    """Split a one-row ``visuals.grid`` of ``n`` equal images (1 px white lines) into (H, W, 3) arrays."""
    w = (strip.shape[-1] - 1) // n - 1
    return [strip[:, 1:-1, 1 + i * (w + 1):1 + i * (w + 1) + w].permute(1, 2, 0) for i in range(n)]


@figure("decoders", group="decoders")
def decoders_figure() -> Figure:
    """One validation image through every decoder after the same short training."""
    from hydra.utils import instantiate

    names = list(UPSAMPLERS)
    models = []
    threads = torch.get_num_threads()  # `num_threads` in TRAINING sets it for the process; put it back after
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                start = time.perf_counter()
                model, cfg = _trained(name, Path(tmp) / name)
                models.append(model)
                print(f"  trained {name} ({time.perf_counter() - start:.0f} s)")
    finally:
        torch.set_num_threads(threads)
    data = instantiate(cfg.data)  # the same split the runs validated on
    data.setup("fit")
    x = data.val[VAL_IMAGE:VAL_IMAGE + 1].float() / 255
    with torch.no_grad():
        ys = torch.cat([m.reconstruct(x) for m in models])
    n, period = len(names), model.period
    scores = checkerboard_score(ys, x.expand_as(ys), period).tolist()
    psnrs = (-10 * torch.log10((ys - x).square().mean(dim=(1, 2, 3)))).tolist()
    # One call each, so that every row shares the same zoom window and the same spectrum colour range.
    zooms = visuals.zoom(x.expand(n, -1, -1, -1), ys)  # the input's crops above (flat), outputs' below
    zoomed = _tiles(zooms[:, (zooms.shape[1] - 1) // 2:], n)
    spectra = _tiles(visuals.spectrum(ys - x, period), n)
    epochs = next(o for o in TRAINING if o.startswith("trainer.max_epochs")).split("=")[1]

    fig, axes = plt.subplots(n, 4, figsize=(8.6, 1.95 * n + 1.0))
    titles = ["input (validation)", "reconstruction", "output on the input's\nflattest 8x8 (stretched)",
              f"error spectrum (log);\ncyan: k/{period} cycles/px"]
    for row, name in enumerate(names):
        pictures = (x[0].permute(1, 2, 0), ys[row].permute(1, 2, 0), zoomed[row], spectra[row])
        for ax, picture in zip(axes[row], pictures):
            ax.imshow(picture.clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(f"{name}\nscore {scores[row]:.1f}\nPSNR {psnrs[row]:.1f} dB",
                                rotation=0, ha="right", va="center", fontsize=10, labelpad=8)
    for ax, title in zip(axes[0], titles):
        ax.set_title(title, fontsize=9.5)
    fig.suptitle(f"One validation image through each decoder after the same training ({epochs} epochs on "
                 f"the shapes data, seed 0).\nscore: its checkerboard score, the output's lattice prominence "
                 f"minus the input's (period {period})", fontsize=10)
    fig.tight_layout()
    return fig


# --- untrained decoders: their mean spectrum, and what biases do (Pons et al. 2021) ----------------

#: The x2 layers of the figures, as decoder settings: the six decoders and sub-pixel without ICNR.
VARIANTS = {"tconv": {"name": "tconv"}, "tconv4": {"name": "tconv4"}, "upsample": {"name": "upsample"},
            "bilinear": {"name": "bilinear"}, "pixelshuffle": {"name": "pixelshuffle"},
            "subpixel": {"name": "pixelshuffle", "icnr": False}, "tconv_hold": {"name": "tconv_hold"}}
DATA: list[str] = ["data=shapes"]  # the images the untrained decoders see; `figures.py ... data=...` sets it
SEEDS = 20  # untrained models averaged per decoder


def _images(count: int) -> torch.Tensor:
    """``count`` validation images of ``DATA`` in [0, 1]."""
    from hydra.utils import instantiate

    from checkerboard.config import compose_config

    with tempfile.TemporaryDirectory() as tmp:
        data = instantiate(compose_config(Path(tmp), DATA).data)
    data.prepare_data()
    data.setup("fit")
    return data.val[:count].float() / 255


@torch.no_grad()
def _untrained_outputs(decoder: dict, x: torch.Tensor, seed: int) -> torch.Tensor:
    """The untrained model's raw output (BatchNorm on batch statistics, as its first training step sees it)."""
    from checkerboard.model import Autoencoder

    torch.manual_seed(seed)
    model = Autoencoder(decoder, channels=x.shape[1], image_size=x.shape[-1]).train()
    return model(x)


@figure("untrained_spectra", group="untrained")
def untrained_spectra_figure() -> Figure:
    """Mean power spectrum of untrained decoders' outputs, over a batch and ``SEEDS`` initialisations."""
    x = _images(64)
    period = 4
    # A Hann window: the image's border (zero padding, and the jump the DFT sees between opposite
    # sides) would otherwise spread power over every frequency and fill the dips.
    window = torch.hann_window(x.shape[-1], periodic=False)
    window = window[:, None] * window[None, :]
    mean_power = lambda y: torch.fft.fft2((y - y.mean(dim=(2, 3), keepdim=True)) * window).abs().square().mean(
        dim=(0, 1))
    spectra = {"input images": mean_power(x)}
    for label, decoder in VARIANTS.items():
        spectra[label] = torch.stack([mean_power(_untrained_outputs(decoder, x, s)) for s in range(SEEDS)]).mean(0)
    size = x.shape[-1]
    shifted = {k: torch.fft.fftshift(v / v.sum()) for k, v in spectra.items()}  # each as a share of its power
    logs = {k: v.clamp_min(1e-9).log10() for k, v in shifted.items()}
    for v in logs.values():
        v[size // 2, size // 2] = float("nan")  # the mean, removed
    lo = min(float(v.nan_to_num(0).quantile(0.02)) for v in logs.values())
    hi = max(float(v.nan_to_num(-99).max()) for v in logs.values())
    fig = plt.figure(figsize=(14, 6.6))
    grid = fig.add_gridspec(2, len(logs), height_ratios=[1, 1.05])
    lattice = [size // 2 + k * size // period for k in range(-period // 2, period // 2)]
    for i, (label, value) in enumerate(logs.items()):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(value, cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_xticks(lattice, [""] * len(lattice))
        ax.set_yticks(lattice, [""] * len(lattice))
        ax.tick_params(color="cyan", length=4, width=1.5)
        ax.set_title(label, fontsize=10)
    ax = fig.add_subplot(grid[1, :])
    freqs = (torch.arange(size) - size // 2) / size
    for label, value in logs.items():
        row = value[size // 2]  # the horizontal frequencies, vertical frequency 0
        style = dict(color="black", lw=2.2) if label == "input images" else dict(lw=1.3)
        ax.plot(freqs, row, marker=".", label=label, **style)
    for k in range(-period // 2, period // 2 + 1):
        ax.axvline(k / period, color="cyan", lw=1, zorder=0)
    ax.set_xlabel(f"horizontal frequency (cycles per pixel); cyan: the lattice k/{period}")
    ax.set_ylabel("log10 share of the power")
    ax.legend(fontsize=8, ncol=4)
    ax.grid(alpha=0.3)
    fig.suptitle(f"Untrained decoders: mean power spectrum of the output (Hann window) over 64 validation images "
                 f"and {SEEDS} initialisations, each as a share of its own power\ntop: 2D, centred, ticks at the "
                 f"lattice k/{period}; bottom: its middle row (vertical frequency 0). Images: {' '.join(DATA)}",
                 fontsize=10)
    fig.tight_layout()
    return fig


def bias_ablation(seeds: int = SEEDS) -> dict[str, dict[str, float]]:
    """Median over ``seeds`` of the untrained model's checkerboard amplitude (grey levels) per decoder,
    with PyTorch's default initialisation with and without the x2 layers' biases, and the fan-in rule."""
    from checkerboard.model import Autoencoder

    x = (_images(256) * 255).to(torch.uint8)
    settings = {"fan-in rule (biases 0)": {}, "torch, biases": {"init": "torch"},
                "torch, no biases": {"init": "torch", "bias": False}}
    table = {}
    for label, decoder in VARIANTS.items():
        table[label] = {}
        for setting, extra in settings.items():
            values = []
            for seed in range(seeds):
                torch.manual_seed(seed)
                model = Autoencoder({**decoder, **extra}, channels=x.shape[1], image_size=x.shape[-1])
                values.append(model.measure_checkerboard(x, batch_stats=True)["checkerboard_amplitude"])
            table[label][setting] = statistics.median(values)
    return table



def init_scale_rows(train_seeds: int = 20, eval_seeds: int = 200):
    """Per decoder, the untrained model's output standard deviation on 32 validation images, pooled over
    seeds (the root of the mean variance), under the fan-in rule and PyTorch's defaults, in train mode
    (BatchNorm on batch statistics, as the first training step and ``init/*`` see it) and in eval mode
    (fresh running statistics), where the layers' random gains multiply: a heavy-tailed
    quantity that needs many seeds (the tests use the same estimate). Yields (decoder, {setting: std})."""
    from checkerboard.model import Autoencoder

    x = _images(32)
    for label, decoder in VARIANTS.items():
        row = {}
        for rule in ("fan_in", "torch"):
            for mode, seeds in (("train", train_seeds), ("eval", eval_seeds)):
                variance = 0.0
                for seed in range(seeds):
                    torch.manual_seed(seed)
                    model = Autoencoder({**decoder, "init": rule}, channels=x.shape[1], image_size=x.shape[-1])
                    with torch.no_grad():
                        variance += float(model.train(mode == "train")(x).var()) / seeds
                row[f"{rule}, {mode}"] = variance**0.5
        yield label, row


# --- generated images (model=vae, model=gan) --------------------------------------------------------

def generated_figure(sweep: Path, n: int = 8) -> Figure:
    """A VAE or GAN sweep's samples, per decoder: ``n`` samples of its first finished seed (latents of
    seed 0) and each sample's flattest mid-grey region (``visuals.sample_zoom``), with the sweep's
    medians over seeds of the samples' checkerboard amplitude and detectability."""
    from checkerboard import report, sample

    rows = [r for r in report.summarise(report.find_jobs(sweep)) if r["finished"]]
    if not rows:
        raise SystemExit(f"{sweep} holds no finished run")
    fig, axes = plt.subplots(len(rows), 2, figsize=(11, 1.25 * len(rows) + 0.9), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.5]})
    for (ax_samples, ax_zoom), row in zip(axes, rows):
        model = sample.load(row["finished"][0]["dir"])
        images = sample.draw(model, n, seed=0).float() / 255
        pictures = (visuals.grid(images, nrow=n, scale=2), visuals.sample_zoom(images))
        for ax, picture in zip((ax_samples, ax_zoom), pictures):
            ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        ax_samples.set_ylabel(f"{row['decoder']}\n{row['val/samples_checkerboard_amplitude']:.2g} grey levels\n"
                              f"detected {row['test/detectability']:.1%}", rotation=0, ha="right", va="center",
                              fontsize=9, labelpad=6)
    axes[0, 0].set_title("samples (seed 0's run, latents of seed 0)", fontsize=9)
    axes[0, 1].set_title("each sample's flattest mid-grey 8x8 region, x8, deviations amplified", fontsize=9)
    kind = type(model).__name__
    fig.suptitle(f"{kind} on {rows[0]['data']} ({sweep.name}): the same generator but for its x2 layers. "
                 f"Left labels: the samples' checkerboard amplitude and how often a linear classifier on "
                 f"log spectra tells them from real images, medians over {rows[0]['seeds_finished']} seeds",
                 fontsize=9, wrap=True)
    fig.tight_layout()
    return fig


# --- the spectrum a decoder cannot learn (Durall et al. 2020, Schwarz et al. 2021) ---------------------

def spectra_figure(sweep: Path) -> Figure:
    """Per decoder of an autoencoder sweep (its first finished seed): the mean radial power spectrum of
    the reconstructions of 256 validation images, untrained and at the end, against the images'."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from checkerboard import report, sample
    from checkerboard.model import Autoencoder
    from checkerboard.spectra import radial_spectrum

    rows = [r for r in report.summarise(report.find_jobs(sweep)) if r["finished"]]
    if not rows:
        raise SystemExit(f"{sweep} holds no finished run")
    fig, axes = plt.subplots(1, len(rows), figsize=(max(2.6 * len(rows), 9), 3.4), sharey=True, squeeze=False)
    for ax, row in zip(axes[0], rows):
        job = row["finished"][0]
        trained = sample.load(job["dir"])
        data = instantiate(OmegaConf.load(job["dir"] / ".hydra" / "config.yaml").data)
        data.prepare_data()
        data.setup("fit")
        x = data.val[:256].float() / 255
        torch.manual_seed(job["metrics"]["seed"])  # the run's untrained model: seeded, then built
        untrained = Autoencoder(**{k: v for k, v in trained.hparams.items() if k != "compile"})
        with torch.no_grad():
            curves = {"images": x, "untrained": untrained.reconstruct(x, batch_stats=True),
                      "trained": trained.reconstruct(x)}
        size = x.shape[-1]
        for (name, images), style in zip(curves.items(), ("k-", "C3:", "C0-")):
            s = radial_spectrum(images.float()).mean(0)
            ax.semilogy(torch.arange(len(s)) / size, s.clamp_min(1e-12), style, label=name, lw=1.6)
        ax.axvspan(len(s) // 2 / size, (len(s) - 1) / size, color="grey", alpha=0.15)
        ax.set_title(f"{row['decoder']}\nspectral error {row['init/spectral_error']:.2f} -> "
                     f"{row['val/spectral_error']:.2f}", fontsize=9)
        ax.set_xlabel("cycles per pixel", fontsize=8)
    axes[0, 0].set_ylabel("mean power per ring")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"Radial power spectra of the reconstructions ({rows[0]['data']}, {sweep.name}): the untrained "
                 f"model, the trained one, the images.\nShaded: the top half, where the spectral error (mean |ln "
                 f"ratio|, median over seeds) is taken", fontsize=9)
    fig.tight_layout()
    return fig


# --- command line ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(prog="python scripts/figures.py", description=__doc__.splitlines()[0])
    for group, names in GROUPS.items():
        parser.add_argument(f"--{group}", action="store_true", help=f"draw {', '.join(names)}")
    parser.add_argument("--generated", type=Path, nargs="+", metavar="SWEEP",
                        help="draw generated_<sweep>.png for each sweep of model=vae or model=gan (and nothing else)")
    parser.add_argument("--spectra", type=Path, nargs="+", metavar="SWEEP",
                        help="draw spectra_<sweep>.png for each autoencoder sweep (and nothing else)")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "figures", help="where the PNGs go")
    parser.add_argument("--bias-table", action="store_true",
                        help="print the untrained amplitude with and without biases (Pons et al.)")
    parser.add_argument("--init-table", action="store_true",
                        help="print each decoder's output standard deviation at init under both init rules")
    parser.add_argument("data", nargs="*", default=["data=shapes"],
                        help="train.py data overrides for the figures of untrained decoders, e.g. data=folder "
                             "data.root=PATH")
    args = parser.parse_args(argv)
    DATA[:] = args.data
    if args.bias_table:
        for label, row in bias_ablation().items():
            print(f"{label:<13} " + "  ".join(f"{k}: {v:6.2f}" for k, v in row.items()))
        return []
    if args.init_table:
        print("output std at init, pooled over 20 seeds (train mode) and 200 (eval mode); a row every half minute")
        for label, row in init_scale_rows():
            print(f"{label:<13} " + "  ".join(f"{k}: {v:.4f}" for k, v in row.items()), flush=True)
        return []
    chosen = [name for group, names in GROUPS.items() if getattr(args, group) for name in names]
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for draw, prefix, sweeps in ((generated_figure, "generated", args.generated), (spectra_figure, "spectra",
                                                                                     args.spectra)):
        for sweep in sweeps or []:
            fig = draw(sweep)
            path = args.out / f"{prefix}_{sweep.name}.png"
            fig.savefig(path, dpi=DPI)
            plt.close(fig)
            print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
            written.append(path)
    if (args.generated or args.spectra) and not chosen:
        return written
    for name in chosen or list(FIGURES):
        fig = FIGURES[name]()
        path = args.out / f"{name}.png"
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
        written.append(path)
    return written
