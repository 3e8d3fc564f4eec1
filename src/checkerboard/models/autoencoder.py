"""The autoencoder: one LightningModule whatever the decoder, so comparisons are fair.

What every model shares (the contract `run.training` relies on) is `models.base`; ``model=vae``
(`models.vae`) and ``model=gan`` (`models.gan`) are two more such models.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchmetrics import MeanMetric
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from checkerboard.errors import DivergenceError, check_choice, check_flag, check_positive
from checkerboard.measures.amplitude import (
    CheckerboardAmplitude,
    checkerboard_amplitude,
    gradient_checkerboard,
)
from checkerboard.measures.equivariance import shift_equivariance
from checkerboard.measures.keys import amplitude_names
from checkerboard.measures.prominence import CheckerboardScore, checkerboard_score
from checkerboard.measures.spectra import spectral_error
from checkerboard.models.base import CheckerboardModel, init_names, train_mode_copy
from checkerboard.models.builders import (
    DecoderSpec,
    build_decoder,
    build_encoder,
    latent_values,
    output_stride,
)
from checkerboard.models.phases import phase_gain_spreads

LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss, "bce": F.binary_cross_entropy_with_logits}


class Autoencoder(CheckerboardModel):
    """Encoder (``depth`` stride-2 stages) -> decoder (``depth`` x2 upsampling layers of one kind).

    Images arrive as uint8 batches and are scaled to [0, 1] on the device. The output is linear;
    metrics and pictures use it clamped to [0, 1]. With ``loss=bce`` the output is read as logits.
    """

    def __init__(self, decoder: str | Mapping = "tconv", channels: int = 3, image_size: int = 32, width: int = 32,
                 depth: int = 2, downsample: str = "stride", loss: str = "mse",
                 optimizer: partial | None = None, scheduler: partial | None = None, channels_last: bool = False,
                 compile: bool = False, latent_channels: int | None = None, output_conv: bool = False):
        super().__init__()
        spec = DecoderSpec.parse(decoder)
        decoder = spec.as_dict()  # plain types in the checkpoint, which is loaded with weights_only=True
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.spec = spec
        for key, value in (("model.width", width), ("model.depth", depth), ("data.channels", channels),
                           ("data.image_size", image_size)):
            check_positive(key, value)
        if latent_channels is not None:
            check_positive("model.latent_channels", latent_channels)
        check_flag("model.output_conv", output_conv)
        check_choice("model.loss", loss, LOSSES)  # decoder and downsample: checked where they are built
        self.check_size(image_size, depth, downsample, spec)
        self.encoder = build_encoder(channels, width, depth, downsample, latent_channels)
        self.decoder = build_decoder(spec, channels, width, depth, latent_channels, output_conv)
        self.optimizer_factory = optimizer or partial(torch.optim.Adam, lr=1e-3)
        self.scheduler_factory = scheduler  # called with the optimizer, stepped once per epoch
        self.loss_fn = LOSSES[loss]
        # Artifacts sit at multiples of 1/P cycles per pixel, P the decoder's total stride.
        self.period = output_stride(depth)
        self.val_metrics = self._metrics()
        self.test_metrics = self._metrics()
        self.example_input_array = torch.zeros(1, channels, image_size, image_size)  # for ModelSummary's FLOPs
        self._compiled = None  # the training forward pass under torch.compile (compile=true), see configure_model
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def _metrics(self) -> nn.ModuleDict:
        return nn.ModuleDict({"loss": MeanMetric(),
                              "psnr": PeakSignalNoiseRatio(data_range=1.0),
                              "ssim": StructuralSimilarityIndexMeasure(data_range=1.0),
                              "checkerboard": CheckerboardScore(self.period),
                              "amplitude": CheckerboardAmplitude(self.period)})

    # -- forward -----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._compiled is not None and self.training:
            return self._compiled(x)
        return self.decoder(self.encoder(x))

    def reconstruct(self, x: torch.Tensor, batch_stats: bool = False) -> torch.Tensor:
        """Output as an image in [0, 1], for metrics and pictures. ``batch_stats``: BatchNorm on the
        batch's statistics, as in training, on a copy of the layers (the model's running statistics
        stay as they are): how the untrained model is measured."""
        return self.to_image(train_mode_copy(self.encoder, self.decoder)(x) if batch_stats else self(x))

    def to_image(self, y: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        """The raw output as an image in [0, 1] (logits under ``loss=bce``); ``clamp=False`` for the amplitude,
        which clamping would cut where the image is black or white."""
        y = torch.sigmoid(y) if self.hparams.loss == "bce" else y
        return y.clamp(0, 1) if clamp else y

    # -- steps -------------------------------------------------------------------------------
    def training_step(self, x: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = self.loss_fn(self(x), x)
        # Lightning writes train/loss every log_every_n_steps steps and drops what is logged in
        # between; logging only on those steps saves its bookkeeping. Those steps read the loss on
        # the host anyway, so divergence is checked there too: no GPU sync on the other steps.
        every = self.trainer.log_every_n_steps or 50  # 0 turns Lightning's logging off, not this check
        if self.trainer.fast_dev_run or (self.global_step + 1) % every == 0:
            self.check_finite(loss)
            self.log("train/loss", loss, prog_bar=True, logger=bool(self.trainer.log_every_n_steps))
        return loss

    def on_train_epoch_end(self) -> None:
        """Once an epoch, before validation: weights gone non-finite between two checked steps."""
        if not all(torch.isfinite(p).all() for p in self.parameters()):
            self.check_finite(torch.tensor(float("nan")))

    def check_finite(self, loss: torch.Tensor) -> None:
        """Stop at once on a non-finite loss: NaN weights cannot recover, and would draw NaN pictures."""
        if not torch.isfinite(loss):
            raise DivergenceError(
                f"the training loss became {loss.item()} at step {self.global_step} (epoch {self.current_epoch}; "
                f"it is checked every trainer.log_every_n_steps={self.trainer.log_every_n_steps} steps). The "
                f"usual cause is a learning rate too high for this model: model.optimizer.lr="
                f"{self.optimizer_factory.keywords.get('lr')}; try 10x lower (e.g. model.optimizer.lr=1e-3).")

    def _evaluate(self, x: torch.Tensor, stage: str, metrics: nn.ModuleDict) -> None:
        y = self(x)
        self._update_metrics(x, y, self.loss_fn(y, x), stage, metrics)

    def _update_metrics(self, x: torch.Tensor, y: torch.Tensor, loss: torch.Tensor, stage: str,
                        metrics: nn.ModuleDict) -> None:
        """Update and log every metric of ``metrics`` for targets ``x``, raw outputs ``y`` and their ``loss``;
        a metric the caller updated itself (a MeanMetric) is logged as ``<stage>/<name>`` too."""
        # A metric weighted by images, not a tensor with sync_dist: under DDP the ranks' shards may
        # differ by an image, and sync_dist averages the ranks' image counts as integers (9 and 8
        # give 8), which puts the mean off the whole split's.
        metrics["loss"].update(loss, weight=len(x))
        out = self.to_image(y).float()
        for name, metric in metrics.items():
            if name in ("psnr", "ssim", "checkerboard"):
                metric(out, x.float())
            if name != "amplitude":  # test/*: metrics.json only, not single dots in TensorBoard
                self.log(f"{stage}/{name}", metric, prog_bar=stage == "val" and name in ("loss", "psnr"),
                         logger=stage == "val")
        metrics["amplitude"].update(self.to_image(y, clamp=False).float(), x.float())  # parts: logged at epoch end

    def _log_amplitude(self, stage: str, metric: CheckerboardAmplitude) -> None:
        named = {f"{stage}/{k}": v for k, v in amplitude_names(metric.compute()).items()}
        self.log(f"{stage}/checkerboard_amplitude", named.pop(f"{stage}/checkerboard_amplitude"),
                 prog_bar=stage == "val", logger=stage == "val")
        self.log_dict(named, logger=stage == "val")
        metric.reset()

    def validation_step(self, x: torch.Tensor, batch_idx: int) -> None:
        self._evaluate(x, "val", self.val_metrics)

    def on_validation_epoch_end(self) -> None:
        self._log_amplitude("val", self.val_metrics["amplitude"])
        if self.trainer.sanity_checking:
            return
        self.log_dict(self.phase_gain_spreads())
        # What no target pins down: the input gradient's pattern (over 64 images: 8 are too few),
        # and decodes of latents no image produced (the middle of interpolations between pairs).
        x = self.on_after_batch_transfer(self.trainer.datamodule.val[:256].to(self.device)).float()
        # The reconstructions' radial power spectrum against the images' (Durall et al.), over 256 images.
        self.log("val/spectral_error", spectral_error(self.reconstruct(x).float(), x), sync_dist=True)
        x = x[:64]
        self.log("val/shift_equivariance", shift_equivariance(self.reconstruct, x).mean(), sync_dist=True)
        self.log("val/gradient_checkerboard", gradient_checkerboard(self.input_gradient(x), self.period).mean(),
                 sync_dist=True)
        if len(x) >= 2:  # interpolations need a pair of images
            steps = 5
            samples = self.to_image(self.interpolations(x[:8], steps)).float()
            middle = samples.view(-1, steps, *samples.shape[1:])[:, 1:-1].flatten(0, 1)
            self.log_dict({"val/interpolations_checkerboard": checkerboard_score(middle, period=self.period).mean(),
                           "val/interpolations_checkerboard_amplitude":
                               checkerboard_amplitude(middle, period=self.period)["amplitude"].mean()},
                          sync_dist=True)

    def input_gradient(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) gradient of the loss with respect to the input image, through the encoder
        (target fixed). The backward pass of a stride-2 convolution is a transposed convolution, so
        the gradient that reaches the image can have a checkerboard of its own."""
        x = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(self.loss_fn(self(x), x.detach()), x)
        return grad

    def interpolations(self, x: torch.Tensor, steps: int = 5) -> torch.Tensor:
        """Raw decodes of latents between pairs of images: (N//2 pairs) x ``steps``, ends included,
        row by row. The middle ones come from latents no training image produced."""
        a, b = x[0::2], x[1::2]
        n = min(len(a), len(b))
        za, zb = self.encoder(a[:n]), self.encoder(b[:n])
        t = torch.linspace(0, 1, steps, device=x.device)[None, :, None, None, None]
        return self.decoder(((1 - t) * za[:, None] + t * zb[:, None]).flatten(0, 1))

    def phase_gain_spreads(self) -> dict[str, float]:
        """``decoder/phase_gain_spread/<k>`` of each x2 layer k (1 = first): see `phases.phase_gain_spread`."""
        return phase_gain_spreads(self.decoder, self.hparams.width, self.hparams.depth)

    def test_step(self, x: torch.Tensor, batch_idx: int) -> None:
        self._evaluate(x, "test", self.test_metrics)

    def on_test_epoch_end(self) -> None:
        self._log_amplitude("test", self.test_metrics["amplitude"])

    # -- the checkerboard before any training ------------------------------------------------
    @torch.no_grad()
    def measure_checkerboard(self, images: torch.Tensor, chunk: int = 256, batch_stats: bool = False) -> dict:
        """PSNR over uint8 ``images`` (output vs target), means of the prominence score
        (``checkerboard``) and of the amplitude's parts (``checkerboard_amplitude``, ...), and the
        spectral error of the first 256. ``batch_stats``: BatchNorm
        normalises with each chunk's statistics, as in a training step (on a copy of the layers, so
        the model's running statistics stay as they are); otherwise eval mode."""
        was_training = self.training
        self.eval()
        net = train_mode_copy(self.encoder, self.decoder) if batch_stats else self
        psnr = PeakSignalNoiseRatio(data_range=1.0).to(self.device)
        score, amplitude = CheckerboardScore(self.period).to(self.device), CheckerboardAmplitude(self.period)
        amplitude = amplitude.to(self.device)
        for i in range(0, len(images), chunk):
            x = self.on_after_batch_transfer(images[i:i + chunk].to(self.device)).float()
            raw = self.to_image(net(x), clamp=False).float()
            y = raw.clamp(0, 1)
            for metric in (psnr, score):
                metric.update(y, x)
            amplitude.update(raw, x)
            if i == 0:  # over the same images as val/spectral_error
                spectral = spectral_error(y[:256], x[:256])
        self.train(was_training)
        return {"psnr": float(psnr.compute()), "checkerboard": float(score.compute()),
                **{k: float(v) for k, v in amplitude_names(amplitude.compute()).items()}, "spectral_error": spectral}

    def measure_init(self) -> dict[str, float]:
        """Measure the untrained decoder on the validation set, so the artifact curves start at step 0.

        With BatchNorm on batch statistics, as the first training step sees the model: with the
        fresh running statistics (mean 0, variance 1) the untrained layers' activations would pass
        unnormalised, and the output would be far smaller than in training.
        """
        measured = {f"val/{k}": v for k, v in self.measure_checkerboard(self.trainer.datamodule.val,
                                                                        batch_stats=True).items()}
        measured.update(self.phase_gain_spreads())
        x = self.on_after_batch_transfer(self.trainer.datamodule.val[:64].to(self.device)).float()
        with torch.no_grad():
            measured["val/shift_equivariance"] = float(
                shift_equivariance(lambda v: self.reconstruct(v, batch_stats=True), x).mean())
        if self.logger is not None:  # step 0 of the curves (init/* only in metrics.json)
            self.logger.log_metrics(measured, step=0)
        return init_names(measured)

    def configure_model(self) -> None:
        """``compile=true``: torch.compile the training forward pass, the hot path (one batch size,
        so one static graph; inductor's dynamic shapes fail on these models). Evaluation and the
        image panels, with their many small shapes, stay eager. The state_dict is unchanged.
        """
        if self.hparams.get("compile") and self._compiled is None:
            self._compiled = torch.compile(lambda x: self.decoder(self.encoder(x)), dynamic=False)

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": self.scheduler_factory(optimizer)}

    # -- facts for logs, checkpoints and metrics.json ------------------------------------------
    def architecture(self) -> dict:
        """What a checkpoint must match to be resumed into this model."""
        keys = ("channels", "image_size", "width", "depth", "downsample")
        # Only when set: checkpoints from before these settings (neither) stay resumable.
        keys += tuple(k for k in ("latent_channels", "output_conv") if self.hparams.get(k))
        # A schedule's length is fixed by the run that saved it (resuming with more epochs would
        # restart the cosine's rise).
        schedule = getattr(self.scheduler_factory, "keywords", {}).get("T_max")
        return {"model": "autoencoder", "decoder": self.spec.label, **{k: self.hparams[k] for k in keys},
                **({"scheduler.T_max (trainer.max_epochs)": schedule} if schedule is not None else {})}

    def latent_values(self) -> int:
        """How many numbers the model keeps of one image on its way through."""
        hp = self.hparams
        return latent_values(hp.channels, hp.image_size, hp.width, hp.depth, hp.downsample, hp.get("latent_channels"))

    def describe(self) -> dict:
        """The base facts, the output convolution (or not), and the compression: input values / latent values."""
        hp, kept = self.hparams, self.latent_values()
        return {**super().describe(), "output_conv": bool(hp.get("output_conv")), "latent_values": kept,
                "compression": round(hp.channels * hp.image_size**2 / kept, 2)}
