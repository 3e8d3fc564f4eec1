"""What every model of the project shares, as code: the contract `run.training` relies on, and the hooks behind it.

`run.training` builds a model as ``instantiate(cfg.model, decoder=<the decoder config as a dict>,
channels=C, image_size=S)``, with C and S from the loaded data, and needs of it:
- ``architecture()``: what a checkpoint must match to be resumed (checked before training);
- ``describe()``: the facts a run reports about the model (decoder, params, MACs per image);
- ``init_metrics``: values measured on the untrained model (logged at step 0 and in metrics.json),
  measured once: a run resumed from a checkpoint keeps the checkpoint's, and never re-measures
  them on trained weights;
- everything else through Lightning: ``val/*`` and ``test/*`` metrics logged by the module are the
  run's final metrics.
`CheckerboardModel` holds the shared parts: the checkpoint hooks (architecture, class name, init
measures), ``describe`` from Lightning's ModelSummary, the uint8 batch conversion, the image-size
check, and the train-mode copy that measures the untrained model as its first training step sees it.
"""

from __future__ import annotations

import copy

import lightning as L
import torch
import torch.nn as nn

from checkerboard.errors import SizeError
from checkerboard.measures.amplitude import min_image_size
from checkerboard.models.builders import DecoderSpec, build_decoder, decoder_sizes, encoder_sizes

#: The classes a checkpoint may name (never an arbitrary import from a file), by ``model=`` choice.
MODEL_CLASSES = {"autoencoder": "checkerboard.models.autoencoder.Autoencoder",
                 "vae": "checkerboard.models.vae.VAE", "gan": "checkerboard.models.gan.GAN"}
#: Where checkpoints saved before the package was split into wings (2026-12) name the same classes.
MOVED = {"checkerboard.model.Autoencoder": MODEL_CLASSES["autoencoder"],
         "checkerboard.vae.VAE": MODEL_CLASSES["vae"], "checkerboard.gan.GAN": MODEL_CLASSES["gan"]}


def train_mode_copy(*modules: nn.Module) -> nn.Module:
    """The modules in sequence, copied, in train mode: BatchNorm on the batch's statistics, as a
    training step sees them, while the model's own running statistics stay as they are."""
    return copy.deepcopy(nn.Sequential(*modules)).train()


def init_names(measured: dict[str, float]) -> dict[str, float]:
    """``val/x`` or ``decoder/x`` measured before training, under the names metrics.json keeps: ``init/x``."""
    return {"init/" + k.split("/", 1)[1] if k.startswith(("val/", "decoder/")) else f"init/{k}": v
            for k, v in measured.items()}


class CheckerboardModel(L.LightningModule):
    """A LightningModule of this project: subclasses set ``spec`` and ``period`` and define
    ``architecture`` and ``measure_init`` (the untrained model's measures, already named ``init/*``)."""

    spec: DecoderSpec
    period: int

    def __init__(self) -> None:
        super().__init__()
        self.init_metrics: dict[str, float] = {}
        self._resumed = False  # set when a checkpoint is loaded: its init measures stand, measured or not

    # -- the untrained model, measured once ----------------------------------------------------
    def measure_init(self) -> dict[str, float]:
        raise NotImplementedError

    def on_train_start(self) -> None:
        if not self._resumed and not self.init_metrics:
            self.init_metrics = self.measure_init()

    # -- checkpoints ---------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["architecture"] = self.architecture()
        checkpoint["model_class"] = f"{type(self).__module__}.{type(self).__qualname__}"  # for scripts/sample.py
        checkpoint["init_metrics"] = self.init_metrics

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        # A checkpoint without them (saved before they were kept) leaves them unknown: measuring now
        # would measure trained weights under the name of the untrained ones.
        self.init_metrics = checkpoint.get("init_metrics", {})
        self._resumed = True

    # -- batches -------------------------------------------------------------------------------
    def on_after_batch_transfer(self, batch, dataloader_idx: int = 0):
        """uint8 images (the datamodules' batches) -> float in [0, 1] on the device."""
        if isinstance(batch, (list, tuple)):  # (images, labels) from a plain torchvision loader
            batch = batch[0]
        x = batch.float().div_(255) if batch.dtype == torch.uint8 else batch
        return x.contiguous(memory_format=torch.channels_last) if self.hparams.get("channels_last") else x

    # -- facts for logs, checkpoints and metrics.json --------------------------------------------
    def architecture(self) -> dict:
        """What a checkpoint must match to be resumed into this model."""
        raise NotImplementedError

    def describe(self) -> dict:
        """The decoder, the parameter count and the multiply-accumulates for one forward pass of
        ``example_input_array`` (Lightning's ModelSummary, which counts with torch's FlopCounterMode)."""
        from lightning.pytorch.utilities.model_summary import ModelSummary

        summary = ModelSummary(self, max_depth=1)
        return {"decoder": self.spec.label, "params": summary.total_parameters, "macs": summary.total_flops // 2}

    @staticmethod
    def check_size(image_size: int, depth: int, downsample: str, decoder: DecoderSpec | str) -> None:
        """Refuse, before training, an image size that the decoder cannot give back exactly."""
        with torch.random.fork_rng(devices=[]):  # the probe must not move the seed the real layers start from
            probe = build_decoder(decoder, 1, 1, depth)  # and it refuses a bad decoder setting first
        try:
            enc = encoder_sizes(image_size, depth, downsample)
            out = decoder_sizes(probe, enc[-1])
        except ValueError as e:
            raise SizeError(f"image size {image_size} is too small for model.depth={depth}: {e}") from e
        if out[-1] != image_size:
            ok = [s for s in range(8, 129) if encoder_sizes(s, depth, downsample)[-1] * 2**depth == s]
            raise SizeError(
                f"image size {image_size} cannot be reproduced with model.depth={depth}: the encoder takes it "
                f"{' -> '.join(map(str, enc))} and the decoder gives back {' -> '.join(map(str, out))}. "
                f"Use an image size divisible by 2^depth = {2**depth} (e.g. {', '.join(map(str, ok[:6]))}, "
                f"via data.image_size) or change model.depth."
            )
        need = min_image_size(2**depth)
        if image_size < need:
            raise SizeError(
                f"image size {image_size} is too small to measure the checkerboard of model.depth={depth}: its "
                f"period is 2^depth = {2**depth} px, and the measures need at least {need} px a side. Use "
                f"data.image_size={need} or more, or model.depth={depth - 1}."
            )
