import gc
import json
import signal

import lightning as L
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from checkerboard.models.upsamplers import UPSAMPLERS
from checkerboard.run.callbacks import GracefulStop
from checkerboard.run.config import compose_config
from checkerboard.run.training import build, train
from helpers import TINY, run_cli, write_cifar10, write_mnist, write_png_folder


@pytest.mark.parametrize("decoder", list(UPSAMPLERS))
def test_fast_dev_run_every_decoder_on_shapes(tmp_path, decoder):
    cfg = compose_config(tmp_path, [f"decoder={decoder}", *TINY, "trainer.fast_dev_run=true"])
    metrics = train(cfg)
    assert metrics["decoder"] == decoder and metrics["params"] > 0 and metrics["macs"] > 0
    assert 0 < metrics["val/psnr"] < 60


def test_fast_dev_run_on_mnist_files(tmp_path):
    data = write_mnist(tmp_path / "data")
    cfg = compose_config(tmp_path / "run", ["data=mnist", f"paths.data_dir={data}", "data.download=false",
                                         *TINY, "trainer.fast_dev_run=true"])
    metrics = train(cfg)
    assert metrics["data"] == "mnist"


def test_fast_dev_run_on_cifar10_files(tmp_path, no_cifar_md5):
    data = write_cifar10(tmp_path / "data")
    cfg = compose_config(tmp_path / "run", ["data=cifar10", f"paths.data_dir={data}", "data.download=false",
                                         *TINY, "trainer.fast_dev_run=true"])
    assert train(cfg)["data"] == "cifar10"


def test_fast_dev_run_on_a_folder_of_pngs(tmp_path):
    root = write_png_folder(tmp_path / "pngs")
    cfg = compose_config(tmp_path / "run", ["data=folder", f"data.root={root}", *TINY,
                                         "data.batch_size=4", "trainer.fast_dev_run=true"])
    assert train(cfg)["data"] == "folder"


def test_same_seed_same_metrics_on_cpu(tmp_path):
    overrides = [*TINY, "trainer.accelerator=cpu", "callbacks.artifact_images.num_images=2"]
    runs = [train(compose_config(tmp_path / str(i), overrides)) for i in range(2)]
    for key in ("val/loss", "val/psnr", "val/ssim", "test/loss"):
        assert runs[0][key] == runs[1][key]


@pytest.mark.slow
def test_cli_run_leaves_metrics_checkpoints_and_tensorboard_tags(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli("decoder=tconv", *TINY, f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("decoder", "data", "seed", "params", "macs", "epochs", "train_seconds",
                "images_per_second", "val/loss", "val/psnr", "val/ssim"):
        assert key in metrics, key
    assert metrics["decoder"] == "tconv" and metrics["epochs"] == 1
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and (run_dir / "checkpoints" / "best.ckpt").is_file()
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert json.loads((run_dir / "status.json").read_text())["state"] == "finished"
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    for tag in ("train/loss", "val/loss", "val/psnr", "val/ssim"):
        assert tag in tags["scalars"], tag
    assert "val/reconstructions" in tags["images"]
    assert "tensorboard --logdir" in result.stdout and "--samples_per_plugin images=" in result.stdout
    assert "grey levels RMS" in result.stdout  # the artifact, read in a sentence
    assert "litlogger" not in result.stdout + result.stderr and "None" not in result.stdout


@pytest.mark.slow
def test_unknown_decoder_lists_the_options(tmp_path):
    # From the command line once: the CLI passes Hydra's message on (test_faults.py: other groups, in-process).
    result = run_cli("decoder=nope", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode != 0
    assert "decoder/nope" in result.stderr and "tconv" in result.stderr and "upsample" in result.stderr


@pytest.mark.slow
def test_offline_mnist_without_files_fails_with_a_clear_error(tmp_path):
    result = run_cli("data=mnist", f"paths.data_dir={tmp_path / 'empty'}", "data.download=false",
                     f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "MNIST/raw" in result.stderr and "data=shapes" in result.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "failed"


def test_training_takes_the_heap_and_ctrl_c_only_while_it_runs(tmp_path):
    seen, sanity = [], []

    class Probe(L.Callback):
        def on_sanity_check_end(self, trainer, pl_module):
            sanity.append(signal.getsignal(signal.SIGINT))

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append((gc.get_freeze_count(), signal.getsignal(signal.SIGINT)))

    gc.unfreeze()  # as in a fresh notebook (main(), run in-process by other tests, keeps its freeze)
    before = signal.getsignal(signal.SIGINT)  # Python's default; SIG_IGN under nohup or `cmd &`
    run = build(compose_config(tmp_path, [*TINY, "trainer.accelerator=cpu", "trainer.enable_progress_bar=false"]))
    run.trainer.callbacks.append(Probe())
    run.trainer.fit(run.model, datamodule=run.datamodule)
    # During training the model, the data and torch's modules are out of the collector's walks,
    # and Ctrl-C asks for a graceful stop ...
    graceful = run.callback(GracefulStop)._on_sigint
    assert seen and all(frozen > 10_000 and handler == graceful for frozen, handler in seen)
    assert sanity == [graceful]  # Ctrl-C in the sanity check is graceful too
    # ... and both are given back afterwards, so a notebook neither keeps them nor has its Ctrl-C changed.
    assert gc.get_freeze_count() == 0 and signal.getsignal(signal.SIGINT) is before


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("decoder", list(UPSAMPLERS))
def test_gpu_run_with_data_on_device(tmp_path, decoder):
    # trainer=gpu is bf16-mixed; the dataset lives on the GPU and batches are sliced there.
    cfg = compose_config(tmp_path, [f"decoder={decoder}", *TINY, "trainer=gpu", "data.on_device=true",
                                    "model.channels_last=true", "trainer.max_epochs=2"])
    metrics = train(cfg)
    assert metrics["device"] == "cuda" and 0 < metrics["val/psnr"] < 60
    assert metrics["val/checkerboard_amplitude"] >= 0
