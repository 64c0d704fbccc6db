"""Estimator analysis: NB201 features, bias and variance statistics, and ``nasrank analyze``."""
from __future__ import annotations

import csv
import json
import math
import time

import numpy as np
import pytest
import torch

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.evaluation.bias import (complexity_bias, complexity_bins, feature_bias, rank_errors, rank_percentiles,
                                     rank_residuals, summarize_bias)
from nasrank.evaluation.variance import matrix_from_long, repeat_consistency
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space, live_edges
from nasrank.spaces.nb201_features import complexity_coefficients, nb201_features, structural_features
from nasrank.utils.complexity import count_flops, count_params

HEADER = "arch,ranker,repeat,score,seconds,device_seconds,true_acc"


# --------------------------------------------------------------------------
# NB201 features
# --------------------------------------------------------------------------
def test_path_features_hand_cases():
    # edges: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
    a = Nb201Arch(("nor_conv_3x3", "none", "nor_conv_1x1", "skip_connect", "none", "nor_conv_3x3"))
    f = nb201_features(a)
    # paths: 0->3 (skip: parameter-free) and 0->1->2->3 (conv3, conv1, conv3)
    assert f["n_paths"] == 2 and f["n_param_free_paths"] == 1 and f["n_conv_paths"] == 1
    assert f["has_conv_path"] == 1 and f["longest_conv_path"] == 3 and f["shortest_conv_path"] == 0
    assert f["depth"] == 3 and f["n_live_conv"] == 3 and f["n_dead_ops"] == 0
    assert (f["n_none"], f["n_skip_connect"], f["n_nor_conv_1x1"], f["n_nor_conv_3x3"], f["n_avg_pool_3x3"]) == (2, 1, 1, 2, 0)
    assert f["params"] == pytest.approx(Nb201Space.official_params_m(a) * 1e6)

    dead = Nb201Arch(("nor_conv_3x3", "none", "none", "none", "none", "skip_connect"))  # no path
    g = nb201_features(dead)
    assert g["n_paths"] == 0 and g["has_conv_path"] == 0 and g["longest_conv_path"] == 0
    assert g["n_dead_ops"] == 2 and g["n_live_conv"] == 0 and g["n_nor_conv_3x3"] == 1

    pools = Nb201Arch(("avg_pool_3x3", "skip_connect", "avg_pool_3x3", "avg_pool_3x3", "skip_connect", "skip_connect"))
    h = nb201_features(pools)
    assert h["n_paths"] == 4 == h["n_param_free_paths"] and h["has_conv_path"] == 0 and h["longest_conv_path"] == 0
    assert h["params"] == 73306 and h["depth"] == 3

    conv_direct = Nb201Arch(("none", "none", "none", "nor_conv_1x1", "none", "none"))
    k = nb201_features(conv_direct)
    assert (k["n_paths"], k["n_conv_paths"], k["longest_conv_path"], k["shortest_conv_path"], k["depth"]) == (1, 1, 1, 1, 1)
    assert k["n_param_free_paths"] == 0


def test_path_features_agree_with_live_edges_on_all_cells():
    space = Nb201Space()
    for a in space.all_archs():
        f = structural_features(a.ops)
        live = live_edges(a)
        assert (f["n_paths"] > 0) == any(live)
        assert f["n_live_conv"] == sum(l and o.startswith("nor_conv") for l, o in zip(live, a.ops))
        assert f["n_dead_ops"] == sum(o != "none" and not l for l, o in zip(live, a.ops))
        assert f["has_conv_path"] == (f["n_conv_paths"] > 0) and f["n_paths"] == f["n_conv_paths"] + f["n_param_free_paths"]


@pytest.mark.parametrize("scale", [{}, {"channels": 8, "cells_per_stage": 2, "num_classes": 7}])
def test_params_and_flops_match_the_counters(scale):
    space = Nb201Space(**scale)
    rng = np.random.default_rng(3)
    for _ in range(4):
        a = space.sample(rng)
        with torch.device("meta"):
            net = space.build(a)
        f = space.features(a)
        assert f["params"] == count_params(net)
        assert f["flops"] == count_flops(net, space.input_shape(1))
    if not scale:
        c = complexity_coefficients()
        assert c["params"] == (73306.0, 243040.0, 28000.0)  # the official formula, in parameters


