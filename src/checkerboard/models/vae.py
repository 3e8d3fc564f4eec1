"""The variational autoencoder: the autoencoder's encoder and decoders around a Gaussian latent vector.

    python train.py model=vae decoder=upsample data=mnist paths.data_dir=... data.download=false

Encoder (the autoencoder's, ``builders.build_encoder``) -> flatten -> ``Linear`` to the mean and
log-variance of ``latent_dim`` Gaussians -> ``z = mu + sigma * eps`` (reparameterisation) ->
``builders.build_stem`` -> the decoder (``decoder=...``, unchanged). A vector latent rather than
a few channels at the bottleneck's size: a sample from the prior N(0, I) then sets the whole image,
as in a GAN, instead of each 4x4 patch on its own, and the same stem feeds the GAN's generator.

Objective, per pixel value: ``loss(output, x) + kl_weight * KL(q(z|x) || N(0, I)) / (C H W)``, the
KL in nats per image. With ``loss=bce`` and ``kl_weight=1`` it is the negative ELBO of a Bernoulli
decoder; with ``loss=mse`` (default) that of a Gaussian decoder of variance ``kl_weight / 2``.

Validation and test measure the reconstructions from the posterior mean (``z = mu``) as the
autoencoder does (``val/psnr``, ``val/checkerboard_amplitude``, ...), log ``val/kl`` (nats per
image) and ``val/loss`` (the objective with ``z = mu``), and measure the samples from the prior
(``generative``): ``val/samples_*`` every epoch, ``test/samples_*`` and ``test/detectability``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torchmetrics import MeanMetric

from checkerboard.errors import check_positive
from checkerboard.models.autoencoder import Autoencoder
from checkerboard.models.base import train_mode_copy
from checkerboard.models.builders import DecoderSpec, build_stem, encoder_sizes, widths
from checkerboard.models.generative import Generative


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """(N,) KL(N(mu, exp(logvar)) || N(0, I)) in nats, summed over the latent dimensions."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(dim=1)


class VAE(Generative, Autoencoder):
    """The autoencoder with a Gaussian latent vector; its interface to ``train`` is the autoencoder's."""

    def __init__(self, latent_dim: int = 32, kl_weight: float = 0.5, num_samples: int = 256, **kwargs):
        check_positive("model.latent_dim", latent_dim)
        check_positive("model.kl_weight", kl_weight, whole=False)
        check_positive("model.num_samples", num_samples)
        # The layers around the latent start from their own draw, made before the encoder and the
        # decoder: the same for every decoder, and the decoders draw from the same state (their
        # draws differ in number, and would otherwise move what is built after them).
        stem_seed = int(torch.randint(2**62, ()))
        # Plain types in the saved hyperparameters (Hydra passes a DictConfig), which the checkpoint
        # keeps and which is loaded with weights_only=True: this frame's are saved too.
        kwargs["decoder"] = DecoderSpec.parse(kwargs.get("decoder", "tconv")).as_dict()
        super().__init__(**kwargs)
        hp = self.hparams
        size = encoder_sizes(hp.image_size, hp.depth, hp.downsample)[-1]
        c = hp.get("latent_channels") or widths(hp.width, hp.depth)[-1]  # what the encoder gives, the decoder takes
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(stem_seed)
            self.posterior = nn.Sequential(nn.Flatten(), nn.Linear(c * size * size, 2 * latent_dim))
            self.stem = build_stem(latent_dim, hp.width, hp.depth, size, c)
        self.kl_weight = kl_weight
        self.init_sampling(latent_dim, num_samples)

    def _metrics(self) -> nn.ModuleDict:
        metrics = super()._metrics()
        metrics["kl"] = MeanMetric()
        return metrics

    # -- forward -----------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | x), each (N, latent_dim)."""
        return self.posterior(self.encoder(x)).chunk(2, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The raw output decoded from the posterior mean: deterministic, for metrics and pictures."""
        return self.generate(self.encode(x)[0])

    def reconstruct(self, x: torch.Tensor, batch_stats: bool = False) -> torch.Tensor:
        if batch_stats:  # on a copy of the layers: the running statistics stay as they are
            encoder, posterior, stem, decoder = train_mode_copy(self.encoder, self.posterior, self.stem, self.decoder)
            return self.to_image(decoder(stem(posterior(encoder(x)).chunk(2, dim=1)[0])))
        return self.to_image(self(x))

    def objective(self, x: torch.Tensor, y: torch.Tensor, kl: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss per pixel value plus ``kl_weight`` times the KL per pixel value."""
        return self.loss_fn(y, x) + self.kl_weight * kl.mean() / x[0].numel()

    # -- steps -------------------------------------------------------------------------------
    def training_step(self, x: torch.Tensor, batch_idx: int) -> torch.Tensor:
        mu, logvar = self.encode(x)
        z = mu + self.noise(len(mu)) * (0.5 * logvar).exp()
        kl = kl_divergence(mu, logvar)
        loss = self.objective(x, self.generate(z), kl)
        every = self.trainer.log_every_n_steps
        if self.trainer.fast_dev_run or (every and (self.global_step + 1) % every == 0):
            self.check_finite(loss)
            self.log("train/loss", loss, prog_bar=True)
            self.log("train/kl", kl.mean())
        return loss

    def _evaluate(self, x: torch.Tensor, stage: str, metrics: nn.ModuleDict) -> None:
        mu, logvar = self.encode(x)
        kl = kl_divergence(mu, logvar)
        metrics["kl"].update(kl.mean(), weight=len(x))
        y = self.generate(mu)
        self._update_metrics(x, y, self.objective(x, y, kl), stage, metrics)

    def measure_init(self) -> dict[str, float]:
        return {**super().measure_init(), **self.init_sample_metrics()}

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        if not self.trainer.sanity_checking:
            samples = self.sample()  # the prior's fixed latents, measured twice below
            self.log_sample_metrics("val", samples)
            self.log_sample_quality(samples)

    def on_test_epoch_end(self) -> None:
        super().on_test_epoch_end()
        self.log_sample_metrics("test")
        self.log_detectability()

    def configure_model(self) -> None:
        """No ``torch.compile`` here: the autoencoder's compiled pass is not this model's."""

    def architecture(self) -> dict:
        return {**super().architecture(), "model": "vae", "latent_dim": self.latent_dim}

    def latent_values(self) -> int:
        """The latent vector's length: what the encoder keeps of an image."""
        return self.latent_dim
