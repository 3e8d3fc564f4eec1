"""model=vae and model=gan: the same decoders fed a latent, their samples measured; scripts/sample.py."""

import json
import math
import re

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.custom_scalar import layout_pb2
from torchvision.io import decode_png

from checkerboard.data.shapes import make_shapes
from checkerboard.errors import CollapseError, ConfigError
from checkerboard.measures.keys import CHARTS
from checkerboard.measures.spectra import radial_spectrum, spectral_error
from checkerboard.models.builders import build_decoder, build_stem, x2_layers
from checkerboard.models.gan import GAN, Discriminator
from checkerboard.models.upsamplers import UPSAMPLERS
from checkerboard.models.vae import VAE, kl_divergence
from checkerboard.reports.comparison import main, markdown, summarise
from checkerboard.reports.sample import draw, load
from checkerboard.reports.sample import main as sample_main
from checkerboard.reports.sweeps import find_jobs
from checkerboard.run.config import compose_config
from checkerboard.run.training import train
from helpers import TINY, run_cli, write_mnist, write_png_folder

MODELS = ["vae", "gan"]
SAMPLE_KEYS = ["samples_checkerboard_amplitude", "samples_spectral_error", "samples_diversity"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One finished tiny run of each model (and an autoencoder's), in one folder as a sweep would be."""
    sweep = tmp_path_factory.mktemp("sweep")
    out = {}
    for i, model in enumerate(["autoencoder", *MODELS]):
        folder = sweep / f"{i}_{model}"
        metrics = train(compose_config(folder, [*TINY, f"model={model}", "trainer.max_epochs=2",
                                                "callbacks.artifact_images.num_images=4"]))
        (folder / "status.json").write_text(json.dumps({"state": "finished"}))
        (folder / ".hydra").mkdir()  # what a sweep's job folder holds: the model is the setting that varies
        (folder / ".hydra" / "overrides.yaml").write_text(f"- model={model}\n")
        out[model] = (folder, metrics)
    out["sweep"] = sweep
    return out


# -- the spectral measures ---------------------------------------------------------------------

def test_radial_spectrum_puts_a_frequency_in_its_ring():
    rows = torch.arange(32.0)[:, None].expand(32, 32)
    wave = 0.5 + 0.25 * torch.cos(2 * math.pi * 5 * rows / 32)  # 5 cycles down the image, flat across
    s = radial_spectrum(wave[None, None])[0]
    assert len(s) == math.floor(16 * math.sqrt(2)) + 1  # rings out to the corners, where (1/2, 1/2) lies
    assert s[5] > 1e3 * s[[1, 2, 3, 4, 6, 7, 8]].max()
    checker = radial_spectrum(((rows + rows.T) % 2)[None, None])[0]  # the period-2 checkerboard
    assert checker[22] > 1e3 * checker[1:22].max()  # (16, 16) is sqrt(2) 16 = 22.6 bins out


def test_spectral_error_is_zero_for_the_same_images_and_reads_a_power_ratio():
    x = make_shapes(16, 32, 3, seed=0).float() / 255
    assert spectral_error(x, x) == 0
    # Twice the contrast (mean kept) is four times the power at every non-zero frequency: |ln 4|.
    assert spectral_error(0.5 + 2 * (x - 0.5), x) == pytest.approx(math.log(4), rel=1e-4)


# -- the models: the project's decoders, fair starts ---------------------------------------------

@pytest.mark.parametrize("name", list(UPSAMPLERS))
def test_generators_are_the_projects_decoders_with_their_init(name):
    # The GAN builds stem, discriminator, then the decoder: the same draws as building them by hand,
    # so decoder=... and the fan-in init apply unchanged, and every decoder gets the same stem and critic.
    torch.manual_seed(0)
    gan = GAN(name, channels=3, image_size=32)
    torch.manual_seed(0)
    stem = build_stem(64, 32, 2, 8)
    critic = Discriminator(3, 16, 2, 32)
    decoder = build_decoder(name, 3, 32, 2)
    for mine, ref in ((gan.stem, stem), (gan.discriminator, critic), (gan.decoder, decoder)):
        for a, b in zip(mine.state_dict().values(), ref.state_dict().values()):
            assert torch.equal(a, b)
    torch.manual_seed(0)
    vae = VAE(decoder=name, channels=3, image_size=32)
    assert [type(m) for m in x2_layers(vae.decoder)] == [type(m) for m in x2_layers(decoder)]
    assert gan(torch.zeros(2, 64)).shape == vae(torch.zeros(2, 3, 32, 32)).shape == (2, 3, 32, 32)


def test_stem_and_discriminator_start_the_same_whatever_the_decoder():
    firsts = []
    for name in UPSAMPLERS:
        torch.manual_seed(3)
        gan = GAN(name)
        torch.manual_seed(3)
        vae = VAE(decoder=name)
        firsts.append([gan.stem[0].weight, gan.discriminator[0].parametrizations.weight.original,
                       vae.stem[0].weight, vae.posterior[1].weight, vae.encoder[0].weight])
    assert all(torch.equal(a, b) for other in firsts[1:] for a, b in zip(other, firsts[0]))


def test_kl_divergence_of_the_prior_is_zero_and_grows_with_the_mean():
    assert torch.equal(kl_divergence(torch.zeros(2, 4), torch.zeros(2, 4)), torch.zeros(2))
    assert kl_divergence(torch.ones(1, 4), torch.zeros(1, 4)).item() == pytest.approx(2.0)  # 4 x 1/2


# -- training: metrics, tags, resume -------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
def test_run_leaves_sample_metrics_and_tags(runs, model):
    folder, metrics = runs[model]
    for key in SAMPLE_KEYS:
        for stage in ("init", "val", "test"):
            assert math.isfinite(metrics[f"{stage}/{key}"]), f"{stage}/{key}"
    assert 0 <= metrics["test/detectability"] <= 1
    assert metrics["init/samples_checkerboard_amplitude"] > 1  # the untrained tconv's samples: a checkerboard
    acc = EventAccumulator(str(folder / "tensorboard"), size_guidance={"scalars": 0, "images": 0}).Reload()
    scalars, images = acc.Tags()["scalars"], acc.Tags()["images"]
    # Sample curves from step 0 (the untrained generator), pictures at the same steps.
    amplitude = acc.Scalars("val/samples_checkerboard_amplitude")
    assert amplitude[0].step == 0
    assert amplitude[0].value == pytest.approx(metrics["init/samples_checkerboard_amplitude"])
    steps = [e.step for e in amplitude]
    assert len(steps) == 3
    for tag in ("val/prior_samples", "checkerboard/samples_zoom", "checkerboard/samples_spectrum"):
        assert [e.step for e in acc.Images(tag)] == steps, tag
    assert [e.step for e in acc.Scalars("val/samples_spectral_error")] == steps
    assert "val/samples" not in images  # no interpolations: the samples are the model's own
    if model == "gan":
        for tag in ("train/loss_d", "train/loss_g", "train/d_real", "train/d_fake", "val/loss_d", "val/loss_g"):
            assert tag in scalars, tag
        assert "val/reconstructions" not in images and "val/psnr" not in metrics
        assert [e.step for e in acc.Scalars("val/loss_d")] == steps[1:]
        assert metrics["val/loss"] == metrics["val/fcd"] > 0  # the samples' FCD; shapes has labels
        # The rule reads means of 5 epochs (callbacks.plateau.smooth, the GAN's): 2 epochs give none yet.
        assert metrics["plateau_rule"].startswith("val/loss best fell") and metrics["plateau_gain"] is None
    else:
        for tag in ("train/loss", "train/kl", "val/kl", "val/psnr", "val/checkerboard_amplitude"):
            assert tag in scalars, tag
        assert "val/reconstructions" in images and metrics["val/kl"] > 0 and "test/psnr" in metrics
        assert metrics["val/fcd"] > 0 and metrics["plateau_rule"].startswith("val/psnr best rose")
        assert [e.step for e in acc.Images("val/reconstructions")] == steps


@pytest.mark.parametrize("model", ["autoencoder", *MODELS])
def test_tensorboard_layout_charts_what_the_run_logs(runs, model):
    # The Custom Scalars layout a run writes holds only regexes that match a tag it logged (the
    # plugin selects with re.match), so a GAN opens on its samples' charts, not on empty
    # reconstruction ones; every run leads with the artifact.
    acc = EventAccumulator(str(runs[model][0] / "tensorboard"), size_guidance={"scalars": 0, "tensors": 0}).Reload()
    config = acc.Tensors("custom_scalars__config__")
    assert len(config) == 1
    layout = layout_pb2.Layout.FromString(config[0].tensor_proto.string_val[0])
    charts = {chart.title: list(chart.multiline.tag) for category in layout.category for chart in category.chart}
    tags = set(acc.Tags()["scalars"])
    unmatched = sorted({r for regexes in charts.values() for r in regexes if not any(re.match(r, t) for t in tags)})
    assert not unmatched, f"layout regexes matching no logged tag: {unmatched}; tags: {sorted(tags)}"
    assert layout.category[0].title == "checkerboard"
    assert (CHARTS["amplitude"][1] in charts) == (model != "gan")
    assert (CHARTS["psnr"][1] in charts) == (model != "gan")
    assert (CHARTS["samples_fcd"][1] in charts) == (model != "autoencoder")
    assert CHARTS["loss"][1] in charts and CHARTS["spread"][1] in charts


@pytest.mark.slow  # two trainings and a resume per model: the slow loop, beside the CLI's Ctrl-C resume
@pytest.mark.parametrize("model", MODELS)
def test_resume_ends_where_an_uninterrupted_run_ends(tmp_path, model):
    # The latents of each step are drawn from the seed and the step: a run resumed from an epoch's
    # checkpoint draws what the uninterrupted one did, and ends with the same bits.
    settings = [*TINY, f"model={model}", "callbacks.artifact_images.num_images=2", "logger=none"]
    settings += ["model.scheduler=null"] if model == "vae" else []  # its T_max follows max_epochs
    full = train(compose_config(tmp_path / "full", [*settings, "trainer.max_epochs=2"]))
    train(compose_config(tmp_path / "first", [*settings, "trainer.max_epochs=1"]))
    ckpt = tmp_path / "first" / "checkpoints" / "last.ckpt"
    resumed = train(compose_config(tmp_path / "second", [*settings, "trainer.max_epochs=2", f"ckpt_path={ckpt}"]))
    assert resumed["resumed_from"] == str(ckpt.resolve()) and resumed["epochs"] == full["epochs"] == 2
    keys = [k for k in full if k.startswith(("val/", "test/", "init/"))]
    assert "test/detectability" in keys and "val/samples_spectral_error" in keys
    for key in keys:
        assert resumed[key] == full[key], key


@pytest.mark.parametrize("model", ["autoencoder", *MODELS])
def test_last_checkpoint_is_the_last_epoch(runs, model):
    # Whether or not val/loss improved in it (a GAN's need not): ModelCheckpoint's save_last would
    # write last.ckpt only in epochs that improve best.ckpt.
    folder = runs[model][0]
    last = torch.load(folder / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 1 and last["model_class"].lower().endswith("." + model)
    assert (folder / "checkpoints" / "best.ckpt").is_file()


@pytest.mark.parametrize("model", MODELS)
def test_fast_dev_run_on_mnist_files_and_a_folder_of_pngs(tmp_path, model):
    data = write_mnist(tmp_path / "data")
    mnist = train(compose_config(tmp_path / "mnist", [f"model={model}", "data=mnist", f"paths.data_dir={data}",
                                                      "data.download=false", *TINY, "trainer.fast_dev_run=true"]))
    assert mnist["data"] == "mnist" and math.isfinite(mnist["val/samples_spectral_error"])
    root = write_png_folder(tmp_path / "pngs")
    folder = train(compose_config(tmp_path / "folder", [f"model={model}", "data=folder", f"data.root={root}", *TINY,
                                                        "data.batch_size=4", "trainer.fast_dev_run=true"]))
    assert folder["data"] == "folder" and 0 <= folder["test/detectability"] <= 1


# -- failures: bad values, a checkpoint of another model, a GAN that fails --------------------------

# Bad values of the VAE and the GAN: in test_faults.BAD_VALUES with every other one.


def test_checkpoint_of_another_model_says_so(runs, tmp_path):
    ckpt = runs["autoencoder"][0] / "checkpoints" / "last.ckpt"
    with pytest.raises(ConfigError, match="model: checkpoint 'autoencoder', now 'gan'"):
        train(compose_config(tmp_path, [*TINY, "model=gan", f"ckpt_path={ckpt}"]))


def test_a_discriminator_that_wins_stops_the_run_saying_so(tmp_path):
    # Any loss is "near 0" below 100: the check fires on the third step, as it would after 300 near 0.
    with pytest.raises(CollapseError) as err:
        train(compose_config(tmp_path, [*TINY, "model=gan", "model.collapse_loss=100", "model.collapse_steps=2"]))
    assert "discriminator's loss stayed below model.collapse_loss=100 from step 1 to step 3" in str(err.value)
    assert "model.spectral_norm=true" in str(err.value)


def test_samples_that_all_look_alike_stop_the_run_saying_so(tmp_path):
    with pytest.raises(CollapseError, match=r"collapsed: after epoch 0 .* model.min_diversity=10"):
        train(compose_config(tmp_path, [*TINY, "model=gan", "model.min_diversity=10"]))


# -- sampling from a trained model -----------------------------------------------------------------

@pytest.mark.parametrize("model", ["autoencoder", *MODELS])
def test_sample_writes_a_grid_or_a_uint8_array_seeded(runs, model, tmp_path):
    folder = runs[model][0]
    assert sample_main([str(folder), "-n", "5", "--out", str(tmp_path / "a.npz"), "--seed", "7"]) == 0
    images = np.load(tmp_path / "a.npz")["images"]
    assert images.shape == (5, 3, 32, 32) and images.dtype == np.uint8
    assert torch.equal(draw(load(folder / "checkpoints" / "last.ckpt"), 5, seed=7), torch.from_numpy(images))
    assert not torch.equal(draw(load(folder), 5, seed=8), torch.from_numpy(images))
    assert sample_main([str(folder), "-n", "5", "--out", str(tmp_path / "a.png")]) == 0
    grid = decode_png(torch.from_numpy(np.fromfile(tmp_path / "a.png", dtype=np.uint8)))
    assert grid.shape == (3, 1 + 2 * 33, 1 + 3 * 33)  # 3 a row (ceil sqrt 5), 1 px lines


def test_sample_errors_are_one_clear_line(runs, tmp_path, capsys):
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    (tmp_path / "junk.ckpt").write_text("hello")
    cases = [([str(tmp_path / "nothing"), "--out", "x.png"], "does not exist"),
             ([str(tmp_path), "--out", "x.png"], "holds no checkpoints/last.ckpt"),
             ([str(foreign), "--out", "x.png"], "no checkpoint of this project"),
             ([str(tmp_path / "junk.ckpt"), "--out", "x.png"], "is not a checkpoint of this project"),
             ([str(runs["gan"][0]), "--out", "x.jpg"], "must end in .png"),
             ]
    for args, words in cases:
        assert sample_main(args) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err


def test_sample_script_from_the_command_line(runs, tmp_path, monkeypatch, capsys):
    # The script as a user types it, run in this process (a subprocess only added torch's import time).
    import runpy
    import sys

    from checkerboard import ROOT

    out = tmp_path / "s.png"
    monkeypatch.setattr(sys, "argv", ["scripts/sample.py", str(runs["vae"][0]), "-n", "4", "--out", str(out)])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / "scripts" / "sample.py"), run_name="__main__")
    assert exit_.value.code == 0 and out.is_file() and "wrote 4 samples of the VAE" in capsys.readouterr().out


@pytest.mark.slow
def test_gan_from_the_command_line(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli("model=gan", "decoder=upsample", *TINY, f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "samples: lattice content of" in result.stdout and "told from real images" in result.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["decoder"] == "upsample"
    assert (f"quality: FCD {metrics['test/fcd']:.3g} (real images: {metrics['test/fcd_floor']:.2g}; lower is better), "
            f"class score {metrics['test/class_score']:.2f}") in result.stdout


# -- the report --------------------------------------------------------------------------------------

def test_report_gains_the_sample_columns_only_where_runs_have_them(runs):
    jobs = find_jobs(runs["sweep"])
    rows = summarise(jobs)
    text = markdown(runs["sweep"], rows, jobs, None)
    lines = text.splitlines()
    split = lambda line: [cell.strip() for cell in line.strip("|").split("|")]
    header = split(next(line for line in lines if line.startswith("| decoder | setting")))
    for heading in ("sample amplitude", "sample spectral error", "detectability (AUC)", "amplitude (grey levels)"):
        assert heading in header
    cells = {m: split(next(line for line in lines if f"model={m}" in line)) for m in ["autoencoder", *MODELS]}
    psnr, detect = header.index("val/psnr"), header.index("detectability (AUC)")
    assert cells["gan"][psnr] == "-" and cells["autoencoder"][detect] == "-"  # what a run does not have
    assert cells["vae"][psnr] != "-" and cells["gan"][detect] != "-"
    alone = [j for j in jobs if j["name"].endswith("autoencoder")]
    only_ae = markdown(runs["sweep"], summarise(alone), alone, None)
    assert "detectability" not in only_ae and "sample amplitude" not in only_ae
    assert main([str(runs["sweep"])]) == 0  # the figures draw GAN rows too
    assert (runs["sweep"] / "comparison.png").is_file() and (runs["sweep"] / "curves.png").is_file()
