"""Side work of a run, as Lightning callbacks: throughput timing and TensorBoard images."""

from __future__ import annotations

import time

import lightning as L
import torch
from torchvision.utils import make_grid


def _sync(trainer: L.Trainer) -> None:
    if trainer.strategy.root_device.type == "cuda":
        torch.cuda.synchronize(trainer.strategy.root_device)


class Throughput(L.Callback):
    """Training images per second, counting only training batches (not validation, not start-up).

    Time from the start of each training epoch to its end, minus the validation run inside it.
    """

    def __init__(self):
        self.seconds, self.images, self._t0, self._val_t0 = 0.0, 0, None, None

    def on_train_epoch_start(self, trainer, pl_module):
        _sync(trainer)
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.images += len(batch) * trainer.world_size

    def on_validation_start(self, trainer, pl_module):
        if self._t0 is not None and not trainer.sanity_checking:
            _sync(trainer)
            self._val_t0 = time.perf_counter()

    def on_validation_end(self, trainer, pl_module):
        if self._val_t0 is not None:
            _sync(trainer)
            self.seconds -= time.perf_counter() - self._val_t0
            self._val_t0 = None

    def on_train_epoch_end(self, trainer, pl_module):
        _sync(trainer)
        self.seconds += time.perf_counter() - self._t0

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("nan")


class ImageLogger(L.Callback):
    """Logs `val/reconstructions`: the same validation images every epoch, inputs above outputs."""

    def __init__(self, num_images: int = 8, every_n_epochs: int = 1):
        self.num_images, self.every_n_epochs = num_images, every_n_epochs

    def _fixed_images(self, trainer, pl_module) -> torch.Tensor:
        images = trainer.datamodule.val[: self.num_images]
        return pl_module.on_after_batch_transfer(images.to(pl_module.device))

    @torch.no_grad()
    def on_validation_epoch_end(self, trainer, pl_module):
        if (trainer.sanity_checking or not trainer.is_global_zero or trainer.logger is None
                or trainer.current_epoch % self.every_n_epochs):
            return
        x = self._fixed_images(trainer, pl_module)
        y = pl_module.reconstruct(x)
        grid = make_grid(torch.cat([x, y]).float().cpu(), nrow=len(x), padding=1, pad_value=1.0)
        trainer.logger.experiment.add_image("val/reconstructions", grid, trainer.global_step)
