"""Ranking criteria for NAS rankers (Ning et al.; aw_nas ``surgery/evaluation.py``).

Every function compares a ranker's ``scores`` with the ground truth ``truth``
(for example the benchmark's test accuracy). In both, **higher is better**.

Conventions shared by all functions
-----------------------------------
* Inputs are 1-D array-likes of equal, non-zero length; anything else raises
  :class:`~nasrank.errors.NasrankError` naming the lengths.
* **Invalid entries are dropped.** A pair whose score *or* truth is NaN or
  ±inf is removed before anything is computed (a ranker that failed on an
  architecture reports NaN). ``N`` below is always the number of *valid*
  pairs. :func:`ranking_criteria` reports how many were dropped.
* With fewer than two valid pairs, or a constant input, a correlation is
  ``nan``; nothing here raises for degenerate data.
* ``m = ⌊k·N⌋`` (computed as ``floor(k*N + 1e-9)`` so that e.g. ``0.29*100``
  gives 29, not 28 from floating-point error). A K with ``m < 1`` gives
  ``nan`` from the single-K functions and is skipped by
  :func:`ranking_criteria`. ``k`` must lie in ``(0, 1]``.
* **Ties** in the top/bottom selections and in the true ranks are broken
  deterministically by position: each array is ordered by a *stable* argsort
  of ``-value``, so among equal values the one that comes first in the input
  counts as better. The top ``m`` are the first ``m`` of that order, the
  bottom ``m`` its last ``m`` (one consistent total order). The correlation
  coefficients handle ties in the usual way (tau-b, average ranks).
"""
from __future__ import annotations

import math
from typing import Hashable, Iterable, Sequence

import numpy as np

from nasrank.evaluation.rank_stats import kendall_tau_b, rankdata

from nasrank.errors import NasrankError

__all__ = [
    "K_FRACTIONS",
    "MODES",
    "pearson",
    "kendall_tau",
    "spearman",
    "rank_correlations",
    "precision_at_top",
    "precision_at_bottom",
    "best_worst_rank_at",
    "kendall_tau_top",
    "ranking_criteria",
    "aggregate_by_class",
    "criteria_by_mode",
]

#: The K fractions of Ning et al. (aw_nas ``test_xk``), without the trivial 1.0.
K_FRACTIONS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5)

#: The isomorphism-aware evaluation modes understood by :func:`aggregate_by_class`.
MODES = ("iso", "deiso", "iso2deiso")


