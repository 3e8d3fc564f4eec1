"""Values of the checkerboard amplitude derived by hand or from a known law, not from the code (issue 23)."""

import math

import pytest
import torch

from checkerboard.measures.amplitude import checkerboard_amplitude, checkerboard_amplitude_map


def tiled(tile: list[list[float]], h: int, w: int) -> torch.Tensor:
    """(1, 1, h, w) image repeating ``tile`` (grey levels of 0-255) around 0.5."""
    t = torch.tensor(tile, dtype=torch.float64) / 255
    p = t.shape[0]
    return (0.5 + t.repeat(h // p, w // p)).float().view(1, 1, h, w)


# A period-2 tile of mean 30 grey levels: deviations -30, -10, 10, 30, so its RMS about its mean is
# sqrt((900 + 100 + 100 + 900) / 4) = sqrt(500) = 22.36 grey levels. The mean is a brightness
# offset, which the measure ignores.
TILE2 = [[0.0, 20.0], [40.0, 60.0]]
RMS2 = math.sqrt(500)


def test_a_flat_output_lacks_all_of_the_targets_pattern_as_deficit_in_grey_levels():
    # Output flat, target flat plus the tile: the output has none of the target's lattice content,
    # so beta = 0 and the deficit is the tile's RMS about its mean; nothing is added.
    target = tiled(TILE2, 32, 32)
    output = torch.full_like(target, 0.5)
    m = checkerboard_amplitude(output, target, period=2)
    assert m["deficit"].item() == pytest.approx(RMS2, rel=1e-3)
    assert m["amplitude"].item() == pytest.approx(0.0, abs=1e-3)


def test_a_period_4_pattern_missing_from_the_output_reads_its_rms_as_deficit():
    # A period-4 tile with a single bright pixel of 64: mean 4, deviations 60 once and -4 fifteen
    # times: RMS sqrt((3600 + 15 x 16) / 16) = sqrt(240) = 15.49 grey levels.
    tile = [[0.0] * 4 for _ in range(4)]
    tile[1][2] = 64.0
    target = tiled(tile, 32, 32)
    m = checkerboard_amplitude(torch.full_like(target, 0.5), target, period=4)
    assert m["deficit"].item() == pytest.approx(math.sqrt(240), rel=1e-3)


def test_a_pattern_added_to_a_flat_target_reads_its_rms_as_amplitude_on_a_non_square_image():
    # 32 x 48 px: rows and columns differ. The pattern fills the image, so every tile reads its RMS.
    output = tiled(TILE2, 32, 48)
    m = checkerboard_amplitude(output, torch.full_like(output, 0.5), period=2)
    assert m["amplitude"].item() == pytest.approx(RMS2, rel=1e-3)
    assert m["period2"].item() == pytest.approx(RMS2, rel=1e-3)
    assert m["deficit"].item() == pytest.approx(0.0, abs=1e-3)
    # Tiles of 8 periods, stride 4, the last flush: 16 periods of rows give 3 tiles, 24 of columns 5.
    amplitude_map = checkerboard_amplitude_map(output, period=2)
    assert amplitude_map.shape == (1, 3, 5)
    assert torch.allclose(amplitude_map, torch.full((1, 3, 5), RMS2), rtol=1e-3)


def test_transposing_a_non_square_image_transposes_its_amplitude_map():
    # A pattern in the top-left corner only, of a 32 x 48 image: its tiles are the first row and column.
    image = torch.full((1, 1, 32, 48), 0.5)
    image[..., :16, :16] = tiled(TILE2, 16, 16)
    amplitude_map = checkerboard_amplitude_map(image, period=2)
    assert amplitude_map.shape == (1, 3, 5)
    assert amplitude_map[0, 0, 0] > 10 and amplitude_map[0, -1, -1] == 0
    transposed = checkerboard_amplitude_map(image.transpose(-2, -1).contiguous(), period=2)
    assert transposed.shape == (1, 5, 3)
    assert torch.allclose(transposed, amplitude_map.transpose(-2, -1), atol=1e-3)


def chi2_cdf(x: float, k: int) -> float:
    """P(chi-square with k degrees of freedom < x), closed forms for k = 3 and even k."""
    if k == 3:
        return math.erf(math.sqrt(x / 2)) - math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    assert k % 2 == 0
    return 1 - math.exp(-x / 2) * sum((x / 2) ** j / math.factorial(j) for j in range(k // 2))


@pytest.mark.parametrize("period", [2, 4])
def test_the_share_of_pure_noise_tiles_debiased_to_zero_follows_the_chi_square_law(period):
    # Gaussian white noise, no pattern, no target. Per tile, the P^2 phase means are independent
    # with one variance s^2; their DFT's non-zero frequencies are orthogonal contrasts, so
    # sum over the 3 period-2 bins of |Y(f)|^2 = P^2 s^2 chi2(3), and over the P^2 - 4 finer bins
    # P^2 s^2 chi2(P^2 - 4) (conjugate pairs count once, with 2 degrees of freedom each). The
    # debiasing subtracts each bin's expectation, P^2 s^2, so a part is clipped to 0 when its
    # chi-square falls below its degrees of freedom, and a tile's map reads 0 when every part is:
    # P = 2: P(chi2(3) < 3) = 0.608; P = 4: P(chi2(3) < 3) P(chi2(12) < 12) = 0.608 x 0.554 = 0.337.
    # 32 images x 49 tiles (overlapping by half: about 800 independent ones, a standard error of
    # 0.02); the variance is estimated per tile, which moves the share by about 0.02 too. The band
    # of +-0.05 excludes a debiasing that missed the residual's share of white noise's power
    # (P = 2: 0.41 instead of 0.61).
    expected = chi2_cdf(3, 3) * (1 if period == 2 else chi2_cdf(12, 12))
    noise = 0.5 + 0.04 * torch.randn(32, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    amplitude_map = checkerboard_amplitude_map(noise, period=period)
    assert amplitude_map.shape == (32, 7, 7)
    share = (amplitude_map == 0).float().mean().item()
    assert abs(share - expected) < 0.05, (share, expected)
