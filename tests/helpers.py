"""Test helpers: the CLI as a user runs it, and tiny datasets written in torchvision's own formats."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from checkerboard import ROOT
from checkerboard.data.shapes import make_shapes

# Small and quick: every training test uses the real `debug=tiny` config unless it says otherwise.
TINY = ["debug=tiny"]


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 300):
    """`python train.py <args>` as a user runs it; returns the CompletedProcess."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, str(ROOT / "train.py"), *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def _write_idx(path: Path, array: np.ndarray) -> None:
    # IDX: two zero bytes, type 0x08 (uint8), number of dimensions, then each dimension big-endian.
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str = "MNIST", n_train: int = 96, n_test: int = 32) -> Path:
    """Tiny MNIST in the original IDX files, where torchvision.datasets.MNIST looks for them."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images = make_shapes(n, 28, 1, seed=seed)[:, 0].numpy()
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    return root


def write_cifar10(root: Path, n_per_batch: int = 24) -> Path:
    """Tiny CIFAR-10 in the original pickled batches (rows of 3072 bytes, R then G then B planes)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        images = make_shapes(n_per_batch, 32, 3, seed=i).numpy().reshape(n_per_batch, -1)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": images, "labels": list(range(n_per_batch))}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)
    return root


def write_png_folder(root: Path, sizes=((32, 32),), per_class: int = 6) -> Path:
    """A tiny ImageFolder tree of PNGs: root/train/<class>/*.png and root/test/<class>/*.png."""
    from torchvision.io import write_png

    k = 0
    for split in ("train", "test"):
        for cls in ("a", "b"):
            (root / split / cls).mkdir(parents=True)
            for j in range(per_class):
                h, w = sizes[k % len(sizes)]
                img = make_shapes(1, max(h, w), 3, seed=k)[0, :, :h, :w]
                write_png(img.contiguous(), str(root / split / cls / f"{j}.png"))
                k += 1
    return root
