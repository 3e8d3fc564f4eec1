"""Values derived by hand that kill mutants the other tests let live (CONTRIBUTING.md, "Mutation testing").

Each test names the mutation it stops; the expected values come from arithmetic in the comments, not
from running the code.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from checkerboard.data.datamodules import Batches
from checkerboard.measures import amplitude, prominence
from checkerboard.measures.amplitude import (
    CheckerboardAmplitude,
    checkerboard_amplitude,
    checkerboard_amplitude_map,
    gradient_checkerboard,
    min_image_size,
)
from checkerboard.measures.prominence import CheckerboardScore, checkerboard_score
from checkerboard.models.builders import build_decoder, x2_layers
from checkerboard.models.phases import phase_gain_spread, phase_gain_spreads
from checkerboard.reports.statistics import mean_ci, median_ci, t975


def _ones(decoder: nn.Module) -> nn.Module:
    """Every weight 1, every bias 0."""
    with torch.no_grad():
        for name, p in decoder.named_parameters():
            p.fill_(0.0 if name.endswith("bias") else 1.0)
    return decoder


def test_phase_gain_spread_of_a_single_tap_is_sqrt_three_quarters():
    # One channel, a 2x2 stride-2 transposed conv with one tap: phase gains (1, 0, 0, 0), mean 1/4,
    # spread sqrt((3/4)^2 + 3 (1/4)^2) / sqrt(1) = sqrt(3/4). Its sum G^2 is exactly 1: stops
    # `if total == 1` (the zero-response shortcut taken for a real response).
    layer = nn.ConvTranspose2d(1, 1, 2, stride=2, bias=False)
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[0, 0, 0, 0] = 1.0
    assert phase_gain_spread(layer, 1) == pytest.approx(math.sqrt(0.75), abs=1e-12)


def test_phase_gain_spread_of_a_layer_that_answers_nothing_is_0():
    # All weights 0: no DC response at all, so no phase differs (stops `return 1.0`).
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
    with torch.no_grad():
        layer.weight.zero_()
    assert phase_gain_spread(layer, 2) == 0.0


def test_phase_gain_spreads_names_every_layer_from_1_in_order():
    # Weights 1: a 3x3 stride-2 tconv feeds its phases 1, 2, 2, 4 taps (per channel pair, all alike),
    # mean 9/4, deviations squared 25/16 + 1/16 + 1/16 + 49/16 = 19/4, sum G^2 = 25: sqrt(19/100).
    # Nearest x2 then a 3x3 conv gives each phase 9 taps: spread 0. Three stages, tconv in the
    # middle: stops a shifted `start`, every other width (`[::-2]`), and a wrong order.
    decoder = _ones(build_decoder({"layers": ["upsample", "tconv", "upsample"]}, 3, 4, 3))
    assert len(x2_layers(decoder)) == 3
    spreads = phase_gain_spreads(decoder, 4, 3)
    assert list(spreads) == [f"decoder/phase_gain_spread/{k}" for k in (1, 2, 3)]
    assert spreads["decoder/phase_gain_spread/1"] == pytest.approx(0.0, abs=1e-9)
    assert spreads["decoder/phase_gain_spread/2"] == pytest.approx(math.sqrt(0.19), rel=1e-9)
    assert spreads["decoder/phase_gain_spread/3"] == pytest.approx(0.0, abs=1e-9)


# -- Batches -------------------------------------------------------------------------------------

def _lists(batches) -> list[list[int]]:
    return [x.flatten().tolist() for x in batches]


def test_batches_in_order_by_default_the_last_one_short():
    # Stops `shuffle=True` as the default: 7 images in batches of 3, in order.
    b = Batches(torch.arange(7, dtype=torch.uint8).view(7, 1, 1, 1), 3)
    assert len(b) == 3 and _lists(b) == [[0, 1, 2], [3, 4, 5], [6]]


def test_batches_shuffled_by_seed_plus_epoch():
    # The docstring's contract: epoch e is torch.randperm(n) from a generator seeded with seed + e, and
    # without epoch_fn the epochs count 0, 1, 2. Stops a default seed of 1, `seed - epoch`, a first epoch
    # of 1, and an epoch counter that steps by 2, goes down or stays at 1.
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1)
    perm = lambda s: torch.randperm(10, generator=torch.Generator().manual_seed(s)).tolist()
    b = Batches(images, 10, shuffle=True)
    assert [_lists(b)[0] for _ in range(3)] == [perm(0), perm(1), perm(2)]
    assert _lists(Batches(images, 10, shuffle=True, seed=5, epoch_fn=lambda: 2))[0] == perm(7)


@pytest.mark.parametrize("drop_last,expected", [
    # 11 images on 2 ranks. drop_last: 10 used, 5 a rank, 2 whole batches of 2 each.
    (True, [[[0, 2], [4, 6]], [[1, 3], [5, 7]]]),
    # Evaluation: every image once, rank 0 takes 6 and rank 1 5, the last batches short.
    (False, [[[0, 2], [4, 6], [8, 10]], [[1, 3], [5, 7], [9]]]),
])
def test_batches_shards_with_and_without_drop_last(drop_last, expected):
    # Stops `drop_last` ignored (or always on) in _used and in __len__.
    images = torch.arange(11, dtype=torch.uint8).view(11, 1, 1, 1)
    got = [Batches(images, 2, drop_last=drop_last, rank=r, world_size=2) for r in (0, 1)]
    assert [_lists(b) for b in got] == expected and [len(b) for b in got] == [len(e) for e in expected]


def test_batches_state_before_and_after_an_epoch_without_batches():
    # Nothing handed out yet: epoch 0, 0 batches (stops a start at epoch 1 or at 1 batch). 3 images
    # with drop_last in batches of 4 give no batch; the state still says 0 consumed, not None.
    b = Batches(torch.zeros(3, 1, 1, 1, dtype=torch.uint8), 4, drop_last=True)
    assert b.state_dict() == {"epoch": 0, "consumed": 0}
    assert list(b) == [] and b.state_dict() == {"epoch": 0, "consumed": 0}


# -- the prominence score --------------------------------------------------------------------------

def _prominence_by_the_docstring(spec: np.ndarray, period: int) -> np.ndarray:
    """Step 4 and 5 of prominence.py's docstring, one bin at a time: (N, H, W) spectrum -> (N,) mean R(l)."""
    n, h, w = spec.shape
    out = np.zeros(n)
    for i in range(n):
        rs = []
        for a in range(period):
            for b in range(period):
                if (a, b) == (0, 0):
                    continue
                u, v = a * h // period, b * w // period
                at = lambda du, dv: spec[i, (u + du) % h, (v + dv) % w]
                ring = sorted(at(du, dv) for du in range(-2, 3) for dv in range(-2, 3) if (du, dv) != (0, 0))
                row = np.mean([at(0, d) for d in (-2, -1, 1, 2)])
                col = np.mean([at(d, 0) for d in (-2, -1, 1, 2)])
                rs.append(at(0, 0) / max(ring[11], row, col))  # torch's median of 24: the lower middle one
        out[i] = np.mean(rs)
    return out


