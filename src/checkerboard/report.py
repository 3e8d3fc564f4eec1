"""The comparison report of a sweep: a table, a CSV and two figures, written into the sweep folder.

`scripts/compare.py [SWEEP]` is its command line. Writes into the sweep folder:
- comparison.md / comparison.csv: one row per decoder (and dataset, and any other setting the sweep
  varies besides the seed), with parameters, multiply-accumulates, the number of seeds that
  finished and, over those seeds:
  - images/s, val/psnr, val/ssim and how much val/psnr still rose over the last fifth of the run
    (from its TensorBoard curve): mean and the 95% t-interval half-width t(0.975, n-1) s / sqrt(n);
  - the artifact measures (checkerboard amplitude, prominence score, phase-gain spread, at init and
    at the end): median and a 95% percentile-bootstrap interval of the median (2,000 resamples,
    fixed seed), because they are heavy-tailed: one seed can be ten times another.
  No interval from a single seed.
- comparison.png: per row, the last logged val/reconstructions, val/zoom and val/spectrum of its
  first finished job (every job shows the same validation images), beside the checkerboard
  amplitude at the end and at init on a log axis.
- curves.png: the checkerboard amplitude (step 0: at initialisation) and val/psnr over training,
  the median over seeds per row with the seeds' min-max range shaded.
For a sweep of a VAE or a GAN (model=vae, model=gan), the samples' columns too (their amplitude at the
end and at init, their spectral error, the detectability), the sample pictures, and the samples'
amplitude in the bars and curves (a GAN's second curve: the spectral error, as it has no PSNR).
Jobs that did not finish are listed with their state (status.json, or "no status"); a sweep with a
job still running is reported as partial. Only metrics.json of finished jobs enters the numbers.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from PIL import Image  # noqa: E402

from checkerboard.formatting import tensorboard_command, with_interval, with_range  # noqa: E402

#: Mean and t-interval: roughly normal over seeds.
MEANS = ["images_per_second", "val/psnr", "val/ssim", "val/psnr_gain_last_fifth"]
#: Median and bootstrap interval: heavy-tailed over seeds.
MEDIANS = ["val/checkerboard_amplitude", "init/checkerboard_amplitude", "val/checkerboard_amplitude/period2",
           "val/checkerboard_amplitude/finer", "init/checkerboard_amplitude/period2",
           "init/checkerboard_amplitude/finer", "val/checkerboard_deficit", "val/checkerboard", "init/checkerboard",
           "decoder/phase_gain_spread/last", "init/phase_gain_spread/last", "val/gradient_checkerboard",
           "val/interpolations_checkerboard_amplitude", "val/spectral_error", "init/spectral_error",
           # the samples of a VAE or a GAN (model=vae, model=gan): absent from autoencoder runs
           "val/samples_checkerboard_amplitude", "init/samples_checkerboard_amplitude", "val/samples_spectral_error",
           "test/detectability"]
METRICS = MEANS + MEDIANS
HEADINGS = {"images_per_second": "images/s", "val/psnr_gain_last_fifth": "PSNR gain, last fifth (dB)",
            "val/checkerboard_amplitude": "amplitude (grey levels)",
            "init/checkerboard_amplitude": "amplitude at init", "val/checkerboard_amplitude/period2": "period 2",
            "val/checkerboard_amplitude/finer": "finer", "init/checkerboard_amplitude/period2": "period 2 at init",
            "init/checkerboard_amplitude/finer": "finer at init", "val/checkerboard_deficit": "deficit",
            "val/checkerboard": "prominence", "init/checkerboard": "prominence at init",
            "decoder/phase_gain_spread/last": "phase-gain spread", "init/phase_gain_spread/last": "spread at init",
            "val/gradient_checkerboard": "gradient pattern share",
            "val/interpolations_checkerboard_amplitude": "interpolations' amplitude",
            "val/spectral_error": "spectral error", "init/spectral_error": "spectral error at init",
            "val/samples_checkerboard_amplitude": "sample amplitude", "init/samples_checkerboard_amplitude":
            "sample amplitude at init", "val/samples_spectral_error": "sample spectral error",
            "test/detectability": "detectability"}
IMAGES = {"val/reconstructions": "reconstructions (inputs above outputs)",
          "checkerboard/zoom": "flattest region, enlarged (inputs above outputs)",
          "checkerboard/spectrum": "log power spectrum of the error (ticks: lattice bins k/P)",
          "val/prior_samples": "samples (fixed latents)",
          "checkerboard/samples_zoom": "each sample's flattest region, enlarged"}
# t(0.975, df) for df = 1..30; past 30, z + (z^3 + z) / (4 df) is within 0.003 of it.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042]
# Overrides that never define a row: the seed axis, settings of how a job runs rather than what it
# is, and the decoder and data, which have columns of their own.
NOT_A_SETTING = {"seed", "num_threads", "trainer.enable_progress_bar", "data.download", "paths.data_dir",
                 "decoder", "data", "experiment"}
NOT_A_SETTING_PREFIXES = ("hydra.", "decoder.", "callbacks.")


def t975(df: int) -> float:
    return T975[df - 1] if df <= len(T975) else 1.96 + (1.96**3 + 1.96) / (4 * df)


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    """Mean and 95% t half-width; no half-width from fewer than two values."""
    values = _finite(values)
    if not values:
        return math.nan, None
    if len(values) < 2:
        return values[0], None
    return statistics.fmean(values), t975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def median_ci(values: list[float], resamples: int = 2000, seed: int = 0) -> tuple[float, float | None, float | None]:
    """Median and the 2.5th/97.5th percentiles of the medians of ``resamples`` bootstrap resamples."""
    values = _finite(values)
    if not values:
        return math.nan, None, None
    if len(values) < 2:
        return values[0], None, None
    data = np.asarray(values)
    picks = np.random.default_rng(seed).integers(0, len(data), size=(resamples, len(data)))
    medians = np.median(data[picks], axis=1)
    return float(np.median(data)), float(np.percentile(medians, 2.5)), float(np.percentile(medians, 97.5))


def _last_layer(metrics: dict) -> dict:
    """``.../phase_gain_spread/last``: the spread of the decoder's last x2 layer, whatever the depth."""
    out = dict(metrics)
    for prefix in ("decoder/phase_gain_spread/", "init/phase_gain_spread/"):
        layers = sorted(int(k[len(prefix):]) for k in metrics if k.startswith(prefix) and k[len(prefix):].isdigit())
        if layers:
            out[prefix + "last"] = metrics[f"{prefix}{layers[-1]}"]
    return out


def natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def find_jobs(sweep: Path) -> list[dict]:
    """Every folder under ``sweep`` holding `.hydra/config.yaml` or `status.json` (launcher files aside)."""
    dirs = {p.parent for p in sweep.rglob("status.json")}
    dirs |= {p.parent.parent for p in sweep.rglob("config.yaml") if p.parent.name == ".hydra"}
    jobs = []
    for d in sorted((d for d in dirs if d != sweep and ".submitit" not in d.parts), key=lambda d: natural(str(d))):
        job = {"name": str(d.relative_to(sweep)), "dir": d, "state": "no status", "metrics": None}
        if (d / "status.json").is_file():
            status = json.loads((d / "status.json").read_text())
            job["state"], job["error"] = status.get("state", "no status"), status.get("error")
        if (d / ".hydra" / "config.yaml").is_file():
            cfg = OmegaConf.load(d / ".hydra" / "config.yaml")
            job["decoder"] = _decoder_label(OmegaConf.select(cfg, "decoder"))
            job["data"] = OmegaConf.select(cfg, "data.name", default="?")
        if (d / ".hydra" / "overrides.yaml").is_file():
            job["overrides"] = list(OmegaConf.load(d / ".hydra" / "overrides.yaml"))
        if (d / "metrics.json").is_file() and job["state"] in ("finished", "no status"):
            job["metrics"] = m = _renamed(_last_layer(json.loads((d / "metrics.json").read_text())))
            job["state"], job["decoder"], job["data"] = "finished", m["decoder"], m["data"]
            m["val/psnr_gain_last_fifth"] = psnr_gain_last_fifth(job)
        jobs.append(job)
    _settings(jobs)
    return jobs


