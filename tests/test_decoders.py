import pytest
import torch
import torch.nn.functional as F

from checkerboard.data.shapes import make_shapes
from checkerboard.errors import SizeError
from checkerboard.models.autoencoder import Autoencoder
from checkerboard.models.builders import DOWNSAMPLES, DecoderSpec, build_encoder, x2_layers
from checkerboard.models.phases import phase_gain_spread, phase_gains
from checkerboard.models.upsamplers import INITS, UPSAMPLERS, BlurTConv, PixelShuffleUp, TConv, TConvHold


@pytest.mark.parametrize("name", list(UPSAMPLERS))
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 28), (1, 32), (3, 32)])
@pytest.mark.parametrize("downsample", DOWNSAMPLES)
def test_output_shape_equals_input_shape(name, channels, size, downsample):
    model = Autoencoder(name, channels=channels, image_size=size, width=8, downsample=downsample)
    x = torch.rand(2, channels, size, size)
    assert model(x).shape == x.shape


@pytest.mark.parametrize("name", list(UPSAMPLERS))
def test_each_upsampler_doubles_the_size_it_says_it_does(name):
    layer = UPSAMPLERS[name](4, 3)
    for i in (3, 7, 8):
        assert layer(torch.rand(1, 4, i, i)).shape[-1] == layer.output_size(i) == 2 * i


@pytest.mark.parametrize("init", INITS)
def test_pixelshuffle_icnr_equals_conv_then_nearest_resize(init):
    torch.manual_seed(0)
    layer = PixelShuffleUp(5, 3, init=init)
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
    layer = TConvHold(2, 2)
    x = torch.randn(1, 2, 6, 6)
    w = layer.tconv.weight.flip(-1, -2).transpose(0, 1)  # as a plain conv kernel
    up = F.interpolate(x, scale_factor=2, mode="nearest")
    # The box sums four outputs, so the tconv's bias arrives four times.
    expected = F.conv2d(F.pad(up, (1, 1, 1, 1)), w, 4 * layer.tconv.bias)[..., :12, :12]
    # Equal everywhere, borders included: a one-sided border trains into a checkerboard (docs/results.md).
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_box_filter_is_not_learned():
    layer = TConvHold(2, 2)
    assert all("box" not in name for name, _ in layer.named_parameters())


@pytest.mark.parametrize("size,depth", [(30, 2), (28, 3), (20, 3)])
def test_size_the_decoder_cannot_reproduce_is_refused_with_both_numbers(size, depth):
    with pytest.raises(SizeError) as err:
        Autoencoder("upsample", image_size=size, depth=depth)
    msg = str(err.value)
    assert f"image size {size}" in msg and f"model.depth={depth}" in msg and "divisible by" in msg


def test_decoders_differ_only_in_the_upsampling_layer():
    models = {n: Autoencoder(n, width=8) for n in UPSAMPLERS}
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


# -- a fair start: the fan-in rule ------------------------------------------------------------

NAMES = list(UPSAMPLERS)
INTERPOLATING = ("bilinear", "blur", "dysample")  # start lower on smooth inputs, see below


def _rms(y: torch.Tensor) -> float:
    return float(y.square().mean().sqrt())


@pytest.fixture(scope="module")
def features() -> torch.Tensor:
    """Real-looking input for an x2 layer: the untrained encoder's features of the shapes images."""
    torch.manual_seed(0)
    encoder = build_encoder(3, 32, 2)
    with torch.no_grad():
        return encoder(make_shapes(16, 32, 3, seed=5).float() / 255)  # (16, 64, 8, 8), after BN + ReLU


def test_every_x2_layer_starts_at_the_same_output_scale(features):
    # The rule gives every output pixel the same variance over initialisations; 200 draws of each
    # layer measure it to a few percent. Bilinear resizing averages neighbouring input values, which
    # lowers their second moment by an amount that depends on how smooth the input is (0.39x for
    # uncorrelated values, 1x for constant ones): on these features it starts about 10 % lower. So do
    # the layers that interpolate as it does (blur 0.86, dysample 0.90); sinc, whose filter keeps more
    # of the detail (0.77x for uncorrelated values), starts at 0.96, within the 5 % of the others.
    scale = {}
    for name in NAMES:
        draws = []
        for seed in range(200):
            torch.manual_seed(seed)
            with torch.no_grad():
                draws.append(DecoderSpec(name=name).make(name, 64, 32)(features).square().mean())
        scale[name] = float(torch.stack(draws).mean().sqrt())
    smooth = {n: scale.pop(n) for n in INTERPOLATING}
    assert max(scale.values()) / min(scale.values()) < 1.05, scale
    assert all(0.8 < v / scale["upsample"] < 1.0 for v in smooth.values()), (smooth, scale["upsample"])


def test_every_decoder_starts_at_the_same_output_scale():
    # The whole model, default config, in train mode (BatchNorm uses the batch's statistics). An
    # eval-mode twin (fresh running statistics, 300 seeds for its heavy tail) was dropped: it only
    # compounds the per-layer gains that the test above already holds equal.
    x = make_shapes(16, 32, 3, seed=123).float() / 255
    seeds = range(20)
    scale = {}
    for name in NAMES:
        total = 0.0
        for seed in seeds:
            torch.manual_seed(seed)
            model = Autoencoder(name).train()
            with torch.no_grad():
                total += float(model(x).square().mean())
        scale[name] = (total / len(seeds)) ** 0.5
    # Interpolation lowers the scale a little at each layer (see the test above).
    smooth = {n: scale.pop(n) for n in INTERPOLATING}
    assert max(scale.values()) / min(scale.values()) < 1.10, scale
    for v in smooth.values():
        assert 0.8 < v / max(scale.values()) and v < min(scale.values()) * 1.05, (smooth, scale)