def test_lattice_prominence_follows_its_formula_bin_by_bin(monkeypatch):
    # A random positive spectrum put in place of the image's: the ring (24 bins, Chebyshev distance 2)
    # wins at some lattice bins and the row or column ridge at others. Stops every change to the
    # offsets, the steps, the excluded centre and the direction of the neighbourhood.
    spec = torch.rand(4, 16, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64) + 0.01
    monkeypatch.setattr(prominence, "periodic_spectrum", lambda _: spec)
    got = prominence.lattice_prominence(torch.zeros(4, 1, 16, 16), 4)
    assert got.numpy() == pytest.approx(_prominence_by_the_docstring(spec.numpy(), 4), rel=1e-12)


def test_score_crops_each_side_to_whole_periods():
    # 13 x 15 at period 2: the score is the 12 x 14 crop's (stops `h + h % P`, `w + w % P`).
    x = torch.rand(2, 3, 13, 15, generator=torch.Generator().manual_seed(1))
    assert torch.equal(checkerboard_score(x), checkerboard_score(x[..., :12, :14].contiguous()))


@pytest.mark.parametrize("period", [None, 4])
def test_the_metric_averages_the_score_at_its_period(period):
    # Default period 2; another period reaches the score (stops a default of 3 and a dropped period).
    x = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    metric = CheckerboardScore() if period is None else CheckerboardScore(period=period)
    metric.update(x)
    expected = checkerboard_score(x, period=period or 2).mean()
    assert float(metric.compute()) == pytest.approx(float(expected), rel=1e-6)
    assert float(expected) != pytest.approx(float(checkerboard_score(x, period=6 - (period or 2)).mean()), rel=1e-3)


# -- the report's statistics -------------------------------------------------------------------------

