"""The comparison report of a sweep: a table, a CSV and two figures, written into the sweep folder.

`scripts/compare.py [SWEEP]` is its command line; `scripts/compare.py SWEEP SWEEP ... --out FOLDER` reports
several sweeps as one (one sweep per setting, say), into FOLDER. Writes into the sweep folder:
- comparison.md / comparison.csv: one row per decoder (and dataset, and any other setting the sweep
  varies besides the seed), with parameters, multiply-accumulates, the number of seeds that
  finished, how many of them converged (callbacks.plateau), their epochs and, over those seeds:
  - images/s, val/psnr, val/ssim and how much val/psnr still rose over the last fifth of the run
    (from its TensorBoard curve): mean and the 95% t-interval half-width t(0.975, n-1) s / sqrt(n);
  - the artifact measures (checkerboard amplitude, prominence score, phase-gain spread, at init and
    at the end): median and its exact order-statistic interval (`statistics.median_ci`, from 6 seeds;
    below that the range of the seeds, named as such), because they are heavy-tailed: one seed can
    be ten times another.
  No interval from a single seed. Then each decoder against `upsample` seed by seed (paired t intervals, and
  its time per step as a ratio), and against itself in every other setting one value apart. The baseline is
  `upsample` where the sweep has it, else its first decoder. Sweeps that differ in the budget alone
  (trainer.max_epochs): each decoder over the budgets, and whether the last one still gained (`budgets`).
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
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from checkerboard.formatting import markdown_table, tensorboard_command, with_interval, with_range  # noqa: E402
from checkerboard.reports.budgets import budget_lines
from checkerboard.reports.statistics import finite, mean_ci, median_ci, paired_comparison
from checkerboard.reports.sweeps import (
    HEADINGS,
    MEANS,
    MEDIANS,
    METRICS,
    PAIRED,
    events,
    expected_jobs,
    find_jobs,
    last_image,
    newest_sweep,
    one_apart,
    settings,
)

REPORT_IMAGES = {"val/reconstructions": "reconstructions (inputs above outputs)",
          "checkerboard/zoom": "flattest region, enlarged (inputs above outputs)",
          "checkerboard/spectrum": "log power spectrum of the error (ticks: lattice bins k/P)",
          "val/prior_samples": "samples (fixed latents)",
          "checkerboard/samples_zoom": "each sample's flattest region, enlarged"}


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
               "setting_values": members[0].get("setting_values", {}),
               "seeds_total": len(members), "params": done[0]["params"] if done else None,
               "macs": done[0]["macs"] if done else None, "finished": [j for j in members if j["metrics"]]}
        for key in MEANS:
            row[key], row[key + " ci95"] = mean_ci([m.get(key) for m in done])
        for key in MEDIANS:
            values = finite(m.get(key) for m in done)
            row[key], row[key + " lo"], row[key + " hi"] = median_ci(values)
            row[key + " range"] = (min(values), max(values)) if values else None
        row["converged"] = sum(m.get("converged") is True for m in done)  # callbacks.plateau's rule held
        epochs = [m["epochs"] for m in done if m.get("epochs") is not None]
        row["epochs"] = (min(epochs), max(epochs)) if epochs else None
        row["by_seed"] = {key: {m.get("seed", i): m.get(key) for i, m in enumerate(done)}
                          for key in [*PAIRED, "images_per_second"]}
        rows.append(row)
    return rows


def setting_sentence(rows: list[dict]) -> str:
    """The setting every finished run shares, from metrics.json: compression, what follows the last x2 layer."""
    runs = [j["metrics"] for r in rows for j in r["finished"]]
    facts = {(m.get("latent_values"), m.get("compression"), m.get("output_conv")) for m in runs}
    if len(facts) != 1 or None in next(iter(facts))[:2]:
        return ""
    kept, ratio, conv = next(iter(facts))
    after = "a 3x3 convolution follows the last x2 layer" if conv else "the last x2 layer writes the image"
    return f" Setting: {kept:,} latent values per image ({ratio:g}x compression); {after}."


def cell(row: dict, key: str) -> str:
    """Mean ± t half-width; median [95 % interval] from 6 seeds, below that the median and the range of n."""
    if key in MEANS:
        return with_interval(row[key], row[key + " ci95"])
    if row[key + " lo"] is None and row.get(key + " range") and row["seeds_finished"] > 1:
        lo, hi = row[key + " range"]
        return f"{with_range(row[key], None, None)} (range of {row['seeds_finished']}: {lo:.3g} to {hi:.3g})"
    return with_range(row[key], row[key + " lo"], row[key + " hi"])


def _paired_rows(a: dict, b: dict, first: list[str], names: tuple[str, str]) -> list[list[str]]:
    """Table rows for row ``a`` minus row ``b``, seed by seed, one per paired measure."""
    out = []
    for key in PAIRED:
        c = paired_comparison(a["by_seed"][key], b["by_seed"][key], names)
        if c.n == 0:
            continue
        interval = "-" if c.t_lo is None else f"{with_interval(c.mean, (c.t_hi - c.t_lo) / 2)}"
        out.append(first + [HEADINGS.get(key, key), str(c.n), interval, f"{c.sign_p:.3g}", c.verdict])
    return out


def step_time_ratio(row: dict, base: dict) -> list[str] | None:
    """[seeds, "lo-hi", median] of base's images/s over row's, seed by seed; None without a pair."""
    a, b = row["by_seed"]["images_per_second"], base["by_seed"]["images_per_second"]
    speed = lambda v: v is not None and math.isfinite(v) and v > 0  # noqa: E731  (NaN: no step was timed)
    ratios = sorted(b[s] / a[s] for s in a if s in b and speed(a[s]) and speed(b[s]))
    if not ratios:
        return None
    return [str(len(ratios)), f"{ratios[0]:.2f}-{ratios[-1]:.2f}", f"{float(np.median(ratios)):.2f}"]


def paired_lines(rows: list[dict]) -> list[str]:
    """Each decoder against a baseline (``upsample`` where the sweep has it), seed by seed, per data and setting:
    the mean difference, its paired t interval, the sign test's p and a verdict (`statistics.paired_comparison`).
    Beside it, the decoder's time per step against the baseline's, seed by seed (`step_time_ratio`). Where the
    sweep varies settings, also each decoder against itself in every earlier setting (in job order: the sweeps'
    order on the command line) that differs in one value only (budgets 8, 16, 32: 16 - 8, 32 - 8 and 32 - 16;
    a 2x2 grid: its four edges, not its diagonals)."""
    done = [r for r in rows if r["seeds_finished"]]
    groups: dict[tuple, list[dict]] = {}
    for r in done:
        groups.setdefault((r["data"], r["setting"]), []).append(r)
    table, speed = [], []
    for (data, setting), members in groups.items():
        if len(members) < 2:
            continue
        base = next((r for r in members if r["decoder"] == "upsample"), members[0])
        for r in members:
            if r is not base:
                names = (f"`{r['decoder']}`", f"`{base['decoder']}`")
                table += _paired_rows(r, base, [data] + ([setting] if setting else [])
                                      + [f"{names[0]} - {names[1]}"], names)
                ratio = step_time_ratio(r, base)
                if ratio:
                    speed.append([data] + ([setting] if setting else []) + [names[0], names[1], *ratio])
    settings = any(r["setting"] for r in done)
    head = ["data"] + (["setting"] if settings else []) + ["difference", "measure", "seeds", "mean ± 95 % t",
                                                           "sign test p", "verdict"]
    across = []
    by_decoder: dict[tuple, list[dict]] = {}
    for r in done:
        by_decoder.setdefault((r["data"], r["decoder"]), []).append(r)
    for (data, decoder), members in by_decoder.items():
        for i, r in enumerate(members):
            for base in members[:i]:
                if one_apart(r, base):
                    names = (f"`{r['setting']}`", f"`{base['setting']}`")
                    across += _paired_rows(r, base, [data, f"`{decoder}`", f"{names[0]} - {names[1]}"], names)
    if not (table or across or speed):
        return []
    lines = ["## Paired differences (seed by seed)", "",
             "The same seed gives every decoder the same data order and the same initial 3x3 kernel, so runs "
             "pair by seed. A difference is claimed only from 5 seeds and where the paired t interval excludes 0; "
             "with 5 seeds no distribution-free test can reach p < 0.05 (the sign test's smallest p is 2/32).", ""]
    if table:
        lines += [*markdown_table(head, table), ""]
    if speed:
        lines += ["### Time per step against the baseline's, seed by seed", "",
                  "The baseline's images/s over the decoder's, per seed (same data and batch; a ratio means "
                  "something only where both ran on the same machine): the range over seeds and its "
                  "median. Jobs that shared the machine time each other's load too: a range, not an interval.", "",
                  *markdown_table(["data"] + (["setting"] if settings else []) + [
                      "decoder", "baseline", "seeds", "time per step / baseline's", "median"], speed), ""]
    if across:
        lines += ["### Each decoder in one setting against itself in another", "",
                  *markdown_table(["data", "decoder", "difference", "measure", "seeds", "mean ± 95 % t",
                                   "sign test p", "verdict"], across), ""]
    return lines


def markdown(sweep: Path, rows: list[dict], jobs: list[dict], expected: int | None,
             measures: list[str] | None = None) -> str:
    several = len({r["data"] for r in rows}) > 1
    settings = any(r["setting"] for r in rows)
    shown = [k for k in measures or METRICS if any(math.isfinite(r[k]) for r in rows)]  # what these runs have
    head = ((["data"] if several else []) + ["decoder"] + (["setting"] if settings else [])
            + ["seeds done", "converged", "epochs", "params", "MACs/image"] + [HEADINGS.get(k, k) for k in shown])
    lines = [f"# Decoder comparison: {sweep}", ""]
    running = [j for j in jobs if j["state"] == "running"]
    if running or (expected and len(jobs) < expected):
        lines += [f"**Partial**: {len(running)} job(s) still running, {len(jobs)} of "
                  f"{expected or '?'} job folders present; the numbers will change.", ""]
    if not several and rows:
        lines += [f"Data: `{rows[0]['data']}`." + setting_sentence(rows), ""]
    table = []
    for r in rows:
        cells = ([r["data"]] if several else []) + [f"`{r['decoder']}`"] + ([r["setting"]] if settings else []) + [
            f"{r['seeds_finished']}/{r['seeds_total']}", f"{r['converged']}/{r['seeds_finished']}",
            "-" if r["epochs"] is None else "-".join(map(str, sorted(set(r["epochs"])))),  # "min-max", or "n"
            "-" if r["params"] is None else f"{r['params']:,}", "-" if r["macs"] is None else f"{r['macs']:,}"]
        table.append(cells + [cell(r, k) for k in shown])
    lines += markdown_table(head, table)
    lines += ["", "Over the seeds that finished (a single seed has no interval): images/s, val/psnr and "
              "val/ssim as mean ± half-width of the 95% t-interval (t(0.975, n-1) · s / √n); the artifact "
              "measures as median [exact order-statistic interval of at least 95 %], which needs 6 seeds: "
              "below that, the median and the range of the seeds. images/s counts training "
              "batches only. amplitude: RMS grey levels (of 255) of the periodic pattern the output adds "
              "beyond the target (0 = none); prominence: the output's lattice prominence beyond the "
              "target's (0 = none); phase-gain spread: how unequal the last x2 layer's four DC gains are "
              "(0 = equal)." + (" Samples (VAE, GAN): sample amplitude, the same of the fixed-latent samples "
              "(no target); sample spectral error, the mean |ln ratio| of their radial power spectrum to the "
              "validation images' over the top half of the frequencies (0 = same spectrum); detectability, the "
              "held-out ROC AUC of a logistic regression on log power spectra, real test images against samples "
              "(0.5 = spectrally indistinguishable; on the lattice frequencies alone, and without them); FCD, the "
              "Frechet distance in a small classifier's features (beside real images' own)."
              if "test/detectability" in shown else ""), ""]
    lines += paired_lines(rows) + budget_lines(rows)
    unfinished = [j for j in jobs if j["state"] != "finished"]
    if unfinished:
        lines += ["## Jobs that did not finish", ""]
        lines += [f"- `{j['name']}`: {j['state']}" + (f" ({j['error'][:200]})" if j.get("error") else "")
                  for j in unfinished]
        lines.append("")
    return "\n".join(lines)


def write_csv(path: Path, rows: list[dict]) -> None:
    keys = ["data", "decoder", "setting", "seeds_finished", "seeds_total", "converged", "params", "macs"]
    keys += [k + suffix for k in MEANS for suffix in ("", " ci95")]
    keys += [k + suffix for k in MEDIANS for suffix in ("", " lo", " hi")]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([k.replace(" ", "_") for k in keys])
        writer.writerows([["" if r[k] is None else r[k] for k in keys] for r in rows])


def row_label(row: dict, several: bool) -> str:
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
    pictures = [[last_image(r["finished"][0], tag) for tag in REPORT_IMAGES] for r in rows]
    have = [i for i in range(len(REPORT_IMAGES)) if any(p[i] is not None for p in pictures)]  # tags these runs log
    titles = [list(REPORT_IMAGES.values())[i] for i in have]
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
                ax.set_ylabel(row_label(row, several), fontsize=12, rotation=0, ha="right", va="center")
    ax, y = fig.add_subplot(grid[:, -1]), np.arange(len(rows))
    key = score_key(rows)
    end, init = f"val/{key}", f"init/{key}"
    values = np.array([r[end] for r in rows])
    lo = np.array([r[end + " lo"] if r[end + " lo"] is not None else r[end] for r in rows])
    hi = np.array([r[end + " hi"] if r[end + " hi"] is not None else r[end] for r in rows])
    ax.barh(y, values, xerr=[values - lo, hi - values], color="tab:orange", capsize=3, label=f"{end} (end)")
    ax.plot([r[init] for r in rows], y, "kx", label=init)
    ax.set_yticks(y, [row_label(r, several) for r in rows], fontsize=11)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # bar i beside image row i
    if key.endswith("checkerboard_amplitude"):  # non-negative: a log axis keeps small end values readable
        ax.set_xscale("log")
        ax.set_xlabel("checkerboard amplitude (RMS grey levels of 255, log axis)")
    else:
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlabel("checkerboard prominence (0 = none, symlog axis)")
    ax.set_title("median over seeds; bars: its exact 95 % interval (6+ seeds), else none", fontsize=11)
    ax.legend(fontsize=10)
    shown = ("The same validation images" if "val/reconstructions" in [list(REPORT_IMAGES)[i] for i in have]
             else "The same fixed latents")
    fig.suptitle(f"{shown} through each decoder (its first finished seed)", fontsize=14)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(path: Path, rows: list[dict], several: bool) -> None:
    """A row of two panels per data and setting, a line per decoder (the seeds' median, their range shaded;
    seeds a plateau stopped sooner end the line at the shortest)."""
    groups = list(dict.fromkeys((r["data"], r["setting"]) for r in rows if r["finished"]))
    key = score_key(rows)
    # A GAN has no reconstructions: its samples' spectral error in the second panel.
    second = "val/psnr" if any(math.isfinite(r["val/psnr"]) for r in rows) else "val/samples_spectral_error"
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 3.8 * len(groups)), squeeze=False, layout="constrained")
    # One colour per decoder in every panel, so a decoder is the same line from one setting to the next.
    colours = {d: f"C{i % 10}" for i, d in enumerate(dict.fromkeys(r["decoder"] for r in rows if r["finished"]))}
    for ax_row, (data, setting) in zip(axes, groups):
        where = " ".join(([f"on {data}"] if several else []) + ([setting] if setting else []))
        for row in (r for r in rows if (r["data"], r["setting"]) == (data, setting) and r["finished"]):
            for ax, tag in zip(ax_row, [f"val/{key}", second]):
                curves = [events(j).get(tag, []) for j in row["finished"]]
                n = min(map(len, curves))  # seeds align by position: same data, same steps
                if n:
                    values = np.array([[p.value for p in c[:n]] for c in curves])
                    steps = [p.step for p in curves[0][:n]]
                    colour = colours[row["decoder"]]
                    ax.plot(steps, np.median(values, 0), marker=".", color=colour,
                            label=f"{row['decoder']} ({len(values)} seeds)")
                    ax.fill_between(steps, values.min(0), values.max(0), color=colour, alpha=0.2)
                ax.set_title(f"{tag}: median over seeds, min-max shaded" + (f"\n{where}" if where else ""),
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
        if ax_row[1].get_legend_handles_labels()[0]:  # a job folder without event files draws no curve
            ax_row[1].legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/compare.py", description=__doc__.split("\n")[0])
    parser.add_argument("sweep", nargs="*", type=Path,
                        help="a sweep folder (default: the newest under outputs/multirun/); several, with --out: "
                             "one report over all of them (e.g. one sweep per setting)")
    parser.add_argument("--out", type=Path, help="where the report of several sweeps goes (a folder)")
    parser.add_argument("--measures", nargs="+", choices=METRICS, metavar="KEY",
                        help=f"the columns of comparison.md (default: every one the runs have): {', '.join(METRICS)}")
    args = parser.parse_args(argv)
    sweeps = args.sweep or [newest_sweep(Path("outputs/multirun"))]
    if sweeps[0] is None:
        parser.error(f"no sweep under {Path('outputs/multirun').resolve()}; run "
                     f"`python train.py -m experiment=compare` first, or give a sweep folder")
    if len(sweeps) > 1 and args.out is None:
        parser.error(f"{len(sweeps)} sweeps given: say where their joint report goes with --out FOLDER")
    for sweep in sweeps:
        if not sweep.is_dir():
            parser.error(f"{sweep} does not exist or is not a folder")
    jobs = []
    for sweep in sweeps:
        found = find_jobs(sweep)
        if not found:
            parser.error(f"{sweep} holds no jobs (no subfolder with .hydra/config.yaml or status.json)")
        for job in found:
            job["name"] = job["name"] if len(sweeps) == 1 else f"{sweep.name}/{job['name']}"
        jobs += found
    settings(jobs)  # what differs across all the sweeps' jobs
    out = args.out or sweeps[0]
    out.mkdir(parents=True, exist_ok=True)
    rows = summarise(jobs)
    several = len({r["data"] for r in rows}) > 1
    counts = [expected_jobs(s) for s in sweeps]
    title = sweeps[0] if len(sweeps) == 1 else ", ".join(map(str, sweeps))
    text = markdown(title, rows, jobs, None if None in counts else sum(counts), args.measures)
    print(text)
    (out / "comparison.md").write_text(text)
    write_csv(out / "comparison.csv", rows)
    written = ["comparison.md", "comparison.csv"]
    if any(r["finished"] for r in rows):
        plot_comparison(out / "comparison.png", rows, several)
        plot_curves(out / "curves.png", rows, several)
        written += ["comparison.png", "curves.png"]
    logdir = sweeps[0] if len(sweeps) == 1 else sweeps[0].parent
    print(f"wrote {', '.join(written)} in {out}\nall jobs side by side:  {tensorboard_command(logdir)}")
    return 0
