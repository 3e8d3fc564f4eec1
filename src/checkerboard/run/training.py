"""Build a run from its config and train it: data, model, logger, callbacks, trainer; then metrics.json.

`python train.py ...` reaches `train()` through `checkerboard.run.cli`; scripts and tests call `build()`
and `train()` in-process with a config from `checkerboard.run.config.compose_config`.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from checkerboard.formatting import summary
from checkerboard.run.callbacks import ArtifactImages, GracefulStop, Plateau, Throughput
from checkerboard.run.config import instantiate, instantiate_callbacks, instantiate_logger, load_data, validate
from checkerboard.run.folder import check_checkpoint, set_status, write_json


def quiet_lightning() -> None:
    """Lightning's notes on our deliberate choices (a plain iterable of batches, the module's own
    on_after_batch_transfer, no DataLoader workers) say nothing a user can act on; nor do its advert
    for a cloud logger and its echo of the SIGTERM our Ctrl-C handler sends (we print what happens)."""
    warnings.filterwarnings("ignore", message=".*(on_after_batch_transfer|num_workers|LeafSpec|isinstance.treespec"
                                               "|have no logger configured).*")
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.trainer.connectors.signal_connector"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Quiet) for f in logger.filters):
            logger.addFilter(_Quiet())
    if logging.getLogger().hasHandlers():  # Hydra's console and train.log: Lightning's own handler says it twice
        lightning = logging.getLogger("lightning")
        lightning.handlers = [h for h in lightning.handlers if type(h) is not logging.StreamHandler]


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(text in record.getMessage() for text in ("litlogger", "Received SIGTERM"))


@dataclass
class Run:
    """Everything `build` makes for a run; the benchmark reuses it to time the real path."""

    cfg: DictConfig
    out: Path
    datamodule: L.LightningDataModule
    model: L.LightningModule
    trainer: L.Trainer

    def callback(self, kind: type):
        """The trainer's callback of type ``kind``, or None (e.g. with ``callbacks=none``)."""
        return next((c for c in self.trainer.callbacks if isinstance(c, kind)), None)


def build(cfg: DictConfig) -> Run:
    """Validate the config, load the data, build the model, the logger, the callbacks and the trainer."""
    quiet_lightning()
    validate(cfg)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = load_data(cfg.data)
    model = instantiate(cfg.model, decoder=OmegaConf.to_container(cfg.decoder, resolve=True),
                        channels=datamodule.channels, image_size=datamodule.image_size)
    if cfg.ckpt_path is not None:
        check_checkpoint(str(cfg.ckpt_path), model.architecture())
    trainer = instantiate(cfg.trainer, logger=instantiate_logger(cfg) or False, callbacks=instantiate_callbacks(cfg))
    if isinstance(trainer.accelerator, CPUAccelerator):
        # Lightning sets PYTORCH_NVML_BASED_CUDA_CHECK=1 so that looking for a GPU cannot spoil forked
        # workers; with a CUDA build of torch and no GPU, torch then opens NVML anew at every optimizer
        # step (Adam asks whether CUDA is available). A run on the CPU has no CUDA to spoil.
        os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)
    return Run(cfg, Path(cfg.paths.output_dir), datamodule, model, trainer)


def _save_dir(logger) -> str | None:
    """The folder whose tensorboard/ holds the run's events (None without one, or in fast_dev_run)."""
    folder = getattr(logger, "save_dir", None)
    return None if folder is None else str(Path(folder).resolve())


def _hparams(cfg: DictConfig, run: Run, facts: dict) -> dict:
    """The run's settings for TensorBoard's HPARAMS tab: the model's own plus data and budget."""
    own = {k: v for k, v in run.model.hparams.items() if isinstance(v, (int, float, str, bool))}
    return {**own, **facts, "lr": OmegaConf.select(cfg, "model.optimizer.lr"), "batch_size": cfg.data.batch_size,
            "max_epochs": cfg.trainer.max_epochs, "image_size": run.datamodule.image_size,
            "channels": run.datamodule.channels}


def train(cfg: DictConfig) -> dict:
    """Train one run end to end; returns the metrics written to metrics.json."""
    out = Path(cfg.paths.output_dir)
    set_status(out, "running")
    run = build(cfg)
    model, datamodule, trainer = run.model, run.datamodule, run.trainer
    facts = {**model.describe(), "data": datamodule.name, "seed": cfg.seed}
    rank_zero_only(print)(
        f"decoder={facts['decoder']}  data={datamodule.name} ({len(datamodule.train)} train / "
        f"{len(datamodule.val)} val images, {datamodule.channels}x{datamodule.image_size}x{datamodule.image_size})  "
        f"params={facts['params']:,}  MACs/image={facts['macs']:,}\nrun folder: {out}"
    )

    start = time.perf_counter()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.ckpt_path, weights_only=True)
    except SIGTERMException:
        stopper = run.callback(GracefulStop)
        if stopper is None or stopper.interrupted is None:
            raise
        raise stopper.interrupted from None
    train_seconds = time.perf_counter() - start
    final = {k: float(v) for k, v in trainer.callback_metrics.items() if not k.startswith("train/")}
    trainer.test(model, datamodule=datamodule, verbose=False, weights_only=True)
    final.update({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")})

    throughput, images, plateau = run.callback(Throughput), run.callback(ArtifactImages), run.callback(Plateau)
    gain = None if plateau is None else plateau.gain()
    metrics = {
        **facts, "epochs": trainer.current_epoch, "train_seconds": round(train_seconds, 3),
        "images_per_second": None if throughput is None else round(throughput.images_per_second, 1),
        "threads": torch.get_num_threads(),  # images/s depends on it (parallel sweeps lower it)
        "device": str(model.device.type),
        "image_log_seconds": None if images is None else round(images.seconds, 3),
        # The convergence rule (callbacks.plateau): did the best val PSNR (a GAN: FCD) stop improving?
        "converged": None if gain is None else plateau.converged,  # None: never measured (under smooth + 1 epochs)
        "plateau_gain": None if gain is None else round(gain, 4),
        "plateau_rule": None if plateau is None else plateau.rule,
        **model.init_metrics,
        "resumed_from": None if cfg.ckpt_path is None else str(Path(str(cfg.ckpt_path)).resolve()),
        "tensorboard": _save_dir(trainer.logger),
        **final,
    }
    if trainer.logger is not None:
        # The HPARAMS tab shows the last value of each curve named here beside the run's settings.
        curves = {k: v for k, v in final.items() if k.startswith(("val/", "decoder/"))}
        trainer.logger.log_hyperparams(_hparams(cfg, run, facts), curves)
        trainer.logger.finalize("success")
    write_json(out / "metrics.json", metrics)
    set_status(out, "finished")
    rank_zero_only(print)(summary(metrics, out))
    return metrics
