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

import gc
import json
import math
import os
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from checkerboard.callbacks import ArtifactImages, FrozenHeap, GracefulStop, Interrupted, Throughput
from checkerboard.data import DataError
from checkerboard.decoders import DOWNSAMPLES, UPSAMPLERS
from checkerboard.model import LOSSES, Autoencoder, DivergenceError, SizeError

# Lightning's notes on our deliberate choices (a plain iterable of batches, the module's own
# on_after_batch_transfer, no DataLoader workers) say nothing a user can act on.
warnings.filterwarnings("ignore", message=".*(on_after_batch_transfer|num_workers|LeafSpec|isinstance.treespec).*")

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
OmegaConf.register_new_resolver("unique_dir", unique_dir, replace=True, use_cache=True)


class ConfigError(ValueError):
    """A config value that cannot work; the message names it and what would be valid."""


USER_ERRORS = (ConfigError, DataError, SizeError, DivergenceError)


# Typical values, for the hint in an error message.
EXAMPLES = {"data.batch_size": 64, "trainer.max_epochs": 5, "model.width": 32, "model.depth": 2,
            "model.optimizer.lr": "1e-3", "data.image_size": 32, "data.channels": 3}


def _positive(cfg: DictConfig, key: str, kind: type) -> None:
    value = OmegaConf.select(cfg, key)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and math.isfinite(value)
    if kind is int:
        ok = ok and isinstance(value, int)
    if not ok:
        what = "a positive whole number" if kind is int else "a positive number"
        raise ConfigError(f"{key}={value!r} is not valid: it must be {what} (e.g. {key}={EXAMPLES[key]}).")


def _choice(cfg: DictConfig, key: str, options) -> None:
    value = OmegaConf.select(cfg, key)
    if value not in options:
        raise ConfigError(f"{key}={value!r} is not valid; choose one of: {', '.join(options)}.")


def validate(cfg: DictConfig) -> None:
    """Check the values a user types most, before anything is loaded or trained."""
    for key in ("data.batch_size", "trainer.max_epochs", "model.width", "model.depth"):
        _positive(cfg, key, int)
    _positive(cfg, "model.optimizer.lr", float)
    for key in ("data.image_size", "data.channels"):
        if OmegaConf.select(cfg, key) is not None:
            _positive(cfg, key, int)
    _choice(cfg, "decoder.name", UPSAMPLERS)
    _choice(cfg, "model.downsample", DOWNSAMPLES)
    _choice(cfg, "model.loss", LOSSES)
    if cfg.ckpt_path is not None:
        path = Path(str(cfg.ckpt_path)).expanduser()
        if not path.is_file():
            raise ConfigError(f"ckpt_path={cfg.ckpt_path} does not exist. Give the path of a checkpoint, "
                              f"e.g. outputs/runs/<run>/checkpoints/last.ckpt.")


class CheckOutputDir(Callback):
    """Hydra callback: refuse an output folder that cannot be written, before Hydra makes it."""

    def _check(self, folder: str) -> None:
        path = Path(folder).absolute()
        existing = next(p for p in (path, *path.parents) if p.exists())
        try:
            if not existing.is_dir():
                raise NotADirectoryError(f"{existing} is a file")
            tempfile.TemporaryDirectory(dir=existing).cleanup()
        except OSError as e:
            print(f"Error: cannot write the run folder {path} ({e}). Choose a writable place with "
                  f"hydra.run.dir=PATH (hydra.sweep.dir=PATH for -m), or run from a folder you can write to.",
                  file=sys.stderr)
            sys.exit(2)

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        folder = Path(config.hydra.run.dir)
        # An explicit hydra.run.dir that already holds a run: refuse rather than mix two runs.
        # (DDP's worker processes and srun's other tasks share rank 0's folder on purpose.)
        rank = next((os.environ[k] for k in ("RANK", "SLURM_PROCID", "LOCAL_RANK") if k in os.environ), "0")
        if (folder / "status.json").exists() and rank == "0":
            print(f"Error: {folder} already holds a run (see its status.json); a run never overwrites "
                  f"another. Leave hydra.run.dir at its default or give a new folder.", file=sys.stderr)
            sys.exit(2)
        self._check(str(folder))

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self._check(config.hydra.sweep.dir)


@rank_zero_only
def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)  # atomic: a reader never sees half a file


def set_status(out: Path, state: str, **extra) -> None:
    write_json(out / "status.json", {"state": state, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra})


def _instantiate(node: DictConfig, **kwargs):
    """``hydra.utils.instantiate``, but a user error raised inside comes out as itself, not wrapped."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e
        while isinstance(cause, InstantiationException) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, USER_ERRORS):
            raise cause from None
        raise


@dataclass
class Run:
    """Everything `train.py` builds for a run; the benchmark reuses it to time the real path."""

    cfg: DictConfig
    out: Path
    datamodule: L.LightningDataModule
    model: Autoencoder
    trainer: L.Trainer
    logger: TensorBoardLogger
    throughput: Throughput
    images: ArtifactImages
    stopper: GracefulStop


def check_checkpoint(path: str, model: Autoencoder) -> None:
    """Refuse a checkpoint that is not one, or that was saved by a different model, by name."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        saved = ckpt["hyper_parameters"]
    except Exception as e:
        raise ConfigError(f"ckpt_path={path} is not a checkpoint of this project ({type(e).__name__}: "
                          f"{str(e)[:200]}). Give a checkpoints/last.ckpt or best.ckpt of a run.") from e
    keys = ("decoder", "channels", "image_size", "width", "depth", "downsample")
    diff = [f"{k}: checkpoint {saved.get(k)!r}, now {model.hparams[k]!r}" for k in keys if saved.get(k) != model.hparams[k]]
    if diff:
        raise ConfigError(f"ckpt_path={path} was saved by a different model ({'; '.join(diff)}). "
                          f"Resume with the same overrides as the run that saved it.")


