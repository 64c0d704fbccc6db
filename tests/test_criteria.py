"""Tests for nasrank.evaluation.criteria (ranking criteria of Ning et al.)."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import stats

from nasrank.errors import NasrankError
from nasrank.evaluation import (
    K_FRACTIONS,
    aggregate_by_class,
    best_worst_rank_at,
    criteria_by_mode,
    kendall_tau,
    kendall_tau_top,
    pearson,
    precision_at_bottom,
    precision_at_top,
    ranking_criteria,
    spearman,
)

# Hand-computed case, N = 10. Truth t_i = i, so index 9 is best (true rank
# of index i is 10 - i). Score order, best first: 6, 8, 9, 7, 0, 5, 4, 3, 2, 1.
TRUTH10 = np.arange(10, dtype=float)
SCORES10 = np.array([5, 0, 1, 2, 3, 4, 9, 6, 8, 7], dtype=float)


def _brute(scores, truth, k):
    """Slow reference: sets and loops, ties broken by position."""
    n = len(scores)
    m = math.floor(k * n + 1e-9)
    by_s = sorted(range(n), key=lambda i: (-scores[i], i))
    by_t = sorted(range(n), key=lambda i: (-truth[i], i))
    rank = {i: r + 1 for r, i in enumerate(by_t)}
    p_top = len(set(by_s[:m]) & set(by_t[:m])) / m
    p_bot = len(set(by_s[n - m:]) & set(by_t[n - m:])) / m
    ranks = [rank[i] for i in by_s[:m]]
    return p_top, p_bot, min(ranks) / n, max(ranks) / n


# ---------------------------------------------------------------- hand cases
def test_hand_computed_precision():
    assert precision_at_top(SCORES10, TRUTH10, 0.1) == 0.0  # {6} vs {9}
    assert precision_at_top(SCORES10, TRUTH10, 0.2) == 0.5  # {6,8} vs {9,8}
    assert precision_at_top(SCORES10, TRUTH10, 0.5) == 0.8  # {6,8,9,7,0} vs {9,8,7,6,5}
    assert precision_at_bottom(SCORES10, TRUTH10, 0.1) == 0.0  # {1} vs {0}
    assert precision_at_bottom(SCORES10, TRUTH10, 0.3) == pytest.approx(2 / 3)  # {3,2,1} vs {2,1,0}
    assert precision_at_bottom(SCORES10, TRUTH10, 0.5) == 0.8  # {5,4,3,2,1} vs {4,3,2,1,0}


def test_hand_computed_best_worst_rank():
    # top-1 by score is index 6, true rank 4
    assert best_worst_rank_at(SCORES10, TRUTH10, 0.1) == (0.4, 0.4)
    # top-2: indices 6, 8 -> true ranks 4, 2
    assert best_worst_rank_at(SCORES10, TRUTH10, 0.2) == (0.2, 0.4)
    # top-5: 6, 8, 9, 7, 0 -> true ranks 4, 2, 1, 3, 10
    assert best_worst_rank_at(SCORES10, TRUTH10, 0.5) == (0.1, 1.0)


def test_hand_computed_kendall_top():
    # Within predicted top-5 the truths in score order are 6, 8, 9, 7, 0:
    # concordant (6,0) (8,7) (8,0) (9,7) (9,0) (7,0); discordant (6,8) (6,9)
    # (6,7) (8,9) -> (6 - 4) / 10.
    assert kendall_tau_top(SCORES10, TRUTH10, 0.5) == pytest.approx(0.2)
    # top-2 by score: truths 6, 8 -> discordant
    assert kendall_tau_top(SCORES10, TRUTH10, 0.2) == pytest.approx(-1.0)
    # a single architecture has no pairs
    assert math.isnan(kendall_tau_top(SCORES10, TRUTH10, 0.1))


def test_hand_computed_ranking_criteria_keys_and_values():
    r = ranking_criteria(SCORES10, TRUTH10)
    assert r["n"] == 10 and r["n_valid"] == 10 and r["n_invalid"] == 0
    assert r["p_at_top_0.1"] == 0.0
    assert r["p_at_top_0.5"] == 0.8
    assert r["p_at_bottom_0.5"] == 0.8
    assert (r["br_at_0.5"], r["wr_at_0.5"]) == (0.1, 1.0)
    assert (r["br_at_0.1"], r["wr_at_0.1"]) == (0.4, 0.4)
    assert r["kendall_tau_top_0.5"] == pytest.approx(0.2)
    assert math.isnan(r["kendall_tau_top_0.1"])
    # N = 10: only K = 0.1 and 0.5 have floor(K N) >= 1
    for k in ("0.001", "0.005", "0.01", "0.05"):
        assert not any(key.endswith("_" + k) for key in r)
    expected = {"n", "n_valid", "n_invalid", "pearson", "kendall_tau", "spearman"}
    for k in ("0.1", "0.5"):
        expected |= {f"p_at_top_{k}", f"p_at_bottom_{k}", f"br_at_{k}", f"wr_at_{k}",
                     f"kendall_tau_top_{k}"}
    assert set(r) == expected


# ---------------------------------------------------------- perfect / reversed
def test_perfect_ranking():
    rng = np.random.default_rng(1)
    truth = rng.permutation(1000).astype(float)
    scores = 3.0 * truth + 7.0  # monotone, not identical
    r = ranking_criteria(scores, truth)
    assert r["pearson"] == pytest.approx(1.0)
    assert r["kendall_tau"] == pytest.approx(1.0)
    assert r["spearman"] == pytest.approx(1.0)
    for k in K_FRACTIONS:
        lab = repr(k)
        m = math.floor(k * 1000 + 1e-9)
        assert r[f"p_at_top_{lab}"] == 1.0
        assert r[f"p_at_bottom_{lab}"] == 1.0
        assert r[f"br_at_{lab}"] == pytest.approx(1 / 1000)
        assert r[f"wr_at_{lab}"] == pytest.approx(m / 1000)
        if m >= 2:
            assert r[f"kendall_tau_top_{lab}"] == pytest.approx(1.0)
    # N = 1000: K = 0.001 gives exactly one architecture and is reported
    assert r["br_at_0.001"] == r["wr_at_0.001"] == pytest.approx(0.001)
    assert math.isnan(r["kendall_tau_top_0.001"])


def test_reversed_ranking():
    truth = np.arange(100, dtype=float)
    scores = -truth
    r = ranking_criteria(scores, truth)
    assert r["pearson"] == pytest.approx(-1.0)
    assert r["kendall_tau"] == pytest.approx(-1.0)
    assert r["spearman"] == pytest.approx(-1.0)
    for lab, m in (("0.01", 1), ("0.05", 5), ("0.1", 10), ("0.5", 50)):
        assert r[f"p_at_top_{lab}"] == 0.0
        assert r[f"p_at_bottom_{lab}"] == 0.0
        # the chosen are the true worst m: ranks N-m+1 .. N
        assert r[f"br_at_{lab}"] == pytest.approx((100 - m + 1) / 100)
        assert r[f"wr_at_{lab}"] == 1.0
    assert r["kendall_tau_top_0.5"] == pytest.approx(-1.0)


# ----------------------------------------------------- agreement with scipy
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correlations_match_scipy(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(500)
    scores = truth + rng.normal(0, 0.5, 500)
    assert pearson(scores, truth) == pytest.approx(stats.pearsonr(scores, truth)[0], abs=1e-12)
    assert kendall_tau(scores, truth) == pytest.approx(stats.kendalltau(scores, truth)[0], abs=1e-12)
    assert spearman(scores, truth) == pytest.approx(stats.spearmanr(scores, truth)[0], abs=1e-12)
    r = ranking_criteria(list(scores), list(truth))
    assert r["pearson"] == pytest.approx(stats.pearsonr(scores, truth)[0], abs=1e-12)
    assert r["kendall_tau"] == pytest.approx(stats.kendalltau(scores, truth)[0], abs=1e-12)
    assert r["spearman"] == pytest.approx(stats.spearmanr(scores, truth)[0], abs=1e-12)


def test_correlations_with_ties_match_scipy():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 6, 300).astype(float)
    scores = truth + rng.integers(-2, 3, 300)
    tau_b = stats.kendalltau(scores, truth, variant="b")[0]
    tau_c = stats.kendalltau(scores, truth, variant="c")[0]
    assert tau_b != pytest.approx(tau_c, abs=1e-6)  # the variants differ on this data
    assert kendall_tau(scores, truth) == pytest.approx(tau_b, abs=1e-12)
    assert spearman(scores, truth) == pytest.approx(stats.spearmanr(scores, truth)[0], abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_top_k_criteria_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    truth = rng.integers(0, 15, n).astype(float)  # many ties
    scores = np.round(truth + rng.normal(0, 4, n))
    r = ranking_criteria(scores, truth, ks=(0.05, 0.1, 0.25, 0.5, 1.0))
    for k in (0.05, 0.1, 0.25, 0.5, 1.0):
        p_top, p_bot, br, wr = _brute(list(scores), list(truth), k)
        lab = repr(k)
        assert r[f"p_at_top_{lab}"] == pytest.approx(p_top)
        assert r[f"p_at_bottom_{lab}"] == pytest.approx(p_bot)
        assert r[f"br_at_{lab}"] == pytest.approx(br)
        assert r[f"wr_at_{lab}"] == pytest.approx(wr)
        assert precision_at_top(scores, truth, k) == pytest.approx(p_top)
        assert precision_at_bottom(scores, truth, k) == pytest.approx(p_bot)
        assert best_worst_rank_at(scores, truth, k) == pytest.approx((br, wr))
        m = math.floor(k * n + 1e-9)
        idx = sorted(range(n), key=lambda i: (-scores[i], i))[:m]
        want = stats.kendalltau(scores[idx], truth[idx])[0] if m >= 2 else float("nan")
        assert r[f"kendall_tau_top_{lab}"] == pytest.approx(want, nan_ok=True)


# -------------------------------------------------------------------- ties
def test_score_ties_broken_by_position():
    scores = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    truth = [7, 9, 8, 6, 5, 4, 3, 2, 1, 0]
    # top-1 by score is index 0 (first of the tied), true rank 3
    assert best_worst_rank_at(scores, truth, 0.1) == (0.3, 0.3)
    assert precision_at_top(scores, truth, 0.1) == 0.0  # {0} vs {1}
    # bottom-1 by score is the *last* of the tied zeros: index 9, true worst
    assert precision_at_bottom(scores, truth, 0.1) == 1.0
    assert precision_at_top(scores, truth, 0.2) == 0.5  # {0,1} vs {1,2}


def test_truth_ties_broken_by_position():
    truth = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    scores = [0, 9, 0, 0, 0, 0, 0, 0, 0, 0]
    # index 1 is tied for best truth but comes second: true rank 2
    assert best_worst_rank_at(scores, truth, 0.1) == (0.2, 0.2)
    assert precision_at_top(scores, truth, 0.1) == 0.0


def test_constant_input_gives_nan_not_error():
    r = ranking_criteria([3.0] * 20, np.arange(20.0))
    assert math.isnan(r["pearson"]) and math.isnan(r["kendall_tau"]) and math.isnan(r["spearman"])
    # ties by position: top-2 are indices 0, 1 = the true worst two
    assert r["p_at_top_0.1"] == 0.0
    assert r["wr_at_0.1"] == 1.0


# --------------------------------------------------------------- NaN / inf
def test_invalid_scores_are_dropped_and_counted():
    rng = np.random.default_rng(3)
    truth = rng.random(50)
    scores = truth + rng.normal(0, 0.2, 50)
    bad = scores.copy()
    bad[[4, 17]] = np.nan
    bad[30] = np.inf
    bad[31] = -np.inf
    keep = np.ones(50, dtype=bool)
    keep[[4, 17, 30, 31]] = False
    r = ranking_criteria(bad, truth)
    assert (r["n"], r["n_valid"], r["n_invalid"]) == (50, 46, 4)
    ref = ranking_criteria(scores[keep], truth[keep])
    for key in ref:
        if key in ("n", "n_invalid"):
            continue
        assert r[key] == pytest.approx(ref[key], nan_ok=True), key
    assert r["spearman"] == pytest.approx(stats.spearmanr(scores[keep], truth[keep])[0])
    # the single-criterion functions drop them too
    assert pearson(bad, truth) == pytest.approx(ref["pearson"])
    assert precision_at_top(bad, truth, 0.5) == pytest.approx(ref["p_at_top_0.5"])
    assert best_worst_rank_at(bad, truth, 0.1) == pytest.approx((ref["br_at_0.1"], ref["wr_at_0.1"]))
    # N for K is the valid count: floor(0.1 * 46) = 4, not 5
    assert ref["wr_at_0.1"] * 46 >= 4


def test_invalid_truth_is_dropped():
    r = ranking_criteria([1.0, 2.0, 3.0, 4.0], [1.0, np.nan, 3.0, 4.0])
    assert (r["n_valid"], r["n_invalid"]) == (3, 1)
    assert r["spearman"] == pytest.approx(1.0)


@pytest.mark.parametrize("scores", [[np.nan, np.nan, np.nan], [1.0, np.nan, np.inf]])
def test_fewer_than_two_valid(scores):
    r = ranking_criteria(scores, [1.0, 2.0, 3.0])
    assert r["n"] == 3 and r["n_valid"] + r["n_invalid"] == 3 and r["n_valid"] < 2
    assert math.isnan(r["pearson"]) and math.isnan(r["kendall_tau"]) and math.isnan(r["spearman"])
    assert not any(key.startswith("p_at_") for key in r)
    assert math.isnan(pearson(scores, [1.0, 2.0, 3.0]))


# ------------------------------------------------------------------ K skip
def test_k_skipped_and_labelled():
    r = ranking_criteria(np.arange(1000.0), np.arange(1000.0))
    for lab in ("0.001", "0.005", "0.01", "0.05", "0.1", "0.5"):
        assert f"p_at_top_{lab}" in r and f"br_at_{lab}" in r and f"kendall_tau_top_{lab}" in r
    r = ranking_criteria(np.arange(150.0), np.arange(150.0))
    assert "p_at_top_0.005" not in r  # floor(0.75) = 0
    assert "p_at_top_0.01" in r  # floor(1.5) = 1
    assert r["wr_at_0.01"] == pytest.approx(1 / 150)
    r = ranking_criteria([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert [k for k in r if k.startswith("p_at_top")] == ["p_at_top_0.5"]  # floor(1.5) = 1


def test_k_floor_is_robust_to_float_error():
    # 0.29 * 100 == 28.999999999999996 in floating point; m must be 29
    r = ranking_criteria(np.arange(100.0), np.arange(100.0), ks=(0.29,))
    assert r["wr_at_0.29"] == pytest.approx(0.29)


def test_single_k_below_one_is_nan():
    assert math.isnan(precision_at_top(np.arange(10.0), np.arange(10.0), 0.05))
    br, wr = best_worst_rank_at(np.arange(10.0), np.arange(10.0), 0.05)
    assert math.isnan(br) and math.isnan(wr)


# ----------------------------------------------------------- iso modes
# Classes a, b, a, c, b, a. Class a = {0, 2, 5}, b = {1, 4}, c = {3}.
KEYS = ["a", "b", "a", "c", "b", "a"]
S6 = np.array([1.0, 5.0, 4.0, 2.0, 3.0, 7.0])
T6 = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0])


def test_aggregate_iso_unchanged():
    s, t = aggregate_by_class(S6, T6, KEYS, "iso")
    np.testing.assert_array_equal(s, S6)
    np.testing.assert_array_equal(t, T6)
    s, t = aggregate_by_class(S6, T6, None, "iso")
    np.testing.assert_array_equal(s, S6)


def test_aggregate_deiso():
    s, t = aggregate_by_class(S6, T6, KEYS, "deiso")
    # classes in first-appearance order a, b, c; score of first member
    np.testing.assert_array_equal(s, [1.0, 5.0, 2.0])
    np.testing.assert_allclose(t, [100.0 / 3, 35.0, 40.0])


def test_aggregate_iso2deiso():
    s, t = aggregate_by_class(S6, T6, KEYS, "iso2deiso")
    np.testing.assert_allclose(s, [4.0, 4.0, 4.0, 2.0, 4.0, 4.0])
    np.testing.assert_array_equal(t, T6)


def test_aggregate_nan_scores_inside_class():
    s = S6.copy()
    s[2] = np.nan
    out, _ = aggregate_by_class(s, T6, KEYS, "iso2deiso")
    np.testing.assert_allclose(out, [4.0, 4.0, 4.0, 2.0, 4.0, 4.0])  # mean of 1 and 7
    s[[0, 2, 5]] = np.nan
    out, _ = aggregate_by_class(s, T6, KEYS, "iso2deiso")
    assert np.isnan(out[[0, 2, 5]]).all() and out[1] == 4.0


def test_aggregate_accepts_tuple_and_int_keys():
    keys = [(0, 1), (2,), (0, 1), (3,), (2,), (0, 1)]
    s, t = aggregate_by_class(S6, T6, keys, "deiso")
    np.testing.assert_array_equal(s, [1.0, 5.0, 2.0])
    s2, t2 = aggregate_by_class(S6, T6, np.array([7, 3, 7, 1, 3, 7]), "deiso")
    np.testing.assert_array_equal(s2, s)
    np.testing.assert_allclose(t2, t)


def test_criteria_by_mode():
    out = criteria_by_mode(S6, T6, KEYS, modes=("iso", "deiso", "iso2deiso"))
    assert set(out) == {"iso", "deiso", "iso2deiso"}
    assert out["iso"] == ranking_criteria(S6, T6)
    assert out["deiso"]["n"] == 3
    # deiso: scores (1, 5, 2) vs truths (33.3, 35, 40) -> spearman of ranks (1,3,2) vs (1,2,3)
    assert out["deiso"]["spearman"] == pytest.approx(0.5)
    assert out["iso2deiso"]["n"] == 6
    assert out["iso2deiso"]["spearman"] == pytest.approx(
        stats.spearmanr([4.0, 4.0, 4.0, 2.0, 4.0, 4.0], T6)[0])
    assert set(criteria_by_mode(S6, T6)) == {"iso"}


# ------------------------------------------------------------------ errors
def test_length_mismatch_names_lengths():
    with pytest.raises(NasrankError, match=r"len\(scores\)=3.*len\(truth\)=4"):
        ranking_criteria([1, 2, 3], [1, 2, 3, 4])
    for fn in (pearson, kendall_tau, spearman):
        with pytest.raises(NasrankError, match="3.*4"):
            fn([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(NasrankError, match="3.*4"):
        precision_at_top([1, 2, 3], [1, 2, 3, 4], 0.5)


def test_empty_input():
    with pytest.raises(NasrankError, match="empty"):
        ranking_criteria([], [])
    with pytest.raises(NasrankError, match="empty"):
        spearman([], [])


def test_bad_inputs():
    with pytest.raises(NasrankError, match="one-dimensional"):
        ranking_criteria(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(NasrankError, match="numeric"):
        ranking_criteria(["a", "b"], [1, 2])
    for bad_k in (0.0, -0.1, 1.5):
        with pytest.raises(NasrankError, match="K must be"):
            precision_at_top([1, 2, 3], [1, 2, 3], bad_k)
        with pytest.raises(NasrankError, match="K must be"):
            ranking_criteria([1, 2, 3], [1, 2, 3], ks=(bad_k,))


def test_unknown_mode_named():
    with pytest.raises(NasrankError, match="'isomorph'"):
        aggregate_by_class(S6, T6, KEYS, "isomorph")
    with pytest.raises(NasrankError, match="'bogus'"):
        criteria_by_mode(S6, T6, KEYS, modes=("iso", "bogus"))


def test_class_keys_errors():
    with pytest.raises(NasrankError, match="class_keys"):
        aggregate_by_class(S6, T6, None, "deiso")
    with pytest.raises(NasrankError, match=r"len\(class_keys\)=5.*len\(scores\)=6"):
        aggregate_by_class(S6, T6, KEYS[:5], "iso2deiso")
    with pytest.raises(NasrankError, match="hashable"):
        aggregate_by_class(S6, T6, [[0]] * 6, "deiso")


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        kendall_tau([1.0], [1.0, 2.0])


# ------------------------------------------------------------- performance
def test_fast_on_full_nb201_size():
    rng = np.random.default_rng(0)
    truth = rng.random(15625)
    scores = truth + rng.normal(0, 0.3, 15625)
    keys = rng.integers(0, 6466, 15625)
    start = time.perf_counter()
    out = criteria_by_mode(scores, truth, keys, modes=("iso", "deiso", "iso2deiso"))
    elapsed = time.perf_counter() - start
    assert out["iso"]["n"] == 15625
    assert "p_at_top_0.001" in out["iso"]
    assert elapsed < 2.0  # ~0.05 s here; generous for a shared machine


# ------------------------------------------------------------- report form
def test_rank_correlations_report_form():
    from nasrank.evaluation.criteria import rank_correlations

    s = [0.1, None, 0.3, float("nan"), 0.2, 0.5]
    t = [1.0, 2.0, 3.0, 4.0, None, 4.5]
    out = rank_correlations(s, t)
    assert out["n_pairs"] == 3  # None and NaN on either side dropped
    assert out["spearman"] == pytest.approx(1.0) and out["kendall"] == pytest.approx(1.0)
    assert out == {**out, "spearman": spearman([0.1, 0.3, 0.5], [1.0, 3.0, 4.5])}
    assert rank_correlations([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) == {"spearman": None, "kendall": None, "n_pairs": 3}
    assert rank_correlations([], []) == {"spearman": None, "kendall": None, "n_pairs": 0}
    assert rank_correlations([0.2, 0.1, 0.3], [2.0, 1.0, 3.0])["spearman"] == pytest.approx(1.0)
