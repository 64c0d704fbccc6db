"""How much a ranker's ranking changes between scorings of the same architectures.

Two scorings ("repeats") that differ only in one thing (the data batches, the
ranker's seed, consecutive supernet checkpoints, ...) should rank the same
architectures alike. Given a ``(R, N)`` matrix of scores (repeat × arch):

* ``pairwise``: Kendall tau-b between every pair of repeats, over the
  architectures finite in both (``n`` says how many); ``mean_kendall_tau``,
  ``min_kendall_tau``, ``max_kendall_tau`` summarise them (NaN taus ignored).
* ``median_relative_std``: for each architecture finite in every repeat, the
  standard deviation of its R scores (``ddof=1``) divided by the standard
  deviation (``ddof=1``) across those architectures of their mean scores;
  the median over architectures. 0 means the repeats agree exactly; around
  1 means the noise of one architecture's score is as large as the spread
  between architectures. ``nan`` when fewer than two architectures are
  complete or the means are all equal. ``p90_relative_std`` is the 90th
  percentile.
* ``median_relative_std_ranks``: the same on rank percentiles (each repeat's
  scores of the complete architectures replaced by their average-rank
  percentiles, :func:`nasrank.evaluation.bias.rank_percentiles`). Scores
  spanning orders of magnitude (synflow) make the raw ratio meaningless,
  since the largest architectures dominate both stds; the rank version is
  invariant to any increasing transform of the scores.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from nasrank.errors import NasrankError
from nasrank.evaluation.criteria import kendall_tau

__all__ = ["repeat_consistency", "matrix_from_long"]


def _f(x: float) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def matrix_from_long(archs: Sequence[Hashable], repeats: Sequence[Hashable], scores: Sequence[float],
                     what: str = "scores") -> tuple[list, list, np.ndarray]:
    """Long rows ``(arch, repeat, score)`` -> ``(arch_keys, repeat_keys, matrix[R, N])``.

    Keys keep their first-seen order; a missing (repeat, arch) pair is NaN;
    a repeated pair raises :class:`NasrankError` naming ``what``.
    """
    if not (len(archs) == len(repeats) == len(scores)):
        raise NasrankError(f"{what}: archs, repeats and scores must have equal lengths")
    a_idx: dict = {}
    r_idx: dict = {}
    for a in archs:
        a_idx.setdefault(a, len(a_idx))
    for r in repeats:
        r_idx.setdefault(r, len(r_idx))
    mat = np.full((len(r_idx), len(a_idx)), np.nan)
    seen = np.zeros(mat.shape, dtype=bool)
    for a, r, s in zip(archs, repeats, scores):
        i, j = r_idx[r], a_idx[a]
        if seen[i, j]:
            raise NasrankError(f"{what}: architecture {a} has two scores for repeat {r}")
        seen[i, j] = True
        mat[i, j] = float(s)
    return list(a_idx), list(r_idx), mat


def repeat_consistency(matrix, repeat_names: Iterable[Hashable] | None = None) -> dict[str, Any]:
    """Pairwise Kendall taus between repeats and the median relative per-arch std (module docstring)."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise NasrankError(f"the repeat matrix must be 2-D (repeats × archs), got shape {m.shape}")
    r, n = m.shape
    if r < 2:
        raise NasrankError(f"variance needs at least two repeats, got {r}")
    names = list(repeat_names) if repeat_names is not None else list(range(r))
    if len(names) != r:
        raise NasrankError(f"got {len(names)} repeat names for {r} repeats")
    pairs = []
    for i, j in itertools.combinations(range(r), 2):
        ok = np.isfinite(m[i]) & np.isfinite(m[j])
        tau = kendall_tau(m[i, ok], m[j, ok]) if ok.sum() >= 2 else float("nan")
        pairs.append({"a": names[i], "b": names[j], "kendall_tau": _f(tau), "n": int(ok.sum())})
    taus = np.array([np.nan if p["kendall_tau"] is None else p["kendall_tau"] for p in pairs])
    good = taus[np.isfinite(taus)]
    complete = np.isfinite(m).all(axis=0)
    mc = m[:, complete]
    rel, rel_ranks = np.array([]), np.array([])
    spread = float("nan")
    if mc.shape[1] >= 2:
        spread = float(np.std(mc.mean(axis=0), ddof=1))
        if spread > 0:
            rel = np.std(mc, axis=0, ddof=1) / spread
        from nasrank.evaluation.bias import rank_percentiles

        pc = np.vstack([rank_percentiles(row) for row in mc])
        spread_r = float(np.std(pc.mean(axis=0), ddof=1))
        if spread_r > 0:
            rel_ranks = np.std(pc, axis=0, ddof=1) / spread_r
    return {
        "n_repeats": r,
        "n_archs": n,
        "n_complete_archs": int(complete.sum()),
        "pairwise": pairs,
        "mean_kendall_tau": _f(good.mean()) if good.size else None,
        "min_kendall_tau": _f(good.min()) if good.size else None,
        "max_kendall_tau": _f(good.max()) if good.size else None,
        "std_of_mean_scores": _f(spread),
        "median_relative_std": _f(np.median(rel)) if rel.size else None,
        "p90_relative_std": _f(np.percentile(rel, 90)) if rel.size else None,
        "median_relative_std_ranks": _f(np.median(rel_ranks)) if rel_ranks.size else None,
    }
