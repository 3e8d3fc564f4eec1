"""`python train.py`: Hydra's entry point. Exit codes, status.json on failure, Ctrl-C, the GC.

    python train.py                                   # defaults: decoder=tconv data=shapes
    python train.py decoder=upsample data=mnist trainer.max_epochs=2
    python train.py -m decoder=tconv,upsample seed=0,1,2
    tensorboard --logdir outputs

Light to import (Hydra only): `--help` and bad overrides answer before torch loads.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from checkerboard.errors import UserError
from checkerboard.run.config import CONFIG_DIR
from checkerboard.run.folder import resume_command, set_status


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Train one run; returns ``cfg.optimized_metric`` for sweepers."""
    from checkerboard.run.callbacks import Interrupted
    from checkerboard.run.training import train

    # The garbage collector need not walk torch's and Lightning's import-time objects again and
    # again, nor at exit. A sweep on Hydra's basic launcher runs its jobs in this process: the
    # previous job's objects are thawed and collected first.
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    gc.freeze()
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN and "BasicLauncher" not in hydra_cfg.launcher._target_:
        with open_dict(cfg):  # jobs run side by side: their progress bars would interleave
            cfg.trainer.enable_progress_bar = False
    out = Path(cfg.paths.output_dir)
    try:
        metrics = train(cfg)
    except Interrupted as e:
        set_status(out, "interrupted", step=e.step, checkpoint=e.checkpoint)
        print(f"\nStopped by {signal.Signals(e.signum).name} after step {e.step}; saved {e.checkpoint}.\n"
              f"Resume with:\n  {resume_command(e.checkpoint)}", file=sys.stderr)
        sys.exit(128 + e.signum)
    except (KeyboardInterrupt, SystemExit) as e:  # stopped without the graceful stop (callbacks=none)
        signum = signal.SIGINT if isinstance(e, KeyboardInterrupt) else signal.SIGTERM
        set_status(out, "interrupted", error=f"{signum.name}, no checkpoint saved")
        print(f"\nStopped by {signum.name}; no checkpoint saved.", file=sys.stderr)
        sys.exit(128 + signum)
    except Exception as e:
        if not isinstance(e, UserError) or os.environ.get("HYDRA_FULL_ERROR") == "1":
            set_status(out, "failed", error=f"{type(e).__name__}: {e}")
            raise
        set_status(out, "failed", error=str(e))
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise e from None  # Hydra records the failed job and runs the others
        print(f"Error: {e}\n(Set HYDRA_FULL_ERROR=1 for the full traceback.)", file=sys.stderr)
        sys.exit(2)
    return metrics.get(cfg.optimized_metric)
