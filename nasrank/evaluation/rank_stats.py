"""Average ranks and Kendall's tau-b in numpy: what the ranking criteria need, without scipy.

``nasrank evaluate`` on a table scores thousands of architectures in milliseconds; importing
scipy for two functions cost more than that. :func:`rankdata` is ``scipy.stats.rankdata``
(``method="average"``) and :func:`kendall_tau_b` is ``scipy.stats.kendalltau`` (its default
tau-b, NaN for constant input); ``tests/test_rank_stats.py`` checks both against scipy.
"""
from __future__ import annotations

import math

import numpy as np


def rankdata(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; tied values share the mean of their ranks (float64)."""
    a = np.asarray(values).ravel()
    n = a.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.float64)
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    starts = np.r_[True, sorted_a[1:] != sorted_a[:-1]]
    group = np.cumsum(starts) - 1  # the tie group of each sorted position
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], n] - 1
    mean_rank = (first + last) / 2.0 + 1.0
    out = np.empty(n, dtype=np.float64)
    out[order] = mean_rank[group]
    return out


def _dense(values: np.ndarray) -> np.ndarray:
    """0-based dense ranks (equal values, equal rank)."""
    return np.unique(values, return_inverse=True)[1].ravel()


def _tied_pairs(dense: np.ndarray) -> int:
    counts = np.bincount(dense).astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _inversions(seq: np.ndarray) -> int:
    """Pairs ``i < j`` with ``seq[i] > seq[j]`` (bottom-up merge sort, one vectorised pass per level)."""
    a = np.asarray(seq, dtype=np.int64).copy()
    n = a.shape[0]
    span = int(a.max(initial=0)) + 1
    idx = np.arange(n)
    total, width = 0, 1
    while width < n:
        block = idx // width
        pair, right = block // 2, (block % 2).astype(bool)
        key = pair * span + a  # each pair's left block is sorted, pairs in order: keys sorted
        left = key[~right]
        pair_r = pair[right]
        end = np.searchsorted(left, (pair_r + 1) * span, side="left")  # past this pair's left block
        not_greater = np.searchsorted(left, key[right], side="right")
        total += int((end - not_greater).sum())
        a = a[np.argsort(key, kind="stable")]  # merge each pair of blocks
        width *= 2
    return total


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two equally long 1-d arrays (NaN with fewer than two items or a constant one)."""
    x, y = np.asarray(x).ravel(), np.asarray(y).ravel()
    n = x.shape[0]
    if n < 2:
        return float("nan")
    dx, dy = _dense(x), _dense(y)
    order = np.lexsort((dy, dx))  # by x, then y: ties in x are never counted as discordant
    dx, dy = dx[order], dy[order]
    joint = np.r_[True, (dx[1:] != dx[:-1]) | (dy[1:] != dy[:-1]), True]
    runs = np.diff(np.flatnonzero(joint)).astype(np.int64)
    both = int((runs * (runs - 1) // 2).sum())
    pairs = n * (n - 1) // 2
    tx, ty = _tied_pairs(dx), _tied_pairs(dy)
    if tx == pairs or ty == pairs:
        return float("nan")
    discordant = _inversions(dy)
    concordant_minus = pairs - tx - ty + both - 2 * discordant
    tau = concordant_minus / math.sqrt(pairs - tx) / math.sqrt(pairs - ty)
    return max(-1.0, min(1.0, float(tau)))