def _renamed(metrics: dict) -> dict:
    """Autoencoder runs made before the generators logged their interpolations' measures as ``samples``
    (a VAE's or a GAN's samples come with ``test/detectability``)."""
    if "test/detectability" not in metrics:
        for old in [k for k in metrics if "samples_checkerboard" in k]:
            metrics.setdefault(old.replace("samples_", "interpolations_"), metrics.pop(old))
    return metrics


def _decoder_label(node) -> str:
    if node is None:
        return "?"
    from checkerboard.decoders import DecoderSpec

    try:
        return DecoderSpec.parse(OmegaConf.to_container(node)).label
    except Exception:  # a config this version cannot read: its name will do
        return str(OmegaConf.select(node, "name", default="?"))


def _settings(jobs: list[dict]) -> None:
    """``job["setting"]``: the overrides besides seed, data and decoder whose value differs between jobs."""
    parsed = []
    for job in jobs:
        pairs = (o.lstrip("+~").split("=", 1) for o in job.get("overrides", []))
        parsed.append({k: v for k, *rest in pairs for v in [rest[0] if rest else ""]
                       if k not in NOT_A_SETTING and not k.startswith(NOT_A_SETTING_PREFIXES)})
    known = [p for job, p in zip(jobs, parsed) if "overrides" in job]  # a folder without config tells nothing
    keys = sorted({k for p in known for k in p})
    varying = [k for k in keys if len({p.get(k) for p in known}) > 1]
    for job, p in zip(jobs, parsed):
        job["setting"] = " ".join(f"{k}={p[k]}" for k in varying if k in p)


def expected_jobs(sweep: Path) -> int | None:
    """How many jobs `multirun.yaml` asked for (sweeper params and command line), if it can tell."""
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        cfg = OmegaConf.load(sweep / "multirun.yaml")
        params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
        args = [f"{k}={v}" for k, v in params.items()] + list(cfg.hydra.overrides.task)
        counts = {o.get_key_element(): len(list(o.sweep_iterator())) if o.is_sweep_override() else 1
                  for o in OverridesParser.create().parse_overrides(args)}
        return math.prod(counts.values())
    except Exception:  # no multirun.yaml, or a sweep (glob, range of floats) we cannot count here
        return None


def summarise(jobs: list[dict]) -> list[dict]:
    """One row per (data, decoder, other setting), in job order."""
    groups: dict[tuple, list[dict]] = {}
    for job in jobs:
        groups.setdefault((job.get("data", "?"), job.get("decoder", "?"), job.get("setting", "")), []).append(job)
    rows = []
    for (data, decoder, setting), members in groups.items():
        if decoder == "?":  # no config, no metrics: listed with the unfinished jobs only
            continue
        done = [j["metrics"] for j in members if j["metrics"]]
        row = {"data": data, "decoder": decoder, "setting": setting, "seeds_finished": len(done),
               "seeds_total": len(members), "params": done[0]["params"] if done else None,
               "macs": done[0]["macs"] if done else None, "finished": [j for j in members if j["metrics"]]}
        for key in MEANS:
            row[key], row[key + " ci95"] = mean_ci([m.get(key) for m in done])
        for key in MEDIANS:
            row[key], row[key + " lo"], row[key + " hi"] = median_ci([m.get(key) for m in done])
        rows.append(row)
    return rows


def cell(row: dict, key: str) -> str:
    if key in MEANS:
        return with_interval(row[key], row[key + " ci95"])
    return with_range(row[key], row[key + " lo"], row[key + " hi"])


