"""Seed-sweep metrics, the bootstrap and the summary's schema (aggregate, frontier, matched)."""
import math

import numpy as np
import pytest

from nasrank.errors import NasrankError
from nasrank.evaluation.seed_stats import METRICS, RunTable, bootstrap, run_metrics
from nasrank.evaluation.sweep_summary import summarize_sweep


def table(scores, truth, seconds, infos=None):
    infos = infos or [{} for _ in scores]
    return RunTable.from_records([{"score": s, "true_acc": t, "seconds": c, "info": i}
                                  for s, t, c, i in zip(scores, truth, seconds, infos)])


def test_run_metrics_by_hand():
    m = run_metrics(table([3.0, 1.0, 2.0], [80.0, 90.0, 85.0], [1.0, 2.0, 3.0]))
    assert m["cost_per_candidate"] == pytest.approx(2.0)
    assert m["spearman"] == pytest.approx(-1.0) and m["kendall"] == pytest.approx(-1.0)
    assert m["winner_true_acc"] == 80.0 and m["regret"] == pytest.approx(10.0)
    assert m["n_candidates"] == 3 and not m["failed"]


def test_winner_is_the_first_on_tied_scores_and_nan_scores_never_win():
    m = run_metrics(table([float("nan"), 2.0, 2.0, 1.0], [99.0, 85.0, 90.0, 80.0], [1, 1, 1, 1]))
    assert m["winner_true_acc"] == 85.0 and m["regret"] == pytest.approx(14.0) and m["n_invalid"] == 1


def test_counts_read_fear_and_cascade_flags():
    infos = [{"reached": False, "rejected": False}, {"reached": False, "rejected": True},
             {"filtered": True}, {"second": {"reached": False, "rejected": False}}, {"second": {"rejected": True}}]
    m = run_metrics(table([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1] * 5, infos))
    assert (m["n_not_reached"], m["n_rejected"], m["n_filtered"]) == (2, 2, 1)


def test_a_run_that_failed_everywhere_has_no_quality():
    m = run_metrics(table([float("nan")] * 3, [80.0, 90.0, 85.0], [1.0, 1.0, 1.0]))
    assert m["failed"] and m["spearman"] is None and m["regret"] is None and m["cost_per_candidate"] == 1.0


def sweep(n_seeds=3, n=20, flaky_seed=None):
    """Family t5/t10/t20 (noise shrinking with cost), 'oracle' (score = truth, 1 s), 'flaky'."""
    out = {}
    for s in range(n_seeds):
        rng = np.random.default_rng(100 + s)
        truth = rng.uniform(70, 95, n)
        runs = {}
        for label, cost, noise in (("t5", 5.0, 12.0), ("t10", 10.0, 6.0), ("t20", 20.0, 3.0)):
            runs[label] = table(truth + rng.normal(0, noise, n), truth, [cost] * n)
        runs["oracle"] = table(truth, truth, [1.0] * n)
        mid = truth + rng.normal(0, 7.0, n)
        runs["flaky"] = table([float("nan")] * n if s == flaky_seed else mid, truth, [4.0] * n)
        out[s] = runs
    return out


def test_schema_and_lower_bound_by_hand():
    res = summarize_sweep(sweep(), family=["t20", "t5", "t10"], n_boot=100, seed=1)
    assert set(res) == {"aggregate", "frontier", "matched", "bootstrap"}
    assert list(res["frontier"]["members"]) == ["t5", "t10", "t20"]  # cheapest first
    member = res["frontier"]["members"]["t10"]
    assert set(member["per_seed"]) == {"0", "1", "2"}
    assert set(member["per_seed"]["0"]) == {"cost_per_candidate", "spearman", "kendall", "regret"}
    assert set(res["matched"]) == {"oracle", "flaky"}
    for label in ("oracle", "flaky"):
        for key in ("spearman", "kendall", "regret"):
            r = res["matched"][label][f"cost_ratio_at_equal_{key}"]
            regret = [res["frontier"]["members"][f]["regret"]["mean"] for f in ("t5", "t10", "t20")]
            if key == "regret" and not (regret[0] >= regret[1] >= regret[2] and regret[2] < regret[0]):
                assert set(r) == {"mean", "ci_low", "ci_high", "extrapolated", "na"} and r["mean"] is None
                continue
            assert set(r) == {"mean", "ci_low", "ci_high", "extrapolated", "p_extrapolated", "p_lower_bound",
                              "p_upper_bound"}
    # the oracle ranks perfectly at 1 s: better than the whole family -> at least t20's 20 s / 1 s
    o = res["matched"]["oracle"]["cost_ratio_at_equal_spearman"]
    assert o["mean"] == pytest.approx(20.0) and o["extrapolated"] == "lower_bound" and o["p_extrapolated"] == 1.0
    assert o["p_lower_bound"] == 1.0 and o["p_upper_bound"] == 0.0
    assert o["ci_low"] == pytest.approx(20.0) and o["ci_high"] == pytest.approx(20.0)
    agg = res["aggregate"]["oracle"]
    assert agg["spearman"]["mean"] == pytest.approx(1.0) and agg["regret"]["mean"] == pytest.approx(0.0)
    for m in METRICS:
        assert set(agg[m]) == {"mean", "ci_low", "ci_high"}
    assert agg["n_candidates"] == 60 and agg["failed_seeds"] == []


