"""A seed sweep summarized: ``aggregate``, ``frontier`` and ``matched`` for ``compare.json``.

:func:`summarize_sweep` takes every seed's runs (``{seed: {label: RunTable}}``)
and the labels of the baseline family, and returns

* ``aggregate[LABEL]``: per ranker, ``{mean, ci_low, ci_high}`` over seeds of
  ``cost_per_candidate``, ``spearman``, ``kendall``, ``winner_true_acc`` and
  ``regret`` (and ``cost_ratio_vs_baseline``, the baseline's cost / this one's,
  when a ``baseline`` label is given); the counts ``n_not_reached``, ``n_rejected``, ``n_filtered``,
  ``n_invalid`` summed over seeds; ``per_seed`` values; ``failed_seeds``;
* ``frontier``: the family's members (cheapest first) with the same intervals
  and their per-seed cost, Spearman, Kendall and regret;
* ``matched[LABEL]`` for every ranker outside the family:
  ``cost_ratio_at_equal_spearman`` / ``_kendall`` / ``_regret``, each
  ``{mean, ci_low, ci_high, extrapolated, p_extrapolated, p_lower_bound, p_upper_bound}``;
  at equal regret only where the family's mean regret falls with cost
  (:func:`~nasrank.evaluation.frontier.improves_with_cost`), else
  ``{"mean": None, ..., "na": "n/a: the family's regret does not fall with cost"}``.

The ratio is :func:`nasrank.evaluation.frontier.matched_ratio` on seed means:
the family's cost on its Pareto front, interpolated (piecewise linear in log cost) at the ranker's
mean quality, divided by the ranker's mean cost per candidate. ``mean`` is that
ratio on the observed data; ``extrapolated`` says whether it is a bound
(``"lower_bound"``: better than every member; ``"upper_bound"``: worse than the
cheapest); the interval is the percentile bootstrap of
:mod:`nasrank.evaluation.seed_stats` (seeds, then candidates, with
replacement), the ratio recomputed in every replicate (in a replicate where the
ranker is beyond the family, the bound's value is used, so the interval of a
bound is an interval of the bound); ``p_extrapolated`` is the fraction of
replicates in which the ratio was a bound, ``p_lower_bound`` / ``p_upper_bound``
the fractions in which the ranker beat every member / did no better than the
cheapest.

The frontier and the matched ratios use the seeds where every family member
ran and did not fail on every candidate (``frontier["seeds"]``).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from nasrank.errors import NasrankError
from nasrank.evaluation.frontier import LOWER_BOUND, UPPER_BOUND, improves_with_cost, matched_ratio
from nasrank.evaluation.seed_stats import (COUNTS, METRICS, RunTable, bootstrap, interval, observed,
                                           run_metrics)

#: matched quality: (key suffix, metric, higher is better)
MATCHED_ON = (("spearman", "spearman", True), ("kendall", "kendall", True), ("regret", "regret", False))
#: what a ratio at equal regret says when the family's regret does not fall with cost
REGRET_NA = "n/a: the family's regret does not fall with cost"
CI_METHOD = ("95% percentile bootstrap: seeds drawn with replacement, then candidate positions within each "
             "drawn seed (the same for every ranker of that seed); metrics averaged over the drawn seeds")


def _labels(tables: Mapping[Any, Mapping[str, RunTable]]) -> list[str]:
    seen: dict[str, None] = {}
    for runs in tables.values():
        seen.update(dict.fromkeys(runs))
    return list(seen)


def _per_seed(tables: Mapping[Any, Mapping[str, RunTable]], label: str) -> dict[str, dict[str, Any]]:
    return {str(s): run_metrics(runs[label]) for s, runs in tables.items() if label in runs}


def _intervals(point: np.ndarray, reps: np.ndarray) -> dict[str, dict[str, float | None]]:
    return {m: interval(point[i], reps[:, i]) for i, m in enumerate(METRICS)}


def _cost_ratio(point: np.ndarray, reps: np.ndarray, base: int, i: int) -> dict[str, float | None]:
    """Baseline cost / this ranker's cost (seed means), with its bootstrap interval."""
    with np.errstate(all="ignore"):
        return interval(point[base, 0] / point[i, 0] if point[i, 0] > 0 else None, reps[:, base, 0] / reps[:, i, 0])


def _aggregate(tables, labels, point: np.ndarray, reps: np.ndarray, baseline: str | None) -> dict[str, Any]:
    out = {}
    for i, label in enumerate(labels):
        per = _per_seed(tables, label)
        out[label] = {
            **_intervals(point[i], reps[:, i]),
            "cost_ratio_vs_baseline": _cost_ratio(point, reps, labels.index(baseline), i) if baseline in labels
            else None,
            **{c: sum(p[c] for p in per.values()) for c in COUNTS},
            "n_candidates": sum(p["n_candidates"] for p in per.values()),
            "seeds": [s for s in per], "failed_seeds": [s for s, p in per.items() if p["failed"]],
            "per_seed": per,
        }
    return out


