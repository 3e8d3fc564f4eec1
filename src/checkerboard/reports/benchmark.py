"""How fast is the project's training path, against a bare PyTorch loop on the same everything? (measuring)

`scripts/benchmark.py` is the command line; `checkerboard.reports.benchmark_report` renders the tables.
For each decoder (and variant), in one process:

- A, the project's path: the `Run` that `checkerboard.run.training.build` makes for `python train.py`
  (Lightning Trainer, TensorBoard logger, checkpoints, Throughput, image logging, progress bar);
- with ``--lightning-alone``, also the same config composed with ``callbacks=none logger=none``:
  Lightning's own loop, so that the table tells its cost from ours. Its records keep the field
  names (``project_images_per_second`` ...) with ``path_a: "Lightning alone"``;
- B, a bare loop: a fresh model of the same architecture and seed, the same uint8 tensors made
  float the same way, the same optimizer, batch size and device; forward, loss, backward, step.

A and B alternate batch by batch (B, A, B, A, ...: B runs from a callback before each of A's
training batches; `--chunk N` alternates every N batches), so drift on a shared machine hits
both alike. Epoch 0 warms both up. The later epochs are cut into blocks of
`trainer.log_every_n_steps` batches (each holds one step that writes to the logger); the ratio
A/B is taken per block, from the two paths' times in that block, and the table gives its median
and interquartile range. Medians, not means: a neighbour's burst of load spoils a few blocks,
not the figure.

A's epoch is timed in three parts: training batches; validation (left out of the ratio: B has
none); and epoch-end work (image logging, checkpoints, loggers). `--steps N` times N training
batches per epoch instead of all; A's images per second is then that of a full epoch,
``full_steps * bs / (full_steps * step_time + epoch_end_time)``, the per-epoch work charged once
per full epoch as in a real run, so the ratio includes logging whatever N is (`--steps 0` times
whole epochs). Seconds per epoch adds validation over the whole validation split.

Warm-up extra seconds (warm-up epoch minus a steady one) is mostly torch.compile's compile time
for a compiling variant; the path that compiles first pays most of it, the other finds the graph
in inductor's cache (as does a second run on the same machine).

Peak memory: the process's peak RSS on CPU (reset per segment through /proc/self/clear_refs),
``torch.cuda.max_memory_allocated`` on a GPU. CPU figures on a shared machine are noisy: the
table reports the load average and how many cores each path actually got. The timing callback
sits in A's path (Lightning calls each of its hooks every step): its cost is charged to A.

"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from checkerboard.run.callbacks import ArtifactImages, sync
from checkerboard.run.config import compose_config
from checkerboard.run.training import build

# Named sets of overrides; the bare loop mirrors each (autocast, channels_last, torch.compile).
VARIANTS = {
    "fp32": [],
    "bf16": ["trainer.precision=bf16-mixed"],
    "bf16+cl": ["trainer.precision=bf16-mixed", "model.channels_last=true"],
    "bf16+cl+compile": ["trainer.precision=bf16-mixed", "model.channels_last=true", "model.compile=true"],
    "cl": ["model.channels_last=true"],
    "compile": ["model.compile=true"],
}
DEFAULT_VARIANTS = {"cpu": ["fp32"], "cuda": ["fp32", "bf16", "bf16+cl", "bf16+cl+compile"]}
DEFAULT_DATA = ["data=mnist", "data.download=false"]  # the size the goals speak of: 55,000 28x28 images


# -- measuring ------------------------------------------------------------------------------
def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")  # Linux: resets VmHWM, the peak RSS


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not resettable: whole process


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class Meter:
    """Wall time, process CPU time and peak memory, summed over the stretches it is started for."""

    def __init__(self, device: torch.device):
        self.device, self.seconds, self.cpu_seconds, self.peak_mb = device, 0.0, 0.0, 0.0

    def start(self) -> None:
        sync(self.device)
        _reset_peak(self.device)
        self._cpu, self._t = _cpu_seconds(), time.perf_counter()

    def stop(self) -> float:
        sync(self.device)
        dt = time.perf_counter() - self._t
        self.seconds += dt
        self.cpu_seconds += _cpu_seconds() - self._cpu
        self.peak_mb = max(self.peak_mb, _peak_mb(self.device))
        return dt


class BareLoop:
    """B: forward, loss, backward, step on batches sliced from the same uint8 tensor; nothing else."""

    def __init__(self, cfg, run, device: torch.device):
        L.seed_everything(cfg.seed, workers=True, verbose=False)
        h = run.model.hparams
        self.model = type(run.model)(decoder=h.decoder, channels=h.channels, image_size=h.image_size,
                                     width=h.width, depth=h.depth, downsample=h.downsample, loss=h.loss,
                                     optimizer=run.model.optimizer_factory,
                                     channels_last=h.channels_last, compile=h.compile).to(device)
        self.model.configure_model()  # torch.compile, when asked, exactly as the project does it
        optimizers = self.model.configure_optimizers()  # the scheduler steps once an epoch: left out
        self.optimizer = optimizers["optimizer"] if isinstance(optimizers, dict) else optimizers
        self.loss_fn, self.channels_last = run.model.loss_fn, h.channels_last
        self.autocast = "bf16" in str(cfg.trainer.precision)
        dm = run.datamodule
        self.images = dm.train.to(device) if dm.on_device else dm.train
        self.device, self.batch_size, self.seed, self.epoch, self.i = device, dm.batch_size, cfg.seed, 0, 0

    def new_epoch(self) -> None:
        g = torch.Generator().manual_seed(self.seed + 10_000 + self.epoch)
        self.order = torch.randperm(len(self.images), generator=g).to(self.images.device)
        self.epoch, self.i = self.epoch + 1, 0

    def run(self, steps: int) -> None:
        bs = self.batch_size
        for _ in range(steps):
            x = self.images[self.order[self.i * bs:(self.i + 1) * bs]].to(self.device).float().div_(255)
            self.i += 1
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                loss = self.loss_fn(self.model(x), x)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()


class Interleave(L.Callback):
    """Runs B in chunks between A's training batches, and times A around them.

    First in the trainer's callbacks, so that in each hook it runs before the others. Per chunk,
    B's time, then A's: from the end of the B chunk to the next chunk boundary (every callback,
    the training step, loggers, progress bar, fetching the next batch). Per epoch, A's validation
    (less image logging) and A's epoch end (image logging, checkpoints, up to the next epoch).
    """

    def __init__(self, bare: BareLoop, images, device: torch.device, chunk: int):
        self.bare, self.images, self.device, self.chunk = bare, images, device, chunk
        self.epochs: list[dict] = []
        self.train_start = self.train_end = None

    def _image_seconds(self) -> float:
        return 0.0 if self.images is None else self.images.seconds

    def on_train_epoch_start(self, trainer, pl_module):
        if self.epochs:
            self._finish()
        self.bare.new_epoch()
        e = {"a": Meter(self.device), "b": Meter(self.device), "val": Meter(self.device),
             "end": Meter(self.device), "images": 0.0, "chunks": [], "lead": 0.0}
        self.epochs.append(e)
        if self.train_start is None:
            sync(self.device)
            self.train_start = time.perf_counter()
        e["a"].start()

    def _stop_a(self, e: dict) -> None:
        dt = e["a"].stop()
        if e["chunks"]:
            e["chunks"][-1][1] += dt
        else:
            e["lead"] += dt  # epoch start to the first batch: charged to the first chunk

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        chunk = self.chunk or trainer.num_training_batches
        if batch_idx % chunk == 0:
            e = self.epochs[-1]
            self._stop_a(e)
            steps = min(chunk, trainer.num_training_batches - batch_idx)
            e["b"].start()
            self.bare.run(steps)
            e["chunks"].append([e["b"].stop(), 0.0, steps])  # B seconds, A seconds, batches
            e["a"].start()

    def on_validation_start(self, trainer, pl_module):
        if not trainer.sanity_checking:
            e = self.epochs[-1]
            self._stop_a(e)
            e["images_before"] = self._image_seconds()
            e["val"].start()

    def on_validation_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            e = self.epochs[-1]
            e["val"].stop()
            e["images"] = self._image_seconds() - e.pop("images_before")
            e["end"].start()

    def _finish(self) -> None:
        e = self.epochs[-1]
        if e["val"].seconds:
            e["end"].stop()
        else:  # no validation this epoch: A's training stretch is still open
            self._stop_a(e)
        if e["chunks"]:
            e["chunks"][0][1] += e["lead"]

    def on_train_end(self, trainer, pl_module):
        self._finish()
        self.train_end = time.perf_counter()


def blocks(chunks: list[list], size: int) -> list[list]:
    """Consecutive chunks summed into blocks of at least ``size`` batches (B seconds, A seconds, batches)."""
    out, cur = [], [0.0, 0.0, 0]
    for chunk in chunks:
        cur = [x + y for x, y in zip(cur, chunk)]
        if cur[2] >= size:
            out, cur = out + [cur], [0.0, 0.0, 0]
    if cur[2]:
        if out:
            out[-1] = [x + y for x, y in zip(out[-1], cur)]
        else:
            out.append(cur)
    return out


def quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


@contextlib.contextmanager
def frozen_heap():
    """Both paths under one garbage-collector state, as in `python train.py` (which freezes its
    imports): the previous measurement's objects are collected, what exists now is frozen."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# -- one decoder, one variant ---------------------------------------------------------------
