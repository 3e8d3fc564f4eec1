"""Summaries over seeds that cover what they say: means, medians with exact intervals, paired comparisons.

Why not the percentile bootstrap of the median (what the report used before 2026-12): with n values, a resample's
median is the j-th smallest value x_(j) or below with probability P(Binomial(n, j/n) >= (n+1)/2)
(odd n), so for 3 values P(median = min) = 7/27 = 0.26 and the "95 %" interval is always
[min, max], which holds the true median with probability 1 - 2/2**3 = 0.75. For 5 values it is
[min, max] again (P(median = min) = 181/3125 = 0.058 > 0.025) and covers 0.9375.

- ``median_interval(values)``: the exact order-statistic (sign-test) interval of the median. The true
  median lies in [x_(k), x_(n-k+1)] with probability ``1 - 2 P(Binomial(n, 1/2) <= k - 1)``, whatever
  the distribution (continuous). The largest k whose coverage is >= 95 % is used, and its actual
  coverage reported. Even k = 1, [min, max], covers only ``1 - 2/2**n``: 0.75 for n = 3, 0.9375 for
  n = 5, 0.96875 for n = 6. So below 6 values there is no 95 % interval, only "range of n".
- ``paired_comparison(a, b)``: decoder a against decoder b, seed by seed (same seed, same data and
  initial noise): the differences ``d_i = a_i - b_i`` (or ``ln a_i - ln b_i`` with ``log=True``, for
  the heavy-tailed artifact measures, where one seed can be ten times another). Reports their
  median, mean, the paired t interval ``mean(d) ± t(0.975, n-1) s_d / sqrt(n)``, the exact two-sided
  sign-test p and the order-statistic interval of the median difference.

What 5 seeds can support. No distribution-free test of paired differences reaches p < 0.05 with 5
pairs: the sign test's smallest two-sided p is 2/2**5 = 0.0625 (all five of one sign), and the
Wilcoxon signed-rank test and the sign-flip permutation test of the mean have the same smallest p,
2 of the 2**5 equally likely sign patterns. Six pairs are the fewest for which any of them can
(2/64 = 0.031). So the project's rule, "claim a difference only where the paired interval excludes
zero, with 5 seeds minimum", rests at n = 5 on the paired t interval, which assumes the differences
are roughly normal (use ``log=True`` for ratios of heavy-tailed measures). The verdict says so:
"a lower than b (t interval; sign test p = 0.062)". From 6 seeds on, the sign test's p is worth a look too.
Fewer than 5 seeds: "range of n: no claim", whatever the numbers.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

#: The fewest seeds for which the project claims a difference (see the module docstring).
MIN_SEEDS = 5
LEVEL = 0.95
# t(0.975, df) for df = 1..30 ; past 30, z + (z^3 + z) / (4 df) is within 0.003 of it.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042]


def t975(df: int) -> float:
    return T975[df - 1] if df <= len(T975) else 1.96 + (1.96**3 + 1.96) / (4 * df)


def binom_cdf_half(k: int, n: int) -> float:
    """P(Binomial(n, 1/2) <= k), exactly (as a float of an exact fraction)."""
    return sum(math.comb(n, i) for i in range(0, k + 1)) / 2**n if k >= 0 else 0.0


def order_coverage(n: int, k: int) -> float:
    """Probability that [x_(k), x_(n-k+1)] (1-based order statistics of n values) holds the true median."""
    return 1 - 2 * binom_cdf_half(k - 1, n)


def bootstrap_median_distribution(values: list[float]) -> dict[float, float]:
    """The exact distribution of the median of a bootstrap resample (n draws with replacement) of ``values``.

    For odd n, ``P(median <= x_(j)) = P(Binomial(n, j/n) >= (n+1)/2)``; for even n the resample's
    median averages two order statistics and this closed form does not apply (use odd n).
    """
    xs = sorted(values)
    n = len(xs)
    if n % 2 == 0:
        raise ValueError("the closed form holds for an odd number of values")
    need = (n + 1) // 2

    def at_most(j: int) -> float:  # P(median <= x_(j))
        return sum(math.comb(n, i) * j**i * (n - j) ** (n - i) for i in range(need, n + 1)) / n**n

    return {xs[j - 1]: at_most(j) - at_most(j - 1) for j in range(1, n + 1)}


@dataclass
class MedianInterval:
    median: float
    lo: float | None  # None where n values cannot give a LEVEL interval
    hi: float | None
    coverage: float | None  # the actual coverage of [lo, hi] (>= LEVEL), None with no interval
    n: int
    min: float
    max: float

    def __str__(self) -> str:
        if self.n == 0:
            return "-"
        if self.lo is None:
            return f"{self.median:.4g} (range of {self.n}: {self.min:.4g} to {self.max:.4g})"
        return f"{self.median:.4g} [{self.lo:.4g}, {self.hi:.4g}] ({100 * self.coverage:.1f} %, n = {self.n})"


def finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def median_interval(values, level: float = LEVEL) -> MedianInterval:
    """The median and its exact order-statistic interval of coverage >= ``level`` (module docstring)."""
    xs = sorted(finite(values))
    n = len(xs)
    if n == 0:
        return MedianInterval(math.nan, None, None, None, 0, math.nan, math.nan)
    ks = [k for k in range(1, (n + 1) // 2 + 1) if order_coverage(n, k) >= level]
    med = statistics.median(xs)
    if not ks:
        return MedianInterval(med, None, None, None, n, xs[0], xs[-1])
    k = max(ks)  # the narrowest interval that still covers
    return MedianInterval(med, xs[k - 1], xs[n - k], order_coverage(n, k), n, xs[0], xs[-1])


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    """Mean and 95% t half-width; no half-width from fewer than two values."""
    values = finite(values)
    if not values:
        return math.nan, None
    if len(values) < 2:
        return values[0], None
    return statistics.fmean(values), t975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def median_ci(values) -> tuple[float, float | None, float | None]:
    """(median, lo, hi) of ``median_interval``: lo and hi None below 6 values (no 95 % interval)."""
    m = median_interval(values)
    return m.median, m.lo, m.hi


def sign_test_p(differences) -> float:
    """Exact two-sided sign-test p of the differences (zeros dropped): ``min(1, 2 P(Bin(m, 1/2) <= min(pos, neg)))``."""
    d = [x for x in finite(differences) if x != 0]
    if not d:
        return 1.0
    pos = sum(x > 0 for x in d)
    return min(1.0, 2 * binom_cdf_half(min(pos, len(d) - pos), len(d)))


@dataclass
class PairedComparison:
    n: int  # matched seeds with a finite value on both sides
    median: float  # median difference (a - b, or ln a - ln b with log=True)
    mean: float
    t_lo: float | None  # paired t interval of the mean difference; None below 2 seeds
    t_hi: float | None
    sign_p: float  # exact two-sided sign-test p
    median_interval: MedianInterval  # exact order-statistic interval of the median difference (n >= 6)
    log: bool
    verdict: str


def paired_comparison(a, b, names: tuple[str, str] = ("a", "b"), log: bool = False) -> PairedComparison:
    """Compare ``a`` with ``b`` seed by seed; ``a``, ``b``: {seed: value} or equal-length sequences in seed order.

    The verdict claims a difference only with >= MIN_SEEDS matched seeds and a paired t interval
    that excludes 0; otherwise "no difference shown", or "range of n: no claim" below MIN_SEEDS.
    """
    if not isinstance(a, dict):
        if len(a) != len(b):
            raise ValueError(f"a has {len(a)} values and b {len(b)}: pair them by seed ({{seed: value}})")
        a, b = dict(enumerate(a)), dict(enumerate(b))
    finite = lambda v: v is not None and math.isfinite(v)  # noqa: E731
    pairs = [(float(a[s]), float(b[s])) for s in a if s in b and finite(a[s]) and finite(b[s])]
    if log:
        if any(x <= 0 or y <= 0 for x, y in pairs):
            raise ValueError("log=True needs positive values")
        d = [math.log(x) - math.log(y) for x, y in pairs]
    else:
        d = [x - y for x, y in pairs]
    n = len(d)
    mean = statistics.fmean(d) if d else math.nan
    lo = hi = None
    if n >= 2:
        half = t975(n - 1) * statistics.stdev(d) / math.sqrt(n)
        lo, hi = mean - half, mean + half
    p = sign_test_p(d)
    na, nb = names
    if n < MIN_SEEDS:
        verdict = f"range of {n}: no claim"
    elif lo > 0 or hi < 0:
        verdict = f"{na} {'higher' if lo > 0 else 'lower'} than {nb} (t interval; sign test p = {p:.3g})"
    else:
        verdict = "no difference shown"
    return PairedComparison(n, statistics.median(d) if d else math.nan, mean, lo, hi, p, median_interval(d), log,
                            verdict)
