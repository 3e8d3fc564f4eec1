"""The README's figures: `scripts/figures.py` writes readable, non-trivial PNGs, small enough to commit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import pytest
import torch

from checkerboard import ROOT
from checkerboard.reports import figures, untrained
from checkerboard.reports.figures import TRAINING, main
from checkerboard.reports.untrained import UNTRAINED_DECODERS, bias_ablation, init_scale_rows


@pytest.fixture(scope="module")
def artifact_figures(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("figures")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "figures.py"), "--artifacts", "--out", str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["overlap", "phase_variance"])
def test_artifact_figure_is_a_real_image(artifact_figures, name):
    path = artifact_figures / f"{name}.png"
    assert path.stat().st_size < 250_000  # committed to the repository, so kept small
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 400 and image.shape[1] > 600
    rgb = image[..., :3]
    assert rgb.std() > 0.1  # not one colour, nor a near-blank page
    assert (rgb.reshape(-1, 3) != rgb[0, 0]).any(axis=1).mean() > 0.2  # a fifth of the pixels drawn on


@pytest.mark.slow
def test_only_the_chosen_group_is_drawn(artifact_figures):
    assert sorted(p.name for p in artifact_figures.iterdir()) == ["overlap.png", "phase_variance.png"]


@pytest.mark.slow
def test_decoders_figure_trains_every_decoder(tmp_path, monkeypatch):
    """The trained figure, in-process with one epoch instead of three (the same code path, ~15 s)."""
    one_epoch = [o for o in TRAINING if not o.startswith("trainer.max_epochs=")] + ["trainer.max_epochs=1"]
    monkeypatch.setattr(figures, "TRAINING", one_epoch)
    threads = torch.get_num_threads()
    (path,) = main(["--decoders", "--out", str(tmp_path)])
    assert path.name == "decoders.png" and path.stat().st_size < 250_000
    assert torch.get_num_threads() == threads  # the figure's one-thread training does not leak out
    image = mpimg.imread(path)[..., :3]
    assert image.shape[0] > image.shape[1] > 600 and image.std() > 0.1  # six rows of four panels


def test_untrained_spectra_figure_and_bias_table(tmp_path, monkeypatch):
    monkeypatch.setattr(untrained, "SEEDS", 2)  # the figure averages 20 initialisations; 2 show the path works
    (path,) = main(["--untrained", "--out", str(tmp_path), "data=shapes", "data.num_train=128"])
    image = mpimg.imread(path)[..., :3]
    assert path.name == "untrained_spectra.png" and image.shape[1] > 1000 and image.std() > 0.1
    table = bias_ablation(seeds=1)
    assert set(table) == set(UNTRAINED_DECODERS)
    # The transposed convolutions start with a far stronger checkerboard than resize-convolution.
    assert table["tconv"]["fan-in rule (biases 0)"] > 5 * table["upsample"]["fan-in rule (biases 0)"]
    # PyTorch's defaults start the hold's output at about 3.5x resize-convolution's (BatchNorm on batch
    # statistics); the fan-in rule at the same scale (the tests of test_decoders bound it closely).
    rows = dict(init_scale_rows(train_seeds=4, eval_seeds=1))
    assert set(rows) == set(UNTRAINED_DECODERS) and set(rows["tconv"]) == {"fan_in, train", "fan_in, eval",
                                                                           "torch, train", "torch, eval"}
    assert rows["tconv_hold"]["torch, train"] > 2.5 * rows["upsample"]["torch, train"]
    assert 0.8 < rows["tconv_hold"]["fan_in, train"] / rows["upsample"]["fan_in, train"] < 1.25


@pytest.mark.slow
def test_spectra_figure_of_a_sweep(tmp_path):
    from helpers import run_cli

    sweep = tmp_path / "sweep"
    result = run_cli("-m", "experiment=spectra", "debug=tiny", "decoder=tconv,upsample", "seed=0",
                     f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr[-2000:]
    (path,) = main(["--spectra", str(sweep), "--out", str(tmp_path)])
    image = mpimg.imread(path)[..., :3]
    assert path.name == "spectra_sweep.png" and image.shape[1] > 800 and image.std() > 0.1
