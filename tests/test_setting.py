"""The comparison's setting: the bottleneck (model.latent_channels), the output convolution
(model.output_conv) and the convergence rule (callbacks.plateau), each pinned by hand."""

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from omegaconf import OmegaConf

from checkerboard.errors import ConfigError
from checkerboard.models.autoencoder import Autoencoder
from checkerboard.models.builders import build_decoder, build_encoder, latent_values, x2_layers
from checkerboard.models.gan import GAN
from checkerboard.models.vae import VAE
from checkerboard.run.callbacks import Plateau


@pytest.mark.parametrize("channels,size,k,kept,ratio", [
    (1, 28, 4, 4 * 7 * 7, 4.0),        # MNIST: 784 / 196
    (3, 32, 4, 4 * 8 * 8, 12.0),       # CIFAR-10, shapes: 3,072 / 256
    (3, 32, None, 64 * 8 * 8, 0.75),   # no bottleneck: 4,096 values for 3,072 (the identity fits)
    (1, 28, None, 64 * 7 * 7, 0.25),
])
def test_compression_is_input_values_over_latent_values(channels, size, k, kept, ratio):
    model = Autoencoder("tconv", channels, size, latent_channels=k)
    assert latent_values(channels, size, 32, 2, "stride", k) == kept
    facts = model.describe()
    assert facts["latent_values"] == kept and facts["compression"] == ratio
    assert model.encoder(torch.rand(2, channels, size, size)).shape[1:].numel() == kept


def test_the_bottleneck_is_a_linear_1x1_conv_out_and_1x1_bn_relu_back():
    encoder = build_encoder(3, 8, 2, latent_channels=3)
    last = encoder[-1]
    assert isinstance(last, nn.Conv2d) and last.kernel_size == (1, 1) and last.out_channels == 3
    decoder = build_decoder("upsample", 3, 8, 2, latent_channels=3)
    assert [type(m) for m in decoder[:3]] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert decoder[0].in_channels == 3 and decoder[0].out_channels == 16 and decoder[0].kernel_size == (1, 1)


def test_output_conv_puts_bn_relu_and_a_3x3_same_conv_after_the_last_x2_layer():
    without = build_decoder("tconv", 3, 8, 2)
    out_channels = lambda layer, c_in: layer(torch.zeros(1, c_in, 4, 4)).shape[1]
    assert without[-1] is x2_layers(without)[-1] and out_channels(without[-1], 8) == 3
    decoder = build_decoder("tconv", 3, 8, 2, output_conv=True)
    last_x2 = x2_layers(decoder)[-1]
    tail = list(decoder)[list(decoder).index(last_x2):]
    assert [type(m) for m in tail[1:]] == [nn.BatchNorm2d, nn.ReLU, nn.Conv2d]
    assert out_channels(last_x2, 8) == 8  # the last x2 layer keeps `width` channels
    conv = tail[-1]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.padding) == (8, 3, (3, 3), (1, 1))


def test_the_layers_around_the_x2_layers_start_the_same_for_every_decoder():
    """Same seed: the same bottleneck and output convolution whatever the x2 layer (paired runs)."""
    def around(name):
        torch.manual_seed(3)
        model = Autoencoder(name, 3, 32, width=8, latent_channels=2, output_conv=True)
        return model.encoder[-1].weight, model.decoder[0].weight, model.decoder[-1].weight
    for a, b in zip(around("tconv"), around("dysample")):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_output_conv_of_a_known_image_by_hand():
    """The tail's last conv is a plain same convolution: a delta kernel copies its input channel."""
    decoder = build_decoder("upsample", 1, 4, 1, output_conv=True)
    conv = decoder[-1]
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 2, 1, 1] = 1.0
        conv.bias.fill_(0.5)
    h = torch.randn(1, 4, 5, 5)
    expected = h[:, 2:3] + 0.5
    torch.testing.assert_close(conv(h), expected)
    assert torch.equal(F.pad(h, (1, 1, 1, 1))[:, :, 1:-1, 1:-1], h)


def test_vae_and_gan_take_the_output_conv_and_the_vae_a_bottleneck():
    x = torch.rand(2, 1, 28, 28)
    vae = VAE(decoder="tconv", channels=1, image_size=28, width=8, latent_dim=4, latent_channels=2, output_conv=True)
    assert vae(x).shape == x.shape and vae.describe()["latent_values"] == 4
    gan = GAN("upsample", channels=1, image_size=28, width=8, latent_dim=4, output_conv=True)
    assert gan(torch.randn(2, 4)).shape == x.shape and gan.describe()["output_conv"] is True


