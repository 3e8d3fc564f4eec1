"""What the VAE and the GAN share: a latent vector, fixed latent draws, samples, and their measures.

Both models generate with ``decoder(stem(z))``: ``z`` a vector of ``latent_dim`` N(0, 1) values,
``stem`` (``decoders.build_stem``) the same for every decoder, ``decoder`` the project's decoder
(``decoders.build_decoder``), so ``decoder=...`` picks the x2 layers and their fan-in init as for
the autoencoder. Samples are measured as they are saved: clamped to [0, 1] and rounded to 256 grey
levels, like the real images they are compared with.

Measures of the samples (``<stage>/samples_*``, with ``stage`` val, test or init):
- ``samples_checkerboard_amplitude``: mean over the samples of ``checkerboard_amplitude(samples,
  period=P)["amplitude"]``, the period-P pattern they carry, in grey levels (no target);
- ``samples_spectral_error``: ``spectra.spectral_error(samples, real images of the split)``;
- ``samples_diversity``: mean distance between two samples over mean distance between two real
  images (RMS over pixels): about 1 for varied samples, near 0 when the generator has collapsed
  onto a few images;
- ``test/detectability``: ``spectra.detectability`` of real test images against fresh samples.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from checkerboard.measures.amplitude import checkerboard_amplitude
from checkerboard.measures.spectra import detectability, spectral_error
from checkerboard.models.base import train_mode_copy

FIXED_SEED = 0       # the fixed latents: the same draws in every run, so epochs and runs line up
DETECT_SEED = 1      # fresh latents for detectability, not the ones logged every epoch
DETECT_SAMPLES = 1000  # per class; the real split may hold fewer (the CIFAR-10 subset's test split: 1,000)


def as_saved(images: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] as a uint8 file holds them: clamped, rounded to 256 levels, back in [0, 1]."""
    return images.float().clamp(0, 1).mul(255).round().div(255)


def diversity(samples: torch.Tensor, reference: torch.Tensor) -> float:
    """Mean pairwise RMS distance of ``samples`` over that of ``reference`` (first 256 of each)."""
    def spread(x):
        x = x[:256].flatten(1).float()
        return torch.cdist(x, x).sum() / (len(x) * (len(x) - 1)) / x.shape[1] ** 0.5
    return float(spread(samples) / spread(reference).clamp_min(1e-12))


class Generative:
    """Mixin for a LightningModule with ``stem``, ``decoder``, ``period``, ``to_image`` and ``latent_dim``."""

    def init_sampling(self, latent_dim: int, num_samples: int) -> None:
        self.latent_dim = latent_dim
        g = torch.Generator().manual_seed(FIXED_SEED)
        # A buffer: saved in checkpoints, moved to the model's device.
        self.register_buffer("fixed_latents", torch.randn(num_samples, latent_dim, generator=g))

    def noise(self, n: int) -> torch.Tensor:
        """(n, latent_dim) N(0, 1) values for a training step, drawn from a generator seeded with the run's
        seed and the step alone: a resumed run draws what an uninterrupted one would."""
        seed = (torch.initial_seed() * 1_000_003 + self.global_step) % 2**63
        g = torch.Generator(device=self.device).manual_seed(seed)
        return torch.randn(n, self.latent_dim, generator=g, device=self.device)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """The raw output for latents ``z`` (N, latent_dim)."""
        return self.decoder(self.stem(z))

    @torch.no_grad()
    def sample(self, z: torch.Tensor | None = None, batch_stats: bool = False) -> torch.Tensor:
        """(N, C, H, W) samples in [0, 1], as saved (``as_saved``), from ``z`` (default: the fixed latents).

        Eval mode: BatchNorm on its running statistics. ``batch_stats``: on the batch's statistics,
        on a copy of the layers, as a training step sees the untrained generator.
        """
        z = self.fixed_latents if z is None else z.to(self.fixed_latents.device)
        net = nn.Sequential(self.stem, self.decoder)
        if batch_stats:
            return as_saved(self.to_image(train_mode_copy(net)(z)))
        was_training = net.training
        net.eval()
        out = as_saved(self.to_image(net(z)))
        net.train(was_training)
        return out

    def sample_metrics(self, real: torch.Tensor, batch_stats: bool = False) -> dict[str, float]:
        """The fixed latents' samples against ``real`` uint8 images: ``samples_*`` (module docstring)."""
        samples = self.sample(batch_stats=batch_stats)
        real = real.to(samples.device).float() / 255
        return {"samples_checkerboard_amplitude": float(checkerboard_amplitude(samples, period=self.period)
                                                        ["amplitude"].mean()),
                "samples_spectral_error": spectral_error(samples, real),
                "samples_diversity": diversity(samples, real)}

    def init_sample_metrics(self) -> dict[str, float]:
        """``init/samples_*`` of the untrained generator on the validation set, also logged at step 0 as
        ``val/samples_*`` so that the curves start before training."""
        measured = self.sample_metrics(self.trainer.datamodule.val, batch_stats=True)
        if self.logger is not None:
            self.logger.log_metrics({f"val/{k}": v for k, v in measured.items()}, step=0)
        return {f"init/{k}": v for k, v in measured.items()}

    def log_sample_metrics(self, stage: str) -> dict[str, float]:
        """``<stage>/samples_*`` of the fixed latents against the stage's real images, via ``self.log``."""
        real = self.trainer.datamodule.val if stage == "val" else self.trainer.datamodule.test
        measured = {f"{stage}/{k}": v for k, v in self.sample_metrics(real).items()}
        self.log_dict(measured, logger=stage == "val")
        return measured

    def log_detectability(self) -> float:
        """``test/detectability``: real test images against samples of fresh latents (``DETECT_SEED``)."""
        g = torch.Generator().manual_seed(DETECT_SEED)
        z = torch.randn(DETECT_SAMPLES, self.latent_dim, generator=g)
        fake = torch.cat([self.sample(z=chunk) for chunk in z.split(256)])
        real = self.trainer.datamodule.test.float() / 255
        accuracy = detectability(real, fake.cpu())
        self.log("test/detectability", accuracy, logger=False)
        return accuracy
