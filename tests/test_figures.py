"""Figures tell the truth: every legend entry has data, no empty panel, seeds merged with a band,
identical curves named, modelled and measured cost never on one axis, None never drawn as 0."""
from __future__ import annotations

import json
import math

import numpy as np

from nasrank.cli import main
from nasrank.evaluation.figures import palette, short_number
from nasrank.evaluation.plots import curves, plot_trajectories
from nasrank.evaluation.ranking_report import plot_criteria, plot_scatter
from nasrank.runs.history import History


def _manifest(path) -> dict:
    return json.loads(path.with_suffix(".figure.json").read_text())


def _assert_no_empty(manifest: dict) -> None:
    assert manifest["panels"], manifest
    for panel in manifest["panels"]:
        assert panel["n_points"] > 0, panel
        for entry in panel["legend"]:
            assert entry["n_points"] > 0, (panel["title"], entry)


def test_report_merges_seeds_and_never_lists_a_run_without_data(tmp_path, nb201_csv):
    bench = f"csv:{nb201_csv}"
    for seed in (0, 1, 2):
        assert main(["search", "--benchmark", bench, "--budget-queries", "15", "--seed", str(seed),
                     "--output", str(tmp_path / f"rs{seed}"), "--quiet"]) == 0
    assert main(["search", "--ranker", "params", "--benchmark", "none", "--budget-queries", "5", "--output", str(tmp_path / "nobench"),
                 "--quiet"]) == 0  # no benchmark: no true accuracy, nothing to draw
    assert main(["compare", "--benchmark", bench, "--rankers", "params,tabular", "--candidates", "8",
                 "--output", str(tmp_path / "cmp")]) == 0
    out = tmp_path / "rep"
    runs = [str(tmp_path / n) for n in ("rs0", "rs1", "rs2", "nobench", "cmp")]
    assert main(["report", *runs, "--output", str(out), "--format", "png,pdf,svg", "--quiet"]) == 0
    for ext in ("png", "pdf", "svg"):
        assert (out / f"report.{ext}").stat().st_size > 5000
    m = _manifest(out / "report.png")
    _assert_no_empty(m)
    labels = [e["label"] for p in m["panels"] for e in p["legend"]]
    assert "random+tabular (mean of 3, 95% CI)" in labels  # three seeds: one curve, one colour
    assert not any(lab.startswith("rs") for lab in labels)  # ... not three
    assert not any("nobench" in lab for lab in labels) and any("nobench" in n for n in m["notes"])
    # measured (params) and modelled (tabular) costs on different axes, each axis saying which
    for p in m["panels"]:
        names = [e["label"] for e in p["legend"] if not e["label"].startswith("optimum")]
        if "cmp/params" in names:
            assert "measured wall time on cpu" in p["xlabel"] and "cmp/tabular" not in names
        else:
            assert "benchmark training" in p["xlabel"]
    assert {p["title"].split(":")[0] for p in m["panels"]} == {"selected", "found"}
    group = json.loads((out / "report.json").read_text())["groups"]
    assert [g["group"] for g in group] == ["random+tabular"] and group[0]["n_runs"] == 3
    assert group[0]["best_true_acc_ci95"] is not None and group[0]["best_true_acc_ci95"] >= 0


def _history(rows) -> History:
    h = History()
    for score, acc in rows:
        h.append("a", score, 1.0, 1.0, acc, "r")
    return h


def test_selected_can_fall_while_found_never_does():
    h = _history([(1.0, 90.0), (2.0, 80.0), (0.5, 95.0), (float("nan"), None)])
    c = curves(h)
    assert [y for _, y in c["selected"]] == [90.0, 80.0, 80.0, 80.0]  # best-scored got worse in truth
    assert [y for _, y in c["found"]] == [90.0, 90.0, 95.0, 95.0]


def test_none_true_accuracy_is_a_gap_not_zero():
    h = _history([(1.0, None), (2.0, None), (3.0, 91.0)])
    c = curves(h)
    assert c["selected"] == [(3.0, 91.0)] and c["found"] == [(3.0, 91.0)]


def test_identical_curves_are_named_and_all_drawn(tmp_path):
    h = _history([(1.0, 90.0), (2.0, 92.0)])
    path = plot_trajectories([("a", h), ("b", h)], tmp_path / "t.png")
    m = _manifest(path)
    _assert_no_empty(m)
    assert [e["label"] for e in m["panels"][0]["legend"]] == ["a", "b (identical to a)"]


def test_nothing_to_draw_writes_no_figure(tmp_path):
    assert plot_trajectories([("x", _history([(1.0, None)]))], tmp_path / "t.png") is None
    assert not (tmp_path / "t.png").exists()


def test_palette_does_not_repeat():
    for n in (3, 10, 11, 20, 21, 40):
        assert len({tuple(c) for c in palette(n)}) == n


def test_criteria_never_draw_none_as_zero(tmp_path):
    crit = {"a": {"spearman": 0.5, "kendall_tau": None, "br_at_0.01": 0.1},
            "b": {"spearman": None, "kendall_tau": None, "br_at_0.01": 0.2}}
    m = _manifest(plot_criteria(tmp_path / "c.png", crit))
    _assert_no_empty(m)
    labels = [e["label"] for p in m["panels"] for e in p["legend"]]
    assert labels == ["Spearman", "BR@1%"]  # Kendall: no ranker has it, no entry; P@top5%, BR@5%: none
    spear = m["panels"][0]["legend"][0]
    assert spear["n_points"] == 1  # b's missing Spearman is not a zero bar


def test_scatter_skips_rankers_without_a_valid_score_and_short_ticks(tmp_path):
    truth = np.linspace(80, 94, 30)
    m = _manifest(plot_scatter(tmp_path / "s.png", {"params": (np.linspace(1e5, 1.5e6, 30), truth),
                                                    "broken": (np.full(30, np.nan), truth)}))
    _assert_no_empty(m)
    assert len(m["panels"]) == 1 and "broken" in m["notes"][0]
    assert short_number(200000) == "200k" and short_number(1.5e6) == "1.5M" and short_number(12) == "12"
    assert short_number(math.nan) == ""


def test_plot_without_output_is_an_error(nb201_csv, capsys):
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--plot", "--quiet"]) == 2
    assert "--plot writes DIR/trajectory.png and needs --output DIR" in capsys.readouterr().err


def test_unknown_format_is_one_clear_error(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["report", "x", "--format", "png,jpg"])
    assert exc.value.code == 2 and "--format" in capsys.readouterr().err


def test_seed_mean_starts_where_every_run_has_a_value_and_never_falls():
    from nasrank.evaluation.seeds import mean_ci_curve

    a = [(1.0, 90.0), (3.0, 95.0)]
    b = [(2.0, 80.0), (4.0, 85.0)]  # starts later and lower: an all-runs-so-far mean would fall at x=2
    xs, mean, lo, hi = mean_ci_curve([a, b])
    assert list(xs) == [2.0, 3.0, 4.0] and list(mean) == [85.0, 87.5, 90.0]
    assert (lo <= mean).all() and (hi >= mean).all()


def test_manifest_names_lines_that_draw_the_same_points(tmp_path):
    from nasrank.evaluation.figures import plt, save_figure

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.1, 0.5, 0.2], label="params")
    ax.plot([1, 2, 3], [0.1, 0.5, 0.2], label="flops", ls="--", marker="s")
    ax.plot([1, 2, 3], [0.1, 0.5, 0.3], label="synflow")
    ax.legend()
    save_figure(fig, tmp_path / "f.png")
    assert _manifest(tmp_path / "f.png")["panels"][0]["identical"] == [["params", "flops"]]