def test_features_are_fast_and_official_on_all_cells(nb201_csv):
    structural_features.cache_clear()
    space = Nb201Space()
    with open(nb201_csv) as fh:
        rows = list(csv.DictReader(fh))
    archs = [space.from_string(r["arch"]) for r in rows]
    t0 = time.perf_counter()
    feats = [space.features(a) for a in archs[:1000]]
    assert time.perf_counter() - t0 < 5.0  # ~0.05 s on an idle core
    for r, f in zip(rows, feats):
        assert f["params"] / 1e6 == pytest.approx(float(r["params_m"]), abs=1e-9)


# --------------------------------------------------------------------------
# bias statistics, hand-computed
# --------------------------------------------------------------------------
def test_rank_percentiles_average_ties():
    assert rank_percentiles([10, 20, 20, 40]).tolist() == [0.0, 0.5, 0.5, 1.0]
    assert rank_percentiles([7.0]).tolist() == [0.5]
    assert rank_percentiles([]).shape == (0,)


def test_rank_errors_drop_invalid_pairs():
    err = rank_errors([3, 1, 2, np.nan], [1, 2, 3, 4])
    # over the 3 valid pairs: p(score) = [1, 0, .5], p(truth) = [0, .5, 1]
    assert err[:3].tolist() == [1.0, -0.5, -0.5] and math.isnan(err[3])
    # an affine copy of the truth percentiles has zero residual
    assert np.allclose(rank_residuals([1, 2, 3, 4], [10, 20, 30, 40]), 0)


def test_complexity_bins_equal_count_ties_together():
    # average ranks 4, 1, 2.5, 2.5, 6, 5 -> floor((r - 1) * 5 / 6)
    assert complexity_bins([5, 1, 3, 3, 9, 7], 5).tolist() == [2, 0, 1, 1, 4, 3]
    assert complexity_bins(np.arange(10), 5).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    with pytest.raises(NasrankError):
        complexity_bins([1, 2], 0)


def test_complexity_bias_hand_case_small_nets_favoured():
    c = [1, 2, 3, 4, 5, 6, 7, 8]
    t = [1, 2, 3, 4, 5, 6, 7, 8]
    s = [5, 6, 7, 8, 1, 2, 3, 4]  # ranks the 4 smallest nets above the 4 largest
    cb = complexity_bias(s, t, c, bins=2)
    b0, b1 = cb["bins"]
    assert (b0["lo"], b0["hi"], b0["n"], b1["lo"], b1["hi"], b1["n"]) == (1, 4, 4, 5, 8, 4)
    assert b0["kendall_tau"] == pytest.approx(1.0) and b1["kendall_tau"] == pytest.approx(1.0)
    assert b0["rank_shift"] == pytest.approx(4 / 7) and b1["rank_shift"] == pytest.approx(-4 / 7)
    assert cb["controlled_kendall_tau"] == pytest.approx(1.0)
    text = summarize_bias("r", cb, {})
    assert "favours small networks" in text


def test_complexity_bias_ties_and_single_architecture_bin():
    c = [1, 1, 2, 3, 4]       # avg ranks 1.5, 1.5, 3, 4, 5 -> bins 0, 0, 1, 1, 2
    t = [1, 2, 3, 3, 5]       # p(t) = [0, .25, .625, .625, 1]
    s = [5, 1, 4, 3, 2]       # p(s) = [1, 0, .75, .5, .25]
    cb = complexity_bias(s, t, c, bins=3)
    b = cb["bins"]
    assert [x["n"] for x in b] == [2, 2, 1]
    assert [(x["lo"], x["hi"]) for x in b] == [(1, 1), (2, 3), (4, 4)]
    assert b[0]["kendall_tau"] == pytest.approx(-1.0)
    assert b[1]["kendall_tau"] is None  # constant truth inside the bin
    assert b[2]["kendall_tau"] is None  # one architecture
    assert [x["rank_shift"] for x in b] == pytest.approx([0.375, 0.0, -0.75])
    assert cb["controlled_kendall_tau"] == pytest.approx(-1.0)  # nan bins ignored
    assert cb["n_bins_with_tau"] == 1
    # an invalid score is dropped before binning
    cb2 = complexity_bias([5, 1, 4, 3, 2, np.nan], t + [4], c + [9], bins=3)
    assert cb2["n"] == 5 and cb2["n_dropped"] == 1 and cb2["bins"] == cb["bins"]


