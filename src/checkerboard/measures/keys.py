"""The registry of what is measured: every logged tag once, with its heading, unit, summary over seeds and chart.

A measure ``name`` is logged as ``val/<name>`` every validation (``decoder/<name>/<k>`` for a per-layer
one), as ``init/<name>`` before training when ``at_init``, and as ``test/<name>`` at the end when
``stages`` says so. The TensorBoard layout (`run.tensorboard`), the end-of-run summary (`formatting`),
the comparison report's columns (`reports.sweeps`, `reports.comparison`) and the figures read this
list; adding a measure is one entry here plus the function that computes it.

``summary``: ``mean`` (shown with a t-interval: roughly normal over seeds) or ``median`` (shown with an
order-statistic interval: heavy-tailed over seeds, one seed can be ten times another).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Custom Scalars charts, in the order TensorBoard shows them: (category, title).
CHARTS = {
    "amplitude": ("checkerboard", "amplitude and its floor, grey levels (step 0: untrained)"),
    "beyond": ("checkerboard", "beyond the floor: the checkerboard and the staircase, grey levels"),
    "prominence": ("checkerboard", "prominence (0 = none)"),
    "spread": ("checkerboard", "phase-gain spread of each x2 layer (0 = equal DC gains)"),
    "no_target": ("checkerboard", "amplitude of samples (VAE, GAN) or decoded interpolations (no target)"),
    "spectral": ("checkerboard", "spectral error of reconstructions or samples (0 = the real images' radial spectrum)"),
    "gradient": ("checkerboard", "the input gradient's pattern, share of its RMS"),
    "equivariance": ("checkerboard", "shift equivariance, dB: model(shift x) against shift(model x), 1 px"),
    "psnr": ("quality", "PSNR (dB)"),
    "ssim": ("quality", "SSIM"),
    "loss": ("quality", "loss"),
    "samples_fcd": ("quality", "samples (VAE, GAN): FCD to real images (lower is better)"),
    "samples_class": ("quality", "samples (VAE, GAN): class score (higher is better; 1 to the number of classes)"),
}


@dataclass(frozen=True)
class Measure:
    name: str                 # the tag without its stage: val/<name>, init/<name>, test/<name>
    heading: str              # the report's column heading
    unit: str                 # what one unit is, for tables and the README
    summary: str = "median"   # mean | median, over seeds
    chart: str | None = None  # a key of CHARTS, or None: not charted in Custom Scalars
    at_init: bool = False     # also measured on the untrained model (init/<name>, step 0 of the curve)
    stages: tuple[str, ...] = ("val",)
    per_layer: bool = False   # decoder/<name>/<k> for each x2 layer k; the report shows the last layer's
    paired: bool = False      # compared decoder against decoder, seed by seed, in the report

    def key(self, stage: str) -> str:
        """The metrics.json key a report reads: ``val/<name>``, ``init/<name>``; a per-layer measure's last layer."""
        if self.per_layer:
            return f"{'decoder' if stage == 'val' else stage}/{self.name}/last"
        return f"{stage}/{self.name}" if stage else self.name

    @property
    def pattern(self) -> str:
        """The regex of its curve's tags in TensorBoard."""
        if self.per_layer:
            return rf"decoder/{re.escape(self.name)}/\d+$"
        return rf"val/{re.escape(self.name)}$"


AMPLITUDE = "checkerboard_amplitude"

