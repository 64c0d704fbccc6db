"""MeCo on a trained network: the float32 eigenvalue solver can fail to converge (seen on NB201 cells
after training, benchmarks/zero_shot_training.py); the score must then come from float64, or be an
invalid score with its reason, never an exception (issue 31's rule for degenerate cases)."""
from __future__ import annotations

import math

import pytest
import torch

from test_zero_cost_measures import batch, one, tiny

from nasrank.rankers.zero_cost import _meco

REAL_EIGVALSH = torch.linalg.eigvalsh


def _fails_in(dtypes):
    def eigvalsh(a, *args, **kwargs):
        if a.dtype in dtypes:
            raise torch.linalg.LinAlgError("linalg.eigh: The algorithm failed to converge")
        return REAL_EIGVALSH(a, *args, **kwargs)
    return eigvalsh


def test_a_float32_solver_failure_falls_back_to_float64(monkeypatch):
    net = tiny(channels=8)
    want, _ = one(net, "meco")
    monkeypatch.setattr(_meco.torch.linalg, "eigvalsh", _fails_in({torch.float32}))
    got, why = one(net, "meco")
    assert why is None and got == pytest.approx(want, rel=1e-5)


def test_a_solver_that_never_converges_gives_an_invalid_score_with_its_reason(monkeypatch):
    monkeypatch.setattr(_meco.torch.linalg, "eigvalsh", _fails_in({torch.float32, torch.float64}))
    for name in ("meco", "meco_opt"):
        v, why = one(tiny(channels=8), name)
        assert math.isnan(v) and "did not converge" in why, name
