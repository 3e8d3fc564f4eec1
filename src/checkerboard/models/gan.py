"""A small DCGAN-style GAN whose generator is the project's decoder fed a latent vector.

    python train.py model=gan decoder=upsample data=mnist paths.data_dir=... data.download=false trainer.max_epochs=2

Generator: ``z ~ N(0, I)`` (``latent_dim``) -> ``builders.build_stem`` -> the decoder (``decoder=...``,
its x2 layers and fan-in init unchanged), then ``output``: ``tanh`` (default, DCGAN's) maps the
decoder's output to [0, 1] by ``(tanh(y) + 1) / 2``; ``linear`` passes it as it is (clamped only
when saved), so that whatever pattern the x2 layers make reaches the discriminator unsquashed.
A linear output must put MNIST's background exactly on 0 to fool the discriminator, which slows
learning to make digits (README, Generated images). Discriminator: a 3x3 stride-1 convolution,
then ``depth`` 4x4 stride-2 convolutions (``disc_width`` channels, doubling), LeakyReLU(0.2) after
each, a linear layer to one logit; it sees images scaled to [-1, 1]. Its first layer has stride 1
because a stride-2 first layer in the discriminator puts checkerboards into the generator by
itself (Distill, "Artifacts in Gradients": "Discriminator has stride 2 convolution in first
layer. Strong frequency 2 artifacts."), which would blur the comparison of decoders.

Training: Lightning's manual optimisation, one discriminator step then one generator step per
batch, the non-saturating loss (binary cross-entropy on logits; the generator's target is "real"),
and Adam for both networks (the config's defaults are chosen for a fast start on a CPU: README,
Generated images). The stabiliser is spectral
normalisation of every discriminator layer (Miyato et al. 2018): it bounds the discriminator's
Lipschitz constant, so it cannot sharpen into a classifier whose loss is 0 and whose gradients
tell the generator nothing, with no hyperparameter to tune. It replaces DCGAN's BatchNorm in the
discriminator (the two do not mix).

A failed run stops with a ``CollapseError`` naming what happened: the discriminator's loss below
``collapse_loss`` for ``collapse_steps`` steps (it tells every sample from real images: the
generator has lost), samples whose diversity (``generative.diversity``) is below
``min_diversity`` (mode collapse), or a loss that is not a finite number.

Logs ``train/loss_d``, ``train/loss_g``, ``train/d_real`` and ``train/d_fake`` (the mean
probability of "real" the discriminator gives real images and samples); every epoch ``val/loss_d``
and ``val/loss_g`` (held-out real images, the fixed latents' samples), ``val/samples_*``
(``generative``) and ``decoder/phase_gain_spread/<k>``; ``init/samples_*`` before training;
``test/samples_*`` and ``test/detectability`` at the end. ``val/loss``, which ``best.ckpt`` keeps
the lowest of and the convergence rule (``callbacks.plateau``) follows, is ``val/fcd``, the samples'
Frechet distance to the validation images in a small classifier's features (``val/samples_spectral_error``
where the data has no labels): the adversarial losses measure the two networks against each other,
not the samples against real images.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchmetrics import MeanMetric

from checkerboard import arithmetic as ar
from checkerboard.errors import CollapseError, ConfigError, DivergenceError, check_flag, check_positive
from checkerboard.models.base import CheckerboardModel, init_names
from checkerboard.models.builders import DecoderSpec, build_decoder, build_stem, encoder_sizes, output_stride, widths
from checkerboard.models.generative import Generative, as_saved
from checkerboard.models.phases import phase_gain_spreads


class Discriminator(nn.Sequential):
    """3x3 stride-1 conv, ``depth`` 4x4 stride-2 convs (widths ``width``, 2 ``width``, ...), LeakyReLU(0.2)
    after each, then a linear layer to one logit; spectral normalisation on every layer if asked."""

    def __init__(self, channels: int, width: int, depth: int, image_size: int, spectral_norm: bool = True):
        norm = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        layers, size = [norm(nn.Conv2d(channels, width, 3, padding=1)), nn.LeakyReLU(0.2)], image_size
        for c in widths(width, depth):
            layers += [norm(nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            size = ar.conv_output_size(size, 4, 2, 1)
        layers += [nn.Flatten(), norm(nn.Linear(2 * widths(width, depth)[-1] * size * size, 1))]
        super().__init__(*layers)


class GAN(Generative, CheckerboardModel):
    """Generator = stem + the project's decoder; a small spectrally normalised discriminator."""

    # callbacks.plateau: the samples' FCD, not a PSNR. It jumps 2x between epochs, so the rule reads the
    # mean of 5 epochs over the last half, from epoch 10: the autoencoder's rule stopped most CIFAR-10
    # runs while their FCD still fell (`scripts/replay_plateau.py`, docs/results.md).
    plateau_monitor = ("val/loss", "min")
    plateau_smooth, plateau_fraction, plateau_min_epochs = 5, 0.5, 10

    def __init__(self, decoder: str | dict = "tconv", channels: int = 3, image_size: int = 32, width: int = 32,
                 depth: int = 2, latent_dim: int = 64, disc_width: int = 16, spectral_norm: bool = True,
                 num_samples: int = 256, optimizer: partial | None = None, collapse_loss: float = 0.05,
                 collapse_steps: int = 300, min_diversity: float = 0.1, output_conv: bool = False,
                 output: str = "linear"):
        super().__init__()
        spec = DecoderSpec.parse(decoder)
        decoder = spec.as_dict()  # plain types in the checkpoint, which is loaded with weights_only=True
        self.save_hyperparameters(ignore=["optimizer"])
        self.spec = spec
        for key, value in (("model.width", width), ("model.depth", depth), ("data.channels", channels),
                           ("data.image_size", image_size), ("model.latent_dim", latent_dim),
                           ("model.disc_width", disc_width), ("model.num_samples", num_samples),
                           ("model.collapse_steps", collapse_steps)):
            check_positive(key, value)
        check_positive("model.collapse_loss", collapse_loss, whole=False)
        check_flag("model.output_conv", output_conv)
        if output not in ("tanh", "linear"):
            raise ConfigError(f"model.output={output!r} is not valid: 'tanh' ((tanh(y) + 1) / 2, DCGAN's) or "
                              f"'linear' (the decoder's output as it is).")
        if not isinstance(min_diversity, (int, float)) or isinstance(min_diversity, bool) or min_diversity < 0:
            raise ConfigError(f"model.min_diversity={min_diversity!r} is not valid: it must be a number >= 0 "
                              f"(e.g. model.min_diversity=0.1; 0 turns the check off).")
        self.check_size(image_size, depth, "stride", spec)
        size = encoder_sizes(image_size, depth)[-1]
        # Stem and discriminator first, the decoder last: for a seed, every decoder gets the same stem
        # and discriminator, and the decoders draw from the same state (so their 3x3 x2 layers share
        # one kernel, as in the autoencoder).
        self.stem = build_stem(latent_dim, width, depth, size)
        self.discriminator = Discriminator(channels, disc_width, depth, image_size, spectral_norm)
        self.decoder = build_decoder(spec, channels, width, depth, output_conv=output_conv)
        self.automatic_optimization = False  # two optimisers, stepped in turn by training_step
        self.optimizer_factory = optimizer or partial(torch.optim.Adam, lr=2e-4, betas=(0.5, 0.999))
        self.period = output_stride(depth)
        self.init_sampling(latent_dim, num_samples)
        self.val_real = MeanMetric()  # the discriminator's loss on held-out real images
        self.example_input_array = torch.zeros(1, latent_dim)  # for ModelSummary's FLOPs: the generator's
        self._low_since: int | None = None  # first step of the current run of near-zero discriminator losses

    # -- forward -----------------------------------------------------------------------------
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generate(z)

    def to_image(self, y: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        """The generator's image from the decoder's output ``y``: ``model.output`` (tanh) maps it into [0, 1];
        linear passes it, clamped unless ``clamp`` is false (the discriminator sees it unclamped)."""
        if self.hparams.get("output", "linear") == "tanh":
            return (torch.tanh(y) + 1) / 2
        return y.clamp(0, 1) if clamp else y

    def discriminate(self, images: torch.Tensor) -> torch.Tensor:
        """(N,) logits of "real" for images in [0, 1] (raw generator outputs included: never clamped)."""
        return self.discriminator(images * 2 - 1).squeeze(1)

    # -- steps -------------------------------------------------------------------------------
    def training_step(self, x: torch.Tensor, batch_idx: int) -> None:
        opt_d, opt_g = self.optimizers()
        fake = self.to_image(self.generate(self.noise(len(x))), clamp=False)
        real_logits, fake_logits = self.discriminate(x), self.discriminate(fake.detach())
        loss_d = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()

        self.toggle_optimizer(opt_g)  # no gradients for the discriminator's weights in the generator's step
        logits = self.discriminate(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_g)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

        self.log_dict({"train/loss_d": loss_d, "train/loss_g": loss_g}, prog_bar=True)
        self.log_dict({"train/d_real": torch.sigmoid(real_logits).mean(),
                       "train/d_fake": torch.sigmoid(fake_logits).mean()})
        every = self.trainer.log_every_n_steps
        if self.trainer.fast_dev_run or (every and self.step % every == 0):
            self.check_training(float(loss_d.detach()), float(loss_g.detach()))

    @property
    def step(self) -> int:
        """Training batches done (this one too, once its steps are taken): each batch steps both
        optimisers, and ``global_step`` counts both."""
        return self.global_step // 2

    def check_training(self, loss_d: float, loss_g: float) -> None:
        """Stop on a non-finite loss, or when the discriminator's loss stays near 0 (read every
        ``trainer.log_every_n_steps`` steps, when Lightning writes the losses anyway)."""
        if not (torch.isfinite(torch.tensor(loss_d)) and torch.isfinite(torch.tensor(loss_g))):
            raise DivergenceError(
                f"the GAN's losses became loss_d={loss_d}, loss_g={loss_g} at step {self.step} (epoch "
                f"{self.current_epoch}). Try a lower learning rate (model.optimizer.lr="
                f"{self.optimizer_factory.keywords.get('lr')} now; DCGAN's is 2e-4) and keep "
                f"model.spectral_norm=true.")
        if loss_d >= self.hparams.collapse_loss:
            self._low_since = None
        elif self._low_since is None:
            self._low_since = self.step
        elif self.step - self._low_since >= self.hparams.collapse_steps:
            raise CollapseError(
                f"the GAN failed: the discriminator's loss stayed below model.collapse_loss="
                f"{self.hparams.collapse_loss} from step {self._low_since} to step {self.step} (now {loss_d:.2g}; "
                f"the generator's loss is {loss_g:.3g}). The discriminator tells every sample from real images and "
                f"the generator no longer learns. Keep model.spectral_norm=true (now "
                f"{str(self.hparams.spectral_norm).lower()}), or lower model.optimizer.lr (now "
                f"{self.optimizer_factory.keywords.get('lr')}).")

    def validation_step(self, x: torch.Tensor, batch_idx: int) -> None:
        logits = self.discriminate(x)
        self.val_real.update(F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)), weight=len(x))

    def on_validation_epoch_end(self) -> None:
        real_part = self.val_real.compute()
        self.val_real.reset()
        if self.trainer.sanity_checking:
            return
        was_training = self.training
        self.eval()
        images = self.to_image(self.generate(self.fixed_latents), clamp=False)  # what the discriminator sees
        logits = self.discriminate(images)
        self.train(was_training)
        self.log("val/loss_d", real_part + F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits)))
        self.log("val/loss_g", F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)))
        samples = as_saved(images)  # = self.sample(): the same eval-mode pass, clamped and quantised
        measured = self.log_sample_metrics("val", samples)
        measured.update(self.log_sample_quality(samples))
        self.log("val/loss", measured.get("val/fcd", measured["val/samples_spectral_error"]), prog_bar=True)
        self.log_dict(phase_gain_spreads(self.decoder, self.hparams.width, self.hparams.depth))
        if measured["val/samples_diversity"] < self.hparams.min_diversity:
            raise CollapseError(
                f"the GAN collapsed: after epoch {self.current_epoch} its samples differ from each other "
                f"{measured['val/samples_diversity']:.3f} times as much as real images do (below "
                f"model.min_diversity={self.hparams.min_diversity}): the generator makes a few images "
                f"whatever the latent (mode collapse). Try another seed or a lower model.optimizer.lr.")

    def test_step(self, x: torch.Tensor, batch_idx: int) -> None:
        """Nothing per batch: the samples are measured against the whole test split at the end."""

    def on_test_epoch_end(self) -> None:
        self.log_sample_metrics("test")
        self.log_detectability()

    def measure_init(self) -> dict[str, float]:
        """The untrained generator's samples, BatchNorm on batch statistics as the first step sees them."""
        spreads = phase_gain_spreads(self.decoder, self.hparams.width, self.hparams.depth)
        if self.logger is not None:
            self.logger.log_metrics(spreads, step=0)
        return {**self.init_sample_metrics(), **init_names(spreads)}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["low_since"] = self._low_since

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        self._low_since = checkpoint.get("low_since")

    def configure_optimizers(self):
        generator = [*self.stem.parameters(), *self.decoder.parameters()]
        return [self.optimizer_factory(self.discriminator.parameters()), self.optimizer_factory(generator)]

    # -- facts for logs, checkpoints and metrics.json ------------------------------------------
    def architecture(self) -> dict:
        keys = ("channels", "image_size", "width", "depth", "latent_dim", "disc_width", "spectral_norm")
        keys += ("output_conv",) if self.hparams.get("output_conv") else ()  # older checkpoints have none
        keys += ("output",) if self.hparams.get("output", "linear") != "linear" else ()
        return {"model": "gan", "decoder": self.spec.label, **{k: self.hparams[k] for k in keys}}

    def describe(self) -> dict:
        """The generator's parameters and multiply-accumulates per image (what the decoders change), and
        the discriminator's parameters."""
        count = lambda m: sum(p.numel() for p in m.parameters())
        # ModelSummary counts the FLOPs of forward(example_input_array): the generator's
        return {**super().describe(), "params": count(self.stem) + count(self.decoder),
                "output_conv": bool(self.hparams.get("output_conv")),
                "disc_params": count(self.discriminator)}
