"""The report's statistics on cases whose answer is known by hand (issue 23)."""

import pytest
from torch.utils.tensorboard import SummaryWriter

from checkerboard.reports.statistics import median_ci
from checkerboard.reports.sweeps import psnr_gain_last_fifth


# median_ci's bootstrap interval, pinned on its current definition (percentile bootstrap, 2,000
# resamples). Kept apart: median_ci is being rewritten (exact binomial intervals), and this test
# goes with the old definition.
@pytest.mark.parametrize("n, lo, hi", [(5, 1.0, 5.0), (11, 3.0, 9.0)])
def test_median_ci_is_the_2_5_and_97_5_percentiles_of_the_exact_bootstrap_median_law(n, lo, hi):
    # Resampling 1..n (n odd) with replacement, the median is the middle order statistic, and
    # P(median <= k) = P(Binomial(n, k / n) >= (n + 1) / 2):
    #   n = 5:  P(<= 1) = 0.058, P(<= 4) = 0.942;
    #   n = 11: P(<= 2) = 0.0072, P(<= 3) = 0.051, P(<= 8) = 0.949, P(<= 9) = 0.9928.
    # np.percentile(2.5) of 2,000 medians interpolates the sorted values 49 and 50 (0-based), so it
    # is the smallest k with at least 51 medians <= k: n = 5, k = 1 (116 expected, sd 10); n = 11,
    # k = 3 (103 expected, sd 10; k = 2 would need 51 of 14 expected). By symmetry, 97.5: n and n - 2.
    # Each holds unless a count falls 5 sd from its mean: with any seed, overwhelmingly likely.
    # (Percentiles 25/75 would give 2, 4 and 5, 7; medians of means are not whole numbers.)
    values = list(range(1, n + 1))
    assert median_ci(values) == ((n + 1) / 2, lo, hi)
    assert median_ci(values, seed=12345) == ((n + 1) / 2, lo, hi)


def test_median_ci_gives_no_interval_from_one_value():
    assert median_ci([7.0]) == (7.0, None, None)


def job_with_psnr(folder, values, untrained=-100.0) -> dict:
    """A run folder whose TensorBoard holds val/psnr: ``untrained`` at step 0, then ``values``."""
    with SummaryWriter(str(folder / "tensorboard")) as writer:
        writer.add_scalar("val/psnr", untrained, 0)
        for i, value in enumerate(values, start=1):
            writer.add_scalar("val/psnr", value, 10 * i)
    return {"dir": folder, "metrics": {}}


def test_psnr_gain_last_fifth_of_11_validations_is_the_last_minus_the_ninth(tmp_path):
    # 11 validations after step 0: 10 intervals, the last fifth is the last 2: from validation 9 (of
    # 1..11) to 11. PSNR k^2 at validation k + 1 (k = 0..10): 100 - 64 = 36 (one validation early
    # would be 100 - 49 = 51; counting step 0 as a validation would too).
    job = job_with_psnr(tmp_path, [float(k * k) for k in range(11)])
    assert psnr_gain_last_fifth(job) == pytest.approx(36.0)


def test_psnr_gain_needs_five_validations_besides_step_0(tmp_path):
    # 4 validations and the untrained step 0: too few for a fifth (step 0 would make it 5).
    assert psnr_gain_last_fifth(job_with_psnr(tmp_path / "four", [1.0, 2.0, 3.0, 4.0])) is None
    assert psnr_gain_last_fifth(job_with_psnr(tmp_path / "five", [1.0, 2.0, 3.0, 4.0, 6.0])) == pytest.approx(6.0 - 4.0)
