"""Calibration of the search-savings benchmark: every choice made on the pool's calibration cells only.

* scoring protocols: per training ranker, the recorded protocol with the highest Spearman against
  the true accuracy on the calibration cells (the rung run: the highest mean over its rungs);
* FEAR: its threshold (which FEAR label) and ``reject_ratio`` (none, 4, 2, 1.2), the family's best
  member (train3, train5, train9 = the rung run's last rung), the better multi-fidelity searcher
  (sh, hyperband) and the cascade's keep fraction, each by the lowest mean regret over the
  budget grid (the area under the regret curve) of random-search replicates on the calibration cells;
* the best zero-cost ranker (every ranker that trains nothing: not ``fear``, not ``train``): the
  highest calibration Spearman;
* the cascades' first stages: that best one and, when in the pool, issue 31's new ones (``meco``,
  the ensemble ``ens``), each with its own keep fraction.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from nasrank.evaluation.search_savings import Method, all_arrays, method_cells, replicate

TRAINING_KINDS = ("fear", "train")
#: issue 31's first stages, put into every cascade comparison when the pool has them
NEW_FIRST_STAGES = ("meco", "ens")
FEAR_REJECT = (None, 4.0, 2.0, 1.2)
KEEP = (0.1, 0.25, 0.5)


def zero_cost_labels(pool: Any) -> list[str]:
    """The pool's rankers that train nothing (the manifest's ranker kind is not fear or train)."""
    return [lab for lab in pool.labels if pool.manifest["rankers"][lab]["name"] not in TRAINING_KINDS]


def first_stages(pool: Any, best: str) -> list[str]:
    """The cascades' first stages: the calibrated best zero-cost ranker, then the new ones in the pool."""
    return list(dict.fromkeys([best, *(lab for lab in NEW_FIRST_STAGES if lab in pool.labels)]))


def _spearman(pool: Any, cells: list[dict], label: str, protocol: str | None, rung: int | None = None) -> float:
    arr = method_cells(pool, cells, label, protocol)
    score = arr.score if rung is None else arr.rung_score[rung]
    ok = np.isfinite(score)
    rho = spearmanr(score[ok], arr.true[ok]).statistic if ok.sum() > 2 else math.nan
    return float(rho) if np.isfinite(rho) else -math.inf


def protocols_of(pool: Any, label: str) -> list[str | None]:
    """The scoring protocols recorded for ``label`` (None: the one it ran)."""
    kind = pool.manifest["rankers"][label]["name"]
    if kind == "fear":
        return ["train", "val", "val_loss"]
    if kind != "train":
        return [None]
    first = next(iter(pool.entries[label].values()))
    info = (first.rungs[max(first.rungs)].info if first.rungs else first.info)
    return sorted(info.get("protocols") or {}) or [None]


def choose_protocols(pool: Any, cells: list[dict], labels: list[str]) -> tuple[dict, dict]:
    """``({label: protocol}, {label: {protocol: calibration Spearman}})``."""
    choice, table = {}, {}
    for lab in labels:
        rungs = pool.manifest["rankers"][lab].get("rungs")
        per = {}
        for p in protocols_of(pool, lab):
            vals = [_spearman(pool, cells, lab, p, r) for r in rungs] if rungs else [_spearman(pool, cells, lab, p)]
            per[str(p)] = float(np.mean(vals))
        table[lab] = per
        best = max(per, key=lambda k: per[k])
        choice[lab] = None if best == "None" else best
    return choice, table


def area(pool: Any, cells: list[dict], methods: list[Method], budgets: np.ndarray, reps: int) -> dict[str, float]:
    """Mean regret over the budget grid (lower is better) of each method on ``cells``."""
    rep = replicate(all_arrays(pool, cells, methods), methods, budgets, [], reps, seed=500_000)
    out = {}
    for m in methods:
        with np.errstate(all="ignore"):
            curve = np.nanmean(rep.regret[m.label], axis=0)
        out[m.label] = float(np.nanmean(np.where(np.isfinite(curve), curve, np.nan)))
    return out


def calibrate(pool: Any, budgets: np.ndarray, reps: int = 300) -> dict[str, Any]:
    """Every choice of the benchmark, made on the calibration cells."""
    cells = pool.complete_cells(split="calibration")
    labels = [lab for lab in pool.labels if pool.manifest["rankers"][lab]["name"] in ("fear", "train")]
    proto, proto_table = choose_protocols(pool, cells, labels)
    fears = [lab for lab in labels if pool.manifest["rankers"][lab]["name"] == "fear"]
    members = [lab for lab in labels if pool.manifest["rankers"][lab]["name"] == "train"]
    fear_methods = [Method(f"{lab}@{rr}", "random", lab, proto[lab], rr) for lab in fears for rr in FEAR_REJECT]
    member_methods = [Method(lab, "random", lab, proto[lab]) for lab in members]
    rung = next(lab for lab in members if pool.manifest["rankers"][lab].get("rungs"))
    mf = [Method(s, s, rung, proto[rung]) for s in ("sh", "hyperband")]
    zs = {lab: _spearman(pool, cells, lab, None) for lab in zero_cost_labels(pool)}
    best_zs = max(zs, key=lambda k: zs[k])
    scores = area(pool, cells, fear_methods + member_methods + mf, budgets, reps)
    fear_best = min(fear_methods, key=lambda m: scores[m.label])
    keeps = {}
    for first in first_stages(pool, best_zs):
        casc = [Method(f"{first}:keep{k}", "random", fear_best.ranker, fear_best.protocol, first=first,
                       keep_fraction=k) for k in KEEP]
        scores.update(area(pool, cells, casc, budgets, reps))
        keeps[first] = min(casc, key=lambda m: scores[m.label]).keep_fraction
    return {"n_cells": len(cells), "protocols": proto, "protocol_spearman": proto_table,
            "fear": {"label": fear_best.ranker, "reject_ratio": fear_best.reject_ratio},
            "best_member": min(member_methods, key=lambda m: scores[m.label]).ranker,
            "best_multifidelity": min(mf, key=lambda m: scores[m.label]).searcher,
            "best_zero_cost": best_zs, "zero_cost_spearman": zs,
            "cascade_keep_fraction": keeps[best_zs], "cascade_keep_fractions": keeps,
            "regret_area": scores, "replicates": reps,
            "rule": "protocols and the zero-cost choice by calibration Spearman; FEAR's threshold and rejection, "
                    "the best member, sh vs hyperband and the cascade's keep fraction by the lowest mean regret "
                    "over the budget grid of random-search replicates on the calibration cells"}
