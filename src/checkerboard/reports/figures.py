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
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torchmetrics.functional.image import peak_signal_noise_ratio

from checkerboard import ROOT
from checkerboard.measures.prominence import checkerboard_score  # noqa: E402
from checkerboard.models.upsamplers import UPSAMPLERS  # noqa: E402
from checkerboard.notes import figures as notes_figures  # noqa: F401 (registers the notes group)
from checkerboard.pictures.panels import grid, sample_zoom, spectrum, zoom
from checkerboard.pictures.plots import DPI, FIGURES, GROUPS, figure, plot_radial_spectra
from checkerboard.reports.comparison import summarise
from checkerboard.reports.sweeps import find_jobs
from checkerboard.reports.untrained import DATA, bias_ablation, init_scale_rows

# Every decoder is trained exactly so, on the built-in shapes data: half the default images in
# batches of 32, as many steps at half the compute. One CPU thread: layers this small gain little
# from a second, and when other work holds the second core each op's barrier waits for it.
TRAINING = ["data=shapes", "data.num_train=2048", "data.num_test=128", "data.batch_size=32", "seed=0",
            "num_threads=1", "trainer.max_epochs=3", "trainer.accelerator=cpu",
            "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false"]


VAL_IMAGE = 0  # which validation image is shown; the same for every decoder


def _trained(name: str, out: Path):
    """Train ``name`` with ``TRAINING`` through the real `train()`; the model at its last step, and its config."""
    from checkerboard.models.autoencoder import Autoencoder
    from checkerboard.run.config import compose_config
    from checkerboard.run.training import train

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no "GPU available" lines per run
    cfg = compose_config(out, [f"decoder={name}", *TRAINING])
    with contextlib.redirect_stdout(io.StringIO()):  # the run's own summary; the figure says what matters
        train(cfg)
    model = Autoencoder.load_from_checkpoint(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    return model.eval(), cfg


def _tiles(strip: torch.Tensor, n: int) -> list[torch.Tensor]:
    """Split a one-row ``grid`` of ``n`` equal images (1 px white lines) into (H, W, 3) arrays."""
    w = (strip.shape[-1] - 1) // n - 1
    return [strip[:, 1:-1, 1 + i * (w + 1):1 + i * (w + 1) + w].permute(1, 2, 0) for i in range(n)]


@figure("decoders", group="decoders")
def decoders_figure() -> Figure:
    """One validation image through every decoder after the same short training."""
    from checkerboard.run.config import load_data

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
    data = load_data(cfg.data)  # the same split the runs validated on
    x = data.val[VAL_IMAGE:VAL_IMAGE + 1].float() / 255
    with torch.no_grad():
        ys = torch.cat([m.reconstruct(x) for m in models])
    n, period = len(names), model.period
    scores = checkerboard_score(ys, x.expand_as(ys), period).tolist()
    psnrs = peak_signal_noise_ratio(ys, x.expand_as(ys), data_range=1.0, reduction="none", dim=(1, 2, 3)).tolist()
    # One call each, so that every row shares the same zoom window and the same spectrum colour range.
    zooms = zoom(x.expand(n, -1, -1, -1), ys)  # the input's crops above (flat), outputs' below
    zoomed = _tiles(zooms[:, (zooms.shape[1] - 1) // 2:], n)
    spectra = _tiles(spectrum(ys - x, period), n)
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


def generated_figure(sweep: Path, n: int = 8) -> Figure:
    """A VAE or GAN sweep's samples, per decoder: ``n`` samples of its first finished seed (latents of
    seed 0) and each sample's flattest mid-grey region (``sample_zoom``), with the sweep's
    medians over seeds of the samples' checkerboard amplitude and detectability."""
    from checkerboard.reports import sample

    rows = [r for r in summarise(find_jobs(sweep)) if r["finished"]]
    if not rows:
        raise SystemExit(f"{sweep} holds no finished run")
    fig, axes = plt.subplots(len(rows), 2, figsize=(11, 1.25 * len(rows) + 0.9), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.5]})
    for (ax_samples, ax_zoom), row in zip(axes, rows):
        model = sample.load(row["finished"][0]["dir"])
        images = sample.draw(model, n, seed=0).float() / 255
        pictures = (grid(images, nrow=n, scale=2), sample_zoom(images))
        for ax, picture in zip((ax_samples, ax_zoom), pictures):
            ax.imshow(picture.permute(1, 2, 0).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        ax_samples.set_ylabel(f"{row['decoder']}\n{row['val/samples_checkerboard_amplitude']:.2g} grey levels\n"
                              f"AUC {row['test/detectability']:.2f}", rotation=0, ha="right", va="center",
                              fontsize=9, labelpad=6)
    axes[0, 0].set_title("samples (seed 0's run, latents of seed 0)", fontsize=9)
    axes[0, 1].set_title("each sample's flattest mid-grey 8x8 region, x8, deviations amplified", fontsize=9)
    kind = type(model).__name__
    fig.suptitle(f"{kind} on {rows[0]['data']} ({sweep.name}): the same generator but for its x2 layers. "
                 f"Left labels: the samples' checkerboard amplitude and the ROC AUC of a linear classifier on "
                 f"log spectra, samples against real images (0.5: not told apart), medians over "
                 f"{rows[0]['seeds_finished']} seeds",
                 fontsize=9, wrap=True)
    fig.tight_layout()
    return fig


def spectra_figure(sweep: Path) -> Figure:
    """Per decoder of an autoencoder sweep (its first finished seed): the mean radial power spectrum of
    the reconstructions of 256 validation images, untrained and at the end, against the images'."""
    from omegaconf import OmegaConf

    from checkerboard.models.autoencoder import Autoencoder
    from checkerboard.reports import sample
    from checkerboard.run.config import load_data

    rows = [r for r in summarise(find_jobs(sweep)) if r["finished"]]
    if not rows:
        raise SystemExit(f"{sweep} holds no finished run")
    fig, axes = plt.subplots(1, len(rows), figsize=(max(2.6 * len(rows), 9), 3.4), sharey=True, squeeze=False)
    for ax, row in zip(axes[0], rows):
        job = row["finished"][0]
        trained = sample.load(job["dir"])
        data = load_data(OmegaConf.load(job["dir"] / ".hydra" / "config.yaml").data)
        x = data.val[:256].float() / 255
        torch.manual_seed(job["metrics"]["seed"])  # the run's untrained model: seeded, then built
        untrained = Autoencoder(**{k: v for k, v in trained.hparams.items() if k != "compile"})
        with torch.no_grad():
            curves = {"images": x, "untrained": untrained.reconstruct(x, batch_stats=True),
                      "trained": trained.reconstruct(x)}
        plot_radial_spectra(ax, curves, ("k-", "C3:", "C0-"), lw=1.6)
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
