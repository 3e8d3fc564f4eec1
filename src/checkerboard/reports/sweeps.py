"""Sweep folders read back: the jobs, their settings, metrics.json and TensorBoard curves."""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from PIL import Image  # noqa: E402

from checkerboard.measures.keys import headings, paired_keys, report_keys
from checkerboard.run.config import decoder_label

#: Mean and t-interval (roughly normal over seeds), median and its interval (heavy-tailed): from the registry.
MEANS = report_keys("mean")
MEDIANS = report_keys("median")
METRICS = MEANS + MEDIANS
HEADINGS = headings()
PAIRED = paired_keys()


# Overrides that never define a row: the seed axis, settings of how a job runs rather than what it
# is (a resumed run continues the one it resumed: ckpt_path), and the decoder and data, which have
# columns of their own.
NOT_A_SETTING = {"seed", "num_threads", "trainer.enable_progress_bar", "data.download", "paths.data_dir",
                 "decoder", "data", "experiment", "ckpt_path"}


NOT_A_SETTING_PREFIXES = ("hydra.", "decoder.", "callbacks.")


def last_layer(metrics: dict) -> dict:
    """``.../phase_gain_spread/last``: the spread of the decoder's last x2 layer, whatever the depth."""
    out = dict(metrics)
    for prefix in ("decoder/phase_gain_spread/", "init/phase_gain_spread/"):
        layers = sorted(int(k[len(prefix):]) for k in metrics if k.startswith(prefix) and k[len(prefix):].isdigit())
        if layers:
            out[prefix + "last"] = metrics[f"{prefix}{layers[-1]}"]
    return out


def natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def find_jobs(sweep: Path) -> list[dict]:
    """Every folder under ``sweep`` holding `.hydra/config.yaml` or `status.json` (launcher files aside)."""
    dirs = {p.parent for p in sweep.rglob("status.json")}
    dirs |= {p.parent.parent for p in sweep.rglob("config.yaml") if p.parent.name == ".hydra"}
    jobs = []
    for d in sorted((d for d in dirs if d != sweep and ".submitit" not in d.parts), key=lambda d: natural(str(d))):
        job = {"name": str(d.relative_to(sweep)), "dir": d, "state": "no status", "metrics": None}
        if (d / "status.json").is_file():
            status = json.loads((d / "status.json").read_text())
            job["state"], job["error"] = status.get("state", "no status"), status.get("error")
        if (d / ".hydra" / "config.yaml").is_file():
            job["config"] = cfg = OmegaConf.load(d / ".hydra" / "config.yaml")
            job["decoder"] = decoder_label(OmegaConf.select(cfg, "decoder"))
            job["data"] = OmegaConf.select(cfg, "data.name", default="?")
        if (d / ".hydra" / "overrides.yaml").is_file():
            job["overrides"] = list(OmegaConf.load(d / ".hydra" / "overrides.yaml"))
        if (d / "metrics.json").is_file() and job["state"] in ("finished", "no status"):
            job["metrics"] = m = renamed(last_layer(json.loads((d / "metrics.json").read_text())))
            job["state"], job["decoder"], job["data"] = "finished", m["decoder"], m["data"]
            m["val/psnr_gain_last_fifth"] = psnr_gain_last_fifth(job)
        jobs.append(job)
    settings(jobs)
    return jobs


def renamed(metrics: dict) -> dict:
    """Autoencoder runs made before the generators logged their interpolations' measures as ``samples``
    (a VAE's or a GAN's samples come with ``test/detectability``)."""
    if "test/detectability" not in metrics:
        for old in [k for k in metrics if "samples_checkerboard" in k]:
            metrics.setdefault(old.replace("samples_", "interpolations_"), metrics.pop(old))
    return metrics


