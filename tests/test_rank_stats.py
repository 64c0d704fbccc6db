"""The numpy rank statistics behind the ranking criteria agree with scipy's (ties included)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nasrank.evaluation.rank_stats import kendall_tau_b, rankdata


@pytest.mark.parametrize("seed", range(40))
def test_rankdata_and_kendall_tau_b_match_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 80))
    ties = int(rng.integers(1, 6))
    x = rng.integers(0, ties, n).astype(float) if seed % 2 else rng.normal(size=n)
    y = rng.integers(0, ties, n).astype(float) if seed % 3 else x + rng.normal(size=n)
    assert np.array_equal(rankdata(x), stats.rankdata(x))
    ours, theirs = kendall_tau_b(x, y), stats.kendalltau(x, y).statistic
    assert (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-12)


def test_large_input_and_degenerate_cases():
    rng = np.random.default_rng(1)
    x = rng.normal(size=15625)
    y = x + rng.normal(size=15625)
    assert kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert kendall_tau_b(x, x) == 1.0 and kendall_tau_b(x, -x) == -1.0
    assert math.isnan(kendall_tau_b([1.0], [2.0])) and math.isnan(kendall_tau_b([1, 1, 1], [1, 2, 3]))
    assert rankdata([]).shape == (0,)
