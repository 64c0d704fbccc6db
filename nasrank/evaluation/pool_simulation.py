"""Searches replayed over a scored pool as array arithmetic: thousands of replicates, and the bootstrap.

This is the statistics path of :mod:`nasrank.evaluation.search_savings`: the same decisions as the
searchers (``random``, ``sh``, ``hyperband``) with the ``recorded`` ranker on the ``pool`` space, made
on arrays over the pool's cells, so that a bootstrap can resample the cells themselves (a resampled
pool holds some cells twice: they are distinct candidates here). ``tests/test_pool_simulation.py``
checks that, on the pool as scored, each function returns the same evaluations, charges and returned
cell as the contract-based search with the same seed.

A method's arrays (:class:`Cells`): ``score`` and ``cost`` per cell (NaN score: invalid), ``true``
accuracy, and for FEAR's replayed rejection ``steps`` (stage-1 steps), ``reached`` and the charge if
rejected at a given limit (:func:`rejected_cost`); for a rung method ``rung_score[b]`` and
``rung_cost[b]`` (each rung's own charge).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Cells:
    """One method's recorded numbers over the cells of a (possibly resampled) pool."""

    true: np.ndarray
    score: np.ndarray | None = None
    cost: np.ndarray | None = None
    steps: np.ndarray | None = None           # FEAR: stage-1 steps (to threshold when reached)
    reached: np.ndarray | None = None          # FEAR: reached the threshold
    rejected_cost: Callable[[int, float], float] | None = None  # FEAR: (cell, limit) -> charge if rejected
    rung_score: dict[int, np.ndarray] = field(default_factory=dict)
    rung_cost: dict[int, np.ndarray] = field(default_factory=dict)

    def take(self, idx: np.ndarray) -> "Cells":
        """The cells ``idx`` (a bootstrap resample: repeats are distinct cells)."""
        pick = (lambda a: None if a is None else a[idx])
        rc = None if self.rejected_cost is None else (lambda i, lim, f=self.rejected_cost: f(int(idx[i]), lim))
        return Cells(self.true[idx], pick(self.score), pick(self.cost), pick(self.steps), pick(self.reached), rc,
                     {b: v[idx] for b, v in self.rung_score.items()}, {b: v[idx] for b, v in self.rung_cost.items()})


@dataclass
class Trace:
    """One replicate: after each evaluation, the cumulative charge and the true accuracy of the cell
    the search would return then (NaN before any valid score)."""

    cost: np.ndarray
    returned_true: np.ndarray

    def regret_at(self, budgets: np.ndarray, optimum: float) -> np.ndarray:
        """Regret of the returned cell of a search that stops before its charge exceeds each budget
        (NaN where not even one evaluation fits: a missing value, never 0)."""
        k = np.searchsorted(self.cost, budgets, side="right")
        out = np.full(len(budgets), np.nan)
        ok = k > 0
        out[ok] = optimum - self.returned_true[k[ok] - 1]
        return out


def _fitness(x: float) -> float:
    return x if math.isfinite(x) else -math.inf


def stream(n_cells: int, rng: np.random.Generator, length: int) -> list[int]:
    """The first ``length`` distinct cells in the order ``random`` search meets them (uniform draws,
    repeats answered free from the run's cache)."""
    seen: dict[int, None] = {}
    while len(seen) < min(length, n_cells):
        seen.setdefault(int(rng.integers(0, n_cells)), None)
    return list(seen)


def _returned(scores: list[float], trues: list[float]) -> np.ndarray:
    best, best_true, out = -math.inf, math.nan, []
    for s, t in zip(scores, trues):
        if _fitness(s) > best:
            best, best_true = _fitness(s), t
        out.append(best_true)
    return np.array(out)


def random_search(cells: Cells, order: list[int], reject_ratio: float | None = None) -> Trace:
    """Random search over ``order`` with one recorded ranker (FEAR's rejection replayed when asked)."""
    scores, costs, t_min = [], [], None
    for i in order:
        s, c = float(cells.score[i]), float(cells.cost[i])
        if reject_ratio is not None:
            limit = None if t_min is None else reject_ratio * t_min
            if limit is not None and cells.steps[i] > limit:
                s, c = -2.0, cells.rejected_cost(i, limit)
            elif cells.reached[i]:
                t_min = float(cells.steps[i]) if t_min is None else min(t_min, float(cells.steps[i]))
        scores.append(s)
        costs.append(c)
    return Trace(np.cumsum(costs), _returned(scores, [float(cells.true[i]) for i in order]))


