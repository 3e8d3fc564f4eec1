"""The run folder: its name, the check that it can be written, status.json, metrics.json, resuming.

Each run writes one folder (Hydra's run dir): `.hydra/` (the config), `tensorboard/`, `checkpoints/`,
`status.json` (running / finished / failed / interrupted) and, only once the run has finished,
`metrics.json`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from checkerboard.errors import ConfigError

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


def _rank() -> str:
    """This process's rank under DDP or srun; "0" when there is only one."""
    return next((os.environ[k] for k in ("RANK", "SLURM_PROCID", "LOCAL_RANK") if k in os.environ), "0")


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
        if (folder / "status.json").exists() and _rank() == "0":
            print(f"Error: {folder} already holds a run (see its status.json); a run never overwrites "
                  f"another. Leave hydra.run.dir at its default or give a new folder.", file=sys.stderr)
            sys.exit(2)
        self._check(str(folder))

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self._check(config.hydra.sweep.dir)


class SweepEnd(Callback):
    """Hydra callback: a sweep ends by saying how to compare its jobs."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from checkerboard.formatting import tensorboard_command

        sweep = config.hydra.sweep.dir
        print(f"\nSweep done: {sweep}\ncompare the jobs:  python scripts/compare.py {sweep}\n"
              f"every job side by side:  {tensorboard_command(sweep)}")


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` atomically (a reader never sees half a file); only rank 0 writes."""
    if _rank() != "0":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def set_status(out: Path, state: str, **extra) -> None:
    write_json(out / "status.json", {"state": state, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra})


def resume_command(ckpt: str) -> str:
    """The command that continues this run from ``ckpt``: the same overrides, plus ckpt_path."""
    overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("ckpt_path=")]
    return " ".join(["python train.py", *overrides, f"ckpt_path={ckpt}"])


def check_checkpoint(path: str, architecture: dict) -> None:
    """Refuse a file that is not a checkpoint of this project, or one of a different model, by name.

    ``architecture`` is the model's ``architecture()``: what a checkpoint must match to be resumed.
    Loaded with ``weights_only=True``, which refuses to unpickle arbitrary objects.
    """
    import torch

    try:
        saved = {"model": "autoencoder",  # checkpoints from before model=vae and model=gan
                 **torch.load(path, map_location="cpu", weights_only=True)["architecture"]}
    except Exception as e:
        raise ConfigError(f"ckpt_path={path} is not a checkpoint of this project ({type(e).__name__}: "
                          f"{str(e)[:200]}). Give a checkpoints/last.ckpt or best.ckpt of a run.") from e
    diff = [f"{k}: checkpoint {saved.get(k)!r}, now {v!r}" for k, v in architecture.items() if saved.get(k) != v]
    if diff:
        raise ConfigError(f"ckpt_path={path} was saved by a different model ({'; '.join(diff)}). "
                          f"Resume with the same overrides as the run that saved it.")