def settings(jobs: list[dict]) -> None:
    """``job["setting"]``: the overrides besides seed, data and decoder whose value differs between jobs
    (``job["setting_values"]``: the same as key -> value text).

    A key one sweep overrode and another left at its default is read from the other's resolved config,
    so sweeps joined in one report are labelled by what truly differs (``trainer.max_epochs=8`` against
    ``=16``), not by what one of them happened to name."""
    parsed = []
    for job in jobs:
        parsed.append({k: v for k, v in _overrides(job.get("overrides", [])).items()
                       if k not in NOT_A_SETTING and not k.startswith(NOT_A_SETTING_PREFIXES)})
    keys = sorted({k for p in parsed for k in p})
    for job, p in zip(jobs, parsed):
        for k in keys:
            if k not in p and "config" in job:
                value = OmegaConf.select(job["config"], k, default=_MISSING)
                if value is not _MISSING and not OmegaConf.is_config(value):  # a group's choice is not in config.yaml
                    p[k] = value
    known = [p for job, p in zip(jobs, parsed) if "overrides" in job]  # a folder without config tells nothing
    varying = [k for k in keys if len({_text(p.get(k, _MISSING)) for p in known}) > 1]
    for job, p in zip(jobs, parsed):
        job["setting_values"] = {k: _text(p[k]) for k in varying if k in p}
        job["setting"] = " ".join(f"{k}={v}" for k, v in job["setting_values"].items())


_MISSING = object()


def one_apart(a: dict, b: dict) -> bool:
    """Whether two rows' settings differ in exactly one value: a difference that names its cause. Rows that
    do not both know the same keys (an old run without a config) are never paired."""
    va, vb = a["setting_values"], b["setting_values"]
    return set(va) == set(vb) and sum(va[k] != vb[k] for k in va) == 1


def _overrides(lines: list[str]) -> dict:
    """A job's overrides as Hydra parses them: key -> the value as the config holds it (``4`` -> 4,
    ``1e-3`` -> 0.001, ``False`` -> False, ``null`` -> None); as text if Hydra cannot parse them."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return {o.key_or_group: o.value() for o in OverridesParser.create().parse_overrides(list(lines))}
    except Exception:  # a hand-written overrides.yaml Hydra would refuse
        return {k: rest[0] if rest else "" for k, *rest in (o.lstrip("+~").split("=", 1) for o in lines)}


def _text(value) -> str:
    if value is _MISSING:
        return "?"
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def expected_jobs(sweep: Path) -> int | None:
    """How many jobs `multirun.yaml` asked for (sweeper params and command line), if it can tell."""
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        cfg = OmegaConf.load(sweep / "multirun.yaml")
        params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
        args = [f"{k}={v}" for k, v in params.items()] + list(cfg.hydra.overrides.task)
        counts = {o.get_key_element(): len(list(o.sweep_iterator())) if o.is_sweep_override() else 1
                  for o in OverridesParser.create().parse_overrides(args)}
        return math.prod(counts.values())
    except Exception:  # no multirun.yaml, or a sweep (glob, range of floats) we cannot count here
        return None


def events(job: dict, kind: str = "scalars") -> dict:
    """The job's TensorBoard ``kind`` ("scalars" or "images"), every one logged (no sampling)."""
    from tensorboard.backend.event_processing.event_accumulator import IMAGES, SCALARS, EventAccumulator

    key = f"events_{kind}"
    if key not in job:
        # A resumed run writes into the run it resumed (metrics.json says where).
        folder = Path((job.get("metrics") or {}).get("tensorboard") or job["dir"]) / "tensorboard"
        job[key] = {}
        if folder.is_dir():
            size = {SCALARS: 0, IMAGES: 0} if kind == "images" else {SCALARS: 0, IMAGES: 1}
            acc = EventAccumulator(str(folder), size_guidance=size).Reload()
            read = acc.Images if kind == "images" else acc.Scalars
            job[key] = {t: read(t) for t in acc.Tags()[kind]}
    return job[key]


def psnr_gain_last_fifth(job: dict) -> float | None:
    """How much val/psnr still rose over the last fifth of the run's validations (the convergence check)."""
    curve = [e.value for e in events(job).get("val/psnr", []) if e.step > 0]  # step 0: the untrained model
    if len(curve) < 5:
        return None
    return curve[-1] - curve[int(0.8 * (len(curve) - 1))]


def last_image(job: dict, tag: str) -> np.ndarray | None:
    found = events(job, "images").get(tag)
    return np.asarray(Image.open(io.BytesIO(found[-1].encoded_image_string)).convert("RGB")) if found else None


def newest_sweep(root: Path) -> Path | None:
    sweeps = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    stamp = lambda p: (p / "multirun.yaml").stat().st_mtime if (p / "multirun.yaml").exists() else p.stat().st_mtime
    return max(sweeps, key=stamp, default=None)