# --------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------
def _as_1d(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise NasrankError(f"{name} must be numeric, got {values!r:.80}: {exc}") from exc
    if arr.ndim != 1:
        raise NasrankError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_pair(scores, truth) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert; return float arrays of equal, non-zero length."""
    s = _as_1d(scores, "scores")
    t = _as_1d(truth, "truth")
    if s.shape[0] != t.shape[0]:
        raise NasrankError(
            f"scores and truth must have the same length, got len(scores)={s.shape[0]} "
            f"and len(truth)={t.shape[0]}"
        )
    if s.shape[0] == 0:
        raise NasrankError("scores and truth are empty (len(scores)=0, len(truth)=0)")
    return s, t


def _valid_pair(scores, truth) -> tuple[np.ndarray, np.ndarray]:
    """Validate and drop the pairs where either value is NaN or infinite."""
    s, t = _check_pair(scores, truth)
    ok = np.isfinite(s) & np.isfinite(t)
    if ok.all():
        return s, t
    return s[ok], t[ok]


def _check_k(k: float) -> float:
    try:
        kf = float(k)
    except (TypeError, ValueError) as exc:
        raise NasrankError(f"K must be a fraction in (0, 1], got {k!r}") from exc
    if not (0.0 < kf <= 1.0):
        raise NasrankError(f"K must be a fraction in (0, 1], got {k!r}")
    return kf


def _top_count(k: float, n: int) -> int:
    """``⌊k·n⌋``, robust to floating-point error just below an integer."""
    return int(math.floor(_check_k(k) * n + 1e-9))


def _order(values: np.ndarray) -> np.ndarray:
    """Indices from best to worst; ties broken by position (earlier = better)."""
    return np.argsort(-values, kind="stable")


def _k_label(k: float) -> str:
    """Shortest round-tripping form of ``k``: 0.05 -> "0.05", 0.001 -> "0.001"."""
    return repr(float(k))


# --------------------------------------------------------------------------
# correlations
# --------------------------------------------------------------------------
def _pearson_valid(s: np.ndarray, t: np.ndarray) -> float:
    if s.shape[0] < 2:
        return float("nan")
    ds = s - s.mean()
    dt = t - t.mean()
    denom = math.sqrt(float(np.dot(ds, ds)) * float(np.dot(dt, dt)))
    if denom == 0.0 or not math.isfinite(denom):
        return float("nan")
    r = float(np.dot(ds, dt)) / denom
    return max(-1.0, min(1.0, r))


def _kendall_valid(s: np.ndarray, t: np.ndarray) -> float:
    if s.shape[0] < 2:
        return float("nan")
    return kendall_tau_b(s, t)  # tau-b (scipy's default); constant input -> nan


def _spearman_valid(s: np.ndarray, t: np.ndarray) -> float:
    if s.shape[0] < 2:
        return float("nan")
    return _pearson_valid(rankdata(s), rankdata(t))


def pearson(scores, truth) -> float:
    """Pearson (linear) correlation between ``scores`` and ``truth``."""
    return _pearson_valid(*_valid_pair(scores, truth))


def kendall_tau(scores, truth) -> float:
    """Kendall tau-b (the default variant of ``scipy.stats.kendalltau``)."""
    return _kendall_valid(*_valid_pair(scores, truth))


def spearman(scores, truth) -> float:
    """Spearman rho: Pearson correlation of the average ranks."""
    return _spearman_valid(*_valid_pair(scores, truth))


def rank_correlations(scores, truth) -> dict[str, float | int | None]:
    """``{"spearman", "kendall", "n_pairs"}`` of ``scores`` against ``truth`` for a JSON report.

    ``None`` entries in either sequence count as missing (NaN) and are dropped
    with the other invalid pairs; a correlation that is ``nan`` (fewer than two
    valid pairs, constant input) is reported as ``None``; ``n_pairs`` counts
    the valid pairs. Empty input gives ``n_pairs = 0``.
    """
    s = [float("nan") if v is None else v for v in scores]
    t = [float("nan") if v is None else v for v in truth]
    if not s and not t:
        return {"spearman": None, "kendall": None, "n_pairs": 0}
    sv, tv = _valid_pair(s, t)
    rho, tau = _spearman_valid(sv, tv), _kendall_valid(sv, tv)
    return {"spearman": None if math.isnan(rho) else rho, "kendall": None if math.isnan(tau) else tau,
            "n_pairs": int(sv.shape[0])}


# --------------------------------------------------------------------------
# top-K criteria
# --------------------------------------------------------------------------
def _precision_valid(order_s: np.ndarray, order_t: np.ndarray, m: int, top: bool) -> float:
    n = order_s.shape[0]
    if m < 1:
        return float("nan")
    if top:
        a, b = order_s[:m], order_t[:m]
    else:
        a, b = order_s[n - m:], order_t[n - m:]
    mask = np.zeros(n, dtype=bool)
    mask[b] = True
    return float(np.count_nonzero(mask[a])) / m


def _true_ranks(order_t: np.ndarray) -> np.ndarray:
    """True rank of each architecture, 1 = best (ties broken by position)."""
    ranks = np.empty(order_t.shape[0], dtype=np.int64)
    ranks[order_t] = np.arange(1, order_t.shape[0] + 1)
    return ranks


def _br_wr_valid(order_s: np.ndarray, ranks_t: np.ndarray, m: int) -> tuple[float, float]:
    n = order_s.shape[0]
    if m < 1:
        return float("nan"), float("nan")
    chosen = ranks_t[order_s[:m]]
    return float(chosen.min()) / n, float(chosen.max()) / n


def _kendall_top_valid(s: np.ndarray, t: np.ndarray, order_s: np.ndarray, m: int) -> float:
    if m < 2:
        return float("nan")
    idx = order_s[:m]
    return _kendall_valid(s[idx], t[idx])


def precision_at_top(scores, truth, k: float) -> float:
    """P@topK: ``|top m by scores ∩ top m by truth| / m`` with ``m = ⌊kN⌋``."""
    s, t = _valid_pair(scores, truth)
    m = _top_count(k, s.shape[0])
    return _precision_valid(_order(s), _order(t), m, top=True)


def precision_at_bottom(scores, truth, k: float) -> float:
    """P@bottomK: like :func:`precision_at_top` for the worst ``m``."""
    s, t = _valid_pair(scores, truth)
    m = _top_count(k, s.shape[0])
    return _precision_valid(_order(s), _order(t), m, top=False)


def best_worst_rank_at(scores, truth, k: float) -> tuple[float, float]:
    """BR@K and WR@K as fractions of N (lower is better).

    Among the top ``m = ⌊kN⌋`` architectures by score, BR is the best
    (smallest) true rank and WR the worst (largest), true rank 1 being the
    architecture with the highest truth; both are divided by N. A perfect
    ranker has BR@K = 1/N and WR@K = m/N.
    """
    s, t = _valid_pair(scores, truth)
    m = _top_count(k, s.shape[0])
    return _br_wr_valid(_order(s), _true_ranks(_order(t)), m)


def kendall_tau_top(scores, truth, k: float) -> float:
    """Kendall tau-b between scores and truth within the predicted top ``⌊kN⌋``.

    ``nan`` when fewer than two architectures are selected. (aw_nas's
    ``test_xk`` instead uses only the architectures in both top-K sets; here
    it is the predicted top-K, as Ning et al.'s text describes.)
    """
    s, t = _valid_pair(scores, truth)
    m = _top_count(k, s.shape[0])
    return _kendall_top_valid(s, t, _order(s), m)


def ranking_criteria(scores, truth, ks: Iterable[float] = K_FRACTIONS) -> dict[str, float]:
    """All criteria at once.

    Keys: ``n`` (pairs given), ``n_valid``, ``n_invalid`` (pairs dropped
    because the score or truth was NaN/inf), ``pearson``, ``kendall_tau``,
    ``spearman`` and, for each ``k`` in ``ks`` with ``⌊k·n_valid⌋ ≥ 1``,
    ``p_at_top_{k}``, ``p_at_bottom_{k}``, ``br_at_{k}``, ``wr_at_{k}`` and
    ``kendall_tau_top_{k}`` (``k`` written in its shortest form, e.g.
    ``p_at_top_0.05``). The counts are ints, everything else floats.
    """
    s_all, t_all = _check_pair(scores, truth)
    ok = np.isfinite(s_all) & np.isfinite(t_all)
    s, t = s_all[ok], t_all[ok]
    n, n_valid = int(s_all.shape[0]), int(s.shape[0])
    out: dict[str, float] = {
        "n": n,
        "n_valid": n_valid,
        "n_invalid": n - n_valid,
        "pearson": _pearson_valid(s, t),
        "kendall_tau": _kendall_valid(s, t),
        "spearman": _spearman_valid(s, t),
    }
    ks = [_check_k(k) for k in ks]
    if n_valid == 0:
        return out
    order_s, order_t = _order(s), _order(t)
    ranks_t = _true_ranks(order_t)
    for k in ks:
        m = _top_count(k, n_valid)
        if m < 1:
            continue
        lab = _k_label(k)
        out[f"p_at_top_{lab}"] = _precision_valid(order_s, order_t, m, top=True)
        out[f"p_at_bottom_{lab}"] = _precision_valid(order_s, order_t, m, top=False)
        br, wr = _br_wr_valid(order_s, ranks_t, m)
        out[f"br_at_{lab}"] = br
        out[f"wr_at_{lab}"] = wr
        out[f"kendall_tau_top_{lab}"] = _kendall_top_valid(s, t, order_s, m)
    return out


# --------------------------------------------------------------------------
# isomorphism-aware evaluation
# --------------------------------------------------------------------------
def _factorize(class_keys: Sequence[Hashable], n: int) -> tuple[np.ndarray, int]:
    """Class codes 0..C-1 in order of first appearance."""
    try:
        keys = list(class_keys)
    except TypeError as exc:
        raise NasrankError(f"class_keys must be a sequence, got {class_keys!r:.80}") from exc
    if len(keys) != n:
        raise NasrankError(
            f"class_keys must have one key per architecture, got len(class_keys)={len(keys)} "
            f"and len(scores)={n}"
        )
    codes_of: dict = {}
    try:
        codes = np.fromiter(
            (codes_of.setdefault(key, len(codes_of)) for key in keys), dtype=np.int64, count=n
        )
    except TypeError as exc:  # unhashable key
        raise NasrankError(f"class keys must be hashable: {exc}") from exc
    return codes, len(codes_of)


def _class_finite_mean(values: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean over each class's finite members; NaN for a class with none."""
    ok = np.isfinite(values)
    sums = np.bincount(codes[ok], weights=values[ok], minlength=n_classes)
    counts = np.bincount(codes[ok], minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def aggregate_by_class(scores, truth, class_keys, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Turn per-architecture ``(scores, truth)`` into the pairs a mode evaluates.

    ``class_keys[i]`` is any hashable naming architecture ``i``'s isomorphism
    class (e.g. its canonical string).

    * ``"iso"``: unchanged (copies as float arrays; ``class_keys`` may be None).
    * ``"deiso"``: one entry per class, in order of first appearance. The
      score is that of the class's **first member in input order** (the
      representative a de-isomorphic ranker would evaluate); the truth is the
      mean truth over the class's finite members.
    * ``"iso2deiso"``: every architecture keeps its own truth and gets the
      mean score of its class's finite members (NaN if none is finite).

    An unknown mode raises :class:`NasrankError` naming it.
    """
    if mode not in MODES:
        raise NasrankError(f"unknown evaluation mode {mode!r}; expected one of {', '.join(MODES)}")
    s, t = _check_pair(scores, truth)
    if mode == "iso":
        return s.copy(), t.copy()
    if class_keys is None:
        raise NasrankError(f"evaluation mode {mode!r} needs class_keys (one isomorphism class per architecture)")
    codes, n_classes = _factorize(class_keys, s.shape[0])
    if mode == "deiso":
        first = np.full(n_classes, s.shape[0], dtype=np.int64)
        np.minimum.at(first, codes, np.arange(s.shape[0]))
        return s[first], _class_finite_mean(t, codes, n_classes)
    # iso2deiso
    return _class_finite_mean(s, codes, n_classes)[codes], t.copy()


def criteria_by_mode(
    scores,
    truth,
    class_keys=None,
    modes: Iterable[str] = ("iso",),
    ks: Iterable[float] = K_FRACTIONS,
) -> dict[str, dict[str, float]]:
    """:func:`ranking_criteria` for each mode of :func:`aggregate_by_class`."""
    ks = tuple(ks)
    modes = tuple(modes)
    for mode in modes:  # fail on a bad mode before doing any work
        if mode not in MODES:
            raise NasrankError(f"unknown evaluation mode {mode!r}; expected one of {', '.join(MODES)}")
    out: dict[str, dict[str, float]] = {}
    for mode in modes:
        s, t = aggregate_by_class(scores, truth, class_keys, mode)
        out[mode] = ranking_criteria(s, t, ks)
    return out
