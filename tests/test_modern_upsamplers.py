import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from checkerboard.models.builders import DecoderSpec
from checkerboard.models.phases import phase_gain_spread
from checkerboard.models.upsamplers import INITS, UPSAMPLERS, BlurTConv, DySample, SincUp, base_kernel, kaiser_lowpass


def _randomise(layer: torch.nn.Module) -> None:
    """Any weights and biases, not the init's: what training could reach."""
    with torch.no_grad():
        for name, p in layer.named_parameters():
            p.copy_(torch.randn_like(p) * (0.1 if name.startswith("offset") else 1))


def _delta(layer: torch.nn.Conv2d) -> None:
    """A 1 -> 1 channel 3x3 conv that passes its input through: the layer's resampling alone."""
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[0, 0, 1, 1] = 1
        layer.bias.zero_()


# -- blur: tconv + [1,3,3,1] (StyleGAN2) ------------------------------------------------------------

def test_blur_is_bilinear_resize_convolution_in_the_interior():
    # Zero insertion + [1,3,3,1]/4 per dimension is bilinear x2 resizing; convolutions commute. With the
    # same generator it starts as decoder=bilinear. The two outermost rows and columns differ: the
    # filter pads zeros where bilinear resizing repeats the edge.
    x = torch.randn(2, 5, 9, 9)
    outputs = {}
    for name in ("bilinear", "blur"):
        layer = DecoderSpec(name=name).make(name, 5, 3, torch.Generator().manual_seed(0))
        with torch.no_grad():
            outputs[name] = layer(x)
    torch.testing.assert_close(outputs["blur"][..., 2:-2, 2:-2], outputs["bilinear"][..., 2:-2, 2:-2],
                               rtol=0, atol=1e-5)
    assert not torch.allclose(outputs["blur"][..., 0, :], outputs["bilinear"][..., 0, :], atol=1e-3)


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blur_phase_gains_are_equal_for_any_weights(init, seed):
    torch.manual_seed(seed)
    layer = BlurTConv(6, 4, init=init)
    _randomise(layer)  # random biases too: the filter gives them to every phase alike
    assert phase_gain_spread(layer, 6) < 1e-6


def test_blur_filter_has_gain_four_and_is_not_learned():
    layer = BlurTConv(2, 3)
    assert all("fir" not in name for name, _ in layer.named_parameters())
    torch.testing.assert_close(layer.fir.sum(dim=(-2, -1)), torch.full((3, 1), 4.0))


# -- sinc: zero insertion + Kaiser-windowed sinc (StyleGAN3) ----------------------------------------

def test_kaiser_lowpass_is_firwins_design():
    # firwin's formula with numpy's (symmetric) Kaiser window; then firwin itself, where scipy is installed.
    n = np.arange(12) - 5.5
    h = np.sinc(0.5 * n) * np.kaiser(12, 3.975)
    torch.testing.assert_close(kaiser_lowpass(), torch.tensor(2 * h / h.sum(), dtype=torch.float32), rtol=0, atol=1e-7)
    signal = pytest.importorskip("scipy.signal")
    expected = 2 * signal.firwin(12, 0.25, window=("kaiser", 3.975), fs=1)
    torch.testing.assert_close(kaiser_lowpass(), torch.tensor(expected, dtype=torch.float32), rtol=0, atol=1e-6)
    assert signal.kaiser_beta(45) == pytest.approx(3.975, abs=1e-3)


def test_sinc_filter_stops_beyond_its_transition_band():
    # Cutoff 0.25 cycles per output pixel (the input's Nyquist frequency); the transition band is
    # 0.125 .. 0.375 (Kaiser's width for 12 taps and 45 dB is 0.23): from 0.375 to 0.5 the response
    # is below -40 dB relative to DC, where the spectral images of the input lie.
    h = kaiser_lowpass().double()
    f = torch.linspace(0, 0.5, 4001, dtype=torch.float64)
    response = (h * torch.exp(-2j * math.pi * f[:, None] * torch.arange(12))).sum(-1).abs()
    db = 20 * torch.log10(response / response[0])
    assert db[f >= 0.375].max() < -40, float(db[f >= 0.375].max())
    assert db[f <= 0.1].min() > -1  # the passband is kept
    assert response[0] == pytest.approx(2.0)  # gain 2 per dimension
    # Symmetric and even-length: each output phase's taps sum to 1, a level is kept in both.
    assert float(h[0::2].sum()) == pytest.approx(1.0) and float(h[1::2].sum()) == pytest.approx(1.0)