def test_t975_from_the_table_to_30_then_the_series():
    # The table's last entry at df = 30; at 31, 1.96 + (1.96^3 + 1.96) / (4 * 31) = 1.96 + 9.489536 / 124.
    assert t975(30) == 2.042 and t975(1) == 12.706
    assert t975(31) == pytest.approx(1.96 + 9.489536 / 124, abs=1e-12)  # 2.0365, t(0.975, 31) is 2.0395
    assert t975(1000) == pytest.approx(1.96 + 9.489536 / 4000, abs=1e-12)


def test_mean_ci_from_two_values_and_from_one():
    # [1, 3]: mean 2, sd sqrt(2), half-width t975(1) sqrt(2) / sqrt(2) = 12.706.
    assert mean_ci([1.0, 3.0]) == pytest.approx((2.0, 12.706), abs=1e-12)
    assert mean_ci([5.0]) == (5.0, None)


@pytest.mark.parametrize("n, lo, hi", [(2, None, None), (9, 2.0, 8.0), (21, 6.0, 16.0), (60, 22.0, 39.0)])
def test_median_ci_is_the_narrowest_order_statistic_interval_of_95_percent(n, lo, hi):
    # Coverage of [x_(k), x_(n-k+1)] is 1 - 2 P(Bin(n, 1/2) <= k - 1), worked out by hand:
    #   n = 9:  k = 2 covers 1 - 2 * 10/512 = 0.961, k = 3 only 1 - 2 * 46/512 = 0.820;
    #   n = 21: k = 6 covers 0.973, k = 7 0.922;   n = 60: k = 22 covers 0.9727, k = 23 0.9481;
    #   n = 2:  k = 1 covers 1 - 2/4 = 0.5: no interval.
    assert median_ci(list(range(1, n + 1))) == ((n + 1) / 2, lo, hi)


def test_median_ci_drops_values_that_are_not_finite():
    assert median_ci([1.0, None, float("nan"), 3.0, float("inf")]) == (2.0, None, None)


# -- the amplitude -----------------------------------------------------------------------------------

def test_min_image_size_is_two_overlapping_tiles_or_3_periods():
    # A tile is ceil(16 / P) periods, at least 3; two overlapping tiles need one period more:
    # P = 2: 9 periods, 18 px; P = 4: 5, 20 px; P = 8: 4, 32 px (as 4 P); P = 16: 4, 64 px. 3 P never wins.
    sizes = {p: min_image_size(p) for p in (2, 4, 8, 16)}
    assert sizes == {2: 18, 4: 20, 8: 32, 16: 64} and all(type(s) is int for s in sizes.values())
    with pytest.raises(ValueError, match=r"at least 18 x 18 px \(two overlapping tiles of 16 px per side"):
        checkerboard_amplitude(torch.zeros(1, 1, 16, 16))


def _pattern(period: int, scale: float = 1.0, size: int = 32) -> torch.Tensor:
    """(1, 1, size, size): a pattern fixed on the phase grid, RMS ``scale``, nothing else. P = 2: the
    checkerboard (-1)^(i+j); P = 4: sqrt(2) cos(2 pi i / 4) down the rows, no period-2 content."""
    i = torch.arange(size, dtype=torch.float64)
    if period == 2:
        grid = (-1.0) ** (i[:, None] + i[None, :])
    else:
        grid = (2**0.5 * torch.cos(2 * math.pi * i / 4))[:, None].expand(size, size)
    return (scale * grid).float()[None, None]


def test_gradient_checkerboard_of_a_pure_pattern_is_1_per_image_at_its_period():
    # The whole gradient is the pattern: 1, whatever each image's scale (normalised per image, not over
    # the batch; a tiny 1e-4 is not held at a floor of 1). The period-4 pattern is not seen at period 2.
    grad = torch.cat([_pattern(2, 1e-4), _pattern(2, 3.0)])
    assert gradient_checkerboard(grad).tolist() == pytest.approx([1.0, 1.0], rel=1e-3)
    assert float(gradient_checkerboard(_pattern(4, 1e-4), period=4)) == pytest.approx(1.0, rel=1e-3)
    assert float(gradient_checkerboard(_pattern(4, 1e-4), period=2)) < 0.05


def test_the_amplitude_metric_and_map_at_their_period():
    # A pure pattern of RMS 0.1 (of 0..1) is 25.5 grey levels. An output equal to its target (a pattern
    # whose strength varies from tile to tile, so that beta is fitted: exactly 1) adds nothing in any
    # tile; without the target every tile shows its pattern. Stops the metric's and the map's period
    # defaults and a dropped period or target.
    metric = CheckerboardAmplitude()
    metric.update(_pattern(2, 0.1) + 0.5)
    assert float(metric.compute()["amplitude"]) == pytest.approx(25.5, rel=1e-3)
    metric4 = CheckerboardAmplitude(period=4)
    metric4.update(_pattern(4, 0.1) + 0.5)
    assert float(metric4.compute()["amplitude"]) == pytest.approx(25.5, rel=1e-3)
    same = _pattern(2) * torch.linspace(0.02, 0.2, 32)[:, None] + 0.5
    assert checkerboard_amplitude_map(same, same).abs().max() < 1e-3
    assert checkerboard_amplitude_map(same).min() > 1.0


