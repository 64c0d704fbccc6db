"""report.png and the search curves (issue 33): no search curve for an evaluate output (its own
criteria figure instead), a caption, CI bands inside the feasible range, log ticks that do not collide."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nasrank.cli import main
from nasrank.evaluation.figures import compact_ticks, plt
from nasrank.evaluation.plots import Series, _draw


def _manifest(path) -> dict:
    return json.loads(path.with_suffix(".figure.json").read_text())


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    for seed in (0, 1):
        assert main(["search", "--benchmark", "embedded", "--budget-queries", "12", "--seed", str(seed),
                     "--output", str(root / f"rs{seed}"), "--quiet", "--no-store"]) == 0
    assert main(["evaluate", "--benchmark", "embedded", "--rankers", "params,tabular", "--sample", "15",
                 "--output", str(root / "ev"), "--quiet", "--no-store", "--no-plots"]) == 0
    return root


def test_evaluate_outputs_get_no_search_curve_but_their_criteria(outputs, tmp_path):
    out = tmp_path / "r"
    assert main(["report", str(outputs / "rs0"), str(outputs / "rs1"), str(outputs / "ev"), "--output", str(out),
                 "--quiet"]) == 0
    curves = _manifest(out / "report.png")
    labels = [e["label"] for p in curves["panels"] for e in p["legend"]]
    assert not any(lab.startswith("ev/") for lab in labels), labels  # an evaluate is a sample, not a search
    assert "n = 2 runs" in curves["title"] and "benchmark embedded" in curves["title"] and "scale " in curves["title"]
    crit = _manifest(out / "report_evaluate.png")
    assert [e["label"] for e in crit["panels"][0]["legend"]] == ["Spearman", "Kendall tau"]
    assert all(e["n_points"] == 2 for e in crit["panels"][0]["legend"])  # ev/params and ev/tabular
    assert "n = 2 runs" in crit["title"]
    assert "report_evaluate.png" in {p.name for p in out.iterdir()}


def test_a_ci_band_stays_below_the_optimum():
    fig, ax = plt.subplots()
    xs = np.array([1.0, 2.0, 3.0])
    s = Series("g", xs, np.array([90.0, 93.0, 94.0]), 3, np.array([85.0, 90.0, 93.0]), np.array([95.0, 96.0, 97.0]))
    _draw(ax, [s], {"g": "C0"}, ceiling=94.37)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(94.37) and band.min() >= 0
    plt.close(fig)


def test_log_ticks_over_seven_decades_do_not_crowd():
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([0.02, 4e5], [1, 2])
    ax.set_xscale("log")
    compact_ticks(ax, "x")
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    shown = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(shown) <= 8, shown  # decades only (1-2-5 gave 20 labels that ran into each other)
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    assert all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:])), "tick labels overlap"
    plt.close(fig)


def test_search_and_compare_figures_carry_the_caption(tmp_path):
    assert main(["search", "--benchmark", "embedded", "--budget-queries", "10", "--output", str(tmp_path / "s"),
                 "--plot", "--quiet", "--no-store"]) == 0
    title = _manifest(tmp_path / "s" / "trajectory.png")["title"]
    assert "n = 10 evaluations" in title and "benchmark embedded" in title and "scale defaults" in title
    assert main(["compare", "--benchmark", "embedded", "--rankers", "tabular,params", "--candidates", "4",
                 "--channels", "8", "--output", str(tmp_path / "c"), "--quiet", "--no-store"]) == 0
    title = _manifest(tmp_path / "c" / "cost_vs_accuracy.png")["title"]
    assert "n = 4 candidates per ranker" in title and "scale C=8" in title
