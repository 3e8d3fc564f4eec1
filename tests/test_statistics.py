"""Intervals over few seeds, pinned on values derived by hand (binomial laws, t(0.975, 4) = 2.776)."""

import itertools
import math
import statistics
from collections import Counter

import pytest

from checkerboard.reports.statistics import (
    binom_cdf_half,
    bootstrap_median_distribution,
    median_ci,
    median_interval,
    order_coverage,
    paired_comparison,
    sign_test_p,
)


def test_bootstrap_median_of_five_values_is_min_to_max():
    # All 5**5 = 3125 resamples of [1..5]: P(median <= 1) = P(Bin(5, 1/5) >= 3) = 181/3125 and
    # P(median <= 2) = P(Bin(5, 2/5) >= 3) = 992/3125, so the counts are 181, 811, 1141, 811, 181.
    counts = Counter(statistics.median(r) for r in itertools.product(range(1, 6), repeat=5))
    assert counts == {1: 181, 2: 811, 3: 1141, 4: 811, 5: 181}
    exact = bootstrap_median_distribution([5, 3, 1, 4, 2])
    assert exact == pytest.approx({v: c / 3125 for v, c in counts.items()}, abs=1e-15)
    # 181/3125 = 0.058 > 0.025: the percentile bootstrap's "95 %" interval is [min, max], which
    # covers 1 - 2/32 = 0.9375 of the time; with 3 values P(median = min) = 7/27 and it covers 0.75.
    assert bootstrap_median_distribution([1, 2, 3])[1] == pytest.approx(7 / 27)


@pytest.mark.parametrize("n, k, coverage", [
    (3, 1, 1 - 2 / 8), (5, 1, 1 - 2 / 32), (6, 1, 1 - 2 / 64), (6, 2, 1 - 2 * 7 / 64),
    (8, 1, 1 - 2 / 256), (8, 2, 1 - 2 * 9 / 256), (10, 2, 1 - 2 * 11 / 1024), (10, 3, 1 - 2 * 56 / 1024)])
def test_order_statistic_coverage(n, k, coverage):
    assert order_coverage(n, k) == pytest.approx(coverage, abs=1e-15)


@pytest.mark.parametrize("n, lo, hi, coverage", [
    (6, 1, 6, 0.96875), (8, 1, 8, 0.9921875), (10, 2, 9, 0.978515625)])
def test_median_interval_is_the_narrowest_that_covers_95(n, lo, hi, coverage):
    # n = 8: k = 2 covers only 0.9297; n = 10: k = 3 covers only 0.8906.
    m = median_interval(list(range(n, 0, -1)))
    assert (m.lo, m.hi, m.coverage, m.n, m.min, m.max) == (lo, hi, coverage, n, 1, n)
    assert m.median == (n + 1) / 2


@pytest.mark.parametrize("n", [1, 3, 5])
def test_no_interval_below_six_values(n):
    values = [float(v) for v in range(1, n + 1)] + [math.nan, None]
    m = median_interval(values)
    assert (m.lo, m.hi, m.coverage, m.n, m.min, m.max) == (None, None, None, n, 1.0, float(n))
    assert f"range of {n}" in str(m)
    assert median_ci(values) == ((n + 1) / 2, None, None)


def test_sign_test_p():
    assert sign_test_p([1, 2, 3, 4, 5]) == 2 / 32  # 5 seeds can never reach p < 0.05
    assert sign_test_p([-1] * 6) == 2 / 64
    assert sign_test_p([1, 2, 3, 4, -5]) == 2 * 6 / 32
    assert sign_test_p([1, 0, 2, 0, 3]) == 2 / 8  # zeros dropped
    assert sign_test_p([1, -1]) == 1.0


def test_paired_t_interval_with_five_seeds():
    # d = 1..5: mean 3, s = sqrt(2.5), half-width 2.776 * sqrt(2.5 / 5) = 1.96293
    b = {s: 10.0 + s for s in range(5)}
    a = {s: b[s] + s + 1 for s in range(5)}
    a[99] = 0.0  # unmatched seed: left out
    c = paired_comparison(a, b, names=("tconv", "upsample"))
    assert c.n == 5 and c.mean == 3 and c.median == 3
    assert (c.t_lo, c.t_hi) == pytest.approx((3 - 2.776 * math.sqrt(0.5), 3 + 2.776 * math.sqrt(0.5)), abs=1e-12)
    assert c.sign_p == 0.0625
    assert c.median_interval.lo is None  # 5 differences: range only
    assert c.verdict == "tconv higher than upsample (t interval; sign test p = 0.0625)"