def cascade_search(first: Cells, second: Cells, order: list[int], keep_fraction: float) -> Trace:
    """Random search with ``first>second`` (the ``cascade`` ranker's stream quota, filtered below kept)."""
    seen, kept, scores, costs = [], 0, [], []
    for i in order:
        k = _fitness(float(first.score[i]))
        seen.append(k)
        quota = math.ceil(keep_fraction * len(seen))
        ok = math.isfinite(k) and sum(p > k for p in seen) < quota and kept < quota
        kept += ok
        below = sum(p < k for p in seen) / len(seen) if math.isfinite(k) else 0.0
        scores.append(float(second.score[i]) if ok else -1e9 + min(below, 0.999))
        costs.append(float(first.cost[i]) + (float(second.cost[i]) if ok else 0.0))
    return Trace(np.cumsum(costs), _returned(scores, [float(first.true[i]) for i in order]))


def _promote(scores: list[float], eta: float) -> list[int]:
    k = max(1, int(math.floor(len(scores) / eta + 1e-9)))
    return sorted(range(len(scores)), key=lambda j: (-_fitness(scores[j]), j))[:k]


def _sample_unique(n_cells: int, n: int, rng: np.random.Generator) -> list[int]:
    """``SearchSpace.sample_many(n, rng, unique=True)`` over the pool's cells."""
    out, seen, tries = [], set(), 0
    while len(out) < n:
        a = int(rng.integers(0, n_cells))
        tries += 1
        if a in seen:
            if tries > 100 * n + 1000:
                break
            continue
        seen.add(a)
        out.append(a)
    return out


def successive_halving(cells: Cells, rungs: list[int], eta: float, brackets: list[tuple[int, int]],
                       rng: np.random.Generator, max_evals: int) -> Trace:
    """``sh`` (one bracket repeated) or ``hyperband`` (its brackets cycled): ``brackets`` lists
    ``(first rung index, architectures)``; stops after ``max_evals`` charged evaluations, or when 100 cycles
    of brackets in a row evaluate nothing new (the pool is used up)."""
    n_cells = len(cells.true)
    known: dict[tuple[int, int], float] = {}
    kept: dict[int, int] = {}
    costs, recs = [], []  # recs: (fidelity, score, true)
    idle = 0
    while len(costs) < max_evals and idle < 100:
        before = len(costs)
        for first, n in brackets:
            archs = _sample_unique(n_cells, n, rng)
            for r in range(first, len(rungs)):
                b = rungs[r]
                for a in archs:
                    if (a, b) in known:
                        continue
                    start = kept.get(a, 0)
                    start = start if start < b else 0
                    cost = sum(float(cells.rung_cost[x][a]) for x in rungs if start < x <= b)
                    s = float(cells.rung_score[b][a])
                    known[a, b], kept[a] = s, b
                    costs.append(cost)
                    recs.append((b, s, float(cells.true[a])))
                    if len(costs) >= max_evals:
                        return _sh_trace(costs, recs)
                if r == len(rungs) - 1:
                    for a in archs:
                        kept.pop(a, None)
                    break
                keep = _promote([known[a, b] for a in archs], eta)
                for j, a in enumerate(archs):
                    if j not in set(keep):
                        kept.pop(a, None)
                archs = [archs[j] for j in keep]
        idle = idle + 1 if len(costs) == before else 0
    return _sh_trace(costs, recs)


def _sh_trace(costs: list[float], recs: list[tuple[int, float, float]]) -> Trace:
    """The returned cell after each evaluation: the best-scored at the highest fidelity reached (first on ties)."""
    top, best, best_true, out = None, -math.inf, math.nan, []
    for fid, s, t in recs:
        if math.isfinite(s) and (top is None or fid > top):
            top, best, best_true = fid, -math.inf, math.nan
        if fid == top and _fitness(s) > best:
            best, best_true = _fitness(s), t
        out.append(best_true)
    return Trace(np.cumsum(costs), np.array(out))


def hyperband_brackets(n_rungs: int, eta: float) -> list[tuple[int, int]]:
    """Hyperband's ``(first rung, architectures)`` per bracket, most exploratory first."""
    k = n_rungs - 1
    return [(k - s, int(math.ceil((k + 1) / (s + 1) * eta ** s - 1e-9))) for s in range(k, -1, -1)]
