"""The benchmark runs end to end and writes what it promises. Speed itself is never asserted here."""

import json
import math
import subprocess
import sys

import pytest

from checkerboard import ROOT

TINY_DATA = ["data=shapes", "data.num_train=160", "data.num_test=16", "data.batch_size=16"]


@pytest.mark.slow
def test_benchmark_writes_json_records_and_markdown(tmp_path):
    out_json, out_md = tmp_path / "speed.json", tmp_path / "speed.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--decoders", "tconv", "upsample",
         "--repeats", "2", "--steps", "2", "--val-batches", "1", "--lightning-alone", "--json", str(out_json),
         "--markdown", str(out_md), *TINY_DATA],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    records = json.loads(out_json.read_text())
    assert [(r["decoder"], r["device"], r["path_a"]) for r in records] == [
        ("tconv", "cpu", "project"), ("tconv", "cpu", "Lightning alone"),
        ("upsample", "cpu", "project"), ("upsample", "cpu", "Lightning alone")]
    # Lightning alone: no logger, no progress bar, no checkpoints, no pictures (callbacks=none
    # logger=none). The project's path has all of them.
    for r in records:
        if r["path_a"] == "project":
            assert r["logger_a"] and r["image_log_share"] > 0
            assert {"ModelCheckpoint", "TQDMProgressBar", "ArtifactImages", "FrozenHeap"} <= set(r["callbacks_a"])
        else:
            assert not r["logger_a"] and r["callbacks_a"] == [] and r["image_log_share"] == 0
    for r in records:
        for key in ("project_images_per_second", "bare_images_per_second", "ratio", "epoch_seconds",
                    "bare_epoch_seconds", "peak_memory_mb_project", "peak_memory_mb_bare"):
            assert isinstance(r[key], (int, float)) and math.isfinite(r[key]) and r[key] > 0, (key, r[key])
        assert r["ratio_min"] <= r["ratio_q1"] <= r["ratio"] <= r["ratio_q3"] <= r["ratio_max"]
        assert len(r["ratios"]) == r["blocks"] >= 1 and r["repeats"] == 2
        a, b = r["project_images_per_second"], r["bare_images_per_second"]  # A-B ms/step follows from them
        expected = 1000 * r["batch_size"] * (1 / a - 1 / b)
        assert math.isclose(r["overhead_ms_per_step"], expected, abs_tol=0.01)
        assert 0 <= r["image_log_share"] < 1 and r["steps_timed"] == 2 and r["batch_size"] == 16

    table = out_md.read_text()
    assert "| decoder |" in table and "| tconv |" in table and "| upsample |" in table
    assert table.count("| Lightning alone |") == 2
    assert "python scripts/benchmark.py" in table  # the command that produced it
    assert "upsample" in result.stdout and "ratio" in result.stdout


@pytest.mark.slow
def test_benchmark_compile_variant_runs_both_paths_compiled(tmp_path):
    # torch.compile is a GPU option, but its code path (the model's configure_model, the bare
    # loop mirroring it) runs on CPU too; inductor needs a C compiler, as on any Linux machine.
    out_json = tmp_path / "speed.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--decoders", "tconv", "--variants", "compile",
         "--repeats", "1", "--steps", "2", "--val-batches", "1", "--json", str(out_json), *TINY_DATA],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    [record] = json.loads(out_json.read_text())
    assert record["variant"] == "compile" and record["compile"] is True
    assert record["project_images_per_second"] > 0 and record["bare_images_per_second"] > 0


def test_one_measurement_in_process_and_its_table():
    """The fast loop's view of the benchmark: one tiny measurement through `measure`, then its table."""
    from argparse import Namespace

    from checkerboard.reports.benchmark import measure
    from checkerboard.reports.benchmark_report import markdown

    args = Namespace(device="cpu", repeats=1, steps=2, val_batches=1, chunk=1)
    record = measure("tconv", "fp32", args, TINY_DATA)
    assert record["path_a"] == "project" and record["steps_timed"] == 2 and record["repeats"] == 1
    assert record["project_images_per_second"] > 0 and record["bare_images_per_second"] > 0
    table = markdown([record], args, "python scripts/benchmark.py --steps 2")
    assert "| tconv | fp32 | project |" in table and "python scripts/benchmark.py --steps 2" in table
