"""Convergence rules replayed on finished runs: where each would have stopped them, and what they gained after.

`scripts/replay_plateau.py SWEEP ... [--rule SMOOTH,FRACTION,MIN_EPOCHS ...]` is its command line. Each run's
monitored curve (val/psnr; a GAN's val/loss, its samples' FCD) is read back from TensorBoard and fed, epoch
by epoch, to `callbacks.Plateau` with each rule. For every rule: how many runs it would have stopped before
their last epoch, at which epochs, how much the monitor still gained after the stop (the mean of the
last `AFTER` epochs against the mean of the `AFTER` epochs up to the stop, in dB: a PSNR's rise, an FCD's
fall as 10 log10(before / after)), and for how many runs it holds at their end (their `converged`). A rule
that stops runs which then gain decibels stops them in the noise.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from checkerboard.formatting import markdown_table
from checkerboard.reports.sweeps import events, find_jobs
from checkerboard.run.callbacks import Plateau

AFTER = 3  # epochs averaged at the stop and at the end: one noisy epoch decides neither
RULES = [(1, 0.2, 5), (3, 0.2, 5), (5, 0.5, 10)]  # the autoencoder's; the GAN's before and since this report


def curve(job: dict) -> tuple[str, str, list[float]]:
    """(monitor, mode, its value after each validation) of a finished job; step 0 (untrained) left out."""
    scalars = events(job)
    monitor, mode = ("val/psnr", "max") if "val/psnr" in scalars else ("val/loss", "min")
    return monitor, mode, [e.value for e in scalars.get(monitor, []) if e.step > 0]


def db(values: list[float], mode: str) -> float:
    """The mean of ``values`` in dB, higher better: a PSNR as it is, an error as -10 log10."""
    return sum(v if mode == "max" else -10 * math.log10(max(v, 1e-30)) for v in values) / len(values)


def stop_epoch(values: list[float], mode: str, smooth: int, fraction: float, min_epochs: int) -> int | None:
    """The epoch (1-based) at which the rule would have stopped the run; None if it never would, before its end."""
    plateau = Plateau(monitor="replay", mode=mode, smooth=smooth, fraction=fraction, min_epochs=min_epochs)
    for epoch, value in enumerate(values[:-1], 1):
        plateau.history.append(value)
        if plateau.converged:
            return epoch
    return None


def holds_at_end(values: list[float], mode: str, smooth: int, fraction: float, min_epochs: int) -> bool:
    """Whether the rule holds on the whole curve: the run as it ended would be called converged."""
    plateau = Plateau(monitor="replay", mode=mode, smooth=smooth, fraction=fraction, min_epochs=min_epochs)
    plateau.history = list(values)
    return plateau.converged


def gained_after(values: list[float], mode: str, stop: int) -> float:
    """dB the monitor still gained from the stop to the end (`AFTER`-epoch means)."""
    return db(values[-AFTER:], mode) - db(values[max(0, stop - AFTER):stop], mode)


def replay_lines(jobs: list[dict], rules: list[tuple[int, float, int]]) -> list[str]:
    runs = [(job["name"], *curve(job)) for job in jobs if job["metrics"]]
    runs = [r for r in runs if len(r[3]) > AFTER]
    table = []
    for smooth, fraction, min_epochs in rules:
        stops = [(values, mode, stop_epoch(values, mode, smooth, fraction, min_epochs)) for _, _, mode, values in runs]
        stopped = [(values, mode, s) for values, mode, s in stops if s is not None]
        gains = sorted(gained_after(values, mode, s) for values, mode, s in stopped)
        after = f"{gains[0]:+.1f} to {gains[-1]:+.1f} (median {statistics.median(gains):+.1f})" if gains else "-"
        held = sum(holds_at_end(values, mode, smooth, fraction, min_epochs) for _, _, mode, values in runs)
        table.append([f"mean of {smooth}, last {fraction:g}, from epoch {min_epochs}", f"{len(stopped)}/{len(runs)}",
                      ", ".join(str(s) for s in sorted(s for *_, s in stopped)) or "-", after, f"{held}/{len(runs)}"])
    monitors = sorted({m for _, m, _, _ in runs})
    return [f"Rules replayed on {len(runs)} finished runs ({', '.join(monitors)}), each < 0.1 dB:", "",
            *markdown_table(["rule (epochs averaged, share of the epochs, first epoch it may stop)",
                             "runs it stops early", "at epochs", f"gained after the stop (dB, {AFTER}-epoch means)",
                             "holds at the end"],
                            table)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/replay_plateau.py", description=__doc__.split("\n")[0])
    parser.add_argument("sweep", nargs="+", type=Path, help="sweep folders (their finished runs are replayed)")
    parser.add_argument("--rule", nargs="+", default=[",".join(map(str, r)) for r in RULES],
                        metavar="SMOOTH,FRACTION,MIN_EPOCHS", help="rules to replay (default: %(default)s)")
    args = parser.parse_args(argv)
    rules = []
    for text in args.rule:
        try:
            smooth, fraction, min_epochs = text.split(",")
            rules.append((int(smooth), float(fraction), int(min_epochs)))
        except ValueError:
            parser.error(f"--rule {text!r} is not valid: three numbers SMOOTH,FRACTION,MIN_EPOCHS, e.g. 5,0.5,10")
    jobs = []
    for sweep in args.sweep:
        if not sweep.is_dir():
            parser.error(f"{sweep} does not exist or is not a folder")
        jobs += find_jobs(sweep)
    print("\n".join(replay_lines(jobs, rules)))
    return 0