def test_bracketed_ratio_matches_the_seed_means():
    tables = sweep()
    res = summarize_sweep(tables, family=["t5", "t10", "t20"], n_boot=50, seed=0)
    fl = res["matched"]["flaky"]["cost_ratio_at_equal_spearman"]
    costs = [5.0, 10.0, 20.0]
    qual = [res["frontier"]["members"][f]["spearman"]["mean"] for f in ("t5", "t10", "t20")]
    q = res["aggregate"]["flaky"]["spearman"]["mean"]
    assert qual[0] < q < qual[2] and fl["extrapolated"] is None
    i = 0 if q <= qual[1] else 1
    frac = (q - qual[i]) / (qual[i + 1] - qual[i])
    expected = math.exp(math.log(costs[i]) + frac * (math.log(costs[i + 1]) - math.log(costs[i]))) / 4.0
    assert fl["mean"] == pytest.approx(expected)
    assert fl["ci_low"] <= fl["mean"] <= fl["ci_high"]


def test_bootstrap_is_reproducible_under_a_seed():
    tables = sweep()
    labels = ["t5", "oracle"]
    a = bootstrap(tables, labels, [0, 1, 2], n_boot=30, seed=7)
    b = bootstrap(tables, labels, [0, 1, 2], n_boot=30, seed=7)
    c = bootstrap(tables, labels, [0, 1, 2], n_boot=30, seed=8)
    assert np.array_equal(a, b, equal_nan=True) and not np.array_equal(a, c, equal_nan=True)
    r1 = summarize_sweep(tables, family=["t5", "t10", "t20"], n_boot=40, seed=3)
    r2 = summarize_sweep(tables, family=["t5", "t10", "t20"], n_boot=40, seed=3)
    assert r1 == r2


def test_a_seed_where_a_ranker_failed_everywhere_is_reported_and_the_rest_aggregate():
    tables = sweep(flaky_seed=1)
    res = summarize_sweep(tables, family=["t5", "t10", "t20"], n_boot=20, seed=0)
    agg = res["aggregate"]["flaky"]
    assert agg["failed_seeds"] == ["1"] and agg["n_invalid"] == 20
    per = agg["per_seed"]
    assert per["1"]["spearman"] is None
    assert agg["spearman"]["mean"] == pytest.approx((per["0"]["spearman"] + per["2"]["spearman"]) / 2)
    assert res["matched"]["flaky"]["cost_ratio_at_equal_spearman"]["mean"] is not None


def test_a_family_of_fewer_than_two_or_unknown_members_is_one_clear_error():
    with pytest.raises(NasrankError, match="at least two"):
        summarize_sweep(sweep(n_seeds=1), family=["t5"], n_boot=5)
    with pytest.raises(NasrankError, match="t40 missing"):
        summarize_sweep(sweep(n_seeds=1), family=["t5", "t40"], n_boot=5)


def test_plots_are_written_and_missing_values_are_not_drawn(tmp_path):
    from nasrank.evaluation.frontier_plots import _dodge, write_sweep_plots

    tables = sweep()
    for s in tables:
        tables[s]["oracle_twin"] = tables[s]["oracle"]  # a tie
    res = summarize_sweep(tables, family=["t5", "t10", "t20"], n_boot=10, seed=0)
    res["aggregate"]["broken"] = {**res["aggregate"]["flaky"], "spearman": {"mean": None, "ci_low": None,
                                                                            "ci_high": None}}
    paths = write_sweep_plots(res, tmp_path)
    assert [p.name for p in paths] == ["frontier.png", "regret_vs_cost.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    factor, tied = _dodge([("a", 1.0, 1.0), ("b", 1.0, 1.0), ("c", 5.0, 0.5)], 0.5)
    assert tied and factor["a"] == 1.0 and factor["b"] > 1.0 and factor["c"] == 1.0
