"""The checkerboard score's promised properties, each on 32 realistic images (the shapes data).

Planted patterns are additive, fixed over the image, and their peak-to-peak amplitude is given as a
fraction of each image's own range. The period-2 tile is the overlap count of a 3x3, stride-2
transposed convolution (2 and 1 taps per dimension, 4:2:2:1 in 2D); the period-4 tile is two such
stages compounded (4:2:2:1 per dimension).
"""

import math

import pytest
import torch
from torch import nn
from torchvision.transforms.functional import gaussian_blur

from checkerboard.data.shapes import make_shapes
from checkerboard.measures.amplitude import CheckerboardAmplitude, checkerboard_amplitude, checkerboard_amplitude_map
from checkerboard.measures.lattice import lattice_frequencies, log_power_spectrum
from checkerboard.measures.prominence import CheckerboardScore, checkerboard_score

TILES = {2: [2.0, 1.0], 3: [2.0, 1.0, 1.0], 4: [4.0, 2.0, 2.0, 1.0]}
# Amplitude each period's pattern must be flagged at. The period-4 tile spreads its energy over 15
# lattice bins instead of 3 and has less of it for the same range: about 11x less per bin than the
# period-2 tile, so the same per-bin evidence needs about 3x the amplitude; 5 % is a clear case.
FLAG_AMPLITUDE = {2: 0.01, 4: 0.05}


