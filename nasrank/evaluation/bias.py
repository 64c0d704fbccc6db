"""Where a ranker's errors go: complexity-level, op-level and architecture-level bias.

Definitions (higher score and higher truth are better everywhere)
-----------------------------------------------------------------
* **Rank percentile.** Among ``N`` values, value ``i`` gets its average rank
  ``r_i`` in ascending order (1 = smallest; tied values share the mean of
  their ranks, ``scipy.stats.rankdata(method="average")``) and the percentile
  ``p_i = (r_i - 1) / (N - 1)``: 1 is the best, 0 the worst, ties share one
  percentile. With ``N = 1`` the percentile is 0.5.
* **Rank error** of architecture ``i``: ``p_i(score) - p_i(truth)``, both
  percentiles taken over the same ``N`` valid architectures (pairs whose
  score or truth is NaN/inf are dropped first, as in
  :mod:`nasrank.evaluation.criteria`). Positive: the ranker over-rates it.
* **rank_shift** of a group of architectures: the mean rank error over the
  group. Positive in the low-complexity bins means the ranker favours small
  networks.

Complexity bins
---------------
``bins`` equal-count bins by a complexity measure ``c`` (``params`` or
``flops``): architecture ``i`` goes to bin ``min(B-1, floor((R_i - 1) * B / N))``
where ``R_i`` is its average rank of ``c`` (1 = smallest). Without ties this
splits the architectures into ``B`` bins of ``N/B`` (rounded); tied values
always share one bin, so with ties the counts differ and a bin may be empty
(empty bins are left out of the report). Per bin: ``lo``/``hi`` (the
smallest/largest ``c`` in it), ``n``, Kendall tau-b of score vs truth
inside the bin (``nan`` for fewer than two architectures or a constant
input) and ``rank_shift``.

``controlled_kendall_tau`` is the unweighted mean of the within-bin taus,
ignoring ``nan`` ones (``nan`` if all are): how well the ranker orders
architectures of similar complexity, which #params itself cannot do.
``controlled_kendall_tau_weighted`` weighs each bin by its ``n``.

Feature bias
------------
For each feature ``f`` (op counts, path features, ...):
``spearman_feature_vs_error`` is Spearman's rho between ``f`` and the rank
error; ``rank_shift_top`` / ``rank_shift_bottom`` are the rank_shift of the
architectures whose ``f`` equals its largest / smallest value (``n_top``,
``n_bottom``, ``top_value``, ``bottom_value`` are reported beside them).

Caveat: regression to the middle. For any imperfect ranker the rank error
is negatively correlated with the true percentile (the best architectures
can only be under-rated, the worst only over-rated), so a feature that goes
with high accuracy shows a negative Spearman with the error even for a ranker
that ignores the feature, and the high-complexity bins of NB201 (where the
accurate networks are) show a negative shift. ``spearman_feature_vs_residual``
removes that part: the residual is the predicted percentile minus its least
squares fit on the true percentile, so only what the score adds beyond a
shrunken copy of the truth is correlated with the feature.

``rank_shift_upper`` / ``rank_shift_lower`` are the rank_shift of the
architectures whose ``f`` is above its median / at or below it (``None``
when a group is empty): the top value of an op count is often held by a
handful of cells (6 of 6 edges), so the top-value shift alone is noisy.

A ranker **over-rates** an op when ``spearman > OVERRATE_RHO`` (0.1) *and*
the shift of the op's high-count cells exceeds ``OVERRATE_SHIFT`` (0.05,
five percentile points); it under-rates one under the mirrored conditions.
The high-count shift is ``rank_shift_top`` when the top-value group holds at
least ``MIN_TOP_FRACTION`` (5%) of the architectures (and at least 2), and
``rank_shift_upper`` otherwise. The thresholds are arguments of
:func:`summarize_bias`.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats

from nasrank.errors import NasrankError
from nasrank.evaluation.criteria import kendall_tau, spearman

OVERRATE_RHO = 0.1
OVERRATE_SHIFT = 0.05
MIN_TOP_FRACTION = 0.05

__all__ = [
    "OVERRATE_RHO",
    "OVERRATE_SHIFT",
    "rank_percentiles",
    "rank_errors",
    "rank_residuals",
    "complexity_bins",
    "complexity_bias",
    "feature_bias",
    "summarize_bias",
    "high_shift",
]


def _f(x: float) -> float | None:
    """JSON-friendly float: ``None`` for NaN."""
    x = float(x)
    return None if math.isnan(x) else x


def _arrays(scores, truth) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if s.ndim != 1 or t.ndim != 1 or s.shape != t.shape:
        raise NasrankError(f"scores and truth must be 1-D of equal length, got shapes {s.shape} and {t.shape}")
    ok = np.isfinite(s) & np.isfinite(t)
    return s, t, ok


def rank_percentiles(values) -> np.ndarray:
    """Average-rank percentile of each value in [0, 1], 1 = largest (see module docstring)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise NasrankError(f"values must be one-dimensional, got shape {v.shape}")
    n = v.shape[0]
    if n == 0:
        return v.copy()
    if n == 1:
        return np.array([0.5])
    return (stats.rankdata(v, method="average") - 1.0) / (n - 1.0)


