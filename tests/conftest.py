"""Fixtures shared by the tests; helpers live in tests/helpers.py."""

import os

import pytest

# The tests' tensors are tiny: one thread per process is as fast, and stays fast when other work
# holds the second core (torch's threads otherwise wait for each other at every op). Subprocesses
# started by the tests (the CLI, sweeps, DDP) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def no_cifar_md5(monkeypatch):
    """Our tiny CIFAR files cannot match the real md5s; skip that check (tests only)."""
    import torchvision.datasets.cifar as cifar

    monkeypatch.setattr(cifar, "check_integrity", lambda *a, **k: True)
