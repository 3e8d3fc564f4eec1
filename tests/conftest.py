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


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: absent without it, and then not called
def pytest_xdist_make_scheduler(config, log):
    """Under ``-n`` a module's tests go to one worker (``--dist loadscope``) unless ``--dist`` names
    another mode, so a module's fixtures (the generator runs of test_generators.py) train once."""
    if config.getoption("dist") == "load":
        from xdist.scheduler import LoadScopeScheduling

        return LoadScopeScheduling(config, log)
    return None
