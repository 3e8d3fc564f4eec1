"""checkerboard_amplitude's floor, excess, staircase and checkerboard parts (issue 20), and shift equivariance.

Expected values are worked out by hand, not read from the code: a +-a grey-level checkerboard
``(-1)**(i + j)`` has an RMS of exactly a; nearest upsampling of a ramp of slope (g_r, g_c) grey
levels per pixel leaves every pixel half a slope off in each direction, RMS ``|g| / 2``; white error
has no fixed pattern, so its excess is 0 on average.
"""

import pytest
import torch
from torch import nn
from torchvision.transforms.functional import gaussian_blur

from checkerboard.data.shapes import make_shapes
from checkerboard.measures.amplitude import checkerboard_amplitude, checkerboard_amplitude_map
from checkerboard.measures.equivariance import EQUIVARIANCE_CAP_DB, shift_equivariance

GREY = 1 / 255


def board(h: int, w: int) -> torch.Tensor:
    """(h, w) +-1 checkerboard, RMS 1."""
    return ((torch.arange(h)[:, None] + torch.arange(w)) % 2 * 2 - 1).float()


def noise(shape, sigma_grey: float, seed: int) -> torch.Tensor:
    return sigma_grey * GREY * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def smooth_images(n: int, size: int = 32) -> torch.Tensor:
    """Random smooth images: blurred uniform noise stretched to [0.1, 0.9]."""
    x = gaussian_blur(torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(7)), 9, 3.0)
    lo, hi = x.amin(dim=(1, 2, 3), keepdim=True), x.amax(dim=(1, 2, 3), keepdim=True)
    return 0.1 + 0.8 * (x - lo) / (hi - lo)


def mnist_like(n: int = 32) -> torch.Tensor:
    """28 x 28, about 82 % exactly black, white strokes with grey edges (MNIST's statistics, roughly)."""
    x = torch.zeros(n, 1, 28, 28)
    gen = torch.Generator().manual_seed(3)
    for i in range(n):
        top, left = torch.randint(4, 12, (2,), generator=gen).tolist()
        x[i, 0, top : top + 12, left : left + 3] = 1
        x[i, 0, top : top + 3, left : left + 10] = 1
    return gaussian_blur(x, 3, 0.6).mul(255).round().div(255)


@pytest.fixture(scope="module")
def shapes() -> torch.Tensor:
    return make_shapes(64, size=32, channels=3, seed=0).float() / 255


@pytest.mark.parametrize("period", [2, 4])
@pytest.mark.parametrize("kind", ["shapes", "smooth"])
def test_white_noise_reads_no_excess(shapes, period, kind):
    x = shapes if kind == "shapes" else smooth_images(64)
    parts = checkerboard_amplitude(x + noise(x.shape, 12, seed=1), x, period=period)
    # The old reading: the strongest quarter of tiles makes 12 grey levels of noise read 0.9 to 1.3.
    assert parts["amplitude"].mean() > 0.6
    # The permutation keeps white error's distribution, so its amplitude and floor agree in power,
    # and the signed excess averages about 0 over images (measured within 0.15).
    assert parts["excess"].mean().abs() < 0.3
    assert parts["checkerboard_excess"].mean().abs() < 0.3
    ratio = parts["amplitude"].square().mean() / parts["floor"].square().mean()
    assert 0.7 < ratio < 1.4  # equal in expectation; measured 0.9 to 1.27 over these 64 images


def test_white_noise_without_target_reads_its_floor():
    # No target: the null is g * y + S(r) / sqrt(mean |1 - G|^2), r = y - g * y. For white noise r keeps
    # that share of its power, so the scrambled residual has the noise's power again, and amplitude and
    # floor agree in power: ratio 1 in expectation (64 images; measured 1.05 and 1.17). Stops the
    # scramble multiplied by sqrt(0.64) or by 0.5 / 0.64 (ratios near 3) and S(y + g * y) (0.6).
    x = 0.5 + noise((64, 1, 32, 32), 12, seed=1)
    parts = checkerboard_amplitude(x, None, period=2)
    for key, floor in (("amplitude", "floor"), ("checkerboard", "checkerboard_floor")):
        assert 0.8 < parts[key].square().mean() / parts[floor].square().mean() < 1.4


