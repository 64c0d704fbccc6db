"""Seed groups of ``nasrank report``: runs that differ only in their seed, merged into one curve and
one row of mean ± 95% CI."""
from __future__ import annotations

from typing import Any


#: what makes runs the same experiment but for their seed
GROUP_KEYS = ("kind", "space", "searcher", "ranker", "dataset", "benchmark")


def seed_groups(rows: list[dict[str, Any]]) -> dict[str, str]:
    """``run label -> group name`` for runs that differ only in their seed (groups of two or more seeds)."""
    by_key: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        by_key.setdefault(tuple(str(r.get(k)) for k in GROUP_KEYS), []).append(r)
    names: dict[tuple, str] = {}
    for key, members in by_key.items():
        seeds = [m.get("seed") for m in members]
        if len(members) < 2 or len(set(map(str, seeds))) < len(seeds):
            continue  # one run, or repeated seeds: not a seed sweep
        r = members[0]
        name = "+".join(str(r[k]) for k in ("searcher", "ranker") if r.get(k)) or str(r.get("ranker"))
        if name in names.values():
            name += f" [{r.get('space')}, {r.get('dataset')}]"
        names[key] = name
    return {r["run"]: names[k] for k, members in by_key.items() if k in names for r in members}


def group_rows(rows: list[dict[str, Any]], groups: dict[str, str]) -> list[dict[str, Any]]:
    """Per seed group: the number of runs, their seeds, and mean ± 95% CI of the headline numbers."""
    from nasrank.evaluation.seeds import mean_ci

    out = []
    for name in dict.fromkeys(groups.values()):
        members = [r for r in rows if groups.get(r["run"]) == name]
        g: dict[str, Any] = {"group": name, "n_runs": len(members), "seeds": [m.get("seed") for m in members]}
        for k in ("best_true_acc", "true_rank_of_best", "total_cost_seconds", "spearman"):
            mean, half, n = mean_ci([m.get(k) if isinstance(m.get(k), (int, float)) else None for m in members])
            if n:
                g[f"{k}_mean"], g[f"{k}_ci95"], g[f"{k}_n"] = mean, half, n
        out.append(g)
    return out
