"""Studies of untrained decoders: overlap and phase variance figures, untrained spectra, bias and init-scale tables."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from checkerboard.formatting import number  # noqa: E402
from checkerboard.models.phases import overlap_counts, phase_variance
from checkerboard.models.upsamplers import UPSAMPLERS  # noqa: E402
from checkerboard.pictures.plots import figure, heatmap

OVERLAP_SIDE = 12  # output pixels shown per side: 6 periods of one x2 layer, 3 of two


@figure("overlap", group="artifacts")
def overlap_readme_figure() -> Figure:
    """Taps reaching each output pixel through one and two x2 layers of tconv, tconv4 and upsample."""
    names = ("tconv", "tconv4", "upsample")
    fig, axes = plt.subplots(2, 3, figsize=(10, 8.4))
    for row, depth in enumerate((1, 2)):
        p = 2**depth
        for ax, name in zip(axes[row], names):
            # A latent of 10 leaves a 12x12 window 2 periods away from the zero-padded border.
            counts = overlap_counts(name, depth, latent=10)[2 * p:2 * p + OVERLAP_SIDE,
                                                                    2 * p:2 * p + OVERLAP_SIDE]
            # Own scale per panel, from 0, so that a uniform panel is one flat colour.
            heatmap(ax, counts, 0, counts.max().item(), number, fontsize=8)
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
    variances = {name: phase_variance(name, PHASE_TRIALS) for name in names}
    ratios = {name: v / v.min() for name, v in variances.items()}
    top = max(r.max().item() for r in ratios.values())
    # Taps per phase of one tconv layer with every weight 1: the variance ratio expected of it.
    taps = overlap_counts("tconv", 1)[4:6, 4:6]
    expected = taps / taps.min()
    rows = -(-len(names) // 3)  # three decoders a row: every registered x2 layer is shown
    fig, axes = plt.subplots(rows, 3, figsize=(10, 3.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        r = ratios[name]
        if name == "tconv":
            text = iter([f"{v:.2f}\n(expected {number(e)})" for v, e in zip(r.flatten().tolist(),
                                                                            expected.flatten().tolist())])
            heatmap(ax, r, 1, top, lambda v: next(text), fontsize=11, cmap="YlOrBr")
            ratio = ":".join(number(e) for e in expected.flatten().sort().values.tolist())
            title = f"{name}: {ratio} expected (taps per phase)"
        else:
            heatmap(ax, r, 1, top, lambda v: f"{v:.2f}", fontsize=12, cmap="YlOrBr")
            title = f"{name}: flat (max/min {r.max().item():.2f})"
        ax.set_xticks([0, 1], ["even col", "odd col"], fontsize=9)
        ax.set_yticks([0, 1], ["even row", "odd row"], fontsize=9)
        ax.set_title(title, fontsize=11)
    fig.suptitle(f"Output variance of one random x2 layer at each of its 2x2 output phases, relative to the "
                 f"smallest\n(fan-in init, biases zeroed, N(0, 1) input, mean over {PHASE_TRIALS} "
                 f"initialisations; one colour scale, 1 to {top:.1f})", fontsize=11)
    fig.tight_layout()
    return fig


#: The x2 layers of the figures, as decoder settings: the six decoders and sub-pixel without ICNR.
UNTRAINED_DECODERS = {"tconv": {"name": "tconv"}, "tconv4": {"name": "tconv4"}, "upsample": {"name": "upsample"},
            "bilinear": {"name": "bilinear"}, "pixelshuffle": {"name": "pixelshuffle"},
            "subpixel": {"name": "pixelshuffle", "icnr": False}, "tconv_hold": {"name": "tconv_hold"}}


DATA: list[str] = ["data=shapes"]  # the images the untrained decoders see; `figures.py ... data=...` sets it


SEEDS = 20  # untrained models averaged per decoder


def _images(count: int) -> torch.Tensor:
    """``count`` validation images of ``DATA`` in [0, 1]."""
    from checkerboard.run.config import compose_config, load_data

    with tempfile.TemporaryDirectory() as tmp:
        data = load_data(compose_config(Path(tmp), DATA).data)
    return data.val[:count].float() / 255


@torch.no_grad()
def _untrained_outputs(decoder: dict, x: torch.Tensor, seed: int) -> torch.Tensor:
    """The untrained model's raw output (BatchNorm on batch statistics, as its first training step sees it)."""
    from checkerboard.models.autoencoder import Autoencoder

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
    for label, decoder in UNTRAINED_DECODERS.items():
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
    from checkerboard.models.autoencoder import Autoencoder

    x = (_images(256) * 255).to(torch.uint8)
    settings = {"fan-in rule (biases 0)": {}, "torch, biases": {"init": "torch"},
                "torch, no biases": {"init": "torch", "bias": False}}
    table = {}
    for label, decoder in UNTRAINED_DECODERS.items():
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
    from checkerboard.models.autoencoder import Autoencoder

    x = _images(32)
    for label, decoder in UNTRAINED_DECODERS.items():
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
