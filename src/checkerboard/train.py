"""Train one autoencoder and log everything a comparison needs.

    python train.py                                   # defaults: decoder=tconv data=shapes
    python train.py decoder=upsample data=mnist trainer.max_epochs=2
    python train.py -m decoder=tconv,upsample seed=0,1,2
    tensorboard --logdir outputs

Each run writes one folder (Hydra's run dir): `.hydra/` (the config), `tensorboard/` (event
files), `checkpoints/` (last.ckpt and best.ckpt), `status.json` (running / finished / failed /
interrupted) and, only once the run has finished, `metrics.json`.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import hydra
import lightning as L
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from checkerboard.callbacks import ImageLogger, Throughput
from checkerboard.data import DataError
from checkerboard.model import SizeError

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "configs"

_unique: dict[str, str] = {}


def unique_dir(path: str) -> str:
    """``path``, or ``path-1``, ``path-2``... if it exists: re-running a command never reuses a folder.

    Memoised, because Hydra may resolve the run dir more than once in a process.
    """
    if path not in _unique:
        candidate, n = path, 0
        while Path(candidate).exists():
            n += 1
            candidate = f"{path}-{n}"
        _unique[path] = candidate
    return _unique[path]


OmegaConf.register_new_resolver("project_root", lambda: str(ROOT), replace=True)
OmegaConf.register_new_resolver("unique_dir", unique_dir, replace=True)


class ConfigError(ValueError):
    """A config value that cannot work; the message names it and what would be valid."""


USER_ERRORS = (ConfigError, DataError, SizeError)


def _positive(cfg: DictConfig, key: str, kind: type) -> None:
    value = OmegaConf.select(cfg, key)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and math.isfinite(value)
    if kind is int:
        ok = ok and isinstance(value, int)
    if not ok:
        what = "a positive whole number" if kind is int else "a positive number"
        raise ConfigError(f"{key}={value!r} is not valid: it must be {what} (e.g. {key}={OmegaConf.select(cfg, key, default=None) if ok else ('64' if kind is int else '1e-3')}).")


def validate(cfg: DictConfig) -> None:
    """Check the numbers a user types most, before anything is loaded or trained."""
    for key in ("data.batch_size", "trainer.max_epochs", "model.width", "model.depth"):
        _positive(cfg, key, int)
    _positive(cfg, "model.optimizer.lr", float)
    for key in ("data.image_size", "data.channels"):
        if OmegaConf.select(cfg, key) is not None:
            _positive(cfg, key, int)
    if cfg.ckpt_path is not None:
        path = Path(str(cfg.ckpt_path)).expanduser()
        if not path.is_file():
            raise ConfigError(f"ckpt_path={cfg.ckpt_path} does not exist. Give the path of a checkpoint, "
                              f"e.g. outputs/runs/<run>/checkpoints/last.ckpt.")


@rank_zero_only
def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)  # atomic: a reader never sees half a file


def set_status(out: Path, state: str, **extra) -> None:
    write_json(out / "status.json", {"state": state, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra})


def _unwrap(e: BaseException) -> BaseException:
    """Hydra wraps errors raised while instantiating; the user wants the original message."""
    while isinstance(e, InstantiationException) and e.__cause__ is not None:
        e = e.__cause__
    return e


def train(cfg: DictConfig) -> dict:
    out = Path(cfg.paths.output_dir)
    validate(cfg)
    set_status(out, "running")
    L.seed_everything(cfg.seed, workers=True, verbose=False)

    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    model = instantiate(cfg.model, decoder=cfg.decoder.name, channels=datamodule.channels,
                        image_size=datamodule.image_size)
    params, macs = model.count_params(), model.count_macs()
    rank_zero_only(print)(
        f"decoder={cfg.decoder.name}  data={datamodule.name} ({len(datamodule.train)} train / "
        f"{len(datamodule.val)} val images, {datamodule.channels}x{datamodule.image_size}x{datamodule.image_size})  "
        f"params={params:,}  MACs/image={macs:,}\nrun folder: {out}"
    )

    logger = TensorBoardLogger(save_dir=str(out), name="tensorboard", version="", default_hp_metric=False)
    throughput = Throughput()
    callbacks = [
        ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor="val/loss", mode="min",
                        save_last=True),
        throughput,
        ImageLogger(cfg.log.num_images, cfg.log.images_every_n_epochs),
    ]
    trainer: L.Trainer = instantiate(cfg.trainer, logger=logger, callbacks=callbacks)

    start = time.perf_counter()
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    train_seconds = time.perf_counter() - start
    final = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    trainer.test(model, datamodule=datamodule, verbose=False)
    final.update({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")})

    metrics = {
        "decoder": cfg.decoder.name, "data": datamodule.name, "seed": cfg.seed,
        "params": params, "macs": macs, "epochs": trainer.current_epoch,
        "train_seconds": round(train_seconds, 3),
        "images_per_second": round(throughput.images_per_second, 1),
        **final,
    }
    hparams = {
        "decoder": cfg.decoder.name, "data": datamodule.name, "seed": cfg.seed, "params": params,
        "macs": macs, "width": cfg.model.width, "depth": cfg.model.depth,
        "downsample": cfg.model.downsample, "loss": cfg.model.loss, "lr": cfg.model.optimizer.lr,
        "batch_size": cfg.data.batch_size, "max_epochs": cfg.trainer.max_epochs,
        "image_size": datamodule.image_size, "channels": datamodule.channels,
    }
    # Final metrics under their own tags, so the HPARAMS tab compares runs without overwriting curves.
    logger.log_hyperparams(hparams, {f"final/{k}": v for k, v in final.items()})
    logger.finalize("success")
    write_json(out / "metrics.json", metrics)
    set_status(out, "finished")
    rank_zero_only(print)(
        "\n" + "\n".join(f"  {k:<18} {v:.4f}" if isinstance(v, float) else f"  {k:<18} {v}"
                         for k, v in metrics.items())
        + f"\nrun folder: {out}\nlook at it:  tensorboard --logdir {out}"
    )
    return metrics


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns ``cfg.optimized_metric`` for sweepers."""
    out = Path(cfg.paths.output_dir)
    try:
        metrics = train(cfg)
    except Exception as exc:
        e = _unwrap(exc)
        if not isinstance(e, USER_ERRORS) or os.environ.get("HYDRA_FULL_ERROR") == "1":
            set_status(out, "failed", error=f"{type(e).__name__}: {e}")
            raise
        set_status(out, "failed", error=str(e))
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise e from None  # Hydra records the failed job and runs the others
        print(f"Error: {e}\n(Set HYDRA_FULL_ERROR=1 for the full traceback.)", file=sys.stderr)
        sys.exit(2)
    return metrics.get(cfg.optimized_metric)