def markdown(sweep: Path, rows: list[dict], jobs: list[dict], expected: int | None,
             measures: list[str] | None = None) -> str:
    several = len({r["data"] for r in rows}) > 1
    settings = any(r["setting"] for r in rows)
    shown = [k for k in measures or METRICS if any(math.isfinite(r[k]) for r in rows)]  # what these runs have
    head = ((["data"] if several else []) + ["decoder"] + (["setting"] if settings else [])
            + ["seeds done", "params", "MACs/image"] + [HEADINGS.get(k, k) for k in shown])
    lines = [f"# Decoder comparison: {sweep}", ""]
    running = [j for j in jobs if j["state"] == "running"]
    if running or (expected and len(jobs) < expected):
        lines += [f"**Partial**: {len(running)} job(s) still running, {len(jobs)} of "
                  f"{expected or '?'} job folders present; the numbers will change.", ""]
    if not several and rows:
        lines += [f"Data: `{rows[0]['data']}`.", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in rows:
        cells = ([r["data"]] if several else []) + [f"`{r['decoder']}`"] + ([r["setting"]] if settings else []) + [
            f"{r['seeds_finished']}/{r['seeds_total']}",
            "-" if r["params"] is None else f"{r['params']:,}", "-" if r["macs"] is None else f"{r['macs']:,}"]
        cells += [cell(r, k) for k in shown]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Over the seeds that finished (a single seed has no interval): images/s, val/psnr and "
              "val/ssim as mean ± half-width of the 95% t-interval (t(0.975, n-1) · s / √n); the artifact "
              "measures as median [95% bootstrap interval of the median]. images/s counts training "
              "batches only. amplitude: RMS grey levels (of 255) of the periodic pattern the output adds "
              "beyond the target (0 = none); prominence: the output's lattice prominence beyond the "
              "target's (0 = none); phase-gain spread: how unequal the last x2 layer's four DC gains are "
              "(0 = equal)." + (" Samples (VAE, GAN): sample amplitude, the same of the fixed-latent samples "
              "(no target); sample spectral error, the mean |ln ratio| of their radial power spectrum to the "
              "validation images' over the top half of the frequencies (0 = same spectrum); detectability, the "
              "held-out accuracy of a logistic regression on log power spectra, real test images against samples "
              "(0.5 = spectrally indistinguishable)." if "test/detectability" in shown else ""), ""]
    unfinished = [j for j in jobs if j["state"] != "finished"]
    if unfinished:
        lines += ["## Jobs that did not finish", ""]
        lines += [f"- `{j['name']}`: {j['state']}" + (f" ({j['error'][:200]})" if j.get("error") else "")
                  for j in unfinished]
        lines.append("")
    return "\n".join(lines)


def write_csv(path: Path, rows: list[dict]) -> None:
    keys = ["data", "decoder", "setting", "seeds_finished", "seeds_total", "params", "macs"]
    keys += [k + suffix for k in MEANS for suffix in ("", " ci95")]
    keys += [k + suffix for k in MEDIANS for suffix in ("", " lo", " hi")]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([k.replace(" ", "_") for k in keys])
        writer.writerows([["" if r[k] is None else r[k] for k in keys] for r in rows])


def events(job: dict, kind: str = "scalars") -> dict:
    """The job's TensorBoard ``kind`` ("scalars" or "images"), every one logged (no sampling)."""
    from tensorboard.backend.event_processing.event_accumulator import IMAGES, SCALARS, EventAccumulator

    key = f"events_{kind}"
    if key not in job:
        # A resumed run writes into the run it resumed (metrics.json says where).
        folder = Path((job.get("metrics") or {}).get("tensorboard") or job["dir"]) / "tensorboard"
        job[key] = {}
        if folder.is_dir():
            size = {SCALARS: 0, IMAGES: 0} if kind == "images" else {SCALARS: 0, IMAGES: 1}
            acc = EventAccumulator(str(folder), size_guidance=size).Reload()
            read = acc.Images if kind == "images" else acc.Scalars
            job[key] = {t: read(t) for t in acc.Tags()[kind]}
    return job[key]