def test_nearest_ramp_is_staircase_not_checkerboard():
    slope = torch.tensor([3.0, 2.0]) * GREY  # per pixel, down and across
    rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    ramp = (0.2 + slope[0] * rows + slope[1] * cols).expand(4, 3, 32, 32)
    stairs = nn.functional.interpolate(nn.functional.avg_pool2d(ramp, 2), scale_factor=2, mode="nearest")
    true = float(slope.norm() / GREY / 2)  # half a slope in each direction: 1.80 grey levels
    for target in (ramp, None):
        parts = checkerboard_amplitude(stairs, target, period=2)
        torch.testing.assert_close(parts["staircase"], torch.full((4,), true), rtol=0.05, atol=0)
        assert parts["checkerboard"].max() < 0.3
        assert parts["checkerboard_excess"].max() < 0.3
    # A real checkerboard on the same ramp stays checkerboard, and the staircase stays staircase.
    parts = checkerboard_amplitude(stairs + board(32, 32) * GREY, ramp, period=2)
    torch.testing.assert_close(parts["checkerboard_excess"], torch.full((4,), 1.0), rtol=0.15, atol=0)
    torch.testing.assert_close(parts["staircase"], torch.full((4,), true), rtol=0.05, atol=0)


def _ramps(slopes) -> torch.Tensor:
    """(1, C, 32, 32): channel c rises by slopes[c] grey levels per pixel (down, across) from 0.2."""
    rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    return torch.stack([0.2 + (a * rows + b * cols) * GREY for a, b in slopes])[None]


def _hold(x: torch.Tensor, period: int) -> torch.Tensor:
    return nn.functional.interpolate(nn.functional.avg_pool2d(x, period), scale_factor=period, mode="nearest")


def test_nearest_ramp_at_period_4_is_staircase():
    # A hold by 4 leaves -slope . offset, offsets (-1.5, -0.5, 0.5, 1.5) in each direction: RMS
    # |slope| sqrt(mean offset^2) = sqrt(13) sqrt(1.25) = 4.031 grey levels, all of it staircase.
    # Stops a template of slope / offset (not proportional to the offsets at P = 4) and a circularly
    # padded slope (the wrap's jump reads as checkerboard in the border tiles).
    ramp = _ramps([(3.0, 2.0)] * 3)
    for target in (ramp, None):
        parts = checkerboard_amplitude(_hold(ramp, 4), target, period=4)
        torch.testing.assert_close(parts["staircase"], torch.tensor([13**0.5 * 1.25**0.5]), rtol=1e-3, atol=0)
        assert parts["checkerboard"].max() < 0.1


def test_staircase_fit_with_stripes_at_period_4():
    # Across the columns a slope of 2 grey levels per px held by 4 leaves T = -2 o, o = (-1.5, -0.5, 0.5,
    # 1.5), DFT of o (-2 + 2i, -2, -2 - 2i) at 1/4, 1/2, 3/4, sum |.|^2 = 20; stripes 2 (-1)^j add 8 at
    # 1/2. Least squares: k = 1 + Re(conj(4) 8) / (4 * 20) = 1.4, staircase 1.4 * 2 sqrt(1.25) = 3.130;
    # the rest, sqrt(13 - 7^2 / 5) = sqrt(3.2), is checkerboard. Stops the fit's sums taken over the
    # template index instead of the column frequency (k = 1 + 32 / 144: 2.733).
    ramp = _ramps([(0.0, 2.0)])
    output = _hold(ramp, 4) + 2 * GREY * (-1.0) ** torch.arange(32.0)
    for target in (ramp, None):
        parts = checkerboard_amplitude(output, target, period=4)
        assert float(parts["staircase"]) == pytest.approx(1.4 * 2 * 1.25**0.5, rel=0.01)
        assert float(parts["checkerboard"]) == pytest.approx(3.2**0.5, rel=0.01)


def test_staircase_templates_stay_with_their_channel():
    # Channels sloping down only, across only, and both: staircases 3/2, 2/2 and sqrt(13)/2 grey levels,
    # RMS over channels sqrt((9 + 4 + 13) / 12) = sqrt(13 / 6) = 1.472. Stops the templates
    # concatenated along the rows, which hands one channel's templates to another.
    ramps = _ramps([(3.0, 0.0), (0.0, 2.0), (3.0, 2.0)])
    for target in (ramps, None):
        parts = checkerboard_amplitude(_hold(ramps, 2), target, period=2)
        torch.testing.assert_close(parts["staircase"], torch.tensor([(13 / 6) ** 0.5]), rtol=1e-3, atol=0)
        assert parts["checkerboard"].max() < 0.1


