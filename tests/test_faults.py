"""Bad input gets one clear message before training; interrupted work is never lost."""

import gc
import json
import signal
import subprocess
import sys
import time

import hydra
import pytest
import torch
from hydra.errors import MissingConfigException
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from checkerboard import ROOT
from checkerboard.errors import ConfigError, DataError, DivergenceError, SizeError
from checkerboard.run.config import compose_config
from checkerboard.run.folder import unique_dir
from checkerboard.run.training import train
from helpers import TINY, run_cli, write_cifar10, write_mnist

BAD_VALUES = [
    # (overrides, error type, words the message must hold: the bad value and the hint)
    (["data.batch_size=0"], ConfigError, ["data.batch_size=0", "positive whole number"]),
    (["data.batch_size=-3"], ConfigError, ["data.batch_size=-3", "e.g. data.batch_size=64"]),
    (["data.batch_size=abc"], ConfigError, ["data.batch_size='abc'", "positive whole number"]),
    (["model.optimizer.lr=-1"], ConfigError, ["model.optimizer.lr=-1", "positive number"]),
    (["model.optimizer.lr=0"], ConfigError, ["model.optimizer.lr=0", "positive number"]),
    (["model.optimizer.lr=fast"], ConfigError, ["model.optimizer.lr='fast'", "e.g. model.optimizer.lr=1e-3"]),
    (["trainer.max_epochs=0"], ConfigError, ["trainer.max_epochs=0", "positive whole number"]),
    (["trainer.max_epochs=1.5"], ConfigError, ["trainer.max_epochs=1.5", "whole number"]),
    (["model.width=0"], ConfigError, ["model.width=0", "positive"]),
    (["model.depth=-1"], ConfigError, ["model.depth=-1", "positive"]),
    (["model.depth=many"], ConfigError, ["model.depth='many'", "positive"]),
    (["data.channels=0"], ConfigError, ["data.channels=0", "positive"]),
    (["model.downsample=avg"], ConfigError, ["model.downsample='avg'", "stride, maxpool"]),
    (["model.loss=huber"], ConfigError, ["model.loss='huber'", "mse, l1, bce"]),
    (["decoder.name=deconv"], ConfigError, ["decoder.name='deconv'", "tconv", "upsample"]),
    (["decoder.init=xavier"], ConfigError, ["decoder.init='xavier'", "fan_in, torch"]),
    (["decoder.layers=[tconv]"], ConfigError, ["decoder.layers=['tconv']", "model.depth=2 needs 2"]),
    (["decoder.layers=[tconv,deconv]"], ConfigError, ["decoder.layers='deconv'", "upsample"]),
    (["+decoder.strides=2"], ConfigError, ["decoder.strides is not a decoder setting", "init"]),
    (["decoder.bias=maybe"], ConfigError, ["decoder.bias='maybe'", "true or false"]),
    (["data.image_size=30"], SizeError, ["image size 30", "model.depth=2", "divisible by 2^depth = 4"]),
    (["model.depth=3", "data.image_size=20"], SizeError,
     ["image size 20", "model.depth=3", "divisible by 2^depth = 8"]),
    (["data.num_train=20", "data.batch_size=64"], DataError, ["data.batch_size=64", "18 training images"]),
    (["model.depth=4"], SizeError, ["image size 32", "model.depth=4", "at least 64 px", "data.image_size=64"]),
    (["data=folder"], DataError, ["data.root=PATH"]),
    (["data=folder", "data.root=/no/such/folder"], DataError, ["data.root=/no/such/folder", "train/ and test/"]),
    (["ckpt_path=/no/such.ckpt"], ConfigError, ["ckpt_path=/no/such.ckpt", "last.ckpt"]),
    # model=vae and model=gan
    (["model=vae", "model.kl_weight=-1"], ConfigError, ["model.kl_weight=-1", "positive number"]),
    (["model=vae", "model.latent_dim=0"], ConfigError, ["model.latent_dim=0", "e.g. model.latent_dim=32"]),
    (["model=vae", "data.image_size=30"], SizeError, ["image size 30", "divisible by 2^depth = 4"]),
    (["model=gan", "model.disc_width=0"], ConfigError, ["model.disc_width=0", "positive whole number"]),
    (["model=gan", "model.output=sigmoid"], ConfigError, ["model.output='sigmoid'", "'tanh'", "'linear'"]),
    (["model=gan", "model.num_samples=many"], ConfigError, ["model.num_samples='many'", "positive"]),
    (["model=gan", "model.collapse_loss=0"], ConfigError, ["model.collapse_loss=0", "positive number"]),
    (["model=gan", "model.min_diversity=-1"], ConfigError, ["model.min_diversity=-1", ">= 0"]),
    (["model=gan", "model.optimizer.lr=0"], ConfigError, ["model.optimizer.lr=0", "positive number"]),
    (["model=gan", "decoder.name=deconv"], ConfigError, ["decoder.name='deconv'", "upsample"]),
    (["model=gan", "data.image_size=30"], SizeError, ["image size 30", "divisible by 2^depth = 4"]),
]


