"""Values of the x2 layers derived by hand, not from the code (issue 23)."""

import math

import pytest
import torch
import torch.nn.functional as F

from checkerboard.models.phases import phase_gain_spread, phase_gains
from checkerboard.models.upsamplers import ResizeConv, TConv


def all_ones_tconv(bias: float) -> TConv:
    layer = TConv(1, 1, 3)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.fill_(bias)
    return layer


@pytest.mark.parametrize("bias", [0.0, 0.5, -3.0])
def test_all_ones_tconv_has_phase_gains_1_2_2_4_whatever_its_bias(bias):
    # k=3, s=2, padding=1, output_padding=1: output o = 2i - 1 + k, so an even o (phase 0) gets the
    # one tap k=1 and an odd o (phase 1) the two taps k=0 and k=2. A flat input of 1 then gives
    # 1 x 1 at (even row, even col), 1 x 2 at (even, odd) and (odd, even), 2 x 2 at (odd, odd).
    # The bias is not a gain: it must be subtracted whatever its value.
    gains = phase_gains(all_ones_tconv(bias), c_in=1)
    assert gains.shape == (1, 1, 2, 2)
    assert torch.allclose(gains[0, 0], torch.tensor([[1.0, 2.0], [2.0, 4.0]]), atol=1e-6)


@pytest.mark.parametrize("bias", [0.0, 0.5])
def test_all_ones_tconv_phase_gain_spread_is_sqrt_4_75_over_5(bias):
    # gains 1, 2, 2, 4: mean 2.25; deviations -1.25, -0.25, -0.25, 1.75, squares summing to
    # 1.5625 + 0.0625 + 0.0625 + 3.0625 = 4.75; sum of squared gains 1 + 4 + 4 + 16 = 25.
    # sqrt(4.75) / sqrt(25) = 0.43589 (without the square root it would read 0.19).
    assert phase_gain_spread(all_ones_tconv(bias), c_in=1) == pytest.approx(math.sqrt(4.75) / 5, abs=1e-6)


def identity_resize(mode: str) -> ResizeConv:
    layer = ResizeConv(1, 1, mode)
    with torch.no_grad():
        layer.conv.weight.zero_()
        layer.conv.weight[0, 0, 1, 1] = 1.0  # the centre tap alone: the layer is the resize itself
        layer.conv.bias.zero_()
    return layer


def test_bilinear_resize_is_half_pixel_centred_by_hand():
    # align_corners=False at x2: output 2i = 3/4 x[i] + 1/4 x[i-1], 2i+1 = 3/4 x[i] + 1/4 x[i+1],
    # the border clamped. A row [0, 4] becomes [0, 1, 3, 4] (align_corners=True: [0, 4/3, 8/3, 4]).
    x = torch.tensor([0.0, 4.0]).view(1, 1, 1, 2).expand(1, 1, 2, 2).contiguous()
    y = identity_resize("bilinear")(x)
    assert torch.allclose(y[0, 0], torch.tensor([0.0, 1.0, 3.0, 4.0]).expand(4, 4), atol=1e-6)


def test_nearest_resize_repeats_each_pixel_by_hand():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    y = identity_resize("nearest")(x)
    assert torch.equal(y[0, 0], torch.tensor([[1.0, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]))


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_conv_is_interpolate_then_the_same_conv(mode):
    torch.manual_seed(0)
    layer = ResizeConv(3, 2, mode)
    with torch.no_grad():
        layer.conv.bias.normal_()
    x = torch.randn(2, 3, 5, 7)
    align = False if mode == "bilinear" else None
    expected = layer.conv(F.interpolate(x, scale_factor=2, mode=mode, align_corners=align))
    assert torch.allclose(layer(x), expected, atol=1e-6)
