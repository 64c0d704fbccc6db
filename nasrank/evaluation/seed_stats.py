"""Per-seed run metrics, and their aggregate over seeds with bootstrap confidence intervals.

Input: for every seed, the candidate records of every ranker run (labelled
``train10``, ``fear`` ...), in the order the search proposed them. Within a
seed all rankers saw the same candidate stream, so position ``i`` is the same
architecture for every ranker (a run that stopped early just has fewer).

Per seed and ranker (:func:`run_metrics`):

* ``cost_per_candidate``: mean charged seconds per candidate;
* ``spearman`` / ``kendall``: score against true accuracy
  (:mod:`nasrank.evaluation.criteria`: non-finite pairs dropped);
* ``winner_true_acc``: the true accuracy of the highest-scoring candidate
  (the first one on ties); ``regret``: the best true accuracy among the
  seed's candidates minus the winner's (0 = the ranker picked the best);
* counts ``n_not_reached``, ``n_rejected``, ``n_filtered``, ``n_invalid``.

A ranker that failed on every candidate of a seed (no finite score) gets
``None`` metrics for that seed, and the seed is listed in ``failed_seeds``;
the other seeds still aggregate.

**Bootstrap** (:func:`bootstrap`): one replicate draws the seeds with
replacement, then, within each drawn seed, the candidate positions with
replacement (the same positions for every ranker of that seed: the rankers
are compared on paired candidates); every metric is recomputed on the drawn
candidates and averaged over the drawn seeds. The 95% interval is the 2.5th
and 97.5th percentile of the replicates (percentile bootstrap) over the
replicates where the quantity is defined. The generator is
``numpy.random.default_rng(seed)``, so a given seed reproduces the intervals
exactly. ``mean`` is always the estimate on the data as observed (mean over
seeds of the per-seed values), never the mean of the replicates.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from nasrank.evaluation import criteria
from nasrank.runs.outcomes import status_of

#: the metrics computed per seed and ranker, in the bootstrap's order
METRICS = ("cost_per_candidate", "spearman", "kendall", "winner_true_acc", "regret")
COUNTS = ("n_not_reached", "n_rejected", "n_filtered", "n_invalid")
CI_LEVEL = 0.95


@dataclass
class RunTable:
    """One ranker's candidates in one seed, as arrays (NaN where unknown)."""

    score: np.ndarray
    seconds: np.ndarray
    truth: np.ndarray
    not_reached: np.ndarray
    rejected: np.ndarray
    filtered: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    @classmethod
    def from_records(cls, records: Iterable[Any], cost: Callable[[Mapping[str, Any]], Any] | None = None) -> "RunTable":
        """From :class:`~nasrank.runs.history.HistoryRecord` objects or their JSON dicts.

        ``cost(record_dict)`` gives a candidate's cost (default: its charged ``seconds``).
        """
        rows = [r if isinstance(r, Mapping) else vars(r) for r in records]

        def num(v: Any) -> float:
            return float("nan") if v is None else float(v)

        status = np.array([status_of(r) for r in rows], dtype=object)
        return cls(
            score=np.array([num(r.get("score")) for r in rows], dtype=float),
            seconds=np.array([num(cost(r) if cost else r.get("seconds")) for r in rows], dtype=float),
            truth=np.array([num(r.get("true_acc")) for r in rows], dtype=float),
            not_reached=np.asarray(status == "not_reached", dtype=bool),
            rejected=np.asarray(status == "rejected", dtype=bool),
            filtered=np.asarray(status == "filtered", dtype=bool),
        )


