"""The benchmark's tables and command line (`scripts/benchmark.py`); the measuring is `reports.benchmark`."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import lightning as L
import torch

from checkerboard.formatting import markdown_table
from checkerboard.models.upsamplers import UPSAMPLERS
from checkerboard.reports.benchmark import DEFAULT_DATA, DEFAULT_VARIANTS, VARIANTS, measure

# -- report ---------------------------------------------------------------------------------
COLUMNS = ("decoder", "variant", "A is", "A img/s", "B img/s", "ratio A/B (IQR)", "A-B ms/step", "s/epoch",
           "B s/epoch", "image logging", "peak MB A / B", "fit start-up s", "warm-up extra s A / B", "cores A / B")


def table_rows(records: list[dict]) -> list[tuple]:
    return [(r["decoder"], r["variant"], r["path_a"], f"{r['project_images_per_second']:,.0f}",
             f"{r['bare_images_per_second']:,.0f}", f"{r['ratio']:.3f} ({r['ratio_q1']:.3f}-{r['ratio_q3']:.3f})",
             f"{r['overhead_ms_per_step']:.2f}", f"{r['epoch_seconds']:.1f}",
             f"{r['bare_epoch_seconds']:.1f}", f"{100 * r['image_log_share']:.1f}%",
             f"{r['peak_memory_mb_project']:.0f} / {r['peak_memory_mb_bare']:.0f}", f"{r['fit_startup_seconds']:.1f}",
             f"{r['warmup_extra_seconds_project']:.1f} / {r['warmup_extra_seconds_bare']:.1f}",
             f"{r['cores_project']:.2f} / {r['cores_bare']:.2f}") for r in records]


def header(records: list[dict], args, command: str) -> list[str]:
    r = records[0]
    where = (torch.cuda.get_device_name() if args.device == "cuda"
             else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                  f"{torch.get_num_threads()} torch threads")
    loads = [x for rec in records for x in (rec["load_average_before"], rec["load_average_after"])]
    epoch = "measured" if all(x["epoch_measured"] for x in records) else (
        f"{r['steps_timed']} of {r['full_steps']} training batches timed per epoch, full epoch extrapolated")
    return [
        f"`{command}` on {time.strftime('%Y-%m-%d')}: {args.device} ({where}); torch {torch.__version__}, "
        f"lightning {L.__version__}.",
        f"Data {r['data']}: {r['train_images']:,} training images of {'x'.join(map(str, r['image_shape']))}, "
        f"batch size {r['batch_size']}; A and B alternate every {r['chunk']} batch(es); {r['repeats']} epochs after "
        f"a warm-up epoch; ratio per block of {r['block_batches']} batches ({r['blocks']} blocks), median and IQR; "
        f"{epoch}.",
        f"Load average (1 min) during the runs: {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores; "
        f"'cores A / B' is the CPU time each path got per second of wall time.",
        f"Peak MB: {r['memory']} during each path's stretches"
        + (" (one process holds both paths and grows over the decoders run before)." if args.device == "cpu" else "."),
    ]


def markdown(records, args, command) -> str:
    lines = [" ".join(header(records, args, command)), "", *markdown_table(COLUMNS, table_rows(records))]
    return "\n".join(lines) + "\n"


def text_table(records) -> str:
    rows = [COLUMNS, *table_rows(records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python scripts/benchmark.py", description="How fast is the project's training "
                                "path, against a bare PyTorch loop on the same everything?",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Everything after the options is a `python train.py` override "
                                       f"(default: {' '.join(DEFAULT_DATA)}).")
    p.add_argument("--decoders", nargs="+", default=list(UPSAMPLERS), choices=list(UPSAMPLERS))
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=None,
                   help="default: fp32 on cpu; fp32, bf16, bf16+cl, bf16+cl+compile on cuda")
    p.add_argument("--repeats", type=int, default=3, help="timed epochs after the warm-up epoch (default 3)")
    p.add_argument("--steps", type=int, default=None,
                   help="training batches timed per epoch; 0 = whole epochs (default: 50 on cpu, 0 on cuda)")
    p.add_argument("--chunk", type=int, default=None,
                   help="A and B alternate every CHUNK training batches; 0 = whole epochs (default: 1 on cpu, "
                        "0 on cuda, where a sync per step would hide the GPU's queueing)")
    p.add_argument("--val-batches", type=int, default=None,
                   help="validation batches per epoch; 0 = all (default: 5 on cpu, 0 on cuda)")
    p.add_argument("--lightning-alone", action="store_true",
                   help="also time, as A, the same Trainer stripped of the project's logger, callbacks and progress "
                        "bar: Lightning's own loop, to tell its cost from the project's")
    p.add_argument("--json", type=Path, help="write the records here (a JSON list)")
    p.add_argument("--markdown", type=Path, help="write the table here, for the README")
    p.add_argument("overrides", nargs="*", help="train.py overrides, e.g. data=shapes data.batch_size=64")
    args = p.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda, but torch sees no CUDA GPU")
    cpu = args.device == "cpu"
    args.steps = (50 if cpu else 0) if args.steps is None else args.steps
    args.val_batches = (5 if cpu else 0) if args.val_batches is None else args.val_batches
    if args.repeats < 1 or args.steps < 0 or args.val_batches < 0:
        p.error("--repeats must be at least 1, --steps and --val-batches at least 0")
    overrides = args.overrides or DEFAULT_DATA
    if args.chunk is None:
        args.chunk = 1 if cpu else 0
    variants = args.variants or DEFAULT_VARIANTS[args.device]
    data_dir = os.environ.get("CHECKERBOARD_DATA_DIR")
    env = f"CHECKERBOARD_DATA_DIR={data_dir} " if data_dir else ""
    command = env + " ".join(["python scripts/benchmark.py", *(argv if argv is not None else sys.argv[1:])])

    # Lightning's banners and the progress bars (still drawn: they are part of path A) stay out of the table.
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    records = []
    for variant in variants:
        for decoder in args.decoders:
            for alone in (False, True) if args.lightning_alone else (False,):
                with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
                    records.append(measure(decoder, variant, args, overrides, lightning_only=alone))
                r = records[-1]
                print(f"{decoder:<13} {variant:<16} {r['path_a']:<16} A {r['project_images_per_second']:>9,.0f} img/s  "
                      f"B {r['bare_images_per_second']:>9,.0f} img/s  A/B {r['ratio']:.3f} "
                      f"(IQR {r['ratio_q1']:.3f}-{r['ratio_q3']:.3f}, {r['blocks']} blocks)  "
                      f"A-B {r['overhead_ms_per_step']:.2f} ms/step  load {r['load_average_after']:.1f}", flush=True)
    print()
    print("\n".join(header(records, args, command)))
    print(text_table(records))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(records, indent=2) + "\n")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(records, args, command))
    return records