@pytest.mark.parametrize("period", [2, 4])
def test_pattern_on_black_is_read_unclamped(period):
    x = mnist_like()
    assert (x == 0).float().mean() > 0.75
    planted = x + board(28, 28) * GREY  # below 0 on the black ground: not clamped
    # Against the target, as the model measures (without one, the strokes' own edges are read as lattice
    # content and, permuted, as a floor above the amplitude: measured 1.45 at P = 2).
    parts = checkerboard_amplitude(planted, x, period=period)
    assert ((parts["checkerboard_excess"] > 0.85) & (parts["checkerboard_excess"] < 1.15)).all()
    assert ((parts["excess"] > 0.85) & (parts["excess"] < 1.15)).all()
    # Clamped, the pattern's negative half vanishes on black: about half of it reads (why the model
    # measures its unclamped output).
    assert checkerboard_amplitude(planted.clamp(0, 1), x, period=period)["excess"].mean() < 0.7


def test_pattern_under_heavy_noise_is_recovered(shapes):
    planted = shapes + board(32, 32) * GREY + noise(shapes.shape, 12, seed=2)
    parts = checkerboard_amplitude(planted, shapes, period=2)
    # Batch mean: one image's excess scatters by about the floor (0.9 grey levels here).
    assert abs(parts["excess"].mean() - 1) < 0.2
    assert abs(parts["checkerboard_excess"].mean() - 1) < 0.2
    # The old amplitude reads the pattern plus the noise's floor.
    assert parts["amplitude"].mean() > 1.2


@pytest.mark.parametrize("period", [2, 4])
def test_non_square_images(period):
    x = make_shapes(8, size=48, channels=3, seed=4).float()[..., :32, :] / 255  # 32 x 48
    planted = x + board(32, 48) * GREY
    parts = checkerboard_amplitude(planted, x, period=period)
    assert all(v.shape == (8,) for v in parts.values())
    torch.testing.assert_close(parts["checkerboard_excess"], torch.full((8,), 1.0), rtol=0.1, atol=0)
    assert parts["staircase"].max() < 0.1
    tall = checkerboard_amplitude(planted.transpose(-1, -2), x.transpose(-1, -2), period=period)
    torch.testing.assert_close(tall["checkerboard_excess"], parts["checkerboard_excess"], rtol=0.1, atol=0)
    assert checkerboard_amplitude_map(planted, x, period=period).shape[1:] == ((3, 5) if period == 2 else (3, 5))


def test_upsample_then_conv_sits_at_its_floor_transposed_conv_far_above():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 16, 16)
    with torch.no_grad():
        tconv = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1, output_padding=1)(x)
        upsample = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(3, 3, 3, padding=1))(x)
    t, u = checkerboard_amplitude(tconv), checkerboard_amplitude(upsample)
    # The floor of a 30 grey-level pattern is the same power permuted (measured 4.8 against 29).
    assert t["checkerboard_excess"].mean() > 5 * t["checkerboard_floor"].mean()
    # Without target the floor permutes the output's own structure too and reads high (measured 1.7 against
    # an amplitude of about 0): upsample's excess is at most 0, never a pattern.
    assert u["checkerboard_excess"].mean() < 0.3


# Shift equivariance.


def test_same_padded_conv_stack_is_exactly_equivariant(shapes):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1))
    got = shift_equivariance(net, shapes[:8], margin=4)
    assert (got > 90).all()  # float rounding only
    assert (shift_equivariance(lambda y: y, shapes[:8]) == EQUIVARIANCE_CAP_DB).all()


@pytest.mark.parametrize("a_grey", [1.0, 12.75])
def test_planted_checkerboard_breaks_equivariance(shapes, a_grey):
    a = a_grey * GREY
    pattern = board(32, 32) * a
    got = shift_equivariance(lambda y: y + pattern, shapes[:8])
    # A one-pixel shift flips the board: the outputs differ by 2a everywhere, PSNR = 10 log10(1 / (4 a**2)):
    # 42.11 dB for 1 grey level, 20.00 dB for a = 0.05.
    expected = 10 * torch.log10(torch.tensor(1 / (4 * a * a)))
    torch.testing.assert_close(got, expected.expand(8), rtol=0, atol=0.01)
    # A period-2 pattern that only changes across columns breaks the shift across but not down:
    # the mean MSE over the two shifts is half, 3 dB more.
    stripes = (torch.arange(32) % 2 * 2 - 1).float() * a
    half = shift_equivariance(lambda y: y + stripes, shapes[:8])
    torch.testing.assert_close(half, (expected + 10 * torch.log10(torch.tensor(2.0))).expand(8), rtol=0, atol=0.01)
