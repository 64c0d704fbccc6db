"""Aggregating runs that differ only in their seed: mean and 95% confidence interval (Student t)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def mean_ci(values: Sequence[float | None], level: float = 0.95) -> tuple[float | None, float | None, int]:
    """``(mean, half-width of the ``level`` CI, n)`` over the finite values; half-width ``None`` when n < 2."""
    from scipy.stats import t

    v = np.asarray([x for x in values if x is not None and math.isfinite(float(x))], dtype=np.float64)
    if len(v) == 0:
        return None, None, 0
    if len(v) == 1:
        return float(v[0]), None, 1
    half = float(t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return float(v.mean()), half, len(v)


def step_values(points: Sequence[tuple[float, float]], grid: np.ndarray) -> np.ndarray:
    """The step function through ``points`` (x ascending, held until the next x) at ``grid``; NaN before the first."""
    xs = np.asarray([p[0] for p in points], dtype=np.float64)
    ys = np.asarray([p[1] for p in points], dtype=np.float64)
    idx = np.searchsorted(xs, grid, side="right") - 1
    out = np.full(len(grid), np.nan)
    ok = idx >= 0
    out[ok] = ys[idx[ok]]
    return out


def mean_ci_curve(runs: Sequence[Sequence[tuple[float, float]]], level: float = 0.95):
    """Mean step curve of several runs on the union of their x values, with the ``level`` CI band.

    Returns ``(xs, mean, lo, hi)`` from the first x at which every run has a value (before it, a
    mean over a changing subset of runs could fall where each run rises); a run that has ended
    keeps its last value.
    """
    from scipy.stats import t

    grid = np.unique(np.concatenate([np.asarray([p[0] for p in r], dtype=np.float64) for r in runs if r]))
    vals = np.vstack([step_values(r, grid) for r in runs if r])
    n = np.isfinite(vals).sum(axis=0)
    keep = n == vals.shape[0]
    grid, vals, n = grid[keep], vals[:, keep], n[keep]
    import warnings

    mean = np.nanmean(vals, axis=0)
    with warnings.catch_warnings():  # columns with one value: sd is NaN there, and so is the band
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(vals, axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n >= 2, t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n), np.nan)
    return grid, mean, mean - half, mean + half