def measure(decoder: str, variant: str, args, overrides: list[str], lightning_only: bool = False) -> dict:
    device = torch.device("cuda" if args.device == "cuda" else "cpu")
    epochs = args.repeats + 1  # epoch 0 warms up A and B
    dev = (["trainer.accelerator=gpu", "trainer.devices=1", "data.on_device=true"] if device.type == "cuda"
           else ["trainer.accelerator=cpu"])
    limits = [f"++trainer.limit_val_batches={args.val_batches}" if args.val_batches else None,
              f"++trainer.limit_train_batches={args.steps}" if args.steps else None]
    # Lightning's own loop: no callbacks (nor the ones Lightning adds itself), no logger.
    alone = ["callbacks=none", "logger=none", "trainer.enable_model_summary=false"] if lightning_only else []
    with tempfile.TemporaryDirectory(prefix="checkerboard-bench-") as tmp:
        cfg = compose_config(Path(tmp), [f"decoder={decoder}", *dev, *VARIANTS[variant], *overrides, *alone,
                                         f"trainer.max_epochs={epochs}", *filter(None, limits)])
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        run = build(cfg)
        build_seconds = time.perf_counter() - t
        a_callbacks = [type(c).__name__ for c in run.trainer.callbacks]
        a_logger = bool(run.trainer.loggers)
        bare = BareLoop(cfg, run, device)
        bench = Interleave(bare, run.callback(ArtifactImages), device, args.chunk)
        run.trainer.callbacks.insert(0, bench)
        t = time.perf_counter()
        with frozen_heap():
            run.trainer.fit(run.model, datamodule=run.datamodule)
        fit_end = time.perf_counter()
        load_after = os.getloadavg()[0]
        dm, trainer = run.datamodule, run.trainer

    bs, steps = dm.batch_size, trainer.num_training_batches
    full_steps = len(dm.train) // bs  # drop_last, as the project's training batches
    val_batches, full_val_batches = trainer.num_val_batches[0], math.ceil(len(dm.val) / bs)
    warm, steady = bench.epochs[0], bench.epochs[1:]  # epoch 0 warms both up
    # Blocks span log_every_n_steps batches, so each holds one of the steps that write to the logger.
    size = max(args.chunk or steps, trainer.log_every_n_steps)
    blk = [x for e in steady for x in blocks(e["chunks"], size)]
    a_step = statistics.median(a / n for b, a, n in blk)
    b_step = statistics.median(b / n for b, a, n in blk)
    end = statistics.median(e["end"].seconds + e["images"] for e in steady)
    images = statistics.median(e["images"] for e in steady)
    val_batch = statistics.median((e["val"].seconds - e["images"]) / max(val_batches, 1) for e in steady)
    a_epoch = full_steps * a_step + end  # a full epoch of A's training, epoch-end work (logging) included
    epoch = a_epoch + val_batch * full_val_batches
    # Block ratios are paired (adjacent in time); the epoch-end work then scales them all alike.
    ratios = sorted(b / a * full_steps * a_step / a_epoch for b, a, n in blk)
    q1, q3 = quartiles(ratios)
    cores = lambda k: statistics.median(e[k].cpu_seconds / e[k].seconds for e in steady)  # noqa: E731
    return {
        "decoder": decoder, "device": str(device), "variant": variant,
        "path_a": "Lightning alone" if lightning_only else "project",
        "callbacks_a": a_callbacks, "logger_a": a_logger,  # what A ran with, besides the timing callback
        "project_images_per_second": round(full_steps * bs / a_epoch, 3),
        "bare_images_per_second": round(bs / b_step, 3),
        # A's cost beyond B per training step, the per-epoch work (image logging, checkpoints) spread over the steps
        "overhead_ms_per_step": round((a_epoch / full_steps - b_step) * 1000, 3),
        "ratio": round(statistics.median(ratios), 4),
        "ratio_q1": round(q1, 4), "ratio_q3": round(q3, 4),
        "ratio_min": round(ratios[0], 4), "ratio_max": round(ratios[-1], 4),
        "ratios": [round(r, 4) for r in ratios], "blocks": len(blk), "block_batches": size,
        "epoch_seconds": round(epoch, 2),
        "bare_epoch_seconds": round(b_step * full_steps, 2),
        "epoch_measured": steps == full_steps and val_batches == full_val_batches,
        "image_log_seconds_per_epoch": round(images, 3),
        "image_log_share": round(images / epoch, 4),
        "epoch_end_seconds": round(end, 3),
        "peak_memory_mb_project": round(max(max(e[k].peak_mb for k in ("a", "val", "end")) for e in steady), 1),
        "peak_memory_mb_bare": round(max(e["b"].peak_mb for e in steady), 1),
        "memory": "cuda max_memory_allocated" if device.type == "cuda" else "process peak RSS",
        "cores_project": round(cores("a"), 2), "cores_bare": round(cores("b"), 2),
        "build_seconds": round(build_seconds, 2),
        "fit_startup_seconds": round(bench.train_start - t, 2),  # sanity check, on_train_start, ...
        "fit_teardown_seconds": round(fit_end - bench.train_end, 2),
        # Warm-up epoch minus a steady one: mostly torch.compile's compile time when the variant compiles.
        "warmup_extra_seconds_project": round(warm["a"].seconds - statistics.median(e["a"].seconds for e in steady), 2),
        "warmup_extra_seconds_bare": round(warm["b"].seconds - statistics.median(e["b"].seconds for e in steady), 2),
        "batch_size": bs, "steps_timed": steps, "full_steps": full_steps, "chunk": args.chunk or steps,
        "repeats": len(steady), "data": dm.name, "train_images": len(dm.train), "val_images": len(dm.val),
        "image_shape": [dm.channels, dm.image_size, dm.image_size],
        "precision": str(cfg.trainer.precision), "channels_last": bool(cfg.model.channels_last),
        "compile": bool(cfg.model.get("compile", False)), "torch_threads": torch.get_num_threads(),
        "load_average_before": round(load_before, 2), "load_average_after": round(load_after, 2),
    }
