"""Search-level savings from a scored pool: regret against search cost, cost to reach a regret, matched
ratios, with a bootstrap that resamples the pool's cells and then the search replicates.

A :class:`Method` is a searcher over the pool with a recorded ranker (``random`` with one ranker,
FEAR's rejection replayed, or a cascade; ``sh`` / ``hyperband`` over a ranker's rungs). Its
replicates are replayed by :mod:`nasrank.evaluation.pool_simulation` (the searchers' decisions on
arrays, checked against the contract-based searches by tests). Replicates share cells: the spread of
replicates alone says nothing about which cells the pool happened to draw, so every CI here comes from
resampling the cells first (with replacement, the same resample for every method: paired), then
replicates on the resample.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasrank.evaluation import pool_simulation as sim
from nasrank.pool.charges import final_rung, protocol_score, rejected_charge, rung_charge


@dataclass(frozen=True)
class Method:
    """A search over the pool: ``searcher`` (random, sh, hyperband) with recorded ``ranker`` (a pool
    label, scored by ``protocol``), FEAR's ``reject_ratio`` replayed, or a cascade ``first>ranker``."""

    label: str
    searcher: str
    ranker: str
    protocol: str | None = None
    reject_ratio: float | None = None
    first: str | None = None
    first_protocol: str | None = None
    keep_fraction: float = 0.25
    eta: float = 3.0


def method_cells(pool: Any, cells: list[dict], label: str, protocol: str | None) -> sim.Cells:
    """The arrays of pool ranker ``label`` (under ``protocol``) over ``cells``."""
    kind = pool.manifest["rankers"][label]["name"]
    entries = [pool.entry(label, c["arch"]) for c in cells]
    true = np.array([float(c["true_acc"]) for c in cells])
    sc = [final_rung(e, protocol, kind) if e.rungs else protocol_score(e, protocol, kind) for e in entries]
    out = sim.Cells(true, np.array([s for s, _ in sc]), np.array([c for _, c in sc]))
    if kind == "fear":
        out.steps = np.array([float(e.info.get("stage1_steps", 0)) for e in entries])
        out.reached = np.array([e.status == "ok" for e in entries])
        every = pool.manifest["rankers"][label]["config"].get("check_every_steps")
        out.rejected_cost = lambda i, limit: rejected_charge(entries[i], limit, "steps", every)
    rungs = pool.manifest["rankers"][label].get("rungs") or []
    for b in rungs:
        out.rung_score[int(b)] = np.array([protocol_score(e.rungs[int(b)], protocol, kind)[0] for e in entries])
        out.rung_cost[int(b)] = np.array([rung_charge(e.rungs[int(b)], protocol, kind) for e in entries])
    return out


def method_arrays(pool: Any, cells: list[dict], m: Method) -> tuple[sim.Cells, sim.Cells | None]:
    """The arrays a method reads: its ranker's, and a cascade's first stage's."""
    first = None if m.first is None else method_cells(pool, cells, m.first, m.first_protocol)
    return method_cells(pool, cells, m.ranker, m.protocol), first


def trace(m: Method, arrays: tuple[sim.Cells, sim.Cells | None], rng: np.random.Generator,
          max_evals: int) -> sim.Trace:
    """One replicate of ``m``."""
    cells, first = arrays
    n = len(cells.true)
    if m.searcher == "random":
        order = sim.stream(n, rng, max_evals)
        if first is not None:
            return sim.cascade_search(first, cells, order, m.keep_fraction)
        return sim.random_search(cells, order, m.reject_ratio)
    rungs = sorted(cells.rung_score)
    brackets = ([(0, int(math.ceil(m.eta ** (len(rungs) - 1) - 1e-9)))] if m.searcher == "sh"
                else sim.hyperband_brackets(len(rungs), m.eta))
    return sim.successive_halving(cells, rungs, m.eta, brackets, rng, max_evals)


def _reach(t: sim.Trace, optimum: float, r: float) -> float:
    hit = np.nonzero(optimum - t.returned_true <= r + 1e-9)[0]
    return float(t.cost[hit[0]]) if len(hit) else math.inf


@dataclass
class Replicates:
    """``reps`` replicates of every method on one set of cells: regret curves and costs to reach."""

    regret: dict[str, np.ndarray]       # method -> (reps × budgets), NaN before the first evaluation
    reach: dict[str, dict[float, np.ndarray]]  # method -> level -> (reps,) cost, inf when never reached


def all_arrays(pool: Any, cells: list[dict], methods: list[Method]) -> dict[str, tuple]:
    """Every method's arrays over ``cells`` (built once; a bootstrap takes resamples of them)."""
    return {m.label: method_arrays(pool, cells, m) for m in methods}


def replicate(arrays: dict[str, tuple], methods: list[Method], budgets: np.ndarray, levels: list[float],
              reps: int, seed: int, idx: np.ndarray | None = None) -> Replicates:
    """``reps`` replicates (seeds ``seed..seed+reps-1``) of each method (on the resample ``idx`` if given)."""
    regret, reach = {}, {}
    for m in methods:
        arr = arrays[m.label]
        if idx is not None:
            arr = (arr[0].take(idx), None if arr[1] is None else arr[1].take(idx))
        optimum = float(np.max(arr[0].true))
        max_evals = _evals_for(arr[0], arr[1], m, float(budgets[-1]))
        traces = [trace(m, arr, np.random.default_rng(seed + k), max_evals) for k in range(reps)]
        regret[m.label] = np.array([t.regret_at(budgets, optimum) for t in traces])
        reach[m.label] = {r: np.array([_reach(t, optimum, r) for t in traces]) for r in levels}
    return Replicates(regret, reach)


def _evals_for(cells: sim.Cells, first: sim.Cells | None, m: Method, budget: float) -> int:
    """Enough evaluations to pass ``budget`` (at the cheapest per-evaluation charge), at most the pool's size
    times the rungs."""
    if m.searcher == "random":
        per = float(np.min(first.cost if first is not None else cells.cost))
        return int(min(len(cells.true), math.ceil(budget / max(per, 1e-9)) + 1))
    per = min(float(np.min(v)) for v in cells.rung_cost.values())
    return int(min(len(cells.true) * len(cells.rung_cost), math.ceil(budget / max(per, 1e-9)) + 1))


def median_reach(x: np.ndarray) -> float:
    """The median cost to reach a level (inf when more than half the replicates never reach it)."""
    return float(np.median(x)) if np.isfinite(x).any() else math.inf


def summarize_point(rep: Replicates, budgets: np.ndarray, levels: list[float]) -> dict[str, Any]:
    """Per method: mean regret curve (NaN where a replicate has no evaluation yet is left out), the median
    cost to reach each level and the share of replicates that reach it."""
    out = {}
    for lab, reg in rep.regret.items():
        with np.errstate(all="ignore"):
            mean = np.nanmean(reg, axis=0)
        out[lab] = {"mean_regret": [None if not np.isfinite(v) else float(v) for v in mean],
                    "reach": {str(r): {"median_cost": _num(median_reach(rep.reach[lab][r])),
                                       "share_reached": float(np.isfinite(rep.reach[lab][r]).mean())}
                              for r in levels}}
    return out


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else x
