"""`trainer=ddp` on CPU (two gloo processes): one run folder, rank 0 writes, metrics cover every image."""

import json
import os
import subprocess
import sys

import pytest
import torch
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from checkerboard import ROOT
from checkerboard.data.datamodules import Batches
from checkerboard.models.autoencoder import Autoencoder
from checkerboard.run.config import compose_config
from checkerboard.run.training import build

# 17 validation and 33 test images: odd, so the two ranks get shards of different sizes and an
# image dropped (or counted twice) to even them out would change the metrics.
DATA = ["data.num_train=170", "data.num_test=33", "data.batch_size=32"]
QUIET = ["trainer.max_epochs=1", "trainer.enable_progress_bar=false", "trainer.enable_model_summary=false",
         "trainer.log_every_n_steps=1", "callbacks.artifact_images.num_images=2"]


@torch.no_grad()
def evaluate(model: Autoencoder, images: torch.Tensor) -> dict:
    """One process, every image once: the mean loss over images, PSNR and SSIM over the whole set."""
    model.eval()
    x = images.float() / 255
    y = model(x)
    out = y.clamp(0, 1)
    return {"loss": float(model.loss_fn(y, x)),
            "psnr": float(PeakSignalNoiseRatio(data_range=1.0)(out, x)),
            "ssim": float(StructuralSimilarityIndexMeasure(data_range=1.0)(out, x))}


def test_evaluation_shards_hold_every_image_once_training_shards_are_equal():
    images = torch.arange(17).view(17, 1, 1, 1)
    evaluation = [torch.cat(list(Batches(images, 4, rank=r, world_size=2))).flatten() for r in (0, 1)]
    assert sorted(torch.cat(evaluation).tolist()) == list(range(17))  # none dropped, none twice
    train = [Batches(images, 4, shuffle=True, drop_last=True, rank=r, world_size=2) for r in (0, 1)]
    assert len(train[0]) == len(train[1]) == 2  # as many steps on every rank, or DDP would hang


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(tmp_path):
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "train.py"), "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
         *DATA, *QUIET, f"hydra.run.dir={run_dir}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    assert "GLOBAL_RANK: 1" in stdout + stderr  # really two processes

    # One run folder, written by rank 0 (the process we started) only.
    assert list(tmp_path.rglob("metrics.json")) == [run_dir / "metrics.json"]
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"
    events = list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert events and {e.name.split(".")[-2] for e in events} == {str(proc.pid)}, [e.name for e in events]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and (run_dir / "checkpoints" / "last.ckpt").is_file()

    # The reported metrics are those of the whole validation (and test) split, as one process sees it.
    run = build(compose_config(tmp_path / "eval", [*DATA, *QUIET, "trainer.accelerator=cpu"]))
    assert len(run.datamodule.val) == 17 and len(run.datamodule.test) == 33
    model = Autoencoder.load_from_checkpoint(run_dir / "checkpoints" / "last.ckpt", map_location="cpu")
    for split, images in (("val", run.datamodule.val), ("test", run.datamodule.test)):
        expected = evaluate(model, images)
        for name, value in expected.items():
            assert abs(metrics[f"{split}/{name}"] - value) <= 1e-4 * max(1.0, abs(value)), (split, name, metrics)
