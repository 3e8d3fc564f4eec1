"""The report's statistics on cases whose answer is known by hand (issue 23)."""

import pytest
from torch.utils.tensorboard import SummaryWriter

from checkerboard.reports.statistics import median_ci
from checkerboard.reports.sweeps import psnr_gain_last_fifth


@pytest.mark.parametrize("n, lo, hi", [(5, None, None), (6, 1.0, 6.0), (11, 2.0, 10.0)])
def test_median_ci_is_the_exact_order_statistic_interval(n, lo, hi):
    # [x_(k), x_(n-k+1)] holds the median with probability 1 - 2 P(Bin(n, 1/2) <= k - 1):
    #   n = 5, k = 1: 1 - 2/32 = 0.9375 < 0.95: no 95 % interval from 5 values;
    #   n = 6, k = 1: 1 - 2/64 = 0.969;
    #   n = 11, k = 2: 1 - 2 (1 + 11)/2048 = 0.988; k = 3: 1 - 2 (1 + 11 + 55)/2048 = 0.935 < 0.95.
    values = list(range(1, n + 1))
    assert median_ci(values) == ((n + 1) / 2, lo, hi)


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