def build(cfg: DictConfig) -> Run:
    """Validate the config, load the data, build the model, the logger, the callbacks and the trainer."""
    out = Path(cfg.paths.output_dir)
    validate(cfg)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule = _instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    model = _instantiate(cfg.model, decoder=cfg.decoder.name, channels=datamodule.channels,
                        image_size=datamodule.image_size)
    if cfg.ckpt_path is not None:
        check_checkpoint(str(cfg.ckpt_path), model)
    logger = TensorBoardLogger(save_dir=str(out), name="tensorboard", version="", default_hp_metric=False)
    throughput = Throughput()
    images = ArtifactImages(cfg.log.num_images, cfg.log.images_every_n_epochs)
    stopper = GracefulStop(out / "checkpoints" / "last.ckpt")
    checkpoints = ModelCheckpoint(dirpath=out / "checkpoints", filename="best", monitor="val/loss", mode="min",
                                  save_last=True)
    callbacks = [checkpoints, throughput, images, stopper, FrozenHeap()]
    if cfg.trainer.enable_progress_bar:
        # Redrawing the bar every step costs ~1% of a CPU step (and a GPU sync to read the loss).
        callbacks.append(TQDMProgressBar(refresh_rate=cfg.trainer.log_every_n_steps))
    trainer = instantiate(cfg.trainer, logger=logger, callbacks=callbacks)
    return Run(cfg, out, datamodule, model, trainer, logger, throughput, images, stopper)


def compose_config(out_dir: Path | str, overrides=()) -> DictConfig:
    """The real configs composed as `python train.py <overrides>` would, writing into ``out_dir``.

    For scripts and tests that call ``build``/``train`` in-process, without Hydra's command line.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import open_dict

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"hydra.run.dir={out_dir}", *overrides], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
    return cfg


def resume_command(ckpt: str) -> str:
    overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("ckpt_path=")]
    return " ".join(["python train.py", *overrides, f"ckpt_path={ckpt}"])


def train(cfg: DictConfig) -> dict:
    """Train one run end to end; returns the metrics written to metrics.json."""
    out = Path(cfg.paths.output_dir)
    set_status(out, "running")
    run = build(cfg)
    model, datamodule, trainer = run.model, run.datamodule, run.trainer
    params, macs = model.count_params(), model.count_macs()
    rank_zero_only(print)(
        f"decoder={cfg.decoder.name}  data={datamodule.name} ({len(datamodule.train)} train / "
        f"{len(datamodule.val)} val images, {datamodule.channels}x{datamodule.image_size}x{datamodule.image_size})  "
        f"params={params:,}  MACs/image={macs:,}\nrun folder: {out}"
    )

    start = time.perf_counter()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.ckpt_path, weights_only=True)
    except SIGTERMException:
        if run.stopper.interrupted is None:
            raise
        raise run.stopper.interrupted from None
    train_seconds = time.perf_counter() - start
    final = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    trainer.test(model, datamodule=datamodule, verbose=False, weights_only=True)
    final.update({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")})

    metrics = {
        "decoder": cfg.decoder.name, "data": datamodule.name, "seed": cfg.seed,
        "params": params, "macs": macs, "epochs": trainer.current_epoch,
        "train_seconds": round(train_seconds, 3),
        "images_per_second": round(run.throughput.images_per_second, 1),
        "threads": torch.get_num_threads(),  # images/s depends on it (parallel sweeps lower it)
        "device": str(model.device.type),
        "image_log_seconds": round(run.images.seconds, 3),
        "init/checkerboard": model.init_checkerboard,
        "resumed_from": None if cfg.ckpt_path is None else str(Path(str(cfg.ckpt_path)).resolve()),
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
    run.logger.log_hyperparams(hparams, {f"final/{k}": v for k, v in final.items()})
    run.logger.finalize("success")
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
    # The garbage collector need not walk torch's and Lightning's import-time objects again and
    # again, nor at exit: about 0.9 s of a 16 s default run. A sweep on Hydra's basic launcher runs
    # its jobs in this process: the previous job's objects are thawed and collected first.
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    gc.freeze()
    out = Path(cfg.paths.output_dir)
    try:
        metrics = train(cfg)
    except Interrupted as e:
        set_status(out, "interrupted", step=e.step, checkpoint=e.checkpoint)
        print(f"\nStopped by {signal.Signals(e.signum).name} after step {e.step}; saved {e.checkpoint}.\n"
              f"Resume with:\n  {resume_command(e.checkpoint)}", file=sys.stderr)
        sys.exit(128 + e.signum)
    except Exception as e:
        if not isinstance(e, USER_ERRORS) or os.environ.get("HYDRA_FULL_ERROR") == "1":
            set_status(out, "failed", error=f"{type(e).__name__}: {e}")
            raise
        set_status(out, "failed", error=str(e))
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise e from None  # Hydra records the failed job and runs the others
        print(f"Error: {e}\n(Set HYDRA_FULL_ERROR=1 for the full traceback.)", file=sys.stderr)
        sys.exit(2)
    return metrics.get(cfg.optimized_metric)
