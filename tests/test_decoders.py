import pytest
import torch
import torch.nn.functional as F

from checkerboard import decoders as dec
from checkerboard.errors import SizeError
from checkerboard.model import Autoencoder


@pytest.mark.parametrize("name", list(dec.UPSAMPLERS))
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 28), (1, 32), (3, 32)])
@pytest.mark.parametrize("downsample", dec.DOWNSAMPLES)
def test_output_shape_equals_input_shape(name, channels, size, downsample):
    model = Autoencoder(name, channels=channels, image_size=size, width=8, downsample=downsample)
    x = torch.rand(2, channels, size, size)
    assert model(x).shape == x.shape


@pytest.mark.parametrize("name", list(dec.UPSAMPLERS))
def test_each_upsampler_doubles_the_size_it_says_it_does(name):
    layer = dec.UPSAMPLERS[name](4, 3)
    for i in (3, 7, 8):
        assert layer(torch.rand(1, 4, i, i)).shape[-1] == layer.output_size(i) == 2 * i


def test_pixelshuffle_icnr_equals_conv_then_nearest_resize():
    torch.manual_seed(0)
    layer = dec.PixelShuffleUp(5, 3)
    x = torch.randn(4, 5, 9, 9)
    # The kernel every group of 4 consecutive channels shares, applied once, then nearest x2.
    w, b = layer.conv.weight[::4], layer.conv.bias[::4]
    expected = F.interpolate(F.conv2d(x, w, b, padding=1), scale_factor=2, mode="nearest")
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=1e-6)
    # `repeat` instead of `repeat_interleave` would break this: groups must be consecutive.
    assert not torch.equal(layer.conv.weight[0], layer.conv.weight[4])


def test_tconv_hold_equals_resize_convolution_with_the_tconv_kernel():
    # Zero insertion + conv, then a 2x2 box = nearest resize + conv (with the flipped kernel).
    torch.manual_seed(0)
    layer = dec.TConvHold(2, 2)
    x = torch.randn(1, 2, 6, 6)
    w = layer.tconv.weight.flip(-1, -2).transpose(0, 1)  # as a plain conv kernel
    up = F.interpolate(x, scale_factor=2, mode="nearest")
    # The box sums four outputs, so the tconv's bias arrives four times.
    expected = F.conv2d(F.pad(up, (1, 1, 1, 1)), w, 4 * layer.tconv.bias)[..., :12, :12]
    got = layer(x)
    # Equal away from the border, where padding conventions differ.
    torch.testing.assert_close(got[..., 2:-2, 2:-2], expected[..., 2:-2, 2:-2], rtol=1e-5, atol=1e-5)


def test_box_filter_is_not_learned():
    layer = dec.TConvHold(2, 2)
    assert all("box" not in name for name, _ in layer.named_parameters())


@pytest.mark.parametrize("size,depth", [(30, 2), (28, 3), (20, 3)])
def test_size_the_decoder_cannot_reproduce_is_refused_with_both_numbers(size, depth):
    with pytest.raises(SizeError) as err:
        Autoencoder("upsample", image_size=size, depth=depth)
    msg = str(err.value)
    assert f"image size {size}" in msg and f"model.depth={depth}" in msg and "divisible by" in msg


def test_decoders_differ_only_in_the_upsampling_layer():
    models = {n: Autoencoder(n, width=8) for n in dec.UPSAMPLERS}
    encoders = {n: [type(m).__name__ for m in a.encoder] for n, a in models.items()}
    assert len({tuple(v) for v in encoders.values()}) == 1
    # Between the upsampling layers: the same BatchNorm + ReLU for every decoder.
    for a in models.values():
        kinds = [type(m).__name__ for m in a.decoder]
        assert kinds[1:3] == ["BatchNorm2d", "ReLU"] and len(kinds) == 4


def test_macs_from_lightnings_model_summary_equal_a_count_by_hand():
    # describe() takes the MACs from Lightning's ModelSummary (FlopCounterMode on example_input_array).
    tconv, up = Autoencoder("tconv"), Autoencoder("upsample")
    # By hand, each convolution is (output pixels) x c_out x c_in x k^2; a transposed one is counted
    # from its input pixels. 3 -> 32 -> 64 channels, 32 -> 16 -> 8 px, and back.
    by_hand = {"tconv": 16 * 16 * 32 * 3 * 9 + 8 * 8 * 64 * 32 * 9 + 8 * 8 * 64 * 32 * 9 + 16 * 16 * 32 * 3 * 9,
               # the resize-convolutions run their 3x3 kernels on the enlarged maps (16 and 32 px)
               "upsample": 16 * 16 * 32 * 3 * 9 + 8 * 8 * 64 * 32 * 9 + 16 * 16 * 64 * 32 * 9 + 32 * 32 * 32 * 3 * 9}
    assert tconv.describe()["macs"] == by_hand["tconv"]
    assert up.describe()["macs"] == by_hand["upsample"]
    assert tconv.describe()["params"] == sum(p.numel() for p in tconv.parameters())
