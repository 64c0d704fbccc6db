"""Random search vs regularized evolution vs local search with the tabular ranker.

20 seeds x {random, evolution, local}, 300 queries each, on the official NB201
CIFAR-10 table (../shared/data/nb201/nb201_cifar10.csv). Reports the median
and IQR of the best true test accuracy at 50/100/150/300 queries, and the
queries needed to reach 94.0% as a Kaplan-Meier median over all seeds (a seed that never
reaches it is censored at the budget; ``> 300`` when more than half never do). Anchor (NB201 paper): REA 93.92±0.30,
RS 93.70±0.36, optimum 94.37.

    .venv/bin/python benchmarks/search_tabular.py [--seeds 20] [--queries 300]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, write_result  # noqa: E402

from nasrank.benchmarks import load_benchmark  # noqa: E402
from nasrank.evaluation.survival import km_median  # noqa: E402
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.registry import RANKERS, SEARCHERS  # noqa: E402
from nasrank.searchers import Budget  # noqa: E402
from nasrank.spaces.nb201 import Nb201Space  # noqa: E402

CHECKPOINTS = (50, 100, 150, 300)


def best_so_far(history) -> np.ndarray:
    """True accuracy of the best-scored architecture after each query."""
    return np.array([acc for _, acc in history.trajectory()], dtype=float)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--target", type=float, default=94.0)
    args = ap.parse_args()
    space = Nb201Space()
    bench = load_benchmark(f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", space)
    ranker = RANKERS.create("tabular", space, RunContext(benchmark=bench))
    out: dict = {"benchmark": bench.source, "seeds": args.seeds, "queries": args.queries,
                 "optimum": bench.best()[1], "anchor": {"evolution": "93.92±0.30", "random": "93.70±0.36"},
                 "searchers": {}}
    for name in ("random", "evolution", "local"):
        curves, reach = [], []
        for seed in range(args.seeds):
            h = SEARCHERS.create(name, space, ranker, seed=seed).run(Budget(queries=args.queries))
            c = best_so_far(h)
            curves.append(c)
            hit = np.nonzero(c >= args.target)[0]
            reach.append(int(hit[0]) + 1 if len(hit) else None)
        curves = np.array(curves)
        stats = {}
        for q in CHECKPOINTS:
            if q <= args.queries:
                v = curves[:, q - 1]
                stats[str(q)] = {"median": float(np.median(v)), "iqr": [float(np.percentile(v, 25)), float(np.percentile(v, 75))],
                                 "mean": float(v.mean()), "std": float(v.std())}
        reached = [r for r in reach if r is not None]
        out["searchers"][name] = {"best_true_acc_at": stats, "queries_to_reach": {
            "target": args.target, "n_seeds_reached": len(reached),
            "median_of_reached": float(np.median(reached)) if reached else None, "per_seed": reach,
            "km": km_median(reach, budget=args.queries)}}
        s = stats[str(args.queries)]
        print(f"{name:10s} @{args.queries}: median {s['median']:.2f} IQR {s['iqr'][0]:.2f}-{s['iqr'][1]:.2f} "
              f"mean {s['mean']:.2f}±{s['std']:.2f}; reached {args.target}% in {len(reached)}/{args.seeds} seeds "
              f"(Kaplan-Meier median {out['searchers'][name]['queries_to_reach']['km']['text']} queries)")
    write_result("search_tabular", out, seeds=list(range(args.seeds)),
                 sample=f"{args.seeds} seeds x {args.queries} queries per searcher, the full NB201 table")


if __name__ == "__main__":
    main()
