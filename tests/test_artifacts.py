"""The artifacts, shown and measured: per-phase variance at init, the score at init, TensorBoard."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import lightning as L
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from checkerboard.data.shapes import make_shapes
from checkerboard.measures.amplitude import gradient_checkerboard
from checkerboard.models.autoencoder import Autoencoder
from checkerboard.models.phases import overlap_counts, phase_variance
from checkerboard.run.config import compose_config
from checkerboard.run.training import train
from helpers import TINY

IMAGE_TAGS = ["checkerboard/zoom", "checkerboard/spectrum", "checkerboard/map", "checkerboard/error",
              "checkerboard/radial_spectrum", "val/reconstructions", "decoder/overlap", "val/input_gradient",
              "val/samples"]
SCALAR_TAGS = ["train/loss", "val/loss", "val/psnr", "val/ssim", "val/checkerboard",
               "val/interpolations_checkerboard", "decoder/phase_gain_spread/1", "decoder/phase_gain_spread/2",
               "val/checkerboard_amplitude", "val/checkerboard_amplitude/period2", "val/checkerboard_amplitude/finer",
               "val/checkerboard_deficit", "val/interpolations_checkerboard_amplitude", "val/gradient_checkerboard",
               "val/spectral_error"]


def test_tconv_phase_variance_is_1_2_2_4():
    v = phase_variance("tconv")
    ratios = (v / v.min()).flatten().sort().values
    # Taps per phase are 2x2, 2x1, 1x2, 1x1. 400 inits x 8 inputs x 16 pixels: the estimate's
    # relative spread is a few percent, so 15% cannot be missed by chance but 2:1 would fail.
    torch.testing.assert_close(ratios, torch.tensor([1.0, 2.0, 2.0, 4.0]), rtol=0.15, atol=0)


@pytest.mark.parametrize("name", ["tconv4", "upsample", "bilinear", "pixelshuffle", "tconv_hold", "blur", "sinc",
                                  "dysample"])
def test_other_layers_have_flat_phase_variance(name):
    v = phase_variance(name)
    assert v.max() / v.min() < 1.15, v


def test_overlap_counts_match_the_distill_picture():
    one = overlap_counts("tconv", 1)[4:8, 4:8]
    assert one.unique().tolist() == [1.0, 2.0, 4.0]  # 1:2:2:4 in 2D
    assert overlap_counts("upsample", 2)[6:18, 6:18].unique().numel() == 1
    assert overlap_counts("tconv4", 2)[6:18, 6:18].unique().numel() == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_checkerboard_at_init_is_higher_for_tconv_than_upsample(seed):
    images = make_shapes(64, 32, 3, seed=100 + seed)
    scores = {}
    for name in ("tconv", "upsample"):
        L.seed_everything(seed, verbose=False)
        scores[name] = Autoencoder(name).measure_checkerboard(images)["checkerboard"]
    assert scores["tconv"] > 5 * max(scores["upsample"], 1.0), scores


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    metrics = train(compose_config(out, [*TINY, "trainer.max_epochs=2", "callbacks.artifact_images.num_images=4"]))
    return out, metrics


def test_run_logs_every_artifact_tag(finished_run):
    out, metrics = finished_run
    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert set(IMAGE_TAGS) <= set(acc.Tags()["images"])
    assert set(SCALAR_TAGS) <= set(acc.Tags()["scalars"])
    # The checkerboard curves start before training, at step 0, with the values in metrics.json.
    for name in ("checkerboard", "checkerboard_amplitude"):
        first = acc.Scalars(f"val/{name}")[0]
        assert first.step == 0 and first.value == pytest.approx(metrics[f"init/{name}"])
        assert metrics[f"val/{name}"] == pytest.approx(acc.Scalars(f"val/{name}")[-1].value)
    # Pictures at step 0 and at each validation epoch (none from the sanity check), at the steps of
    # that validation's scalars.
    assert [e.step for e in acc.Images("checkerboard/zoom")] == [e.step for e in acc.Scalars("val/psnr")] \
        == [e.step for e in acc.Scalars("val/checkerboard")]
    assert len(acc.Images("val/reconstructions")) == 3 and acc.Images("val/reconstructions")[0].step == 0
    # No epoch staircase; no single-dot copies of the final values (HPARAMS reads the curves).
    assert "epoch" not in acc.Tags()["scalars"] and not any(t.startswith(("final/", "test/", "init/"))
                                                            for t in acc.Tags()["scalars"])
    saved = json.loads((out / "metrics.json").read_text())
    assert {"val/checkerboard", "init/checkerboard", "val/gradient_checkerboard",
            "val/interpolations_checkerboard_amplitude", "val/checkerboard_amplitude/period2", "init/spectral_error",
            "val/spectral_error"} <= set(saved)
    # The radial spectrum at the start and at the end (a matplotlib figure: not every epoch).
    assert [e.step for e in acc.Images("checkerboard/radial_spectrum")] == [0, acc.Scalars("val/psnr")[-1].step]
    # The tconv's phases: unequal DC gains at init and after training, logged from step 0 on.
    spread = acc.Scalars("decoder/phase_gain_spread/2")
    assert spread[0].step == 0 and spread[0].value == pytest.approx(saved["init/phase_gain_spread/2"])
    assert 0 < saved["decoder/phase_gain_spread/2"] <= 1 and len(spread) == 3  # init and 2 epochs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_real_tensorboard_serves_the_tags(finished_run):
    out, _ = finished_run
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(out), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        scalars = images = None
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                base = f"http://127.0.0.1:{port}/data/plugin"
                scalars = json.load(urllib.request.urlopen(f"{base}/scalars/tags", timeout=5))
                images = json.load(urllib.request.urlopen(f"{base}/images/tags", timeout=5))
                if scalars and images:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert scalars and images, "TensorBoard did not answer"
        served_scalars = {tag for run in scalars.values() for tag in run}
        served_images = {tag for run in images.values() for tag in run}
        assert set(SCALAR_TAGS) <= served_scalars and set(IMAGE_TAGS) <= served_images
        # The Custom Scalars tab leads with the artifact: its first category, charts matching our tags.
        layout = json.load(urllib.request.urlopen(f"{base}/custom_scalars/layout", timeout=5))
        first = layout["category"][0]
        assert first["title"] == "checkerboard"
        assert any("val/checkerboard_amplitude" in tag for chart in first["chart"]
                   for tag in chart["multiline"]["tag"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_strided_encoder_gradient_has_a_checkerboard_max_pooling_less():
    # Distill: the backward pass of a strided convolution is a transposed convolution. At init, the
    # gradient through the stride-2 encoder is almost all period-P pattern (measured 0.93-1.05 of
    # its RMS over 5 seeds); through conv + max pooling about a third of it (0.35-0.39).
    x = make_shapes(32, 32, 3, seed=7).float() / 255
    share = {}
    for downsample in ("stride", "maxpool"):
        torch.manual_seed(0)
        model = Autoencoder("upsample", downsample=downsample).eval()
        share[downsample] = float(gradient_checkerboard(model.input_gradient(x), 4).mean())
    assert share["stride"] > 0.7 and share["maxpool"] < 0.6 * share["stride"], share


def test_gradient_checkerboard_is_the_patterns_share_of_the_rms():
    g = torch.nn.functional.avg_pool2d(torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(0)), 5, 1, 2)
    sign = torch.tensor([1.0, -1.0]).repeat(16)
    pattern = torch.outer(sign, sign)  # RMS 1, period 2
    rms = g.square().mean().sqrt()
    assert gradient_checkerboard(g, 2).mean() < 0.15  # a smooth gradient: hardly any
    # A pattern of half the smooth part's RMS is 0.5 / sqrt(1.25) = 0.447 of the total RMS.
    assert gradient_checkerboard(g + 0.5 * rms * pattern, 2).mean() == pytest.approx(0.447, abs=0.05)