def test_pytorch_defaults_are_the_confound():
    # init=torch: ConvTranspose2d takes its fan-in from the output channels, and the hold's box
    # multiplies by 4. Measured today: tconv 0.65, tconv_hold 1.30, upsample 0.36 (train mode).
    x = make_shapes(32, 32, 3, seed=123).float() / 255
    scale = {}
    for name in ("tconv", "upsample", "tconv_hold"):
        torch.manual_seed(0)
        with torch.no_grad():
            scale[name] = _rms(Autoencoder({"name": name, "init": "torch"})(x))
    assert scale["tconv"] > 1.5 * scale["upsample"] and scale["tconv_hold"] > 3 * scale["upsample"], scale


def test_same_seed_same_kernel_in_every_3x3_decoder():
    # tconv's kernel is the shared one transposed and doubled (its n is a quarter), the hold's
    # transposed, ICNR's repeated over each group of four sub-kernels; in both layers.
    def kernel(layer):
        if isinstance(layer, TConvHold):
            return layer.tconv.weight.transpose(0, 1).flip(-2, -1)
        if isinstance(layer, TConv):
            return layer.weight.transpose(0, 1).flip(-2, -1) / 2
        if isinstance(layer, BlurTConv):
            return layer.tconv.weight.transpose(0, 1).flip(-2, -1)
        if isinstance(layer, PixelShuffleUp):
            return layer.conv.weight[::4]
        return layer.conv.weight

    kernels = {}
    for name in ("tconv", "upsample", "bilinear", "pixelshuffle", "tconv_hold", "blur", "sinc", "dysample"):
        torch.manual_seed(5)
        kernels[name] = [kernel(layer).detach() for layer in x2_layers(Autoencoder(name).decoder)]
    for name, found in kernels.items():
        for a, b in zip(found, kernels["upsample"], strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)


def test_same_seed_same_kernel_so_the_hold_starts_as_upsample():
    # Every 3x3 x2 layer starts from one shared random draw: with the same generator, tconv_hold
    # (zero insertion, the kernel, a 2x2 box of ones) computes exactly what upsample (nearest, the
    # kernel) does, away from the border.
    x = torch.randn(2, 5, 8, 8)
    outputs = {}
    for name in ("upsample", "tconv_hold"):
        layer = DecoderSpec(name=name).make(name, 5, 3, torch.Generator().manual_seed(0))
        with torch.no_grad():
            outputs[name] = layer(x)[..., 2:-2, 2:-2]
    torch.testing.assert_close(outputs["tconv_hold"], outputs["upsample"], rtol=0, atol=1e-5)


def test_encoder_starts_the_same_whatever_the_decoder():
    weights = []
    for name in NAMES:
        torch.manual_seed(3)
        weights.append(Autoencoder(name).encoder[0].weight)
    assert all(torch.equal(w, weights[0]) for w in weights)


# -- the mechanism: taps per phase and DC gains ----------------------------------------------

def test_tconv_gives_two_taps_to_odd_outputs_and_one_to_even():
    # ConvTranspose2d(k=3, s=2, padding=1, output_padding=1), every weight 1, a constant input:
    # each output counts the taps that reach it. In 1D, output o = 2 i - 1 + j for tap j = 0, 1, 2.
    layer = TConv(1, 1, 3)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.zero_()
        y = layer(torch.ones(1, 1, 6, 6))[0, 0, 2:-2, 2:-2]  # rows and columns 2..9: even first
    assert y[0::2, 0::2].unique().tolist() == [1.0]   # even row, even column
    assert y[1::2, 1::2].unique().tolist() == [4.0]   # odd row, odd column
    assert y[0::2, 1::2].unique().tolist() == y[1::2, 0::2].unique().tolist() == [2.0]


def test_phase_dc_gains_are_the_sums_of_each_phases_taps():
    torch.manual_seed(0)
    layer = TConv(2, 3, 3)
    gains = phase_gains(layer, 2)  # (c_out, c_in, 2, 2)
    w = layer.weight.detach().transpose(0, 1)  # (c_out, c_in, 3, 3)
    # even phase: the centre tap; odd phase: the two outer taps (per dimension)
    per_dim = [[1], [0, 2]]
    for a in (0, 1):
        for b in (0, 1):
            expected = w[..., per_dim[a], :][..., per_dim[b]].sum(dim=(-2, -1))
            torch.testing.assert_close(gains[..., a, b], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_phase_gain_spread_at_init(name):
    torch.manual_seed(0)
    layer = DecoderSpec(name=name).make(name, 8, 3)
    spread = phase_gain_spread(layer, 8)
    if name in ("tconv", "tconv4"):
        assert spread > 0.3  # random taps per phase: unequal DC gains
    else:
        assert spread < 1e-5  # resize first, the hold and ICNR: every phase has every tap