def tile(period: int, size: int = 32) -> torch.Tensor:
    """(size, size) zero-mean pattern of peak-to-peak 1 repeating every `period` pixels."""
    t = torch.tensor(TILES[period])
    t = torch.outer(t, t)
    t = (t - t.mean()) / (t.max() - t.min())
    reps = -(-size // period)
    return t.repeat(reps, reps)[:size, :size]


def plant(x: torch.Tensor, pattern: torch.Tensor, amplitude: float) -> torch.Tensor:
    value_range = (x.amax(dim=(1, 2, 3)) - x.amin(dim=(1, 2, 3))).view(-1, 1, 1, 1)
    return x + amplitude * value_range * pattern


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return make_shapes(32, size=32, channels=3, seed=0).float() / 255


@pytest.fixture(scope="module")
def flagged(images):
    """Per period: (the weakest target-mode score of the flag-amplitude pattern, the clean scores)."""
    scores = {}
    for p in (2, 4):
        planted = plant(images, tile(p), FLAG_AMPLITUDE[p])
        scores[p] = checkerboard_score(planted, images, period=p).min(), checkerboard_score(images, period=p)
    return scores


@pytest.mark.parametrize("period", [2, 4])
def test_clean_images_score_about_one_and_exactly_zero_against_themselves(images, period):
    clean = checkerboard_score(images, period=period)
    # A smooth spectrum makes S(l) and its baseline alike; measured 0.97 (period 2), 0.78 (period 4).
    assert 0.5 < clean.mean() < 1.5
    assert torch.equal(checkerboard_score(images, images, period=period), torch.zeros(len(images)))


@pytest.mark.parametrize("period", [2, 4])
def test_grows_monotonically_with_planted_pattern_amplitude(images, period):
    amplitudes = [0, 0.005, 0.01, 0.02, 0.05, 0.1]
    scores = torch.stack([checkerboard_score(plant(images, tile(period), a), period=period) for a in amplitudes])
    means = scores.mean(dim=1)
    assert (means[1:] > means[:-1]).all(), means
    # Per image too, from the first planted amplitude on. Between 0 and 0.5 % the period-4 pattern
    # (15 bins, little energy in each) is weaker than some images' own lattice content and adds to
    # it with either sign, so that first step is only monotone on average.
    first = 0 if period == 2 else 1
    assert (scores[first + 1 :] > scores[first:-1]).all()


@pytest.mark.parametrize("period", [2, 4])
def test_flags_a_small_planted_pattern_in_every_image(images, period):
    clean = checkerboard_score(images, period=period)
    planted_images = plant(images, tile(period), FLAG_AMPLITUDE[period])
    planted = checkerboard_score(planted_images, period=period)
    # Every planted image above every clean one, and above twice the clean mean (measured at period
    # 2: weakest planted 7.0 against clean at most 1.9, mean 0.97).
    assert planted.min() > clean.max()
    assert planted.min() > 2 * clean.mean()
    # Against the clean target the baseline is exactly 0; the weakest image still gains over 3
    # baselines' worth of lattice power per bin (measured 6.1 and 8.1).
    assert checkerboard_score(planted_images, images, period=period).min() > 3


@pytest.mark.parametrize("period", [2, 4])
@pytest.mark.parametrize("sigma", [0.01, 0.05])
def test_white_noise_error_stays_near_baseline(images, flagged, period, sigma):
    noisy = images + sigma * torch.randn(images.shape, generator=torch.Generator().manual_seed(1))
    score = checkerboard_score(noisy, images, period=period)
    # The batch mean stays within 0.25 of the baseline 0 (the flagged pattern's mean is 15 to 20),
    # and no noisy image scores like even the weakest flagged pattern.
    assert score.mean().abs() < 0.25
    assert score.max() < flagged[period][0]


@pytest.mark.parametrize("period", [2, 4])
@pytest.mark.parametrize("sigma", [0.5, 1.0])
def test_blurred_reconstruction_stays_near_baseline(images, flagged, period, sigma):
    blurred = gaussian_blur(images, kernel_size=2 * math.ceil(3 * sigma) + 1, sigma=sigma)
    score = checkerboard_score(blurred, images, period=period)
    # Blur lowers the lattice bins with their neighbourhood: mean within 0.25 of 0, no image near
    # the flagged pattern. Without target, within 30 % of the clean mean (measured -13 % at most).
    assert score.mean().abs() < 0.25
    assert score.max() < flagged[period][0]
    clean_mean = flagged[period][1].mean()
    assert (checkerboard_score(blurred, period=period).mean() - clean_mean).abs() < 0.3 * clean_mean


@pytest.mark.parametrize("period", [2, 4])
def test_ignores_brightness_offset_and_contrast_scaling(images, period):
    noise = 0.02 * torch.randn(images.shape, generator=torch.Generator().manual_seed(2))
    output = plant(images, tile(period), 0.02) + noise
    for scale, offset in [(1.0, 0.3), (0.5, 0.0), (3.0, -1.0)]:
        for target in (None, images):
            moved = None if target is None else scale * target + offset
            expected = checkerboard_score(output, target, period=period)
            got = checkerboard_score(scale * output + offset, moved, period=period)
            # float32 rounding only: the score is a ratio of powers, and the offset never enters.
            torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("period", [2, 4])
def test_off_lattice_pattern_rises_much_less(images, period):
    on, off = tile(period), tile(3)
    off = off * on.square().mean().sqrt() / off.square().mean().sqrt()  # the same energy as `on`
    clean = checkerboard_score(images, period=period).mean()
    rise_on = checkerboard_score(plant(images, on, 0.05), period=period).mean() - clean
    rise_off = checkerboard_score(plant(images, off, 0.05), period=period).mean() - clean
    # Period 3 has no energy at k/2 or k/4 cycles per pixel; measured: it even lowers the score a
    # little (its energy lands in the neighbourhoods), while the on-lattice one adds 15 to 190.
    assert rise_off < 0.01 * rise_on


def _random_tconv_and_upsample(measure) -> tuple[torch.Tensor, torch.Tensor]:
    """``measure`` of a random stride-2 tconv's and of nearest upsampling + conv's output, mean over 5 seeds.

    Zero insertion images the input's mean onto the Nyquist frequencies; nearest upsampling's [1, 1]
    filter cancels it there, a random 3x3 stride-2 kernel does not. The input is non-negative, like
    images and post-ReLU activations: the mean is what the checkerboard is made of."""
    tconv, upsample = [], []
    for seed in range(5):
        torch.manual_seed(seed)
        x = torch.rand(8, 3, 16, 16)
        with torch.no_grad():
            transposed = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1, output_padding=1)
            upsampling = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(3, 3, 3, padding=1))
            tconv.append(measure(transposed(x)).mean())
            upsample.append(measure(upsampling(x)).mean())
    return torch.stack(tconv).mean(), torch.stack(upsample).mean()