@pytest.mark.parametrize("overrides,error,words", BAD_VALUES, ids=[" ".join(o) for o, _, _ in BAD_VALUES])
def test_bad_value_gets_a_message_naming_it_and_what_is_valid(tmp_path, overrides, error, words):
    with pytest.raises(error) as err:
        train(compose_config(tmp_path, [*TINY, *overrides]))
    for word in words:
        assert word in str(err.value)
    assert not (tmp_path / "metrics.json").exists()
    assert not (tmp_path / "checkpoints").exists()  # refused before any training


def test_gpu_trainer_without_a_gpu(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on this CPU machine, even with a GPU
    with pytest.raises(ConfigError, match="trainer.accelerator=gpu .* trainer=default .* trainer=cpu"):
        train(compose_config(tmp_path, [*TINY, "trainer=gpu"]))
    assert not (tmp_path / "checkpoints").exists()


def test_mnist_channels_it_does_not_have(tmp_path):
    data = write_mnist(tmp_path / "data")
    with pytest.raises(DataError, match=r"data.channels=3.*1 channel"):
        train(compose_config(tmp_path / "run", ["data=mnist", f"paths.data_dir={data}", "data.channels=3"]))


def test_truncated_mnist_file_is_called_corrupted(tmp_path):
    data = write_mnist(tmp_path / "data")
    images = data / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(DataError) as err:
        train(compose_config(tmp_path / "run", ["data=mnist", f"paths.data_dir={data}", "data.download=false"]))
    assert "corrupted or truncated" in str(err.value) and str(data / "MNIST") in str(err.value)


def test_corrupted_cifar10_batch_is_refused(tmp_path, no_cifar_md5):
    data = write_cifar10(tmp_path / "data")
    (data / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="corrupted or truncated"):
        train(compose_config(tmp_path / "run", ["data=cifar10", f"paths.data_dir={data}", "data.download=false"]))


def _finished_run(tmp_path, *overrides):
    cfg = compose_config(tmp_path, [*TINY, *overrides])
    train(cfg)
    return tmp_path / "checkpoints" / "last.ckpt"


def test_checkpoint_of_another_decoder_or_size_says_what_differs(tmp_path):
    ckpt = _finished_run(tmp_path / "a", "decoder=tconv")
    with pytest.raises(ConfigError) as err:
        train(compose_config(tmp_path / "b", [*TINY, "decoder=upsample", f"ckpt_path={ckpt}"]))
    assert "decoder: checkpoint 'tconv', now 'upsample'" in str(err.value)
    with pytest.raises(ConfigError, match="image_size: checkpoint 32, now 28"):
        train(compose_config(tmp_path / "c", [*TINY, "data.image_size=28", f"ckpt_path={ckpt}"]))


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    fake = tmp_path / "fake.ckpt"
    fake.write_text("hello")
    with pytest.raises(ConfigError, match="is not a checkpoint of this project"):
        train(compose_config(tmp_path / "run", [*TINY, f"ckpt_path={fake}"]))


def test_divergence_stops_at_once_naming_the_step_and_the_learning_rate(tmp_path):
    gc.unfreeze()  # as in a fresh notebook (main(), run in-process by other tests, keeps its freeze)
    before = signal.getsignal(signal.SIGINT)  # Python's default; SIG_IGN under nohup or `cmd &`
    with pytest.raises(DivergenceError) as err:
        train(compose_config(tmp_path, [*TINY, "model.optimizer.lr=1e30", "trainer.max_epochs=3"]))
    msg = str(err.value)
    assert "at step" in msg and "model.optimizer.lr=1e+30" in msg
    assert not (tmp_path / "metrics.json").exists()
    # A failed run hands back what it took for training: the Ctrl-C handler, the frozen heap.
    assert signal.getsignal(signal.SIGINT) is before and gc.get_freeze_count() == 0


# -- the CLI: exit codes, no tracebacks, status.json -------------------------------------------

@pytest.mark.slow
def test_cli_user_error_exits_2_without_traceback_and_marks_the_folder_failed(tmp_path):
    result = run_cli("data.batch_size=0", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "data.batch_size=0" in result.stderr
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["state"] == "failed" and "data.batch_size=0" in status["error"]
    assert not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.parametrize("override,words", [("data=imagenet", ["data/imagenet", "mnist", "shapes"]),
                                            ("trainer=tpu", ["trainer/tpu", "cpu", "gpu"]),
                                            ("experiment=nope", ["experiment/nope"])])
def test_unknown_group_option_lists_the_options(tmp_path, override, words):
    # Hydra's own message; the CLI prints it as it is (test_train.py: decoder=nope from the command line).
    with pytest.raises(MissingConfigException) as err:
        compose_config(tmp_path, [override])
    for word in words:
        assert word in str(err.value)


def _hydra_run_start(run_dir):
    """Hydra's callbacks from the real config, called as `python train.py hydra.run.dir=...` calls them."""
    cfg = compose_config(run_dir)
    for callback in cfg.hydra.callbacks.values():
        hydra.utils.instantiate(callback).on_run_start(config=cfg)


def test_unwritable_output_folder_exits_2_with_one_message(tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(SystemExit) as exit_:
        _hydra_run_start(tmp_path / "a_file" / "run")
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "cannot write the run folder" in err and "hydra.run.dir=PATH" in err


def test_a_folder_that_holds_a_run_is_never_reused(tmp_path, capsys):
    (tmp_path / "status.json").write_text('{"state": "finished"}')
    with pytest.raises(SystemExit) as exit_:
        _hydra_run_start(tmp_path)
    assert exit_.value.code == 2 and "already holds a run" in capsys.readouterr().err
    _hydra_run_start(tmp_path / "new")  # a new folder passes


def test_default_run_folders_are_never_reused(tmp_path):
    base = str(tmp_path / "2026-01-01_00-00-00_tconv_shapes_s0")
    (tmp_path / "2026-01-01_00-00-00_tconv_shapes_s0").mkdir()
    assert unique_dir(base) == base + "-1"
    assert unique_dir(base) == base + "-1"  # asked again in the same process: the same answer


# -- interruption and resume --------------------------------------------------------------------

RESUME = [*TINY, "data.num_train=2304", "data.batch_size=32", "trainer.max_epochs=2", "decoder=tconv",
          "callbacks.artifact_images.num_images=2"]


def _wait_for_training(run_dir, proc, timeout=120):
    """Block until the run has logged a training step (so a signal lands mid-training)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        events = run_dir / "tensorboard"
        if events.exists():
            acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
            acc.Reload()
            if "train/loss" in acc.Tags()["scalars"]:
                return
        time.sleep(0.2)
    raise AssertionError("training did not start")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("full")
    result = run_cli(*RESUME, f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_ends_where_an_uninterrupted_run_ends(tmp_path, uninterrupted):
    # Ctrl-C only: GracefulStop turns the first SIGINT into a SIGTERM, so this run takes SIGTERM's whole path
    # too; a separate SIGTERM run repeated it for 2 more subprocess runs.
    signum = signal.SIGINT
    first = tmp_path / "first"
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *RESUME, f"hydra.run.dir={first}"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_training(first, proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err[-2000:]
    assert "Traceback" not in err and "Resume with:" in err and "ckpt_path=" in err
    status = json.loads((first / "status.json").read_text())
    assert status["state"] == "interrupted" and 0 < status["step"] < 2 * 64
    assert not (first / "metrics.json").exists()
    ckpt = first / "checkpoints" / "last.ckpt"
    assert torch.load(ckpt, map_location="cpu", weights_only=True)["global_step"] == status["step"]

    second = tmp_path / "second"
    result = run_cli(*RESUME, f"ckpt_path={ckpt}", f"hydra.run.dir={second}")
    assert result.returncode == 0, result.stderr[-2000:]
    resumed = json.loads((second / "metrics.json").read_text())
    assert resumed["resumed_from"] == str(ckpt.resolve())
    # The resumed run continues the same TensorBoard run: its curves go on in the first folder.
    assert resumed["tensorboard"] == str(first.resolve()) and not (second / "tensorboard").exists()
    acc = EventAccumulator(str(first / "tensorboard"), size_guidance={"scalars": 0}).Reload()
    assert acc.Scalars("val/psnr")[-1].step > status["step"]
    # CPU arithmetic in one process order is deterministic: the same steps on the same batches in
    # the same order give the same bits. Any tolerance would hide a skipped or repeated batch.
    for key in ("val/loss", "val/psnr", "val/ssim", "val/checkerboard", "test/loss", "epochs"):
        assert resumed[key] == uninterrupted[key], key
