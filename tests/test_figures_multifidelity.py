"""search_multifidelity_cpu.png (issue 33): one panel per method with the mean over seeds and a 95%
band (not twelve overlapping step curves), redrawn from the committed JSON without training."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import _multifidelity_stats as stats  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _cpu() -> dict:
    return json.loads((RESULTS / "search_multifidelity.json").read_text())["cpu"]


def _check(m: dict, methods: list[str]) -> None:
    assert [p["title"].split(" (")[0] for p in m["panels"]] == methods
    for p in m["panels"]:
        assert [e["label"] for e in p["legend"]] == ["mean of 3 seeds", "95% CI over seeds (t)"], p
        assert p["legend"][0]["n_points"] > 0
    assert "n = 3 seeds per method" in m["title"] and "scale C=8, N=1, 16 px" in m["title"]


def test_the_cpu_pilot_is_a_mean_with_a_band_per_method(tmp_path):
    cpu = _cpu()
    stats.plot_cpu(cpu, tmp_path / "cpu.png")
    _check(json.loads((tmp_path / "cpu.figure.json").read_text()), list(cpu["methods"]))


def test_the_mean_is_over_seeds_and_the_band_never_below_zero():
    cpu = _cpu()
    curves = stats._cpu_curves(cpu)
    xs, mean, lo, hi, runs, n = curves["RS+fear"]
    assert n == 3 and len(runs) == 3
    last = [[r for _, r in run["trajectory"] if r is not None][-1] for run in runs]
    assert mean[-1] == np.mean(last)  # every run has ended: the mean of their final regrets
    assert np.nanmin(np.clip(lo, 0, None)) >= 0


def test_the_committed_figure_is_the_redrawn_one():
    _check(json.loads((RESULTS / "search_multifidelity_cpu.figure.json").read_text()), list(_cpu()["methods"]))