def test_fit_beta_refits_on_the_best_fitting_half():
    # Three tiles, X = (0, 1, 3), Y = (-5, -4, -4) at one frequency. All tiles: dx = (-4, -1, 5) / 3,
    # dy = (-2, 1, 1) / 3, beta = (4/3) / (14/3) = 2/7, misfits (-6, 9, -3)^2 / 21^2. The best two
    # (kept = max(2, ceil(3 / 2)) = 2) are tiles 0 and 2, exactly on a line of slope 1/3, and stay kept.
    # Stops keeping at least 3 tiles (2/7) and ranking misfits of fy + mean (keeps tiles 1, 2: 0).
    fx = torch.tensor([0.0, 1.0, 3.0], dtype=torch.complex64).view(1, 1, 3, 1, 1)
    fy = torch.tensor([-5.0, -4.0, -4.0], dtype=torch.complex64).view(1, 1, 3, 1, 1)
    assert float(amplitude._fit_beta(fy, fx)) == pytest.approx(1 / 3, abs=1e-6)


def test_cell_scramble_permutes_pixels_within_their_cells_in_each_draw():
    # Two draws on a 4 x 6 image at P = 2: each a permutation of the 24 pixels that keeps every pixel in
    # its own 2 x 2 cell (row // 2, column // 2). Stops drawing one permutation for all draws.
    index = amplitude._cell_scramble(4, 6, 2, 2, torch.device("cpu"))
    pixels = torch.arange(24)
    assert index.shape == (2, 24)
    for draw in index:
        assert draw.sort().values.tolist() == pixels.tolist()
        assert ((draw // 6) // 2).tolist() == ((pixels // 6) // 2).tolist()
        assert ((draw % 6) // 2).tolist() == ((pixels % 6) // 2).tolist()


def test_map_and_gradient_measure_draw_no_floor(monkeypatch):
    # Neither needs the floors: a scramble that raises is never reached. Stops floors=True there.
    def no_draws(*args):
        raise AssertionError("floor drawn")

    monkeypatch.setattr(amplitude, "_cell_scramble", no_draws)
    assert checkerboard_amplitude_map(_pattern(2, 0.1) + 0.5).shape == (1, 3, 3)
    assert float(gradient_checkerboard(_pattern(2))) == pytest.approx(1.0, rel=1e-3)


def test_tile_cover_of_three_period_tiles_steps_one_period():
    # At P >= 8 a tile is 3 periods and its stride 3 // 2 = 1: over 6 periods, 4 tiles starting at 0..3.
    # Stops a stride of at least 2 periods (3 tiles, at 0, 2, 3).
    cover = amplitude._tile_cover(6, 3, torch.device("cpu"))
    assert cover.tolist() == [[1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]]


def test_amplitude_is_the_mean_power_of_the_strongest_quarter_of_tiles():
    # A checkerboard of RMS 0.1 (25.5 grey levels) in the top-left 16 x 16 px of a flat 32 px target:
    # 3 x 3 tiles of 16 px at stride 8 hold it whole (25.5), half (12.75: the phase means halve),
    # half, a quarter (6.375), and five not at all. The strongest ceil(9 / 4) = 3 tiles: power
    # (1 + 1/4 + 1/4) / 3 = 1/2 of 25.5^2, amplitude 25.5 / sqrt(2) = 18.03 (the strongest fifth, 2
    # tiles: 25.5 sqrt(5/8) = 20.16). A little of the half-covered tiles' scatter is read as noise.
    flat = torch.full((1, 1, 32, 32), 0.5)
    patch = torch.zeros(1, 1, 32, 32)
    patch[..., :16, :16] = _pattern(2, 0.1, size=16)
    expected = torch.tensor([[25.5, 12.75, 0.0], [12.75, 6.375, 0.0], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(checkerboard_amplitude_map(flat + patch, flat)[0], expected, rtol=0, atol=0.25)
    assert float(checkerboard_amplitude(flat + patch, flat)["amplitude"]) == pytest.approx(25.5 / 2**0.5, rel=0.01)
