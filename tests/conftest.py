"""Shared fixtures. The reference data lives in ../shared/data beside the checkout (CI has it)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", REPO.parent / "shared" / "data"))

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def shared(*parts: str) -> Path:
    """Path inside the shared data folder; a missing file is a test failure, never a skip."""
    p = SHARED.joinpath(*parts)
    assert p.exists(), f"shared reference data missing: {p} (set NASRANK_SHARED_DATA)"
    return p


@pytest.fixture(scope="session")
def nb201_csv() -> Path:
    return shared("nb201", "nb201_cifar10.csv")


@pytest.fixture(scope="session")
def nats_dir() -> Path:
    return shared("nb201", "NATS-tss-v1_0-3ffb9-simple")


@pytest.fixture(scope="session")
def cifar10_dir() -> Path:
    return shared("cifar10")


@pytest.fixture(scope="session")
def nb201_bench(nb201_csv):
    """The official CIFAR-10 table for all 15,625 cells (sets the space's index order)."""
    from nasrank.benchmarks.csv_table import load_csv_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    space = Nb201Space()
    return load_csv_benchmark(nb201_csv, space)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (none present)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_default_store(monkeypatch):
    """Tests never read or write the user's default result store."""
    monkeypatch.setenv("NASRANK_STORE", "none")


@pytest.fixture
def one_thread():
    """Run a training-heavy test on one torch thread (restored afterwards)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