def _metrics_at(t: RunTable, idx: np.ndarray) -> np.ndarray:
    """The :data:`METRICS` of ``t`` on candidate positions ``idx`` (NaN where undefined)."""
    out = np.full(len(METRICS), np.nan)
    idx = idx[idx < len(t)]
    if len(idx) == 0:
        return out
    sec = t.seconds[idx]
    out[0] = float(np.nanmean(sec)) if np.isfinite(sec).any() else np.nan
    score, truth = t.score[idx], t.truth[idx]
    ok = np.isfinite(score)
    if not ok.any():
        return out  # failed on every candidate: no quality
    if len(idx) >= 2:
        out[1] = criteria.spearman(score, truth)
        out[2] = criteria.kendall_tau(score, truth)
    win = int(np.argmax(np.where(ok, score, -np.inf)))  # first on ties
    if np.isfinite(truth).any():
        out[3] = truth[win]
        out[4] = float(np.nanmax(truth)) - truth[win]
    return out


def run_metrics(t: RunTable) -> dict[str, Any]:
    """The per-seed metrics and counts of one run (``None`` for an undefined metric)."""
    vals = _metrics_at(t, np.arange(len(t)))
    out: dict[str, Any] = {m: (None if math.isnan(v) else float(v)) for m, v in zip(METRICS, vals)}
    out.update(n_candidates=len(t), n_not_reached=int(t.not_reached.sum()), n_rejected=int(t.rejected.sum()),
               n_filtered=int(t.filtered.sum()), n_invalid=int((~np.isfinite(t.score)).sum()))
    out["failed"] = len(t) > 0 and not np.isfinite(t.score).any()
    return out


def _seed_means(tables: Mapping[Any, Mapping[str, RunTable]], labels: Sequence[str], seeds: Sequence[Any],
                positions: Mapping[Any, np.ndarray]) -> np.ndarray:
    """Mean over ``seeds`` (repeats allowed) of each label's metrics at ``positions[seed]``: (labels, metrics)."""
    per = np.full((len(seeds), len(labels), len(METRICS)), np.nan)
    for s_i, (seed, idx) in enumerate(zip(seeds, positions)):
        for l_i, label in enumerate(labels):
            t = tables[seed].get(label)
            if t is not None:
                per[s_i, l_i] = _metrics_at(t, idx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a label without a value in any drawn seed: NaN
        return np.nanmean(per, axis=0)


def seed_size(tables: Mapping[str, RunTable]) -> int:
    """Candidates in a seed: the longest run's."""
    return max((len(t) for t in tables.values()), default=0)


def observed(tables: Mapping[Any, Mapping[str, RunTable]], labels: Sequence[str], seeds: Sequence[Any]) -> np.ndarray:
    """The seed-mean metrics on the data as observed: (labels, metrics)."""
    return _seed_means(tables, labels, seeds, [np.arange(seed_size(tables[s])) for s in seeds])


def bootstrap(tables: Mapping[Any, Mapping[str, RunTable]], labels: Sequence[str], seeds: Sequence[Any],
              n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Bootstrap replicates of the seed-mean metrics: (n_boot, labels, metrics); see the module docstring."""
    rng = np.random.default_rng(seed)
    seeds = list(seeds)
    out = np.full((n_boot, len(labels), len(METRICS)), np.nan)
    for b in range(n_boot):
        drawn = [seeds[i] for i in rng.integers(0, len(seeds), len(seeds))]
        pos = []
        for s in drawn:
            n = seed_size(tables[s])
            pos.append(rng.integers(0, n, n) if n else np.arange(0))
        out[b] = _seed_means(tables, labels, drawn, pos)
    return out


def interval(point: float | None, replicates: np.ndarray) -> dict[str, float | None]:
    """``{mean, ci_low, ci_high}``: the observed value and the percentile interval of the finite replicates."""
    reps = replicates[np.isfinite(replicates)]
    alpha = (1 - CI_LEVEL) / 2
    lo, hi = (float(np.quantile(reps, alpha)), float(np.quantile(reps, 1 - alpha))) if len(reps) else (None, None)
    ok = point is not None and math.isfinite(point)
    return {"mean": float(point) if ok else None, "ci_low": lo, "ci_high": hi}