def test_paired_verdicts():
    assert paired_comparison([1, 2, 3], [2, 3, 4]).verdict == "range of 3: no claim"
    assert paired_comparison([1, 2, 3, 4, 5], [1.5, 1, 4, 3.5, 5.2]).verdict == "no difference shown"
    # Ratios on a log scale: a is half of b on every seed, however large the values.
    c = paired_comparison([1, 10, 100, 1000, 5, 7], [2, 20, 200, 2000, 10, 14], log=True)
    assert c.mean == pytest.approx(-math.log(2)) and c.sign_p == 2 / 64
    assert c.verdict.startswith("a lower than b")
    with pytest.raises(ValueError):
        paired_comparison([1, 2], [1])


def test_binomial_cdf_of_a_half():
    # P(Bin(5, 1/2) <= 2) = (1 + 5 + 10) / 32; below 0 nothing.
    assert binom_cdf_half(2, 5) == 0.5
    assert binom_cdf_half(-1, 5) == 0.0


def test_bootstrap_median_distribution_needs_odd_n_and_lists_values_in_order():
    with pytest.raises(ValueError, match=r"^the closed form holds for an odd number of values$"):
        bootstrap_median_distribution([1, 2, 3, 4])
    assert list(bootstrap_median_distribution([30, 10, 20])) == [10, 20, 30]


@pytest.mark.parametrize("n, level, lo, hi, coverage", [
    # n = 5: k = 2 covers 1 - 2 * 6/32 = 0.625 (a level met exactly counts), k = 3 covers 0.
    (5, 0.5, 2, 4, 0.625), (5, 0.625, 2, 4, 0.625),
    # n = 6: k = 3, [x_(3), x_(4)], covers 1 - 2 * 22/64 = 0.3125; k = 2 covers 0.78125.
    (6, 0.3, 3, 4, 0.3125), (6, 0.5, 2, 5, 0.78125)])
def test_median_interval_at_other_levels(n, level, lo, hi, coverage):
    m = median_interval(list(range(1, n + 1)), level=level)
    assert (m.lo, m.hi, m.coverage) == (lo, hi, coverage)


def test_median_interval_of_nothing_and_its_text():
    m = median_interval([None, math.nan])
    assert m.n == 0 and math.isnan(m.median) and math.isnan(m.min) and math.isnan(m.max)
    assert str(m) == "-"
    # n = 6: k = 1, [1, 6], coverage 1 - 2/64 = 0.96875.
    assert str(median_interval([6, 1, 2, 5, 3, 4])) == "3.5 [1, 6] (96.9 %, n = 6)"
    assert str(median_interval([3, 1, 2])) == "2 (range of 3: 1 to 3)"


def test_paired_comparison_below_three_seeds():
    # One pair: no interval. Two, d = [1, 3]: mean 2, s = sqrt(2), half-width 12.706 * sqrt(2) / sqrt(2).
    c = paired_comparison([1.0], [0.0])
    assert (c.n, c.mean, c.t_lo, c.t_hi, c.log) == (1, 1.0, None, None, False)
    c = paired_comparison([1.0, 3.0], [0.0, 0.0])
    assert (c.t_lo, c.t_hi) == pytest.approx((2 - 12.706, 2 + 12.706), abs=1e-12)
    assert c.verdict == "range of 2: no claim"


def test_paired_verdict_at_the_edges_of_the_interval():
    # Five equal differences: s = 0, the interval is the point d. At 0 nothing is shown; at 1 a is higher.
    assert paired_comparison([1.0] * 5, [1.0] * 5).verdict == "no difference shown"
    c = paired_comparison([2.0, 3, 4, 5, 6], [1.0, 2, 3, 4, 5])
    assert (c.t_lo, c.t_hi) == (1.0, 1.0)
    assert c.verdict == "a higher than b (t interval; sign test p = 0.0625)"


def test_paired_comparison_checks_its_input():
    with pytest.raises(ValueError, match=r"^a has 2 values and b 1: pair them by seed \(\{seed: value\}\)$"):
        paired_comparison([1, 2], [1])
    for a, b in (([1.0, 0.0, 2.0], [1.0, 1.0, 1.0]), ([1.0, 1.0, 1.0], [1.0, 0.0, 2.0])):
        with pytest.raises(ValueError, match=r"^log=True needs positive values$"):
            paired_comparison(a, b, log=True)
    # Values below 1 are positive: a = b / 4 on every seed.
    c = paired_comparison([0.125, 0.0625, 0.25], [0.5, 0.25, 1.0], log=True)
    assert c.mean == pytest.approx(-math.log(4)) and c.log is True