def psnr_gain_last_fifth(job: dict) -> float | None:
    """How much val/psnr still rose over the last fifth of the run's validations (the convergence check)."""
    curve = [e.value for e in events(job).get("val/psnr", []) if e.step > 0]  # step 0: the untrained model
    if len(curve) < 5:
        return None
    return curve[-1] - curve[int(0.8 * (len(curve) - 1))]


def last_image(job: dict, tag: str) -> np.ndarray | None:
    found = events(job, "images").get(tag)
    return np.asarray(Image.open(io.BytesIO(found[-1].encoded_image_string)).convert("RGB")) if found else None


def label(row: dict, several: bool) -> str:
    name = row["decoder"] + (f" {row['setting']}" if row["setting"] else "")
    return f"{name} ({row['data']})" if several else name


def score_key(rows: list[dict]) -> str:
    """The samples' amplitude for a VAE or a GAN (their samples come with a detectability), else the
    amplitude of the reconstructions (the prominence score for runs older than the amplitude)."""
    if any(math.isfinite(r["test/detectability"]) for r in rows):
        return "samples_checkerboard_amplitude"
    measured = any(math.isfinite(r["val/checkerboard_amplitude"]) for r in rows)
    return "checkerboard_amplitude" if measured else "checkerboard"


def plot_comparison(path: Path, rows: list[dict], several: bool) -> None:
    rows = [r for r in rows if r["finished"]]
    pictures = [[last_image(r["finished"][0], tag) for tag in IMAGES] for r in rows]
    have = [i for i in range(len(IMAGES)) if any(p[i] is not None for p in pictures)]  # tags these runs log
    titles = [list(IMAGES.values())[i] for i in have]
    pictures = [[p[i] for i in have] for p in pictures]
    shapes = [next((p[i].shape for p in pictures if p[i] is not None), (1, 3)) for i in range(len(titles))]
    ratios = [w / h for h, w, *_ in shapes] + [2.5]  # image columns at their own aspect, then the bars
    fig = plt.figure(figsize=(1.6 * sum(ratios) + 1.5, 1.6 * len(rows) + 1.2), layout="constrained")
    grid = fig.add_gridspec(len(rows), len(ratios), width_ratios=ratios)
    for i, (row, pics) in enumerate(zip(rows, pictures)):
        for j, (pic, title) in enumerate(zip(pics, titles)):
            ax = fig.add_subplot(grid[i, j], xticks=[], yticks=[])
            if pic is not None:
                ax.imshow(pic, interpolation="nearest")
            if i == 0:
                ax.set_title(title, fontsize=11)
            if j == 0:
                ax.set_ylabel(label(row, several), fontsize=12, rotation=0, ha="right", va="center")
    ax, y = fig.add_subplot(grid[:, -1]), np.arange(len(rows))
    key = score_key(rows)
    end, init = f"val/{key}", f"init/{key}"
    values = np.array([r[end] for r in rows])
    lo = np.array([r[end + " lo"] if r[end + " lo"] is not None else r[end] for r in rows])
    hi = np.array([r[end + " hi"] if r[end + " hi"] is not None else r[end] for r in rows])
    ax.barh(y, values, xerr=[values - lo, hi - values], color="tab:orange", capsize=3, label=f"{end} (end)")
    ax.plot([r[init] for r in rows], y, "kx", label=init)
    ax.set_yticks(y, [label(r, several) for r in rows], fontsize=11)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # bar i beside image row i
    if key.endswith("checkerboard_amplitude"):  # non-negative: a log axis keeps small end values readable
        ax.set_xscale("log")
        ax.set_xlabel("checkerboard amplitude (RMS grey levels of 255, log axis)")
    else:
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlabel("checkerboard prominence (0 = none, symlog axis)")
    ax.set_title("median, 95% bootstrap interval over seeds", fontsize=11)
    ax.legend(fontsize=10)
    shown = ("The same validation images" if "val/reconstructions" in [list(IMAGES)[i] for i in have]
             else "The same fixed latents")
    fig.suptitle(f"{shown} through each decoder (its first finished seed)", fontsize=14)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(path: Path, rows: list[dict], several: bool) -> None:
    datasets = list(dict.fromkeys(r["data"] for r in rows if r["finished"]))
    key = score_key(rows)
    # A GAN has no reconstructions: its samples' spectral error in the second panel.
    second = "val/psnr" if any(math.isfinite(r["val/psnr"]) for r in rows) else "val/samples_spectral_error"
    fig, axes = plt.subplots(len(datasets), 2, figsize=(11, 3.8 * len(datasets)), squeeze=False, layout="constrained")
    for ax_row, data in zip(axes, datasets):
        for row in (r for r in rows if r["data"] == data and r["finished"]):
            for ax, tag in zip(ax_row, [f"val/{key}", second]):
                curves = [events(j).get(tag, []) for j in row["finished"]]
                n = min(map(len, curves))  # seeds align by position: same data, same steps
                if n:
                    values = np.array([[p.value for p in c[:n]] for c in curves])
                    steps = [p.step for p in curves[0][:n]]
                    line, = ax.plot(steps, np.median(values, 0), marker=".",
                                    label=f"{label(row, False)} ({len(values)} seeds)")
                    ax.fill_between(steps, values.min(0), values.max(0), color=line.get_color(), alpha=0.2)
                ax.set_title(f"{tag}{f' on {data}' if several else ''}: median over seeds, min-max shaded",
                             fontsize=10)
                ax.set(xlabel="training step")
                ax.grid(alpha=0.3)
        if key.endswith("checkerboard_amplitude"):
            ax_row[0].set_yscale("log")
            ax_row[0].set_ylabel("checkerboard amplitude (grey levels; step 0: at init)")
        else:
            ax_row[0].set_yscale("symlog", linthresh=1)  # scores near 0 and in the tens on one axis
            ax_row[0].set_ylabel("checkerboard prominence (symlog; step 0: at init)")
        ax_row[1].set_ylabel("PSNR (dB)" if second == "val/psnr" else "spectral error of the samples (0 = real)")
        ax_row[1].legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def newest_sweep(root: Path) -> Path | None:
    sweeps = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    stamp = lambda p: (p / "multirun.yaml").stat().st_mtime if (p / "multirun.yaml").exists() else p.stat().st_mtime
    return max(sweeps, key=stamp, default=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/compare.py", description=__doc__.split("\n")[0])
    parser.add_argument("sweep", nargs="?", type=Path,
                        help="a sweep folder (default: the newest under outputs/multirun/)")
    parser.add_argument("--measures", nargs="+", choices=METRICS, metavar="KEY",
                        help=f"the columns of comparison.md (default: every one the runs have): {', '.join(METRICS)}")
    args = parser.parse_args(argv)
    sweep = args.sweep or newest_sweep(Path("outputs/multirun"))
    if sweep is None:
        parser.error(f"no sweep under {Path('outputs/multirun').resolve()}; run "
                     f"`python train.py -m experiment=compare` first, or give a sweep folder")
    if not sweep.is_dir():
        parser.error(f"{sweep} does not exist or is not a folder")
    jobs = find_jobs(sweep)
    if not jobs:
        parser.error(f"{sweep} holds no jobs (no subfolder with .hydra/config.yaml or status.json)")
    rows = summarise(jobs)
    several = len({r["data"] for r in rows}) > 1
    text = markdown(sweep, rows, jobs, expected_jobs(sweep), args.measures)
    print(text)
    (sweep / "comparison.md").write_text(text)
    write_csv(sweep / "comparison.csv", rows)
    written = ["comparison.md", "comparison.csv"]
    if any(r["finished"] for r in rows):
        plot_comparison(sweep / "comparison.png", rows, several)
        plot_curves(sweep / "curves.png", rows, several)
        written += ["comparison.png", "curves.png"]
    print(f"wrote {', '.join(written)} in {sweep}\nall jobs side by side:  {tensorboard_command(sweep)}")
    return 0
