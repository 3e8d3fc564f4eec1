"""Detectability as a held-out ROC AUC: hand cases, controls on the shapes data, lattice against the rest."""

import pytest
import torch

from checkerboard.data.shapes import make_shapes
from checkerboard.measures.detectability import (
    bootstrap_auc,
    checkerboard,
    control_ladder,
    d_prime,
    detectability_auc,
    lattice_mask,
    roc_auc,
)


def test_roc_auc_by_hand():
    assert roc_auc([3, 4], [1, 2]) == 1.0  # perfect separation
    assert roc_auc([1, 2], [3, 4]) == 0.0
    assert roc_auc([0.9, 0.4], [0.5, 0.1]) == 0.75  # 3 of the 4 pairs ranked right
    assert roc_auc([2, 1], [1, 0]) == 3.5 / 4  # the tie counts half
    assert roc_auc([1, 1], [1, 1, 1]) == 0.5
    assert bootstrap_auc([3, 4, 5], [0, 1, 2], resamples=50) == (1.0, 1.0)
    assert d_prime([1, 3], [0, 2]) == 1 / 2**0.5  # means 2 and 1, both variances 2


def test_lattice_mask_holds_the_checkerboard_spectrum():
    assert lattice_mask(32, 32, 2).nonzero().tolist() == [[0, 16], [16, 0], [16, 16]]
    for period in (2, 4):
        spectrum = torch.fft.rfft2(checkerboard(32, 32, period)).abs()
        assert (spectrum > 1e-3).equal(lattice_mask(32, 32, period) & (spectrum > 1e-3))
        assert (spectrum > 1e-3).any()
    assert checkerboard(4, 4, 2).tolist() == [[1, -1, 1, -1], [-1, 1, -1, 1]] * 2


def test_real_against_real_is_chance():
    real = make_shapes(1000, 32, 3, seed=0)
    d = detectability_auc(real[:500], real[500:])
    for auc in (d.all, d.lattice, d.without_lattice):
        assert abs(auc.auc - 0.5) < 0.1
        assert auc.lo < auc.auc < auc.hi
    assert d.n == 500


@pytest.mark.parametrize("period", [2, 4])
def test_a_strong_checkerboard_is_found_on_the_lattice_only(period):
    real = make_shapes(1000, 32, 3, seed=1)
    fake = (real[500:].float() + 6 * checkerboard(32, 32, period)).clamp(0, 255).round().to(torch.uint8)
    d = detectability_auc(real[:500], fake, period=period)
    assert d.lattice.auc > 0.99 and d.all.auc > 0.95
    assert abs(d.without_lattice.auc - 0.5) < 0.1


def test_control_ladder_on_shapes():
    ladder = control_ladder(make_shapes(1000, 32, 3, seed=2), period=2, resamples=200)
    assert list(ladder) == ["real", "blurred", "resampled", "checkerboard +-1"]
    assert abs(ladder["real"].all.auc - 0.5) < 0.1
    for rung in ("blurred", "resampled", "checkerboard +-1"):
        assert ladder[rung].all.auc > 0.95
    # A one-grey-level checkerboard is given away by the lattice alone; the rest sees nothing.
    assert ladder["checkerboard +-1"].lattice.auc > 0.99
    assert abs(ladder["checkerboard +-1"].without_lattice.auc - 0.5) < 0.1
