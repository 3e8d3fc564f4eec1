"""Sweeps as a user runs them (`python train.py -m ...` with each launcher) and `scripts/compare.py` on them."""

import csv
import json
import math
import os
import shutil
import statistics

import pytest

from checkerboard.reports.budgets import gain_db
from checkerboard.reports.comparison import main as compare_main
from checkerboard.reports.comparison import markdown, score_key, step_time_ratio, summarise
from checkerboard.reports.sweeps import MEANS, MEDIANS, find_jobs, last_layer, one_apart
from checkerboard.run.cli import main
from checkerboard.run.config import CONFIG_DIR, compose_config
from helpers import TINY, run_cli

# Four jobs of a few batches each: one training step per job, not one per sample.
FAST = [*TINY, "data.num_train=64", "callbacks.artifact_images.num_images=4"]
SWEEP = ["decoder=tconv,upsample", "seed=0,1", *FAST]
JOBS = {"0_tconv_shapes_s0", "1_tconv_shapes_s1", "2_upsample_shapes_s0", "3_upsample_shapes_s1"}
OUTPUTS = {"comparison.md", "comparison.csv", "comparison.png", "curves.png"}


def job_dirs(sweep):
    return {p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")}


def fake_job(job, overrides: dict, metrics: dict) -> None:
    """A finished job folder as a sweep leaves it: its overrides, status.json and metrics.json."""
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {k}={v}\n" for k, v in overrides.items()))
    (job / "status.json").write_text('{"state": "finished"}')
    (job / "metrics.json").write_text(json.dumps({"params": 1, "macs": 1, **metrics}))


def check_report(sweep, capsys):
    """compare.py writes its four files, and its numbers are the jobs' metrics.json values."""
    assert compare_main([str(sweep)]) == 0
    assert OUTPUTS <= {p.name for p in sweep.iterdir()}
    assert "| `tconv` | 2/2 |" in capsys.readouterr().out
    metrics = [last_layer(json.loads((sweep / job / "metrics.json").read_text())) for job in JOBS]
    rows = list(csv.DictReader(open(sweep / "comparison.csv")))
    assert [r["decoder"] for r in rows] == ["tconv", "upsample"]
    for row in rows:
        mine = [m for m in metrics if m["decoder"] == row["decoder"]]
        assert int(row["seeds_finished"]) == 2 and int(row["params"]) == mine[0]["params"]
        for key in MEANS:  # mean and t half-width, of what the runs wrote
            values = [m[key] for m in mine if key in m]
            if not values:  # the PSNR gain over the last fifth needs 5 validations: none in 1 epoch
                assert row[key] == "nan", key
                continue
            assert float(row[key]) == pytest.approx(statistics.fmean(values), rel=1e-9), key
            half = 12.706 * statistics.stdev(values) / math.sqrt(2)  # t(0.975, 1)
            assert float(row[key + "_ci95"]) == pytest.approx(half, rel=1e-9, abs=1e-12), key
        for key in MEDIANS:  # the median; two seeds give no interval of it
            values = [m[key] for m in mine if key in m]
            if not values:
                continue
            assert float(row[key]) == pytest.approx(statistics.median(values), rel=1e-9), key
            assert row[key + "_lo"] == row[key + "_hi"] == "", key


@pytest.mark.slow
def test_basic_launcher_sweep_and_report(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    result = run_cli("-m", *SWEEP, f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_dirs(sweep) == JOBS
    check_report(sweep, capsys)
    text = (sweep / "comparison.md").read_text()
    assert "95%" in text and "Partial" not in text and "did not finish" not in text


@pytest.mark.slow
def test_joblib_launcher_sweep_and_report(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    result = run_cli("-m", "hydra/launcher=joblib", *SWEEP, "trainer.enable_progress_bar=true",
                     f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Joblib.Parallel" in result.stdout + result.stderr
    assert "it/s]" not in result.stdout + result.stderr  # parallel jobs draw no progress bars
    assert f"python scripts/compare.py {sweep}" in result.stdout  # the sweep ends with what to do next
    assert job_dirs(sweep) == JOBS
    check_report(sweep, capsys)


@pytest.mark.slow
def test_submitit_local_sweep_in_the_default_folder(tmp_path, capsys, monkeypatch):
    # The default sweep folder (no hydra.sweep.dir): every job must land in the one folder.
    result = run_cli("-m", "hydra/launcher=submitit_local", "decoder=tconv,upsample", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    sweeps = list((tmp_path / "outputs" / "multirun").iterdir())
    assert len(sweeps) == 1, sorted(p.name for p in sweeps)
    assert job_dirs(sweeps[0]) == {"0_tconv_shapes_s0", "1_upsample_shapes_s0"}
    assert (sweeps[0] / ".submitit").is_dir()
    monkeypatch.chdir(tmp_path)
    assert compare_main([]) == 0  # no argument: the newest sweep
    assert OUTPUTS <= {p.name for p in sweeps[0].iterdir()}


@pytest.mark.slow
def test_report_lists_failed_and_unfinished_jobs(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    result = run_cli("-m", "decoder=tconv", "model.optimizer.lr=0.002,-1", *FAST, f"hydra.sweep.dir={sweep}")
    assert result.returncode != 0  # Hydra reports the failed job after running the others
    assert job_dirs(sweep) == {"0_tconv_shapes_s0", "1_tconv_shapes_s0"}
    # A job that is still running: its config and status, no metrics.json yet.
    running = sweep / "2_upsample_shapes_s0"
    shutil.copytree(sweep / "0_tconv_shapes_s0" / ".hydra", running / ".hydra")
    config = running / ".hydra" / "config.yaml"
    config.write_text(config.read_text().replace("name: tconv", "name: upsample"))
    (running / "status.json").write_text(json.dumps({"state": "running"}))
    (sweep / "3_orphan").mkdir()
    (sweep / "3_orphan" / "status.json").write_text("{}")

    assert compare_main([str(sweep)]) == 0
    text = (sweep / "comparison.md").read_text()
    assert "**Partial**" in text
    assert "- `1_tconv_shapes_s0`: failed (model.optimizer.lr=-1" in text
    assert "- `2_upsample_shapes_s0`: running" in text and "- `3_orphan`: no status" in text
    # The learning rate is a sweep axis, so each value is a row of its own (never pooled as seeds).
    assert "| `tconv` | model.optimizer.lr=0.002 | 1/1 |" in text
    assert "| `tconv` | model.optimizer.lr=-1 | 0/1 |" in text
    assert "| `upsample` | model.optimizer.lr=0.002 | 0/1 | 0/0 | - | - |" in text
    rows = {(r["decoder"], r["setting"]): r for r in csv.DictReader(open(sweep / "comparison.csv"))}
    finished = rows[("tconv", "model.optimizer.lr=0.002")]
    assert finished["val/psnr_ci95"] == "" and finished["val/checkerboard_lo"] == ""  # one seed: no interval
    assert finished["seeds_finished"] == "1" and finished["seeds_total"] == "1"


@pytest.mark.slow
def test_every_experiment_config_runs_a_fast_dev_run_step(tmp_path):
    sweep = tmp_path / "sweep"
    experiments = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
    assert "compare" in experiments
    # glob(*) is a sweep override, so each experiment's own hydra.sweeper.params do not expand here.
    result = run_cli("-m", "experiment=glob(*)", "trainer.fast_dev_run=true", *FAST, f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = sorted(job_dirs(sweep))
    assert len(jobs) == len(experiments)
    for job in jobs:
        assert json.loads((sweep / job / "status.json").read_text())["state"] == "finished"


def test_compare_experiment_sweeps_every_decoder_and_five_seeds(tmp_path):
    cfg = compose_config(tmp_path, ["experiment=compare"])
    params = cfg.hydra.sweeper.params
    # Every x2 layer (subpixel is pixelshuffle with one setting changed: experiment=icnr has it).
    decoders = sorted(p.stem for p in (CONFIG_DIR / "decoder").glob("*.yaml") if p.stem != "subpixel")
    assert sorted(params.decoder.split(",")) == decoders
    assert params.seed == "0,1,2,3,4" and cfg.trainer.max_epochs == 8
    # The rule records convergence but never cuts the cosine schedule short: every run anneals.
    assert cfg.callbacks.plateau.min_delta == 0.1 and not cfg.callbacks.plateau.stop


def test_an_experiment_sets_top_level_keys(tmp_path):
    # lightning-hydra-template users put `seed: ...` in experiments; train.yaml's own values must not win.
    (tmp_path / "conf" / "experiment").mkdir(parents=True)
    (tmp_path / "conf" / "experiment" / "mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /decoder: upsample\nseed: 7\nnum_threads: 1\n")
    cfg = compose_config(tmp_path / "run", [f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "experiment=mine"])
    assert (cfg.seed, cfg.num_threads, cfg.decoder.name) == (7, 1, "upsample")


def test_main_returns_the_optimized_metric(tmp_path):
    assert compose_config(tmp_path / "a").optimized_metric == "val/loss"
    cfg = compose_config(tmp_path / "b", [*FAST, "trainer.fast_dev_run=true", "optimized_metric=val/psnr"])
    value = main.__wrapped__(cfg)
    assert value == pytest.approx(json.loads((tmp_path / "b" / "metrics.json").read_text())["val/psnr"])


def test_compare_picks_the_newest_sweep_and_refuses_bad_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        compare_main([])
    assert e.value.code == 2 and "no sweep under" in capsys.readouterr().err
    for i, name in enumerate(["old", "new"]):
        job = tmp_path / "outputs" / "multirun" / name / "0_tconv_shapes_s0"
        job.mkdir(parents=True)
        (job / "status.json").write_text(json.dumps({"state": "failed", "error": "boom"}))
        (job.parent / "multirun.yaml").write_text("{}")
        os.utime(job.parent / "multirun.yaml", (1000 + i, 1000 + i))
    assert compare_main([]) == 0
    out = capsys.readouterr().out
    assert "multirun/new" in out and "failed (boom)" in out
    assert not (tmp_path / "outputs" / "multirun" / "new" / "comparison.png").exists()  # nothing finished
    (tmp_path / "empty").mkdir()
    for bad, message in [(tmp_path / "nope", "does not exist"), (tmp_path / "empty", "holds no jobs")]:
        with pytest.raises(SystemExit) as e:
            compare_main([str(bad)])
        assert e.value.code == 2 and message in capsys.readouterr().err


def test_report_statistics_and_rows_from_job_folders(tmp_path, capsys):
    """The report's numbers, fast: job folders as runs leave them, without running any."""
    values = {"tconv": [1.0, 2.0, 30.0], "upsample": [0.2, 0.3, 0.25]}  # heavy-tailed: one seed at 30
    for decoder, amplitudes in values.items():
        for seed, amplitude in enumerate(amplitudes):
            job = tmp_path / f"{decoder}_{seed}"
            (job / ".hydra").mkdir(parents=True)
            (job / ".hydra" / "overrides.yaml").write_text(f"- decoder={decoder}\n- seed={seed}\n- lr=1e-3\n")
            (job / "status.json").write_text('{"state": "finished"}')
            (job / "metrics.json").write_text(json.dumps({
                "decoder": decoder, "data": "shapes", "seed": seed, "params": 10, "macs": 20,
                "val/psnr": 20.0 + seed, "val/ssim": 0.5,
                "images_per_second": 100.0 * (2 + seed if decoder == "tconv" else 1),
                "converged": seed != 1, "epochs": 6 + seed,
                "val/checkerboard_amplitude": amplitude, "decoder/phase_gain_spread/1": 0.9,
                "decoder/phase_gain_spread/2": 0.1 * seed}))
    rows = {r["decoder"]: r for r in summarise(find_jobs(tmp_path))}
    tconv = rows["tconv"]
    assert tconv["setting"] == "" and tconv["seeds_finished"] == 3  # lr is the same in every job
    assert tconv["val/psnr"] == 21.0 and tconv["val/psnr ci95"] == pytest.approx(4.303 * 1.0 / math.sqrt(3))
    # The median, not the mean (11): one seed's tail does not move it. Three seeds give no 95 % interval
    # of the median ([min, max] covers 1 - 2/8 = 0.75): the range, named as such.
    assert tconv["val/checkerboard_amplitude"] == 2.0
    assert tconv["val/checkerboard_amplitude lo"] is None and tconv["val/checkerboard_amplitude range"] == (1, 30)
    assert tconv["decoder/phase_gain_spread/last"] == pytest.approx(0.1)  # the last x2 layer's
    text = markdown(tmp_path, list(rows.values()), find_jobs(tmp_path), None,
                            ["val/psnr", "val/checkerboard_amplitude"])
    # Seeds 0 and 2 converged; they ran 6, 7 and 8 epochs (min-max).
    row = "| `tconv` | 3/3 | 2/3 | 6-8 | 10 | 20 | 21.0 ± 2.5 | 2 (range of 3: 1 to 30) |"
    assert row in text and "images/s |" not in text
    # Paired by seed against upsample: psnr differences 0, 0, 0 (both 20 + seed): no claim from 3 seeds.
    assert "| shapes | `tconv` - `upsample` | val/psnr | 3 | 0.0000 ± 0.0000 | 1 | range of 3: no claim |" in text
    # Time per step against upsample's, seed by seed: 100 / 200, 100 / 300, 100 / 400 images/s.
    assert "| shapes | `tconv` | `upsample` | 3 | 0.25-0.50 | 0.33 |" in text
    # An autoencoder's bars show its reconstructions' amplitude even where an older run named its
    # interpolations' amplitude "samples" (the generators' key): the model kind decides, not the keys.
    metrics = json.loads((tmp_path / "tconv_0" / "metrics.json").read_text())
    metrics["val/samples_checkerboard_amplitude"] = 5.0
    (tmp_path / "tconv_0" / "metrics.json").write_text(json.dumps(metrics))
    jobs = find_jobs(tmp_path)
    assert jobs[0]["metrics"]["val/interpolations_checkerboard_amplitude"] == 5.0
    assert "val/samples_checkerboard_amplitude" not in jobs[0]["metrics"]
    assert score_key(summarise(jobs)) == "checkerboard_amplitude"


def test_report_pairs_each_decoder_across_the_settings_a_sweep_varies(tmp_path):
    """Two settings of one decoder, 5 seeds: the second minus the first, seed by seed, by hand."""
    gains = [1.0, 1.1, 0.9, 1.0, 1.0]  # mean 1.0; s = sqrt(0.02 / 4); t(0.975, 4) s / sqrt(5) = 0.088
    for conv in ("false", "true"):
        for seed in range(5):
            psnr = 20.0 + seed + (gains[seed] if conv == "true" else 0.0)
            fake_job(tmp_path / f"sweep_{conv}" / f"{seed}_tconv",  # one sweep per setting
                     {"decoder": "tconv", "seed": seed, "model.output_conv": conv},
                     {"decoder": "tconv", "data": "shapes", "seed": seed, "val/psnr": psnr})
    assert compare_main([str(tmp_path / "sweep_false"), str(tmp_path / "sweep_true"), "--out", str(tmp_path / "both"),
                         "--measures", "val/psnr"]) == 0
    text = (tmp_path / "both" / "comparison.md").read_text()
    for conv in ("false", "true"):
        assert f"| `tconv` | model.output_conv={conv} | 5/5 |" in text
    line = next(t for t in text.splitlines() if t.startswith("| shapes | `tconv` | `model.output_conv=true`"))
    assert "| `model.output_conv=true` - `model.output_conv=false` | val/psnr | 5 | 1.000 ± 0.088 |" in line
    assert "higher" in line


def test_report_pairs_settings_one_value_apart_and_not_the_diagonals(tmp_path):
    """A 2x2 grid joined from four sweeps: each decoder against itself along the four edges (one value
    changed), never across a diagonal (two changed at once, no cause named). The output convolution adds
    `gains` in the overcomplete setting: that edge's mean and interval by hand, as above."""
    gains = [1.0, 1.1, 0.9, 1.0, 1.0]
    for latent in ("4", "null"):
        for conv in ("false", "true"):
            for seed in range(5):
                psnr = 20.0 + seed + 2.0 * (latent == "null") + (gains[seed] if conv == "true" else 0.25 * seed)
                fake_job(tmp_path / f"sweep_{latent}_{conv}" / f"{seed}_tconv",
                         {"decoder": "tconv", "seed": seed, "model.latent_channels": latent, "model.output_conv": conv},
                         {"decoder": "tconv", "data": "shapes", "seed": seed, "val/psnr": psnr})
    sweeps = [str(tmp_path / f"sweep_{a}_{b}") for a in ("4", "null") for b in ("false", "true")]
    assert compare_main([*sweeps, "--out", str(tmp_path / "grid"), "--measures", "val/psnr"]) == 0
    text = (tmp_path / "grid" / "comparison.md").read_text()
    pairs = [t.split(" | ")[2] for t in text.splitlines() if t.startswith("| shapes | `tconv` | `model.")]
    name = "`model.latent_channels={} model.output_conv={}`".format
    assert sorted(pairs) == sorted([
        f"{name('4', 'true')} - {name('4', 'false')}", f"{name('null', 'false')} - {name('4', 'false')}",
        f"{name('null', 'true')} - {name('4', 'true')}", f"{name('null', 'true')} - {name('null', 'false')}"])
    edge = next(t for t in text.splitlines() if f"| {name('null', 'true')} - {name('null', 'false')} |" in t)
    # true - false = gains - 0.25 seed = 1.0, 0.85, 0.4, 0.25, 0.0: mean 0.5; s = sqrt(0.695 / 4) = 0.4168;
    # t(0.975, 4) s / sqrt(5) = 2.7764 * 0.4168 / 2.2361 = 0.5176
    assert "| val/psnr | 5 | 0.50 ± 0.52 | 0.125 |" in edge, edge  # sign test: 4 of 4 non-zero above, 2 / 2^4


def test_time_ratio_pairs_only_timed_seeds_and_settings_pair_only_one_value_apart():
    # Seed 0: 50 / 100 images/s = 0.50. Seed 1 has no speed, seed 2 a zero, seed 3 NaN (no step timed),
    # seeds 4 and 5 no partner: one pair.
    row = {"by_seed": {"images_per_second": {0: 100.0, 1: None, 2: 0.0, 3: math.nan, 5: 200.0}}}
    base = {"by_seed": {"images_per_second": {0: 50.0, 2: 10.0, 3: 50.0, 4: 1.0}}}
    assert step_time_ratio(row, base) == ["1", "0.50-0.50", "0.50"]
    assert step_time_ratio(row, {"by_seed": {"images_per_second": {1: 5.0}}}) is None
    at = lambda **values: {"setting_values": values}  # noqa: E731
    assert one_apart(at(epochs="16", conv="false"), at(epochs="8", conv="false"))
    assert not one_apart(at(epochs="16", conv="true"), at(epochs="8", conv="false"))  # a diagonal
    assert not one_apart(at(epochs="8", conv="false"), at(epochs="8", conv="false"))  # the same setting
    assert not one_apart(at(epochs="16"), at(epochs="16", conv="false"))  # a key one row does not know


def test_joined_sweeps_are_labelled_by_what_differs_in_their_configs(tmp_path):
    # One sweep named model.latent_channels=4 (the default) on its command line, the other
    # trainer.max_epochs=16: the label is the cap, read from the first sweep's config.yaml where its
    # overrides do not say it (8), and the bottleneck, equal in both configs, is no setting.
    for name, extra, epochs in (("cap8", "- model.latent_channels=4\n", 8), ("cap16", "- trainer.max_epochs=16\n", 16)):
        job = tmp_path / name / "0_tconv"
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(f"- decoder=tconv\n- seed=0\n{extra}")
        (job / ".hydra" / "config.yaml").write_text(
            f"decoder: {{name: tconv}}\ndata: {{name: shapes}}\nmodel: {{latent_channels: 4, output_conv: false}}\n"
            f"trainer: {{max_epochs: {epochs}}}\n")
        (job / "status.json").write_text('{"state": "finished"}')
        (job / "metrics.json").write_text(json.dumps({"decoder": "tconv", "data": "shapes", "seed": 0}))
    jobs = find_jobs(tmp_path)
    assert sorted(j["setting"] for j in jobs) == ["trainer.max_epochs=16", "trainer.max_epochs=8"]


def test_report_reads_the_plateau_across_budgets(tmp_path):
    """One sweep per budget, 5 seeds (the longer one resumed from the shorter's checkpoints, a path per job,
    which does not split the rows): each decoder's longest budget against the one before, seed by seed,
    by hand. `tconv` still gains (1.0, 1.1, 0.9, 1.0, 1.0 dB: mean 1.000, t(0.975, 4) s / sqrt(5) = 0.088);
    `upsample` has stopped (0, 0.1, -0.1, 0.05, 0: mean 0.01, s = sqrt(0.022 / 4), half-width 0.092)."""
    gains = {"tconv": [1.0, 1.1, 0.9, 1.0, 1.0], "upsample": [0.0, 0.1, -0.1, 0.05, 0.0]}
    for epochs in ("8", "16"):
        for decoder, gain in gains.items():
            for seed in range(5):
                psnr = 20.0 + seed + (gain[seed] if epochs == "16" else 0.0)
                fake_job(tmp_path / f"sweep_{epochs}" / f"{decoder}_{seed}",
                         {"decoder": decoder, "seed": seed, "trainer.max_epochs": epochs}  # 16: resumed from 8's
                         | ({"ckpt_path": f"/8/{decoder}_{seed}/last.ckpt"} if epochs == "16" else {}),
                         {"decoder": decoder, "data": "shapes", "seed": seed, "val/psnr": psnr,
                          "converged": epochs == "16" or seed < 2,
                          "val/checkerboard_amplitude/checkerboard_excess": 1.0})
    assert compare_main([str(tmp_path / "sweep_8"), str(tmp_path / "sweep_16"), "--out", str(tmp_path / "both"),
                         "--measures", "val/psnr"]) == 0
    text = (tmp_path / "both" / "comparison.md").read_text()
    assert "### Each decoder over the budgets 8 -> 16 epochs (shapes)" in text
    assert "| `tconv` | 2/5 / 5/5 | 22.00 -> 23.00 | 1.00 -> 1.00 | 16 - 8: 1.000 ± 0.088 (5 seeds) | no |" in text
    assert "| `upsample` | 2/5 / 5/5 | 22.00 -> 22.01 | 1.00 -> 1.00 | 16 - 8: 0.010 ± 0.092 (5 seeds) | yes |" in text


def test_a_gan_gains_in_db_as_its_fcd_falls():
    assert gain_db("test/fcd", 4.0, 8.0) == pytest.approx(10 * math.log10(2))  # halved: 3.01 dB
    assert gain_db("val/psnr", 23.5, 23.0) == pytest.approx(0.5)
    assert gain_db("test/fcd", 0.0, 8.0) is None and gain_db("val/psnr", math.nan, 1.0) is None