MEASURES = [
    Measure("images_per_second", "images/s", "training images per second", "mean", stages=("",)),
    Measure("psnr", "val/psnr", "dB", "mean", "psnr", paired=True),
    Measure("ssim", "val/ssim", "1 = identical", "mean", "ssim"),
    Measure("psnr_gain_last_fifth", "PSNR gain, last fifth (dB)", "dB", "mean"),
    Measure(AMPLITUDE, "amplitude (grey levels)", "grey levels RMS (of 255)", chart="amplitude", at_init=True),
    Measure(f"{AMPLITUDE}/period2", "period 2", "grey levels RMS", at_init=True),
    Measure(f"{AMPLITUDE}/finer", "finer", "grey levels RMS", at_init=True),
    Measure("checkerboard_deficit", "deficit", "grey levels RMS"),
    Measure(f"{AMPLITUDE}/floor", "floor", "grey levels RMS", chart="amplitude", at_init=True),
    Measure(f"{AMPLITUDE}/excess", "excess over floor", "grey levels RMS", at_init=True, paired=True),
    Measure(f"{AMPLITUDE}/staircase", "staircase", "grey levels RMS", chart="beyond", at_init=True),
    Measure(f"{AMPLITUDE}/checkerboard", "checkerboard part", "grey levels RMS", at_init=True),
    Measure(f"{AMPLITUDE}/checkerboard_floor", "checkerboard floor", "grey levels RMS", at_init=True),
    Measure(f"{AMPLITUDE}/checkerboard_excess", "checkerboard excess", "grey levels RMS", chart="beyond",
            at_init=True, paired=True),
    Measure("checkerboard", "prominence", "lattice prominence beyond the target's", chart="prominence", at_init=True),
    Measure("phase_gain_spread", "phase-gain spread", "0 = equal DC gains", chart="spread", at_init=True,
            per_layer=True),
    Measure("shift_equivariance", "shift equivariance (dB)", "PSNR of model(shift x) vs shift(model x)", "mean",
            chart="equivariance", at_init=True, paired=True),
    Measure("gradient_checkerboard", "gradient pattern share", "share of the gradient's RMS", chart="gradient"),
    Measure("interpolations_checkerboard_amplitude", "interpolations' amplitude", "grey levels RMS",
            chart="no_target"),
    Measure("spectral_error", "spectral error", "mean |ln ratio|", chart="spectral", at_init=True),
    # the samples of a VAE or a GAN (model=vae, model=gan): absent from autoencoder runs
    Measure("samples_checkerboard_amplitude", "sample amplitude", "grey levels RMS", chart="no_target", at_init=True,
            paired=True),
    Measure("samples_spectral_error", "sample spectral error", "mean |ln ratio|", chart="spectral"),
    Measure("real_checkerboard_amplitude", "real images' amplitude", "grey levels RMS", chart="no_target"),
    Measure("detectability", "detectability (AUC)", "held-out ROC AUC, 0.5 = indistinguishable", stages=("test",)),
    Measure("detectability_lattice", "AUC, lattice only", "held-out ROC AUC", stages=("test",), paired=True),
    Measure("detectability_without_lattice", "AUC, without lattice", "held-out ROC AUC", stages=("test",)),
    Measure("detectability_control", "AUC of real + 1 grey level", "held-out ROC AUC", stages=("test",)),
    Measure("fcd", "FCD", "Frechet distance in a small classifier's features", chart="samples_fcd",
            stages=("test", "val"), paired=True),
    Measure("fcd_floor", "FCD of real images", "Frechet distance", stages=("test",)),
    Measure("class_score", "class score", "exp E KL(p(y|x) || p(y))", chart="samples_class", stages=("test", "val"),
            paired=True),
    Measure("class_score_real", "class score of real images", "exp E KL", stages=("test",)),
]
BY_NAME = {m.name: m for m in MEASURES}

#: The amplitude's parts as `checkerboard_amplitude` returns them -> their measure names.
AMPLITUDE_NAMES = {"amplitude": AMPLITUDE, "deficit": "checkerboard_deficit",
                   **{k: f"{AMPLITUDE}/{k}" for k in ("period2", "finer", "floor", "excess", "staircase",
                                                        "checkerboard", "checkerboard_floor", "checkerboard_excess")}}


def amplitude_names(parts: dict) -> dict:
    """The amplitude's parts under the names the logs use (``checkerboard_amplitude/period2``, ...)."""
    return {AMPLITUDE_NAMES[k]: v for k, v in parts.items() if k in AMPLITUDE_NAMES}


def report_keys(summary: str) -> list[str]:
    """The metrics.json keys the report summarises by ``summary`` (mean or median), in column order."""
    keys = []
    for m in MEASURES:
        if m.summary != summary:
            continue
        for stage in m.stages:
            keys.append(m.key(stage))
            if m.at_init and stage == "val":
                keys.append(m.key("init"))
    return keys


def paired_keys() -> list[str]:
    """The metrics.json keys the report compares seed by seed between decoders."""
    return [m.key(m.stages[0]) for m in MEASURES if m.paired]


def headings() -> dict[str, str]:
    """Report column headings: metrics.json key -> heading (``... at init`` for the untrained value)."""
    out = {}
    for m in MEASURES:
        for i, stage in enumerate(m.stages):
            out[m.key(stage)] = m.heading if i == 0 else f"{m.heading} ({stage})"  # test/fcd "FCD", val/fcd "FCD (val)"
        if m.at_init:
            out[m.key("init")] = f"{m.heading} at init"
    return out


def layout(tags=None) -> dict:
    """TensorBoard's Custom Scalars layout: category -> chart title -> ["Multiline", tag regexes].

    ``tags``: the tags a run logs; given, a chart keeps only the regexes that match one of them (as the
    plugin does, with ``re.match``) and a chart or category left empty is dropped, so that a GAN's run
    opens on its samples' charts, not on the reconstruction charts it never fills."""
    out: dict = {}
    for chart, (category, title) in CHARTS.items():
        patterns = [m.pattern for m in MEASURES if m.chart == chart]
        if tags is not None:
            patterns = [p for p in patterns if any(re.match(p, tag) for tag in tags)]
        if chart == "loss":  # every model's: train/loss (the GAN's train/loss_d and _g) and val/loss
            patterns = [r"train/loss", r"val/loss$"]
        if patterns:
            out.setdefault(category, {})[title] = ["Multiline", patterns]
    return out