def test_feature_bias_hand_case():
    s, t = [3, 1, 2, 4], [1, 2, 3, 4]  # errors 2/3, -1/3, -1/3, 0
    fb = feature_bias(s, t, {"f": [2, 0, 0, 1], "const": [1, 1, 1, 1]})
    f = fb["f"]
    assert f["spearman_feature_vs_error"] == pytest.approx(1.0)
    assert f["rank_shift_top"] == pytest.approx(2 / 3) and f["n_top"] == 1 and f["top_value"] == 2
    assert f["rank_shift_bottom"] == pytest.approx(-1 / 3) and f["n_bottom"] == 2 and f["bottom_value"] == 0
    # median of f is 0.5: upper half {2, 1} -> (2/3 + 0) / 2, lower half {0, 0} -> -1/3
    assert f["rank_shift_upper"] == pytest.approx(1 / 3) and f["rank_shift_lower"] == pytest.approx(-1 / 3)
    c = fb["const"]
    assert c["spearman_feature_vs_error"] is None
    assert c["rank_shift_top"] == pytest.approx(0.0) == c["rank_shift_bottom"]


def test_summary_names_overrated_ops():
    ops = {"n_a": {"spearman_feature_vs_error": 0.3, "rank_shift_top": 0.2},
           "n_b": {"spearman_feature_vs_error": 0.3, "rank_shift_top": 0.01},   # shift below threshold
           "n_c": {"spearman_feature_vs_error": -0.4, "rank_shift_top": -0.2}}
    text = summarize_bias("zz", None, ops)
    assert text.startswith("zz over-rates a (rho +0.30") and "under-rates c" in text and " b " not in text
    # a top-value group under 5% of the cells: the upper half's shift decides
    small = {"n_d": {"spearman_feature_vs_error": 0.4, "rank_shift_top": -0.1, "n_top": 1, "n": 100,
                     "rank_shift_upper": 0.2}}
    assert summarize_bias("zz", None, small).startswith("zz over-rates d (rho +0.40, shift of high counts +0.20)")
    small["n_d"]["n_top"] = 5
    assert summarize_bias("zz", None, small).startswith("zz over-rates no op")


# --------------------------------------------------------------------------
# variance, hand-computed
# --------------------------------------------------------------------------
def test_repeat_consistency_hand_case():
    m = np.array([[1, 2, 3, 4, 5.0],
                  [1, 2, 4, 3, np.nan],
                  [4, 3, 2, 1, 0.0]])
    v = repeat_consistency(m, ["r0", "r1", "r2"])
    taus = {(p["a"], p["b"]): (p["kendall_tau"], p["n"]) for p in v["pairwise"]}
    assert taus[("r0", "r1")][0] == pytest.approx(2 / 3) and taus[("r0", "r1")][1] == 4
    assert taus[("r0", "r2")][0] == pytest.approx(-1.0) and taus[("r0", "r2")][1] == 5
    assert taus[("r1", "r2")][0] == pytest.approx(-2 / 3)
    assert v["mean_kendall_tau"] == pytest.approx(-1 / 3) and v["min_kendall_tau"] == pytest.approx(-1.0)
    # complete archs 0..3: per-arch std (ddof 1) sqrt(3), sqrt(1/3), 1, sqrt(21)/3;
    # std of the means [2, 7/3, 3, 8/3] is sqrt(5/27)
    assert v["n_complete_archs"] == 4
    assert v["std_of_mean_scores"] == pytest.approx(math.sqrt(5 / 27))
    assert v["median_relative_std"] == pytest.approx((1 + math.sqrt(21) / 3) / 2 / math.sqrt(5 / 27))
    with pytest.raises(NasrankError):
        repeat_consistency(m[:1])
    # the rank version ignores an increasing transform of the scores; the raw ratio does not
    e = repeat_consistency(np.exp(3 * m))
    assert e["median_relative_std_ranks"] == pytest.approx(v["median_relative_std_ranks"])
    assert e["median_relative_std"] != pytest.approx(v["median_relative_std"])
    # complete archs 0..3 in percentiles: [0,1/3,2/3,1], [0,1/3,1,2/3], [1,2/3,1/3,0]
    pc = np.array([[0, 1, 2, 3], [0, 1, 3, 2], [3, 2, 1, 0]]) / 3
    expect = np.median(pc.std(axis=0, ddof=1) / pc.mean(axis=0).std(ddof=1))
    assert v["median_relative_std_ranks"] == pytest.approx(expect)


