"""What the VAE and the GAN share: a latent vector, fixed latent draws, samples, and their measures.

Both models generate with ``decoder(stem(z))``: ``z`` a vector of ``latent_dim`` N(0, 1) values,
``stem`` (``builders.build_stem``) the same for every decoder, ``decoder`` the project's decoder
(``builders.build_decoder``), so ``decoder=...`` picks the x2 layers and their fan-in init as for
the autoencoder. Samples are measured as they are saved: clamped to [0, 1] and rounded to 256 grey
levels, like the real images they are compared with.

Measures of the samples (``<stage>/samples_*``, with ``stage`` val, test or init):
- ``samples_checkerboard_amplitude``: mean over the samples of ``checkerboard_amplitude(samples,
  period=P)["amplitude"]``, the period-P pattern they carry, in grey levels (no target);
- ``samples_spectral_error``: ``spectra.spectral_error(samples, real images of the split)``;
- ``samples_diversity``: mean distance between two samples over mean distance between two real
  images (RMS over pixels): about 1 for varied samples, near 0 when the generator has collapsed
  onto a few images;
- ``real_checkerboard_amplitude``: the same amplitude of as many real images of the split: the
  baseline a sample's amplitude is read against (real images have lattice content of their own, so a
  sample far below it is blurry, not clean).
- ``val/fcd`` and ``val/class_score`` (every epoch, where the data has labels): the quality scores
  below of the fixed latents' samples against the validation images; the GAN's ``val/loss`` and
  convergence rule read ``val/fcd``. Fewer samples than at the end, so a higher FCD than ``test/fcd``
  for the same generator: a curve to follow, not a number to compare with the test's.

At the end (``test/*``), with samples of fresh latents against real test images:
- ``test/detectability``: held-out ROC AUC of a logistic regression on log spectra
  (`measures.detectability`), 0.5 = indistinguishable; ``_lattice``: on the lattice frequencies
  alone, ``_without_lattice``: on all the others, so the pair says whether the checkerboard is what
  gives samples away; ``test/detectability_control``: the same classifier on real images against
  real images + a +-1 grey-level checkerboard, the scale the numbers are read on;
- ``test/fcd``: the Frechet distance of the samples in the feature space of a small classifier trained
  on the labelled training split (`measures.quality`), ``test/fcd_floor`` that of real training
  images, and ``test/class_score`` (``_real``): exp(E KL(p(y|x) || p(y))). Where the data has no
  labels (a folder of images), none of these three.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from checkerboard.measures.amplitude import checkerboard_amplitude
from checkerboard.measures.detectability import checkerboard as lattice_pattern
from checkerboard.measures.detectability import detectability_auc
from checkerboard.measures.quality import class_score, classifier, fcd, quality, train_classifier
from checkerboard.measures.spectra import spectral_error
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

    def sample_metrics(self, real: torch.Tensor, batch_stats: bool = False,
                       samples: torch.Tensor | None = None) -> dict[str, float]:
        """The fixed latents' samples (``samples`` where given) against ``real`` uint8 images:
        ``samples_*`` (module docstring)."""
        samples = self.sample(batch_stats=batch_stats) if samples is None else samples
        real = real.to(samples.device).float() / 255
        return {"samples_checkerboard_amplitude": float(checkerboard_amplitude(samples, period=self.period)
                                                        ["amplitude"].mean()),
                "samples_spectral_error": spectral_error(samples, real),
                "samples_diversity": diversity(samples, real),
                "real_checkerboard_amplitude": float(checkerboard_amplitude(real[:len(samples)], period=self.period)
                                                     ["amplitude"].mean())}

    def init_sample_metrics(self) -> dict[str, float]:
        """``init/samples_*`` of the untrained generator on the validation set, also logged at step 0 as
        ``val/samples_*`` so that the curves start before training."""
        measured = self.sample_metrics(self.trainer.datamodule.val, batch_stats=True)
        if self.logger is not None:
            self.logger.log_metrics({f"val/{k}": v for k, v in measured.items()}, step=0)
        return {f"init/{k}": v for k, v in measured.items()}

    def quality_classifier(self):
        """The sample-quality classifier of this data (`measures.quality`), trained on its labelled
        training split the first time it is needed and cached beside the data; None where the data has
        no labels. Kept out of the module's children: not trained, not in checkpoints."""
        if "_quality_net" not in self.__dict__:
            net, labelled = None, getattr(self.trainer.datamodule, "labelled_train", lambda: None)()
            if labelled is not None:
                images, labels = labelled
                # 5 epochs of the training split, at most 2,000 steps: a minute on a CPU for MNIST, once (cached)
                steps = min(2000, -(-5 * len(images) // 128))
                cache = getattr(self.trainer.datamodule, "cache_dir", None)
                net = (classifier(images, labels, cache, f"{self.trainer.datamodule.name}", steps=steps) if cache
                       else train_classifier(images, labels, steps=steps))
            self.__dict__["_quality_net"] = net  # not nn.Module's __setattr__: no submodule
        return self.__dict__["_quality_net"]

    def log_sample_quality(self, samples: torch.Tensor | None = None) -> dict[str, float]:
        """``val/fcd`` and ``val/class_score`` of the fixed latents' samples (``samples`` where given),
        where the data has labels."""
        net = self.quality_classifier()
        if net is None or len(self.trainer.datamodule.val) < 2:  # no covariance of one image
            return {}
        samples = (self.sample() if samples is None else samples).cpu()
        measured = {"val/fcd": fcd(net, samples, self.trainer.datamodule.val.cpu()),
                    "val/class_score": class_score(net, samples)}
        self.log_dict(measured)
        return measured

    def log_sample_metrics(self, stage: str, samples: torch.Tensor | None = None) -> dict[str, float]:
        """``<stage>/samples_*`` of the fixed latents (``samples`` where given) against the stage's real
        images, via ``self.log``."""
        real = self.trainer.datamodule.val if stage == "val" else self.trainer.datamodule.test
        measured = {f"{stage}/{k}": v for k, v in self.sample_metrics(real, samples=samples).items()}
        self.log_dict(measured, logger=stage == "val")
        return measured

    def log_detectability(self) -> dict[str, float]:
        """``test/detectability*`` and the quality scores (module docstring): real test images against
        samples of fresh latents (``DETECT_SEED``)."""
        g = torch.Generator().manual_seed(DETECT_SEED)
        z = torch.randn(DETECT_SAMPLES, self.latent_dim, generator=g)
        fake = torch.cat([self.sample(z=chunk) for chunk in z.split(256)]).cpu()
        test = self.trainer.datamodule.test
        real = test.float() / 255
        found = detectability_auc(real, fake, self.period)
        half = len(real) // 2
        planted = ((real[half:] * 255 + lattice_pattern(*real.shape[-2:], self.period)).round().clamp(0, 255) / 255)
        control = detectability_auc(real[:half], planted, self.period)
        measured = {"test/detectability": found.all.auc, "test/detectability_lattice": found.lattice.auc,
                    "test/detectability_without_lattice": found.without_lattice.auc,
                    "test/detectability_control": control.all.auc}
        net = self.quality_classifier()
        if net is not None:
            images, _ = self.trainer.datamodule.labelled_train()
            measured.update({f"test/{k}": v for k, v in quality(net, fake, images, test).items()})
        self.log_dict(measured, logger=False)
        return measured