@pytest.mark.parametrize("key,value", [("latent_channels", 0), ("latent_channels", 2.5), ("output_conv", "yes")])
def test_bad_setting_is_refused_with_its_name(key, value):
    with pytest.raises(ConfigError, match=f"model.{key}={value!r}"):
        Autoencoder("tconv", 1, 28, **{key: value})


def test_a_checkpoint_remembers_the_setting():
    model = Autoencoder("tconv", 1, 28, latent_channels=4, output_conv=True)
    arch = model.architecture()
    assert arch["latent_channels"] == 4 and arch["output_conv"] is True
    assert "latent_channels" not in Autoencoder("tconv", 1, 28).architecture()  # old checkpoints stay resumable


class _Trainer:
    def __init__(self):
        self.callback_metrics, self.sanity_checking, self.should_stop = {}, False, False


def _feed(plateau, values):
    trainer = _Trainer()
    for v in values:
        trainer.callback_metrics["val/psnr"] = torch.tensor(v)
        plateau.on_validation_end(trainer, None)
        if trainer.should_stop:
            break
    return trainer


def test_plateau_gain_is_the_best_values_rise_over_the_last_fifth_by_hand():
    plateau = Plateau(min_delta=0.1, min_epochs=5)
    # 10 epochs: the last fifth is 2 epochs; the best before them 20.0 (epoch 6), after 20.25.
    history = [15.0, 18.0, 19.0, 19.5, 19.8, 20.0, 19.9, 19.95, 20.25, 20.1]
    plateau.history = history
    assert plateau.gain() == pytest.approx(0.25)
    assert not plateau.converged
    plateau.history = history[:9] + [20.3]
    assert plateau.gain() == pytest.approx(0.3)
    plateau.history = [15.0, 18.0, 19.0, 19.5, 19.8, 20.0, 19.9, 19.95, 20.05, 20.0]
    assert plateau.gain() == pytest.approx(0.05) and plateau.converged


def test_plateau_stops_the_trainer_when_the_rule_holds_and_not_before_min_epochs():
    plateau = Plateau(min_delta=0.1, min_epochs=5)
    trainer = _feed(plateau, [10.0, 10.0, 10.0, 10.0, 10.0, 10.0])  # flat from the start
    assert trainer.should_stop and len(plateau.history) == 5  # not at 2, 3 or 4 epochs
    plateau = Plateau(min_delta=0.1, min_epochs=5)
    trainer = _feed(plateau, [10.0 + i for i in range(8)])  # +1 dB an epoch: never
    assert not trainer.should_stop and plateau.gain() == pytest.approx(2.0) and not plateau.converged
    plateau = Plateau(min_delta=0.1, min_epochs=5, stop=False)  # records, does not stop
    assert not _feed(plateau, [10.0] * 7).should_stop and plateau.converged


def test_plateau_on_an_error_reads_its_fall_in_db_by_hand():
    plateau = Plateau(monitor="val/loss", mode="min", min_delta=0.1, min_epochs=5)
    plateau.history = [100.0, 60.0, 50.0, 45.0, 40.0]  # the last fifth: one epoch, 45 -> 40
    assert plateau.gain() == pytest.approx(10 * math.log10(45 / 40))  # 0.51 dB
    assert not plateau.converged
    plateau.history = [100.0, 60.0, 50.0, 40.0, 41.0, 40.5, 39.5, 40.2, 41.0, 40.1]  # last two: 40.2, 41.0
    assert plateau.gain() == pytest.approx(10 * math.log10(39.5 / 39.5)) and plateau.converged
    plateau.history = [100.0, 60.0, 50.0, 40.0, 41.0, 40.5, 39.5, 40.2, 39.0, 40.1]  # 39.5 -> 39.0: 0.055 dB
    assert plateau.gain() == pytest.approx(0.0553, abs=1e-4) and plateau.converged