def test_sinc_keeps_a_flat_input_flat_away_from_the_border():
    torch.manual_seed(0)
    layer = SincUp(4, 3)
    _randomise(layer)
    assert phase_gain_spread(layer, 4) < 1e-6
    with torch.no_grad():
        y = layer(torch.ones(1, 4, 16, 16))[..., 8:-8, 8:-8]  # the filter reaches 3 input pixels, then the conv
    assert float(y.std(dim=(-2, -1)).max() / y.abs().mean()) < 1e-6  # one level per channel


@pytest.mark.parametrize("name", ["sinc", "blur", "bilinear", "upsample"])
def test_resampling_is_centred_like_nearest_resize(name):
    # A centred x2 layer commutes with flipping the image; one sample off-centre would not.
    layer = UPSAMPLERS[name](1, 1)
    if name == "blur":
        with torch.no_grad():
            layer.tconv.weight.zero_()
            layer.tconv.weight[0, 0, 1, 1] = 1
    else:
        _delta(layer.conv)
    x = torch.randn(1, 1, 9, 9)
    with torch.no_grad():
        torch.testing.assert_close(layer(x.flip(-2, -1)), layer(x).flip(-2, -1), rtol=0, atol=1e-6)


# -- DySample (Liu et al. 2023) ---------------------------------------------------------------------

def _bilinear_then_conv(layer: DySample, x: torch.Tensor) -> torch.Tensor:
    up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    return layer.conv(up)


def test_dysample_without_offsets_is_bilinear_resize_convolution_borders_included():
    torch.manual_seed(0)
    layer = DySample(5, 3)
    with torch.no_grad():
        layer.offset.weight.zero_()
        x = torch.randn(2, 5, 7, 9)  # not square: rows and columns must not be swapped
        torch.testing.assert_close(layer(x), _bilinear_then_conv(layer, x), rtol=0, atol=1e-4)


def test_dysample_starts_close_to_bilinear_resize_convolution():
    # The authors' init, normal std 0.001: offsets of about 0.25 * 0.001 * sqrt(c_in) input pixels.
    torch.manual_seed(0)
    layer = DySample(16, 3)
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        y, ref = layer(x), _bilinear_then_conv(layer, x)
    assert float((y - ref).norm() / ref.norm()) < 1e-2
    assert not torch.equal(y, ref)


def test_dysample_learns_its_offsets():
    torch.manual_seed(0)
    layer = DySample(4, 2)
    layer(torch.randn(1, 4, 6, 6)).square().sum().backward()
    assert layer.offset.weight.grad.abs().sum() > 0
    assert "init_pos" not in dict(layer.named_parameters())


def test_dysample_keeps_a_flat_input_flat_for_any_offsets():
    torch.manual_seed(0)
    layer = DySample(4, 3)
    _randomise(layer)
    assert phase_gain_spread(layer, 4) < 1e-5


# -- every new layer: the project's conventions ------------------------------------------------------

@pytest.mark.parametrize("name", ["blur", "sinc", "dysample"])
def test_new_layers_start_from_the_shared_kernel(name):
    generator = torch.Generator().manual_seed(3)
    layer = DecoderSpec(name=name).make(name, 6, 4, generator)
    kernel = layer.tconv.weight.transpose(0, 1).flip(-2, -1) if name == "blur" else layer.conv.weight
    torch.testing.assert_close(kernel, base_kernel(6, 4, torch.Generator().manual_seed(3)), rtol=0, atol=0)
    assert not any(b.detach().any() for n, b in layer.named_parameters() if n.endswith("bias"))