def rank_errors(scores, truth) -> np.ndarray:
    """Predicted minus true rank percentile per architecture; NaN where either input is invalid.

    Percentiles are taken over the valid pairs only.
    """
    s, t, ok = _arrays(scores, truth)
    err = np.full(s.shape[0], np.nan)
    if ok.any():
        err[ok] = rank_percentiles(s[ok]) - rank_percentiles(t[ok])
    return err


def rank_residuals(scores, truth) -> np.ndarray:
    """Predicted percentile minus its least-squares fit ``a + b * true percentile``; NaN where invalid.

    Zero everywhere for a ranker whose percentiles are an affine function of
    the true ones; removes the regression to the middle from :func:`rank_errors`.
    """
    s, t, ok = _arrays(scores, truth)
    out = np.full(s.shape[0], np.nan)
    if ok.sum() < 2:
        if ok.any():
            out[ok] = 0.0
        return out
    ps, pt = rank_percentiles(s[ok]), rank_percentiles(t[ok])
    var = float(np.var(pt))
    b = float(np.mean((pt - pt.mean()) * (ps - ps.mean()))) / var if var > 0 else 0.0
    out[ok] = ps - (ps.mean() + b * (pt - pt.mean()))
    return out


def complexity_bins(complexity, bins: int = 5) -> np.ndarray:
    """Bin index 0..bins-1 of each value: equal-count bins by average rank, ties kept together."""
    c = np.asarray(complexity, dtype=np.float64)
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise NasrankError(f"the number of bins must be a positive integer, got {bins!r}")
    if c.ndim != 1:
        raise NasrankError(f"complexity must be one-dimensional, got shape {c.shape}")
    if not np.isfinite(c).all():
        raise NasrankError("complexity values must be finite")
    n = c.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    r = stats.rankdata(c, method="average")
    return np.minimum(bins - 1, np.floor((r - 1.0) * bins / n + 1e-9)).astype(np.int64)


def complexity_bias(scores, truth, complexity, bins: int = 5, by: str = "params") -> dict[str, Any]:
    """Per complexity bin: ``lo``, ``hi``, ``n``, ``kendall_tau``, ``rank_shift``; and the controlled tau.

    Pairs with an invalid score or truth are dropped before binning (so the
    bins split the valid architectures); ``n_dropped`` counts them.
    """
    s, t, ok = _arrays(scores, truth)
    c = np.asarray(complexity, dtype=np.float64)
    if c.shape != s.shape:
        raise NasrankError(f"complexity must have one value per architecture, got {c.shape[0]} for {s.shape[0]}")
    ok &= np.isfinite(c)
    s, t, c = s[ok], t[ok], c[ok]
    err = rank_errors(s, t)
    b = complexity_bins(c, bins)
    out_bins = []
    for k in range(bins):
        m = b == k
        if not m.any():
            continue
        tau = kendall_tau(s[m], t[m]) if m.sum() >= 2 else float("nan")
        out_bins.append({"bin": k, "lo": float(c[m].min()), "hi": float(c[m].max()), "n": int(m.sum()),
                         "kendall_tau": _f(tau), "rank_shift": float(err[m].mean())})
    taus = np.array([np.nan if x["kendall_tau"] is None else x["kendall_tau"] for x in out_bins])
    ns = np.array([x["n"] for x in out_bins], dtype=float)
    good = np.isfinite(taus)
    return {
        "by": by,
        "n": int(s.shape[0]),
        "n_dropped": int((~ok).sum()),
        "bins": out_bins,
        "controlled_kendall_tau": _f(taus[good].mean()) if good.any() else None,
        "controlled_kendall_tau_weighted": _f((taus[good] * ns[good]).sum() / ns[good].sum()) if good.any() else None,
        "n_bins_with_tau": int(good.sum()),
    }