def test_plateau_reads_the_mean_of_smooth_epochs_by_hand():
    # A noisy FCD (a GAN's first CIFAR run): epoch 4 is a lucky 12, epoch 5 misses it by chance.
    history = [40.0, 36.0, 30.0, 12.0, 13.0]
    raw = Plateau(monitor="val/loss", mode="min", min_epochs=5, smooth=1)
    raw.history = history
    assert raw.gain() == pytest.approx(0.0) and raw.converged  # 12 -> 13: no new best, it would stop
    smoothed = Plateau(monitor="val/loss", mode="min", min_epochs=5, smooth=3)
    smoothed.history = history
    # Geometric means of 3 epochs, the last against the best before it (the last fifth is one
    # epoch): (36 * 30 * 12) / (30 * 12 * 13) = 36 / 13, a third of it in dB: 1.47 dB.
    assert smoothed.gain() == pytest.approx(10 / 3 * math.log10(36 / 13)) and not smoothed.converged
    psnr = Plateau(smooth=2)
    psnr.history = [20.0, 21.0, 22.0]  # means 20.5, 21.5: +1 dB; under two means there is no gain
    assert psnr.gain() == pytest.approx(1.0)
    psnr.history = [20.0, 21.0]
    assert psnr.gain() is None and "the mean of 2 epochs" in psnr.rule
    # 8 epochs, means of 3: the last fifth is 2 epochs (round(1.6)), counted in epochs, not means;
    # the last two means (10, 10, 13) and (10, 13, 10) are 11, the best before them 10: +1 dB.
    psnr = Plateau(smooth=3)
    psnr.history = [10.0] * 6 + [13.0, 10.0]
    assert psnr.gain() == pytest.approx(1.0)
    whole = Plateau(smooth=3, fraction=1.0)  # the window never takes every mean: the first stays the bar
    whole.history = [10.0, 11.0, 12.0, 13.0]  # means 11, 12
    assert whole.gain() == pytest.approx(1.0)


def test_plateau_follows_the_models_own_monitor():
    class GANLike:
        plateau_monitor = ("val/loss", "min")
        plateau_smooth = 3

    plateau = Plateau(min_epochs=5)
    trainer = SimpleNamespace(sanity_checking=False, should_stop=False, callback_metrics={})
    for fcd in (80.0, 60.0, 59.9, 59.95, 59.9):
        trainer.callback_metrics = {"val/loss": torch.tensor(fcd), "val/psnr": torch.tensor(1.0)}
        plateau.on_validation_end(trainer, GANLike())
    assert plateau.monitor == "val/loss" and plateau.history == pytest.approx([80, 60, 59.9, 59.95, 59.9])
    # Means of 3 (the model's): (60 * 59.9 * 59.95) / (59.9 * 59.95 * 59.9), 10/3 log10(60/59.9) = 0.002 dB
    assert plateau.gain() == pytest.approx(10 / 3 * math.log10(60 / 59.9), rel=1e-4)  # float32 values
    assert trainer.should_stop and "val/loss best fell" in plateau.rule and plateau.smooth == 3
    from checkerboard.models.gan import GAN
    assert (GAN.plateau_smooth, GAN.plateau_fraction, GAN.plateau_min_epochs) == (5, 0.5, 10)
    resumed = Plateau()  # a resumed run reads its rule before any validation
    resumed.setup(None, GANLike(), "fit")
    assert (resumed.monitor, resumed.mode, resumed.smooth) == ("val/loss", "min", 3)
    with pytest.raises(ConfigError, match="callbacks.plateau.mode='up'.*'max'.*'min'"):
        Plateau(mode="up")


def test_a_gans_rule_reads_5_epoch_means_over_the_last_half_from_epoch_10_by_hand():
    class GANLike:
        plateau_monitor = ("val/loss", "min")
        plateau_smooth, plateau_fraction, plateau_min_epochs = 5, 0.5, 10

    fcd = [40.0, 20.0] + [10.0] * 12  # falls, then flat from epoch 3
    autoencoder_rule = Plateau(monitor="val/loss", mode="min", smooth=1, fraction=0.2, min_epochs=5)
    assert _feed_loss(autoencoder_rule, fcd, object()).should_stop
    assert len(autoencoder_rule.history) == 5  # no new best at epoch 5: it stops
    plateau = Plateau()
    trainer = _feed_loss(plateau, fcd[:12], GANLike())
    # 12 epochs: the last half is 6, the best mean of 5 before it that of epochs 2-6, (20, 10, 10, 10, 10):
    # in dB -(10 log10 20 + 40) / 5 against -10 now: a gain of 10 log10(20) / 5 - 2 = 0.602 dB.
    assert not trainer.should_stop and plateau.gain() == pytest.approx(10 * math.log10(20) / 5 - 2)
    # 13: the last half is round(6.5) = 6 epochs, and the mean of epochs 3-7 (all 10) is before it: no gain.
    plateau = Plateau()
    trainer = _feed_loss(plateau, fcd, GANLike())
    assert trainer.should_stop and len(plateau.history) == 13 and plateau.gain() == pytest.approx(0.0)
    assert plateau.rule.endswith("the mean of 5 epochs < 0.1 dB over the last 0.5 of the epochs, from epoch 10")


