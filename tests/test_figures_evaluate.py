"""evaluate's figures (issue 33): a caption with n, the benchmark and the scale; percentile-rank axes
where one outlier squashes the rest; identical panels named; a zero bar unlike a missing one."""
from __future__ import annotations

import json

import numpy as np

from nasrank.evaluation.figures import caption, scale_text, squashed
from nasrank.evaluation.ranking_report import evaluate_caption, plot_criteria, plot_scatter


def _manifest(path) -> dict:
    return json.loads(path.with_suffix(".figure.json").read_text())


def _truth_with_an_outlier(n: int = 60) -> np.ndarray:
    t = np.linspace(85.0, 94.0, n)
    t[3] = 10.0  # a degenerate cell (all skip/none): the 10% that squashed every panel
    return t


def test_one_ten_percent_cell_gives_percentile_rank_axes(tmp_path):
    t = _truth_with_an_outlier()
    params = np.linspace(1e5, 1.5e6, len(t))
    m = _manifest(plot_scatter(tmp_path / "s.png", {"params": (params, t)}, {"params": 0.5},
                               truth_label="true accuracy (cifar10)", caption="n = 60 architectures"))
    panel = m["panels"][0]
    assert panel["ylabel"] == "true accuracy (cifar10), percentile rank"  # not squashed into 85..94
    assert "percentile rank" not in panel["xlabel"]  # params: a log axis is enough
    assert "n = 60" in panel["title"] and "Spearman 0.500" in panel["title"]
    assert "n = 60 architectures" in m["title"] and "outliers" in m["title"]
    spread = plot_scatter(tmp_path / "t.png", {"params": (params, np.linspace(85.0, 94.0, len(t)))})
    assert "percentile" not in _manifest(spread)["panels"][0]["ylabel"]  # no outlier: raw accuracy


def test_panels_with_the_same_ranking_are_named(tmp_path):
    t = np.linspace(80, 94, 30)
    a = np.linspace(1.0, 2.0, 30)
    m = _manifest(plot_scatter(tmp_path / "s.png", {"a": (a, t), "b": (a * 3 + 1, t), "c": (a[::-1], t)}))
    titles = [p["title"].split("\n")[0] for p in m["panels"]]
    assert titles == ["a", "b (same ranking as a)", "c"]
    assert any("b orders the architectures as a does" in n for n in m["notes"])


def test_a_zero_bar_looks_unlike_a_missing_one(tmp_path):
    crit = {"a": {"spearman": 0.0, "br_at_0.01": 0.1}, "b": {"spearman": None, "br_at_0.01": 0.0}}
    m = _manifest(plot_criteria(tmp_path / "c.png", crit, caption="n = 9 architectures · benchmark x"))
    left, right = m["panels"]
    assert left["texts"] == ["0", "n/a"]  # a's zero is a labelled stub, b's missing a labelled gap
    assert right["texts"] == ["0"]
    assert left["legend"][0]["n_points"] == 1  # one Spearman value (a's zero), b's is no bar
    assert "n = 9 architectures" in m["title"] and "n/a" in m["title"]
    assert m["notes"] == ["n/a (no value): b: Spearman"]


def test_the_caption_names_n_the_benchmark_and_the_scale():
    assert scale_text({"channels": 8, "cells_per_stage": 1, "image_size": 16, "epochs": 9}) == "C=8, N=1, 16 px, 9 epochs"
    assert scale_text({}) == "defaults"
    assert caption(200, "architectures", "embedded", "cifar10", {"channels": 4}) == \
        "n = 200 architectures · benchmark embedded (cifar10) · scale C=4"
    rep = {"n_archs": 20, "benchmark": "csv:x.csv", "dataset": "cifar10",
           "rankers": {"params": {"config": {}}, "train": {"config": {"channels": 4, "epochs": 3}}}}
    assert evaluate_caption(rep) == ("n = 20 architectures · benchmark csv:x.csv (cifar10) · "
                                     "scale params: defaults; train: C=4, 3 epochs")
    assert squashed(_truth_with_an_outlier()) and not squashed(np.linspace(85, 94, 60))


def test_the_evaluate_command_draws_the_caption(tmp_path, nb201_csv):
    from nasrank.cli import main

    out = tmp_path / "ev"
    assert main(["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params,tabular", "--sample", "20",
                 "--output", str(out), "--quiet", "--no-store"]) == 0
    for stem in ("scatter", "criteria"):
        title = _manifest(out / f"{stem}.png")["title"]
        assert "n = 20 architectures" in title and f"benchmark csv:{nb201_csv}" in title and "scale " in title
