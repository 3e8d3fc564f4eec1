"""`scripts/replay_plateau.py`: convergence rules replayed on runs read back from TensorBoard, by hand."""

import json

import pytest
from torch.utils.tensorboard import SummaryWriter

from checkerboard.reports.plateau_replay import main


def run_folder(path, tag, values):
    """A finished job: its metrics.json and its monitor's curve (steps 1, 2, ...; step 0 is the untrained model)."""
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text("- decoder=tconv\n")
    (path / "status.json").write_text('{"state": "finished"}')
    (path / "metrics.json").write_text(json.dumps({"decoder": "tconv", "data": "shapes", "seed": 0}))
    with SummaryWriter(path / "tensorboard") as writer:
        writer.add_scalar(tag, 99.0, 0)  # the untrained model: never replayed
        for step, value in enumerate(values, 1):
            writer.add_scalar(tag, value, step)


def test_rules_replayed_on_a_gan_and_an_autoencoder_by_hand(tmp_path, capsys):
    # A GAN's FCD falls, then stays at 10: at epoch 5 no new best (the last fifth is 1 epoch), so the
    # autoencoder's rule stops it; the 3 epochs up to the stop and the last 3 are all 10: +0.0 dB after.
    run_folder(tmp_path / "sweep" / "0_gan", "val/loss", [40, 20] + [10] * 8)
    # A PSNR flat at 22 from epoch 3 to 6, then rising to 28: stopped at 5, it gained
    # mean(26, 27, 28) - mean(22, 22, 22) = +5.0 dB after.
    run_folder(tmp_path / "sweep" / "1_ae", "val/psnr", [20, 21, 22, 22, 22, 22, 25, 26, 27, 28])
    # Flat from the start: stopped at 5 (+0.0 after); the rule from epoch 10 would stop it at 10, its end.
    run_folder(tmp_path / "sweep" / "2_flat", "val/loss", [10] * 10)
    assert main([str(tmp_path / "sweep"), "--rule", "1,0.2,5", "5,0.5,10"]) == 0
    out = capsys.readouterr().out
    assert "3 finished runs (val/loss, val/psnr)" in out
    # At their ends: the GAN's and the flat curve's last epoch is no new best; the PSNR's is one (+1 dB).
    assert "| mean of 1, last 0.2, from epoch 5 | 3/3 | 5, 5, 5 | +0.0 to +5.0 (median +0.0) | 2/3 |" in out
    # From epoch 10 a rule cannot stop a 10-epoch run early: its last epoch is its end anyway. At the end
    # it holds on the flat curve only: the GAN's 5-epoch means over the last half (5 epochs) still fell
    # from the mean of epochs 1-5 (40, 20, 10, 10, 10) to that of 6-10 (all 10).
    assert "| mean of 5, last 0.5, from epoch 10 | 0/3 | - | - | 1/3 |" in out


def test_a_bad_rule_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--rule", "5,half,10"])
    assert "--rule '5,half,10' is not valid: three numbers SMOOTH,FRACTION,MIN_EPOCHS" in capsys.readouterr().err