def _feed_loss(plateau, values, model):
    trainer = SimpleNamespace(sanity_checking=False, should_stop=False, callback_metrics={})
    for v in values:
        trainer.callback_metrics = {"val/loss": torch.tensor(v)}
        plateau.on_validation_end(trainer, model)
        if trainer.should_stop:
            break
    return trainer


def test_plateau_survives_a_resume():
    a = Plateau()
    a.history = [1.0, 2.0]
    b = Plateau()
    b.load_state_dict(a.state_dict())
    assert b.history == [1.0, 2.0]


@pytest.mark.parametrize("key,value", [("fraction", 0.0), ("fraction", 1.5), ("min_delta", -1.0), ("min_epochs", 0),
                                       ("smooth", 0)])
def test_bad_plateau_setting_is_refused(key, value):
    with pytest.raises(ConfigError, match=f"callbacks.plateau.{key}"):
        Plateau(**{key: value})


def test_the_configs_name_the_setting():
    from checkerboard import ROOT
    for name in ("autoencoder", "vae", "gan"):
        assert "output_conv" in OmegaConf.load(ROOT / "configs" / "model" / f"{name}.yaml")
    assert "latent_channels" in OmegaConf.load(ROOT / "configs" / "model" / "autoencoder.yaml")


def test_without_a_bottleneck_a_tconv_autoencoder_can_be_the_identity():
    """The overcomplete setting's ranking, derived (README, The setting): a stride-2 3x3 encoder can store
    each 2x2 block in 4 channels (space-to-depth) and a transposed convolution puts them back exactly.
    Hand-set weights: encoder channel c reads pixel (2m + c // 2, 2n + c % 2) through tap (1 + c // 2,
    1 + c % 2); the transposed conv writes it back through the same tap (out[o] = sum_i in[i] w[o + 1 - 2i])."""
    model = Autoencoder("tconv", channels=1, image_size=28, width=4, depth=1).eval()
    conv, norm, tconv = model.encoder[0], model.encoder[1], model.decoder[0]
    with torch.no_grad():
        for p in (conv.weight, conv.bias, tconv.weight, tconv.bias, norm.bias, norm.running_mean):
            p.zero_()
        norm.weight.fill_(1.0)
        norm.running_var.fill_(1.0 - norm.eps)  # BatchNorm: exactly the identity
        for c in range(4):
            conv.weight[c, 0, 1 + c // 2, 1 + c % 2] = 1.0
            tconv.weight[c, 0, 1 + c // 2, 1 + c % 2] = 1.0
    x = torch.rand(3, 1, 28, 28)
    assert model.latent_values() == 4 * 14 * 14 == 784  # as many numbers as pixels
    assert torch.equal(model(x), x)


def test_gan_output_tanh_maps_the_decoders_output_into_0_1_by_hand():
    gan = GAN(decoder="upsample", channels=1, image_size=28, width=4, depth=2, latent_dim=4, output="tanh")
    y = torch.tensor([0.0, math.atanh(0.6), -math.atanh(0.6), 50.0])
    assert gan.to_image(y).tolist() == pytest.approx([0.5, 0.8, 0.2, 1.0])  # (tanh(y) + 1) / 2
    assert gan.architecture()["output"] == "tanh"
    linear = GAN(decoder="upsample", channels=1, image_size=28, width=4, depth=2, latent_dim=4)
    assert linear.to_image(y, clamp=False).tolist() == pytest.approx(y.tolist())  # as it is, for the discriminator
    assert "output" not in linear.architecture()  # checkpoints from before the option resume