def _ratio_summary(family: list[int], r: int, m: int, higher: bool, point: np.ndarray,
                   reps: np.ndarray) -> dict[str, Any]:
    ratio, ext = matched_ratio(point[family, 0], point[family, m], point[r, 0], point[r, m], higher)
    boot, kinds = [], []
    for b in range(reps.shape[0]):
        x, e = matched_ratio(reps[b, family, 0], reps[b, family, m], reps[b, r, 0], reps[b, r, m], higher)
        if x is not None:
            boot.append(x)
            kinds.append(e)
    iv = interval(ratio, np.array(boot, dtype=float))
    share = (lambda k: kinds.count(k) / len(kinds)) if kinds else (lambda k: None)
    return {**iv, "extrapolated": ext, "p_extrapolated": None if not kinds else 1 - share(None),
            "p_lower_bound": share(LOWER_BOUND), "p_upper_bound": share(UPPER_BOUND)}


def _matched_on(family: list[int], r: int, key: str, point: np.ndarray, reps: np.ndarray) -> dict[str, Any]:
    """The ratio at equal ``key``; at equal regret only where the family's mean regret falls with cost."""
    _, metric, higher = next(x for x in MATCHED_ON if x[0] == key)
    m = METRICS.index(metric)
    if key == "regret" and not improves_with_cost(point[family, 0], point[family, m], higher):
        return {"mean": None, "ci_low": None, "ci_high": None, "extrapolated": None, "na": REGRET_NA}
    return _ratio_summary(family, r, m, higher, point, reps)


def frontier_seeds(tables: Mapping[Any, Mapping[str, RunTable]], family: Sequence[str]) -> list[Any]:
    """The seeds where every family member ran and scored at least one candidate."""
    return [s for s, runs in tables.items()
            if all(f in runs and np.isfinite(runs[f].score).any() for f in family)]


def summarize_sweep(tables: Mapping[Any, Mapping[str, RunTable]], family: Sequence[str] | None = None,
                    n_boot: int = 1000, seed: int = 0, baseline: str | None = None) -> dict[str, Any]:
    """``{"aggregate", "frontier", "matched", "bootstrap"}`` of a seed sweep (see the module docstring)."""
    labels = _labels(tables)
    all_seeds = list(tables)
    point = observed(tables, labels, all_seeds)
    reps = bootstrap(tables, labels, all_seeds, n_boot, seed)
    result: dict[str, Any] = {"aggregate": _aggregate(tables, labels, point, reps, baseline), "frontier": None,
                              "matched": {}, "bootstrap": {"n_boot": n_boot, "seed": seed, "method": CI_METHOD}}
    if not family:
        return result
    family = list(family)
    missing = [f for f in family if f not in labels]
    if missing or len(family) < 2:
        raise NasrankError(f"the baseline family needs at least two runs that exist, got {family}"
                           + (f" ({', '.join(missing)} missing)" if missing else ""))
    seeds = frontier_seeds(tables, family)
    sub = {s: tables[s] for s in seeds}
    result["frontier"] = {"members": {}, "seeds": [str(s) for s in seeds],
                          "quality": ["spearman", "kendall", "regret"], "cost": "cost_per_candidate"}
    if not seeds:
        result["frontier"]["error"] = "no seed where every family member scored a candidate"
        return result
    if seeds != all_seeds:  # the frontier's own seeds: observe and resample those only
        point = observed(sub, labels, seeds)
        reps = bootstrap(sub, labels, seeds, n_boot, seed)
    fam_idx = sorted((labels.index(f) for f in family), key=lambda i: (math.inf if math.isnan(point[i, 0])
                                                                      else point[i, 0]))
    for i in fam_idx:
        per = {s: {k: v for k, v in p.items() if k in ("cost_per_candidate", "spearman", "kendall", "regret")}
               for s, p in _per_seed(sub, labels[i]).items()}
        result["frontier"]["members"][labels[i]] = {**_intervals(point[i], reps[:, i]), "per_seed": per}
        if not point[i, 0] > 0:
            result["frontier"].setdefault("warnings", []).append(
                f"{labels[i]} has no positive mean cost and is left out of the log-cost frontier")
    for r, label in enumerate(labels):
        if label in family:
            continue
        result["matched"][label] = {f"cost_ratio_at_equal_{key}": _matched_on(fam_idx, r, key, point, reps)
                                    for key, _, _ in MATCHED_ON}
    return result
