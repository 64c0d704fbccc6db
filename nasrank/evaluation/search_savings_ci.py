"""Confidence intervals for search-level savings: resample the pool's cells, then replicate the searches.

Each bootstrap draw resamples the cells with replacement (one resample shared by every method, so
the methods stay paired), replays ``reps`` searches of every method on it, and records each method's
mean regret curve, its median cost to reach each regret level and, for each compared pair, the ratio
of those median costs. The 95% interval is the 2.5th..97.5th percentile over draws. A ratio whose
numerator or denominator is never reached in a draw is left out of that draw (``n_defined`` says how
many draws define it); a ratio defined in under half of the draws has no interval.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from nasrank.evaluation.search_savings import Method, median_reach, replicate


def _interval(values: list[float], n_draws: int) -> dict[str, Any]:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if len(vals) < max(1, n_draws // 2):
        return {"ci_low": None, "ci_high": None, "n_defined": len(vals)}
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return {"ci_low": float(lo), "ci_high": float(hi), "n_defined": len(vals)}


def bootstrap(arrays: dict[str, tuple], methods: list[Method], budgets: np.ndarray, levels: list[float],
              pairs: list[tuple[str, str]], n_boot: int, reps: int, seed: int = 0) -> dict[str, Any]:
    """Intervals of every method's mean regret curve and median cost to reach each level, and of the
    ratio ``median cost(other) / median cost(method)`` for each ``(method, other)`` pair."""
    n = len(next(iter(arrays.values()))[0].true)
    rng = np.random.default_rng(seed)
    curves: dict[str, list] = {m.label: [] for m in methods}
    reach: dict[str, dict[float, list]] = {m.label: {r: [] for r in levels} for m in methods}
    ratios: dict[str, dict[float, list]] = {f"{a} vs {b}": {r: [] for r in levels} for a, b in pairs}
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        rep = replicate(arrays, methods, budgets, levels, reps, seed=1_000_000 + b * reps, idx=idx)
        for m in methods:
            with np.errstate(all="ignore"):
                curves[m.label].append(np.nanmean(rep.regret[m.label], axis=0))
            for r in levels:
                reach[m.label][r].append(median_reach(rep.reach[m.label][r]))
        for a, o in pairs:
            for r in levels:
                num, den = median_reach(rep.reach[o][r]), median_reach(rep.reach[a][r])
                ratios[f"{a} vs {o}"][r].append(num / den if math.isfinite(num) and math.isfinite(den) and den > 0
                                                else None)
    out: dict[str, Any] = {"n_boot": n_boot, "reps_per_draw": reps, "curves": {}, "reach": {}, "ratios": {}}
    for lab, cs in curves.items():
        arr = np.array(cs)
        with np.errstate(all="ignore"):
            lo, hi = np.nanpercentile(arr, 2.5, axis=0), np.nanpercentile(arr, 97.5, axis=0)
        out["curves"][lab] = {"low": [None if not np.isfinite(v) else float(v) for v in lo],
                              "high": [None if not np.isfinite(v) else float(v) for v in hi]}
        out["reach"][lab] = {str(r): _interval(v, n_boot) for r, v in reach[lab].items()}
    for key, per in ratios.items():
        out["ratios"][key] = {str(r): _interval(v, n_boot) for r, v in per.items()}
    return out
