"""Issue 15 item 13: torch threads follow the affinity mask unless the user sets them."""
from __future__ import annotations

import os

import pytest
import torch

from nasrank.errors import NasrankError
from nasrank.runtime.threads import available_cores, choose_threads, limit_torch_threads


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_affinity_decides_without_user_setting(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    torch.set_num_threads(4)
    assert available_cores() == 1
    assert limit_torch_threads() == {"torch_threads": 1, "threads_from": "cpu affinity"}
    assert torch.get_num_threads() == 1


def test_user_settings_win(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    torch.set_num_threads(3)
    assert choose_threads() == (None, "OMP_NUM_THREADS")
    assert limit_torch_threads()["torch_threads"] == 3
    assert limit_torch_threads(2) == {"torch_threads": 2, "threads_from": "--threads"}
    for bad in (0, -1, "2", True):
        with pytest.raises(NasrankError, match="--threads"):
            choose_threads(bad)


def test_cli_threads_option(monkeypatch, nb201_csv, tmp_path):
    import json

    from nasrank.cli import main

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    out = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--quiet", "--no-store",
                 "--threads", "1", "--output", str(out)]) == 0
    assert torch.get_num_threads() == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["torch_threads"] == 1