def feature_bias(scores, truth, features: Mapping[str, Sequence[float]]) -> dict[str, dict[str, Any]]:
    """For each feature: Spearman(feature, rank error) and the rank_shift at its top and bottom value.

    Pairs with an invalid score or truth are dropped (percentiles over the
    rest); per feature, architectures whose feature is not finite are also
    left out of that feature's statistics.
    """
    s, t, ok = _arrays(scores, truth)
    err_all = rank_errors(s, t)
    resid_all = rank_residuals(s, t)
    out: dict[str, dict[str, Any]] = {}
    for name, values in features.items():
        f = np.asarray(values, dtype=np.float64)
        if f.shape != s.shape:
            raise NasrankError(f"feature {name!r} must have one value per architecture, "
                               f"got {f.shape[0]} for {s.shape[0]}")
        m = ok & np.isfinite(f)
        if not m.any():
            out[name] = {"spearman_feature_vs_error": None, "spearman_feature_vs_residual": None,
                         "rank_shift_upper": None, "rank_shift_lower": None, "n_upper": 0, "n": 0,
                         "rank_shift_top": None, "rank_shift_bottom": None,
                         "top_value": None, "bottom_value": None, "n_top": 0, "n_bottom": 0}
            continue
        fv, ev, rv = f[m], err_all[m], resid_all[m]
        hi, lo = fv.max(), fv.min()
        top, bot = fv == hi, fv == lo
        upper = fv > np.median(fv)
        out[name] = {
            "spearman_feature_vs_error": _f(spearman(fv, ev)),
            "spearman_feature_vs_residual": _f(spearman(fv, rv)),
            "rank_shift_top": float(ev[top].mean()),
            "rank_shift_bottom": float(ev[bot].mean()),
            "top_value": float(hi), "bottom_value": float(lo),
            "n_top": int(top.sum()), "n_bottom": int(bot.sum()),
            "rank_shift_upper": float(ev[upper].mean()) if upper.any() else None,
            "rank_shift_lower": float(ev[~upper].mean()) if (~upper).any() else None,
            "n_upper": int(upper.sum()), "n": int(fv.shape[0]),
        }
    return out


def high_shift(stats_: Mapping[str, Any], min_fraction: float = MIN_TOP_FRACTION) -> float | None:
    """Shift of the high-feature cells: ``rank_shift_top`` if its group is large enough, else the upper half's."""
    top, n_top, n = stats_.get("rank_shift_top"), stats_.get("n_top", 0), stats_.get("n")
    if n is None or (n_top >= 2 and n_top >= min_fraction * n):
        return top
    return stats_.get("rank_shift_upper")


def _fmt_items(items: list[tuple[str, float, float]]) -> str:
    return ", ".join(f"{name} (rho {rho:+.2f}, shift of high counts {shift:+.2f})" for name, rho, shift in items)


def summarize_bias(ranker: str, complexity: Mapping[str, Any] | None, op_bias: Mapping[str, Mapping[str, Any]],
                   feature: Mapping[str, Mapping[str, Any]] | None = None, rho: float = OVERRATE_RHO,
                   shift: float = OVERRATE_SHIFT, op_prefix: str = "n_") -> str:
    """Plain-words summary: the ops a ranker over-/under-rates, its complexity preference and
    the structural features it over-/under-rates (thresholds: see module docstring)."""
    def pick(table: Mapping[str, Mapping[str, Any]], sign: int, strip: str = "") -> list[tuple[str, float, float]]:
        got = []
        for name, st in table.items():
            r, top = st.get("spearman_feature_vs_error"), high_shift(st)
            if r is None or top is None:
                continue
            if sign * r > rho and sign * top > shift:
                got.append((name[len(strip):] if strip and name.startswith(strip) else name, r, top))
        return sorted(got, key=lambda x: -abs(x[1]))

    parts = []
    over, under = pick(op_bias, +1, op_prefix), pick(op_bias, -1, op_prefix)
    parts.append(f"{ranker} over-rates {_fmt_items(over)}" if over else f"{ranker} over-rates no op")
    if under:
        parts[-1] += f" and under-rates {_fmt_items(under)}"
    parts[-1] += f" (thresholds: |rho| > {rho}, |shift| > {shift})."
    if complexity and complexity.get("bins"):
        bins = complexity["bins"]
        lo, hi = bins[0]["rank_shift"], bins[-1]["rank_shift"]
        by = complexity.get("by", "complexity")
        if lo > shift and hi < -shift:
            pref = "favours small networks"
        elif lo < -shift and hi > shift:
            pref = "favours large networks"
        else:
            pref = "shows no strong complexity preference"
        ctau = complexity.get("controlled_kendall_tau")
        ctau_s = "n/a" if ctau is None else f"{ctau:.3f}"
        parts.append(f"By {by} it {pref} (rank shift {lo:+.2f} in the lowest bin, {hi:+.2f} in the highest); "
                     f"Kendall tau within {by} bins {ctau_s}.")
    if feature:
        fo, fu = pick(feature, +1), pick(feature, -1)
        fo = [x for x in fo if x[0] not in ("params", "flops")]
        fu = [x for x in fu if x[0] not in ("params", "flops")]
        if fo or fu:
            txt = []
            if fo:
                txt.append(f"over-rates cells with more {', '.join(x[0] for x in fo)}")
            if fu:
                txt.append(f"under-rates cells with more {', '.join(x[0] for x in fu)}")
            parts.append("It " + " and ".join(txt) + ".")
    return " ".join(parts)