def test_identical_repeats_and_long_format():
    archs, reps, mat = matrix_from_long(["a", "b", "c", "a", "b", "c"], [0, 0, 0, 1, 1, 1], [1, 2, 3, 1, 2, 3])
    assert archs == ["a", "b", "c"] and reps == [0, 1]
    v = repeat_consistency(mat)
    assert v["mean_kendall_tau"] == 1.0 and v["median_relative_std"] == 0.0 == v["median_relative_std_ranks"]
    with pytest.raises(NasrankError, match="two scores"):
        matrix_from_long(["a", "a"], [0, 0], [1, 2])


# --------------------------------------------------------------------------
# nasrank analyze
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_rows(nb201_csv):
    with open(nb201_csv) as fh:
        return list(csv.DictReader(fh))


def _write(path, lines):
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return path


def test_analyze_end_to_end(tmp_path, table_rows, nb201_csv, capsys):
    from nasrank.evaluation.criteria import spearman

    rng = np.random.default_rng(0)
    pick = [table_rows[i] for i in rng.choice(len(table_rows), 60, replace=False)]
    lines = [HEADER + ",variant"]
    for r in pick:
        lines.append(f"{r['arch']},params,0,{r['params_m']},0.01,0.01,,")  # true_acc from the benchmark
        for rep in (0, 1):  # a second ranker with two repeats that differ by a small jitter
            jitter = float(rng.normal(0, 0.05))
            lines.append(f"{r['arch']},params_jitter,{rep},{float(r['params_m']) + jitter},0.01,0.01,{r['test_acc']},seed")
    lines.append(f"{pick[0]['arch']},params_jitter,2,nan,0.01,0.01,,seed")  # a NaN score: dropped and counted
    scores = _write(tmp_path / "scores.csv", lines)
    out = tmp_path / "out"
    rc = main(["analyze", "--scores", str(scores), "--benchmark", f"csv:{nb201_csv}", "--space", "nb201",
               "--dataset", "cifar10", "--output", str(out)])
    assert rc == 0
    res = json.loads((out / "analysis.json").read_text())
    for png in ("bias_complexity.png", "bias_ops.png", "variance.png"):
        assert (out / png).stat().st_size > 1000
    p = res["rankers"]["params"]
    assert p["n_archs"] == 60 and p["n_dropped_rows"] == 0 and "variance" not in p
    truth = [float(r["test_acc"]) for r in pick]
    assert p["spearman"] == pytest.approx(spearman([float(r["params_m"]) for r in pick], truth))
    cb = p["complexity_bias"]
    assert cb["by"] == "params" and sum(b["n"] for b in cb["bins"]) == 60 and len(cb["bins"]) <= 5
    assert all(b["lo"] <= b["hi"] for b in cb["bins"])
    assert cb["bins"][0]["lo"] == min(float(r["params_m"]) for r in pick) * 1e6
    # the mean rank shift over all architectures is zero
    assert sum(b["rank_shift"] * b["n"] for b in cb["bins"]) == pytest.approx(0, abs=1e-9)
    assert set(p["op_bias"]) == {"n_none", "n_skip_connect", "n_nor_conv_1x1", "n_nor_conv_3x3", "n_avg_pool_3x3"}
    for key in ("longest_conv_path", "n_param_free_paths", "has_conv_path", "params", "flops"):
        assert key in p["feature_bias"]
    # #params can only over-rate 3x3 convolutions (the heaviest op)
    assert p["op_bias"]["n_nor_conv_3x3"]["spearman_feature_vs_error"] > 0.1
    assert p["summary_text"].startswith("params over-rates nor_conv_3x3")
    j = res["rankers"]["params_jitter"]
    assert j["n_dropped_rows"] == 1 and j["n_archs"] == 60
    v = j["variance"]["seed"]
    assert v["n_repeats"] == 3 and 0.5 < v["mean_kendall_tau"] < 1
    printed = capsys.readouterr().out
    assert "params_jitter" in printed and "over-rates" in printed


@pytest.fixture()
def tiny_bench(tmp_path, table_rows):
    rows = table_rows[:5]
    p = tmp_path / "tiny.csv"
    p.write_text("index,arch,test_acc\n" + "".join(f"{r['index']},{r['arch']},{r['test_acc']}\n" for r in rows))
    return p, rows


