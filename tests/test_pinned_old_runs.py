"""Runs made by an older version (tests/fixtures/README.md says which) still read as they were saved."""

import json
import shutil
from pathlib import Path

import pytest

from checkerboard.reports.comparison import markdown, summarise
from checkerboard.reports.sample import load
from checkerboard.reports.sweeps import expected_jobs, find_jobs

FIXTURES = Path(__file__).parent / "fixtures"


def test_an_old_checkpoint_loads_with_its_init_measures_as_saved():
    # metrics.json of the run that saved it recorded init/* before training: loading must keep them,
    # never measure the trained weights again (a re-measure read 51.2 where 46.4 was true).
    saved = json.loads((FIXTURES / "old_autoencoder.metrics.json").read_text())
    expected = {k: v for k, v in saved.items() if k.startswith("init/")}
    assert "init/checkerboard_amplitude" in expected
    model = load(FIXTURES / "old_autoencoder.ckpt")
    assert model.init_metrics == pytest.approx(expected, rel=1e-6)
    assert model.hparams.width == 8 and model.spec.label == "tconv"


def test_the_report_reads_an_old_sweep_into_one_row_per_decoder(tmp_path):
    sweep = tmp_path / "old_sweep"
    shutil.copytree(FIXTURES / "old_sweep", sweep)
    jobs = find_jobs(sweep)
    assert [(j["decoder"], j["state"]) for j in jobs] == [("tconv", "finished"), ("upsample", "finished")]
    assert expected_jobs(sweep) == 2
    rows = summarise(jobs)
    assert [(r["decoder"], r["data"], r["seeds_finished"], r["seeds_total"]) for r in rows] == [
        ("tconv", "shapes", 1, 1), ("upsample", "shapes", 1, 1)]
    for row, job in zip(rows, ("0_tconv_shapes_s0", "1_upsample_shapes_s0")):
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        assert row["params"] == metrics["params"]
        assert row["val/psnr"] == pytest.approx(metrics["val/psnr"])  # one seed: its value, no interval
        assert row["init/checkerboard_amplitude"] == pytest.approx(metrics["init/checkerboard_amplitude"])
    text = markdown(sweep, rows, jobs, expected_jobs(sweep))
    assert "| `tconv` |" in text and "| `upsample` |" in text and "Partial" not in text