def test_transposed_conv_scores_far_above_upsample_then_conv():
    tconv, upsample = _random_tconv_and_upsample(checkerboard_score)
    # Measured about 230 against 0.85: the upsampling decoder sits at the clean-image level.
    assert upsample < 2
    assert tconv > 10 * upsample


def test_torchmetric_is_the_mean_over_all_images(images):
    metric = CheckerboardScore(period=2)
    outputs = plant(images, tile(2), 0.02)
    batches = [slice(0, 5), slice(5, 21), slice(21, 32)]
    for b in batches:  # called as in a LightningModule: returns the batch's value, accumulates
        torch.testing.assert_close(metric(outputs[b], images[b]), checkerboard_score(outputs[b], images[b]).mean())
    torch.testing.assert_close(metric.compute(), checkerboard_score(outputs, images).mean())
    metric.reset()
    for b in batches:
        metric.update(outputs[b])
    torch.testing.assert_close(metric.compute(), checkerboard_score(outputs).mean())


@pytest.mark.parametrize(("size", "channels", "period"), [(28, 1, 4), (31, 3, 2), (30, 3, 4)])
def test_other_sizes_and_dtypes(size, channels, period):
    # MNIST is 28 x 28 with a stride-4 decoder; sides that are no multiple of P are cropped.
    x = make_shapes(8, size=size, channels=channels, seed=3).float() / 255
    planted = plant(x, tile(period, size), FLAG_AMPLITUDE[period])
    assert checkerboard_score(planted, period=period).min() > checkerboard_score(x, period=period).max()
    half = planted.bfloat16()
    assert torch.equal(checkerboard_score(half, period=period), checkerboard_score(half.float(), period=period))
    torch.testing.assert_close(
        checkerboard_score(planted.double(), period=period), checkerboard_score(planted, period=period)
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_same_score_on_gpu(images):
    output = plant(images, tile(4), 0.02)
    torch.testing.assert_close(
        checkerboard_score(output.cuda(), images.cuda(), period=4).cpu(),
        checkerboard_score(output, images, period=4),
        rtol=1e-3,
        atol=1e-3,
    )


def test_rejects_impossible_inputs(images):
    with pytest.raises(ValueError, match="period must be >= 2"):
        checkerboard_score(images, period=1)
    with pytest.raises(ValueError, match="at least 48 x 48"):
        checkerboard_score(images, period=16)
    with pytest.raises(ValueError, match="N, C, H, W"):
        checkerboard_score(images[0])
    with pytest.raises(ValueError, match="differ in shape"):
        checkerboard_score(images, images[:3])


@pytest.mark.parametrize("period", [2, 4])
def test_spectrum_picture_changes_most_at_the_marked_lattice(images, period):
    clean = log_power_spectrum(images)
    assert clean.shape == (32, 32, 32) and clean.isfinite().all()
    rise = (log_power_spectrum(plant(images, tile(period), 0.1)) - clean).mean(dim=0)
    marks = lattice_frequencies(32, 32, period)
    most = rise.flatten().topk(len(marks)).indices
    assert {tuple(m) for m in marks.tolist()} == {(int(i) // 32, int(i) % 32) for i in most}


# The checkerboard amplitude. Patterns are planted in grey levels: a pattern of "1 % of the range" is
# the tile scaled to a peak-to-peak of 2.55 grey levels of 255, whatever the image's own range. The
# period-2 tile then has an RMS of 0.93 grey levels, the period-4 tile 0.62 (0.363 and 0.244 of its
# peak-to-peak); the tests compare with `rms_grey`, computed the same way.


def rms_grey(pattern: torch.Tensor, fraction: float) -> float:
    return fraction * 255 * float((pattern - pattern.mean()).square().mean().sqrt())


def finer_tile(size: int = 32) -> torch.Tensor:
    """The period-4 tile less its average over the period-2 sub-lattice: a pattern with no period-2 part."""
    t = tile(4, 4)
    coarse = t.view(2, 2, 2, 2).mean(dim=(0, 2))  # mean over the phases equal mod 2
    return (t - coarse.repeat(2, 2)).repeat(size // 4, size // 4)


def lattice_notch(x: torch.Tensor, period: int) -> torch.Tensor:
    """x through [1/2, 1, ..., 1, 1/2] / P in each direction: nearest upsampling's P-tap hold smoothed by
    half a pixel, the resize decoder's zero at every lattice frequency k / P, with no lattice energy of its own."""
    k = torch.ones(period + 1)
    k[0] = k[-1] = 0.5
    k = torch.outer(k, k) / period**2
    c = x.shape[1]
    padded = nn.functional.pad(x, (period // 2,) * 4, mode="replicate")
    return nn.functional.conv2d(padded, k.expand(c, 1, -1, -1), groups=c)


@pytest.mark.parametrize("period", [2, 4])
@pytest.mark.parametrize("fraction", [0.01, 0.02, 0.05])
def test_amplitude_recovers_a_planted_pattern(images, period, fraction):
    true = rms_grey(tile(period), fraction)
    planted = images + fraction * tile(period)
    # Against the clean target, per image: the error is the pattern alone (measured within 0.01 %).
    parts = checkerboard_amplitude(planted, images, period=period)
    torch.testing.assert_close(parts["amplitude"], torch.full((32,), true), rtol=0.15, atol=0)
    assert parts["deficit"].max() < 1e-3
    # Without target the image's own lattice content adds to some images (per image up to +59 % for
    # the 5 % period-4 pattern); the batch median holds, from 2 % up (1 % period 4: measured 0.75x).
    if period == 2 or fraction >= 0.02:
        median = checkerboard_amplitude(planted, period=period)["amplitude"].median()
        assert abs(median / true - 1) < 0.15


@pytest.mark.parametrize("period", [2, 4])
def test_amplitude_is_the_same_at_32_and_64_px(images, period):
    large = make_shapes(32, size=64, channels=3, seed=0).float() / 255
    for fraction in (0.01, 0.05):
        true = rms_grey(tile(period), fraction)
        small_planted, large_planted = images + fraction * tile(period), large + fraction * tile(period, 64)
        for x, planted in ((images, small_planted), (large, large_planted)):
            got = checkerboard_amplitude(planted, x, period=period)["amplitude"]
            torch.testing.assert_close(got, torch.full((32,), true), rtol=0.15, atol=0)
        # Without target, batch medians: measured within 3 %. The 1 % period-4 pattern lies under the
        # images' own lattice content, which takes a different share of the tiles at each size.
        if period == 2 or fraction == 0.05:
            small = checkerboard_amplitude(small_planted, period=period)["amplitude"].median()
            big = checkerboard_amplitude(large_planted, period=period)["amplitude"].median()
            assert abs(big / small - 1) < 0.15


@pytest.mark.parametrize("period", [2, 4])
def test_amplitude_of_clean_and_blurred_outputs_is_near_zero(images, period):
    assert checkerboard_amplitude(images, images, period=period)["amplitude"].max() < 1e-3
    for sigma in (0.5, 1.0):
        blurred = gaussian_blur(images, kernel_size=2 * math.ceil(3 * sigma) + 1, sigma=sigma)
        parts = checkerboard_amplitude(blurred, images, period=period)
        # Blur lowers the lattice content, and the fitted factor beta takes it as deficit: measured at
        # most 0.02 (period 2) and 0.08 grey levels (period 4), per image.
        assert parts["amplitude"].max() < 0.3
        assert (parts["deficit"] > 0).all()


@pytest.mark.parametrize("period", [2, 4])
@pytest.mark.parametrize("sigma", [0.01, 0.05])
def test_amplitude_of_white_noise_error_stays_under_a_fifth_of_it(images, period, sigma):
    noisy = images + sigma * torch.randn(images.shape, generator=torch.Generator().manual_seed(1))
    amplitude = checkerboard_amplitude(noisy, images, period=period)["amplitude"]
    # Per image. The strongest quarter of tiles picks the noise's high draws: measured up to 0.72 of
    # the bound (period 2) and 0.86 (period 4, 16 pixels of each phase per tile). That is this batch;
    # over 256 images of other seeds the worst period-4 image reached 1.12 of it, the median 0.5.
    assert amplitude.max() < sigma * 255 / 5


@pytest.mark.parametrize("period", [2, 4])
def test_amplitude_finds_a_pattern_confined_to_a_quarter(images, period):
    true = rms_grey(tile(period), 0.05)
    for top, left in ((0, 0), (0, 16), (16, 0), (16, 16)):
        mask = torch.zeros(32, 32)
        mask[top : top + 16, left : left + 16] = 1
        planted = images + 0.05 * tile(period) * mask
        amplitude = checkerboard_amplitude(planted, images, period=period)["amplitude"]
        # Per image. The quarter fills one tile and half of two others: the top quarter of the 9 tiles
        # holds 1, 1/2 and 1/2 of it (RMS 0.71). Measured at least 0.61 (period 2) and 0.53 (period 4):
        # where the target's lattice content lies in the quarter too, a pattern against it reads partly
        # as deficit (over 256 images of other seeds the weakest period-4 image reached 0.42).
        assert amplitude.min() > 0.5 * true
        where = checkerboard_amplitude_map(planted, images, period=period).mean(dim=0)
        assert where.argmax() == (top // 8) * 3 + left // 8  # the tile that is all pattern


@pytest.mark.parametrize("period", [2, 4])
def test_amplitude_ignores_brightness_offsets(images, period):
    output = images + 0.02 * tile(period) + 0.02 * torch.randn(images.shape, generator=torch.Generator().manual_seed(2))
    for target in (images, None):
        expected = checkerboard_amplitude(output, target, period=period)
        for offset in (0.3, -0.2):
            moved = None if target is None else target + offset
            got = checkerboard_amplitude(output + offset, moved, period=period)
            for key in expected:  # float32 rounding only (measured 1e-5 grey levels)
                torch.testing.assert_close(got[key], expected[key], rtol=0, atol=1e-3)


def test_amplitude_splits_period2_and_finer(images):
    coarse = checkerboard_amplitude(images + 0.05 * tile(2), images, period=4)
    true = rms_grey(tile(2), 0.05)
    torch.testing.assert_close(coarse["period2"], torch.full((32,), true), rtol=0.01, atol=0)
    assert coarse["finer"].max() < 0.01 * true
    fine = checkerboard_amplitude(images + 0.05 * finer_tile(), images, period=4)
    true = rms_grey(finer_tile(), 0.05)
    torch.testing.assert_close(fine["finer"], torch.full((32,), true), rtol=0.01, atol=0)
    assert fine["period2"].max() < 0.01 * true
    both = checkerboard_amplitude(images + 0.05 * tile(4), period=4)  # without target too
    torch.testing.assert_close(both["amplitude"].square(), both["period2"].square() + both["finer"].square())
    assert (checkerboard_amplitude(images + 0.05 * tile(2), images, period=2)["finer"] == 0).all()


@pytest.mark.parametrize("period", [2, 4])
def test_amplitude_reads_the_resize_notch_as_deficit(images, period):
    # An output smoother at the lattice than the target: the difference output - target is the target's
    # lattice content with its sign flipped, which must not count as an added pattern.
    parts = checkerboard_amplitude(lattice_notch(images, period), images, period=period)
    assert parts["amplitude"].max() < 0.3  # measured at most 0.03 (period 2), 0.14 (period 4)
    assert (parts["deficit"] > 0.05).all()  # measured at least 0.09 and 1.0 grey levels
    # The same from a 2x2 box average and bilinear upsampling (nearest upsampling: next test).
    if period == 2:
        resized = nn.functional.interpolate(nn.functional.avg_pool2d(images, 2), scale_factor=2, mode="bilinear")
        parts = checkerboard_amplitude(resized, images, period=2)
        assert parts["amplitude"].max() < 0.3  # measured at most 0.14
        assert (parts["deficit"] >= 0).all()


def test_amplitude_sees_the_staircase_of_nearest_upsampling():
    # A 2x2 box average upsampled by nearest has no energy at exactly 1/2 cycle per pixel, yet on a
    # gradient each 2 px step sits half a slope above, then below the ramp: a period-2 pattern of RMS
    # half the slope per pixel, fixed wherever the gradient is, and visible.
    slope = torch.tensor([3.0, 2.0]) / 255  # grey levels per pixel, down and across
    rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    ramp = (0.2 + slope[0] * rows + slope[1] * cols).expand(4, 3, 32, 32)
    stairs = nn.functional.interpolate(nn.functional.avg_pool2d(ramp, 2), scale_factor=2, mode="nearest")
    parts = checkerboard_amplitude(stairs, ramp, period=2)
    torch.testing.assert_close(parts["amplitude"], torch.full((4,), float(slope.norm() * 255 / 2)), rtol=0.05, atol=0)


def test_amplitude_of_transposed_conv_far_above_upsample_then_conv():
    tconv, upsample = _random_tconv_and_upsample(lambda y: checkerboard_amplitude(y)["amplitude"])
    # Measured 38 grey levels against 0: nearest upsampling of noise leaves no pattern of fixed sign.
    assert tconv > 10
    assert upsample < 0.1 * tconv


def test_amplitude_torchmetric_is_the_mean_over_all_images(images):
    metric = CheckerboardAmplitude(period=2)
    outputs = images + 0.02 * tile(2) + 0.01 * torch.randn(images.shape, generator=torch.Generator().manual_seed(3))
    batches = [slice(0, 5), slice(5, 21), slice(21, 32)]
    for target in (images, None):
        metric.reset()
        for b in batches:  # called as in a LightningModule: returns the batch's means, accumulates
            got = metric(outputs[b], None if target is None else target[b])
            want = checkerboard_amplitude(outputs[b], None if target is None else target[b])
            torch.testing.assert_close(got, {key: value.mean() for key, value in want.items()})
        want = checkerboard_amplitude(outputs, target)
        assert set(want) == {"amplitude", "period2", "finer", "deficit", "floor", "excess", "staircase",
                             "checkerboard", "checkerboard_floor", "checkerboard_excess"}
        torch.testing.assert_close(metric.compute(), {key: value.mean() for key, value in want.items()})


@pytest.mark.parametrize(("size", "channels", "period", "rows"), [(28, 1, 4, 3), (31, 3, 2, 3), (32, 3, 8, 2)])
def test_amplitude_other_sizes_and_dtypes(size, channels, period, rows):
    # MNIST is 28 x 28 with a stride-4 decoder; sides that are no multiple of P are cropped. Tiles:
    # 16 px (24 px, 3 periods, at P = 8), stride half a tile, the last one flush with the far side.
    x = make_shapes(8, size=size, channels=channels, seed=3).float() / 255
    pattern = torch.rand(period, period, generator=torch.Generator().manual_seed(5))  # any fixed pattern
    planted = x + 0.02 * pattern.repeat(-(-size // period), -(-size // period))[:size, :size]
    true = rms_grey(pattern, 0.02)
    amplitude = checkerboard_amplitude(planted, x, period=period)["amplitude"]
    torch.testing.assert_close(amplitude, torch.full((8,), true), rtol=0.01, atol=0)
    assert checkerboard_amplitude_map(planted, x, period=period).shape == (8, rows, rows)
    double = checkerboard_amplitude(planted.double(), x.double(), period=period)
    torch.testing.assert_close(double, checkerboard_amplitude(planted, x, period=period))


def test_amplitude_rejects_impossible_inputs(images):
    with pytest.raises(ValueError, match="period must be even and >= 2"):
        checkerboard_amplitude(images, period=3)
    with pytest.raises(ValueError, match="period must be even and >= 2"):
        checkerboard_amplitude(images, period=0)
    with pytest.raises(ValueError, match="at least 64 x 64 px"):
        checkerboard_amplitude(images, period=16)
    with pytest.raises(ValueError, match="at least 20 x 20 px"):
        checkerboard_amplitude(images[..., :16, :], period=4)
    with pytest.raises(ValueError, match="N, C, H, W"):
        checkerboard_amplitude(images[0])
    with pytest.raises(ValueError, match="differ in shape"):
        checkerboard_amplitude(images, images[:3])
    with pytest.raises(ValueError, match="differ in shape"):
        CheckerboardAmplitude(period=2).update(images, images[..., :30])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_same_amplitude_on_gpu(images):
    output = images + 0.02 * tile(4) + 0.01 * torch.randn(images.shape, generator=torch.Generator().manual_seed(4))
    got = checkerboard_amplitude(output.cuda(), images.cuda(), period=4)
    for key, value in checkerboard_amplitude(output, images, period=4).items():
        torch.testing.assert_close(got[key].cpu(), value, rtol=1e-3, atol=1e-3)
