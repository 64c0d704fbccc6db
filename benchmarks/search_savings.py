"""Search cost at equal regret, from a scored pool (issue 30): calibrate on its calibration cells, then
replay thousands of searches on its report cells, with a bootstrap over cells then replicates.

Reads a pool made by ``benchmarks/search_savings_pool.py`` (only cells every ranker has scored), makes
every choice on the calibration cells (:mod:`search_savings_choice`), and reports on the others:

* per method, the mean regret of the returned cell against cumulative search cost (a budget grid),
  the median cost to reach regret <= 0.5, 1 and 2 points, with 95% intervals;
* matched ratios at equal regret: median cost of the alternative / median cost of the method, for
  RS+FEAR against the best training member (RS) and the best multi-fidelity searcher over the rungs,
  and the same for the cascade and the best zero-cost ranker;
* ranker-level criteria on the report cells (Spearman, Kendall, P@top5%) with bootstrap intervals.

Writes ``benchmarks/results/search_savings.json`` (provenance) and ``search_savings_*.png``.

    python benchmarks/search_savings.py --pool benchmarks/results/pool_cpu --reps 1000 --n-boot 200
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, write_result  # noqa: E402

LEVELS = [0.5, 1.0, 2.0]


def methods_from(choice: dict, pool) -> list:
    """The reported methods, named for the reader, with the calibrated choices."""
    from nasrank.evaluation.search_savings import Method
    from search_savings_choice import zero_cost_labels

    p = choice["protocols"]
    fear, rr = choice["fear"]["label"], choice["fear"]["reject_ratio"]
    rung = next(lab for lab in pool.labels if pool.manifest["rankers"][lab].get("rungs"))
    out = [Method("RS+FEAR", "random", fear, p[fear], rr)]
    for lab in pool.labels:
        kind = pool.manifest["rankers"][lab]["name"]
        if kind == "fear" and lab != fear:
            thr = pool.manifest["rankers"][lab]["config"]["threshold"]
            out.append(Method(f"RS+other FEAR ({thr:g})", "random", lab, p[lab], rr))
        elif kind == "train":
            out.append(Method("RS+train9" if lab == rung else f"RS+{lab}", "random", lab, p[lab]))
    out += [Method("SH", "sh", rung, p[rung]), Method("Hyperband", "hyperband", rung, p[rung])]
    out += [Method(f"RS+{z}", "random", z) for z in zero_cost_labels(pool)]
    out += [Method(f"{first}>FEAR", "random", fear, p[fear], first=first, keep_fraction=keep)
            for first, keep in choice["cascade_keep_fractions"].items()]
    return out


def ranker_criteria(pool, cells: list[dict], choice: dict, n_boot: int) -> dict:
    """Spearman, Kendall and P@top5% of each ranker (calibrated protocol) on the report cells, with CIs."""
    from scipy.stats import kendalltau, spearmanr

    from nasrank.evaluation.search_savings import method_cells

    rng = np.random.default_rng(7)
    out = {}
    for lab in pool.labels:
        arr = method_cells(pool, cells, lab, choice["protocols"].get(lab))
        s, t = np.where(np.isfinite(arr.score), arr.score, -np.inf), arr.true

        def crit(idx):
            ss, tt = s[idx], t[idx]
            k = max(1, int(math.floor(0.05 * len(idx))))
            top_s, top_t = set(np.argsort(-ss, kind="stable")[:k]), set(np.argsort(-tt, kind="stable")[:k])
            return (spearmanr(ss, tt).statistic, kendalltau(ss, tt).statistic, len(top_s & top_t) / k)

        point = crit(np.arange(len(t)))
        boots = np.array([crit(rng.integers(0, len(t), len(t))) for _ in range(n_boot)])
        out[lab] = {name: {"value": float(point[j]), "ci_low": float(np.nanpercentile(boots[:, j], 2.5)),
                           "ci_high": float(np.nanpercentile(boots[:, j], 97.5))}
                    for j, name in enumerate(("spearman", "kendall", "p_at_top5"))}
        out[lab]["mean_cost"] = float(np.mean(arr.cost))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--reps", type=int, default=1000, help="search replicates per method (point estimates)")
    ap.add_argument("--n-boot", type=int, default=200, help="bootstrap draws (cells resampled, then replicates)")
    ap.add_argument("--boot-reps", type=int, default=20, help="replicates per bootstrap draw")
    ap.add_argument("--name", default="search_savings")
    args = ap.parse_args()
    from nasrank.evaluation.search_savings import all_arrays, replicate, summarize_point
    from nasrank.evaluation.search_savings_ci import bootstrap
    from nasrank.pool.table import Pool
    from search_savings_choice import calibrate
    from search_savings_plots import plot_all

    pool = Pool.load(args.pool)
    report = pool.complete_cells(split="report")
    rung = next(lab for lab in pool.labels if pool.manifest["rankers"][lab].get("rungs"))
    per_cell = float(np.mean([pool.entry(rung, c["arch"]).seconds for c in report]))
    budgets = np.geomspace(1.0, 40 * per_cell, 30)
    choice = calibrate(pool, budgets)
    methods = methods_from(choice, pool)
    arrays = all_arrays(pool, report, methods)
    point = summarize_point(replicate(arrays, methods, budgets, LEVELS, args.reps, seed=0), budgets, LEVELS)
    member = "RS+train9" if choice["best_member"] == rung else f"RS+{choice['best_member']}"
    mf = "SH" if choice["best_multifidelity"] == "sh" else "Hyperband"
    zs = f"RS+{choice['best_zero_cost']}"
    casc = f"{choice['best_zero_cost']}>FEAR"
    pairs = [("RS+FEAR", member), ("RS+FEAR", mf), (casc, member), (zs, member), (casc, "RS+FEAR")]
    pairs += [(f"{f}>FEAR", o) for f in choice["cascade_keep_fractions"] if f"{f}>FEAR" != casc
              for o in (member, "RS+FEAR")]
    pairs += [("RS+FEAR", m.label) for m in methods if m.label.startswith("RS+train") and m.label != member]
    ci = bootstrap(arrays, methods, budgets, LEVELS, pairs, args.n_boot, args.boot_reps, seed=1)
    ratios = {}
    for a, o in pairs:
        key = f"{a} vs {o}"
        ratios[key] = {}
        for r in LEVELS:
            num, den = point[o]["reach"][str(r)]["median_cost"], point[a]["reach"][str(r)]["median_cost"]
            ratios[key][str(r)] = {"ratio": None if num is None or den is None else num / den, **ci["ratios"][key][str(r)]}
    payload = {"benchmark": "search_savings", "pool": str(Path(args.pool)), "manifest_plan": pool.manifest["plan"],
               "n_report_cells": len(report), "n_calibration_cells": choice["n_cells"],
               "n_pool_cells_planned": len(pool.cells), "n_pool_cells_scored": len(pool.complete_cells()), "cost_unit": pool.manifest["plan"]["cost"],
               "budgets": budgets.tolist(), "levels": LEVELS, "replicates": args.reps, "calibration": choice,
               "methods": {m.label: {"searcher": m.searcher, "ranker": m.ranker, "protocol": m.protocol,
                                     "reject_ratio": m.reject_ratio, "first": m.first, "keep_fraction": m.keep_fraction}
                           for m in methods},
               "point": point, "bootstrap": ci, "matched_ratios": ratios,
               "strongest": {"training_member": member, "multifidelity": mf, "zero_cost": zs, "cascade": casc},
               "ranker_criteria": ranker_criteria(pool, report, choice, 1000),
               "notes": ["regret = the report cells' best true accuracy minus the returned cell's, in points",
                         "a ratio is median cost(alternative) / median cost(method) to reach the regret level; "
                         ">1 means the method is cheaper",
                         "CIs: 95% percentile bootstrap that resamples report cells (paired across methods), then "
                         "replays boot_reps searches on each resample"]}
    path = write_result(args.name, payload, seeds=list(range(args.reps)), sample=f"{len(report)} report cells")
    plot_all(payload, RESULTS / args.name)
    print(path)
    for key, per in ratios.items():
        print(key, {r: (None if v["ratio"] is None else round(v["ratio"], 2), v["ci_low"], v["ci_high"])
                    for r, v in per.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