def _run_bad(tmp_path, bench, lines, capsys):
    scores = _write(tmp_path / "bad_scores.csv", lines)
    rc = main(["analyze", "--scores", str(scores), "--benchmark", f"csv:{bench}", "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and str(scores) in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "analysis.json").exists()
    return err


def test_analyze_unknown_arch(tmp_path, tiny_bench, table_rows, capsys):
    bench, rows = tiny_bench
    other = table_rows[10]["arch"]
    lines = [HEADER] + [f"{r['arch']},params,0,{r['params_m']},0,0," for r in rows] + [f"{other},params,0,1,0,0,"]
    err = _run_bad(tmp_path, bench, lines, capsys)
    assert "line 7" in err and other in err and "not in the benchmark" in err
    with pytest.raises(NasrankError, match="cannot read architecture"):
        from nasrank.experiments.analyze import read_scores

        read_scores(_write(tmp_path / "x.csv", [HEADER, "|bogus~0|,params,0,1,0,0,"]), Nb201Space())


def test_analyze_missing_ranker_column(tmp_path, tiny_bench, capsys):
    bench, rows = tiny_bench
    lines = ["arch,repeat,score"] + [f"{r['arch']},0,{r['params_m']}" for r in rows]
    err = _run_bad(tmp_path, bench, lines, capsys)
    assert "no 'ranker' column" in err


def test_analyze_empty_file(tmp_path, tiny_bench, capsys):
    bench, _ = tiny_bench
    err = _run_bad(tmp_path, bench, [], capsys)
    assert "is empty" in err
    err = _run_bad(tmp_path, bench, [HEADER], capsys)
    assert "no rows" in err


def test_analyze_nan_scores_dropped_and_counted(tmp_path, tiny_bench, capsys):
    bench, rows = tiny_bench
    lines = [HEADER] + [f"{r['arch']},params,0,{r['params_m']},0,0," for r in rows]
    lines += [f"{rows[0]['arch']},params,1,nan,0,0,", f"{rows[1]['arch']},params,1,,0,0,"]
    lines += [f"{r['arch']},broken,0,nan,0,0," for r in rows[:4]] + [f"{rows[4]['arch']},broken,0,1.0,0,0,"]
    scores = _write(tmp_path / "s.csv", lines)
    rc = main(["analyze", "--scores", str(scores), "--benchmark", f"csv:{bench}", "--output", str(tmp_path / "o"),
               "--bins", "2"])
    assert rc == 0
    res = json.loads((tmp_path / "o" / "analysis.json").read_text())["rankers"]
    assert res["params"]["n_dropped_rows"] == 2 and res["params"]["n_archs"] == 5 and res["params"]["n_rows"] == 7
    # a ranker left with one finite architecture is reported as skipped, the others are analysed
    assert res["broken"]["n_dropped_rows"] == 4 and res["broken"]["n_archs"] == 1 and "skipped" in res["broken"]
    assert "broken skipped" in capsys.readouterr().out
    # ... and when no ranker is left: one error naming the file
    only = _write(tmp_path / "s3.csv", [HEADER] + lines[-5:])
    rc = main(["analyze", "--scores", str(only), "--benchmark", f"csv:{bench}", "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and str(only) in err and "no ranker" in err
    # a score that is not a number is malformed input, not a NaN
    bad = _write(tmp_path / "s2.csv", [HEADER, f"{rows[0]['arch']},params,0,abc,0,0,"])
    rc = main(["analyze", "--scores", str(bad), "--benchmark", f"csv:{bench}", "--output", str(tmp_path / "o")])
    assert rc == 2 and "'abc' is not a number" in capsys.readouterr().err


def test_analyze_rows_by_flops_without_benchmark(table_rows):
    from nasrank.experiments.analyze import ScoreRow, analyze_rows

    space = Nb201Space()
    rows = [ScoreRow(space.from_string(r["arch"]), "params", 0, float(r["params_m"]), float(r["test_acc"]))
            for r in table_rows[:40]]
    res = analyze_rows(rows, space, None, by="flops", bins=4)["params"]
    cb = res["complexity_bias"]
    assert cb["by"] == "flops" and sum(b["n"] for b in cb["bins"]) == 40
    flops = sorted(space.features(r.arch)["flops"] for r in rows)
    assert cb["bins"][0]["lo"] == flops[0] and cb["bins"][-1]["hi"] == flops[-1]
    with pytest.raises(NasrankError, match="no --benchmark"):
        analyze_rows([ScoreRow(rows[0].arch, "x", 0, 1.0, None)], space, None)
