"""Lightning's TensorBoard logger, arranged so that TensorBoard opens on the artifact.

- The Custom Scalars tab (``#custom_scalars``) holds one layout: the checkerboard measures first,
  then image quality and the losses; every run of a sweep is a line in each chart. A run writes it
  at its first validation, with the charts of the curves it logs (a GAN has no reconstructions).
- No ``epoch`` scalar (Lightning's staircase) in the Scalars tab.
- The HPARAMS tab compares runs on the last values of their own curves (``val/psnr``, ...),
  not on copies logged once under other names.
"""

from __future__ import annotations

import io

import torch
from lightning.fabric.utilities.logger import _flatten_dict
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only

from checkerboard.measures.keys import layout


class TensorBoard(TensorBoardLogger):
    """``TensorBoardLogger`` with this project's layout; the same arguments."""

    _layout_written = False
    _tags: frozenset = frozenset()  # every scalar tag logged so far

    @rank_zero_only
    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        metrics = {k: v for k, v in metrics.items() if k != "epoch"}
        if metrics:
            super().log_metrics(metrics, step)
            if not self._layout_written:  # the tags are needed until the layout is written, not after
                self._tags = self._tags | set(metrics)
        # The end of the first validation logs every val/ curve at once (step 0 holds the untrained values)
        if step and any(k.startswith("val/") for k in metrics):
            self._write_layout()

    def _write_layout(self) -> None:
        """The Custom Scalars layout (TensorBoard reads a run's first), once."""
        if not self._layout_written and self._tags:
            self.experiment.add_custom_scalars(layout(self._tags))
            self._layout_written = True

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self._write_layout()  # a run that never validated: its training curves
        super().finalize(status)

    @rank_zero_only
    def log_hyperparams(self, params, metrics: dict | None = None, step: int | None = None) -> None:
        """The settings, and the names of the curves whose last values HPARAMS shows beside them."""
        if not metrics:
            return super().log_hyperparams(params, metrics, step)
        from torch.utils.tensorboard.summary import hparams

        self.hparams.update(params)
        params = self._sanitize_params(_flatten_dict(dict(params)))
        writer = self.experiment._get_file_writer()
        for summary in hparams(params, metrics):
            writer.add_summary(summary, step)


def add_png(writer, tag: str, image: torch.Tensor, step: int) -> None:
    """``SummaryWriter.add_image`` for a (3, H, W) image in [0, 1], encoded at zlib level 1: about a
    tenth of the encoding time of add_image's default level for files about a fifth larger, which
    matters when pictures are drawn every epoch of a short one."""
    from PIL import Image
    from tensorboard.compat.proto.summary_pb2 import Summary

    file_writer = writer._get_file_writer()
    if file_writer is None:  # Lightning's DummyLogger (fast_dev_run) writes nothing
        return
    array = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    png = io.BytesIO()
    Image.fromarray(array).save(png, format="PNG", compress_level=1)
    picture = Summary.Image(height=array.shape[0], width=array.shape[1], colorspace=3,
                            encoded_image_string=png.getvalue())
    file_writer.add_summary(Summary(value=[Summary.Value(tag=tag, image=picture)]), step)
