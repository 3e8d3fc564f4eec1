"""Summaries over seeds: means with t-intervals, medians with bootstrap intervals."""

from __future__ import annotations

import math
import statistics

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

# t(0.975, df) for df = 1..30; past 30, z + (z^3 + z) / (4 df) is within 0.003 of it.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042]


def t975(df: int) -> float:
    return T975[df - 1] if df <= len(T975) else 1.96 + (1.96**3 + 1.96) / (4 * df)


def finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    """Mean and 95% t half-width; no half-width from fewer than two values."""
    values = finite(values)
    if not values:
        return math.nan, None
    if len(values) < 2:
        return values[0], None
    return statistics.fmean(values), t975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def median_ci(values: list[float], resamples: int = 2000, seed: int = 0) -> tuple[float, float | None, float | None]:
    """Median and the 2.5th/97.5th percentiles of the medians of ``resamples`` bootstrap resamples."""
    values = finite(values)
    if not values:
        return math.nan, None, None
    if len(values) < 2:
        return values[0], None, None
    data = np.asarray(values)
    picks = np.random.default_rng(seed).integers(0, len(data), size=(resamples, len(data)))
    medians = np.median(data[picks], axis=1)
    return float(np.median(data)), float(np.percentile(medians, 2.5)), float(np.percentile(medians, 97.5))
