"""Multi-fidelity search (successive halving, Hyperband) against random search and evolution.

Part ``sim`` (many seeds, no training): the NB201 cells of the shared 12/200-epoch CSV
(../shared/data/nb201/nats_1000_cifar10_12ep_vs_200ep.csv, NATS indices 0..999), searched
with the ``tabular`` ranker; every evaluation is charged its recorded NATS GPU training
time (a continuation 12 -> 200 epochs is charged T(200) - T(12)). The search space is
restricted to those 1000 cells, so that every proposal has ground truth: sample is uniform over
them; mutate picks uniformly among the table's cells within 2 edge edits of the parent (about
17 on average; 3 edits, 4, ... when none is that close). A one-edit mutation alone would leave
evolution ~1.5 table neighbours per cell: it soon proposes only cells it has seen and stops. The
score at 200 epochs is the table's test accuracy (the CSV has no validation column), the same
for every method. Regret = the table's best test accuracy minus the returned cell's.

Part ``cpu`` (a few seeds, real training at the README's CPU scale, a pilot) is in
``_multifidelity_cpu.py``.

    nice -n 15 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/search_multifidelity.py --part sim --seeds 30
    nice -n 15 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/search_multifidelity.py --part cpu --seeds 3
    .venv/bin/python benchmarks/search_multifidelity.py --part cpu --seeds 3 --analyze  # no training
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, SHARED, write_result  # noqa: E402
import _multifidelity_stats as stats  # noqa: E402

from nasrank.benchmarks import load_benchmark  # noqa: E402
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.registry import RANKERS, SEARCHERS  # noqa: E402
from nasrank.searchers import Budget  # noqa: E402
from nasrank.spaces.nb201 import Nb201Space  # noqa: E402

CSV = SHARED / "nb201" / "nats_1000_cifar10_12ep_vs_200ep.csv"
NAME = "search_multifidelity"
#: label -> (searcher, searcher options, tabular epochs)
SIM_METHODS = {
    "RS@200": ("random", {}, 200),
    "RE@200": ("evolution", {"population_size": 20, "sample_size": 5}, 200),
    "RS@12": ("random", {}, 12),
    "SH eta=3": ("sh", {"eta": 3}, 200),
    "SH eta=9": ("sh", {"eta": 9}, 200),
    "Hyperband eta=3": ("hyperband", {"eta": 3}, 200),
}
GRID_HOURS = (2, 5, 10, 20, 50, 100, 200)
#: the budgets of the regret curves (the figure): 40 log-spaced points from 1 h to the budget
CURVE_POINTS = 40


class TableSpace(Nb201Space):
    """NB201 restricted to the cells a table holds (see the module docstring)."""

    def __init__(self, strings: list[str]) -> None:
        super().__init__()
        self.table = [self.from_string(s) for s in strings]
        self.keys = {self.key(a) for a in self.table}

    def sample(self, rng):
        return self.table[int(rng.integers(len(self.table)))]

    def mutate(self, arch, rng):
        dist = [sum(x != y for x, y in zip(arch.ops, b.ops)) for b in self.table]
        for radius in range(2, 7):
            near = [b for b, d in zip(self.table, dist) if 1 <= d <= radius]
            if near:
                return near[int(rng.integers(len(near)))]
        return self.sample(rng)


def table_space() -> tuple[TableSpace, object]:
    import csv

    with CSV.open() as fh:
        strings = [row["arch"] for row in csv.DictReader(fh)]
    space = TableSpace(strings)
    return space, load_benchmark(f"csv:{CSV}", space)


def _curve(hours: list[float], per_h: dict[float, list]) -> dict:
    """Mean regret and its 95% CI at each budget of ``hours`` (None where a seed has no answer yet)."""
    out: dict = {"hours": hours, "mean": [], "lo": [], "hi": []}
    for g in hours:
        s = stats.summarize_regrets(per_h[g]) if all(r is not None for r in per_h[g]) else {"mean": None, "ci95": [None, None]}
        out["mean"].append(s["mean"])
        out["lo"].append(s["ci95"][0])
        out["hi"].append(s["ci95"][1])
    return out


def run_sim(seeds: list[int], budget_hours: float, target: float) -> dict:
    space, bench = table_space()
    optimum = max(bench.true_accuracy(a) for a in space.table)
    budget = budget_hours * 3600
    grid = [h for h in GRID_HOURS if h <= budget_hours]
    out: dict = {"benchmark": bench.source, "space": f"the {len(space.table)} NB201 cells of the CSV",
                 "seeds": seeds, "budget_seconds": budget, "target_regret": target, "optimum": optimum,
                 "cost": "recorded NATS GPU training seconds (12 -> 200 continuation: T200 - T12)",
                 "score_at_200": "test accuracy after 200 epochs (the CSV has no validation column)",
                 "grid_hours": grid, "methods": {}, "winners": {}}
    regrets: dict[str, dict[float, list]] = {}
    for label, (searcher, cfg, epochs) in SIM_METHODS.items():
        ranker = RANKERS.create("tabular", space, RunContext(benchmark=bench), epochs=epochs)
        curve_h = [float(x) for x in np.geomspace(1.0, budget_hours, CURVE_POINTS)]
        costs, per_h, per_c = [], {h: [] for h in grid}, {h: [] for h in curve_h}
        n_evals = []
        for seed in seeds:
            h = SEARCHERS.create(searcher, space, ranker, seed=seed, **cfg).run(Budget(seconds=budget))
            traj = h.trajectory()
            costs.append(stats.cost_to_reach(traj, optimum, target))
            for g in grid:
                per_h[g].append(stats.regret_at(traj, optimum, g * 3600))
            for g in curve_h:
                per_c[g].append(stats.regret_at(traj, optimum, g * 3600))
            n_evals.append(len(h))
        regrets[label] = per_h
        at = {str(g): stats.summarize_regrets(per_h[g]) for g in grid}
        out["methods"][label] = {
            "searcher": searcher, "searcher_cfg": cfg, "ranker": f"tabular epochs={epochs}",
            "median_evaluations": float(np.median(n_evals)),
            "cost_to_target": stats.summarize_costs(costs), "regret_at_hours": at,
            "curve": _curve(curve_h, per_c)}
        c = out["methods"][label]["cost_to_target"]
        med = ">budget" if c["censored_median"] else f"{c['median'] / 3600:.1f} h"
        print(f"{label:16s} cost to regret<={target}: median {med} "
              f"({c['n_reached']}/{len(seeds)} reached); regret@{grid[-1]}h mean "
              f"{at[str(grid[-1])]['mean']}")
    out["winners_trained_to_200"] = {}  # RS@12 left out: the cell it returns was never trained 200 epochs
    for g in grid:
        out["winners"][str(g)] = stats.winner({m: regrets[m][g] for m in regrets})
        out["winners_trained_to_200"][str(g)] = stats.winner({m: regrets[m][g] for m in regrets if m != "RS@12"})
        w = out["winners"][str(g)]
        print(f"@{g:>4} h: winner {w.get('winner')} (mean regret {w.get('mean_regret')}); runner-up "
              f"{w.get('runner_up')} +{w.get('margin')} CI {w.get('margin_ci95')} tie={w.get('tie')}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("sim", "cpu"), default="sim")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--budget-hours", type=float, default=200.0)
    ap.add_argument("--target", type=float, default=0.5, help="regret target in accuracy points")
    ap.add_argument("--analyze", action="store_true", help="cpu: summarize the finished runs, train nothing")
    ap.add_argument("--run-seeds", default=None, help="cpu: run only these seeds (e.g. 1 or 0,2), then summarize")
    ap.add_argument("--redraw", action="store_true", help="cpu: redraw the figure from the results JSON alone")
    args = ap.parse_args()
    path = RESULTS / f"{NAME}.json"
    payload = json.loads(path.read_text()) if path.exists() else {}
    if args.redraw:
        stats.plot_cpu(payload["cpu"], RESULTS / f"{NAME}_cpu.png")
        return
    payload.pop("machine", None)
    if args.part == "sim":
        payload["simulation"] = run_sim(list(range(args.seeds)), args.budget_hours, args.target)
        stats.plot(payload["simulation"], RESULTS / f"{NAME}_simulation.png", GRID_HOURS)
    else:
        from _multifidelity_cpu import run_all, run_cpu

        if not args.analyze:
            run_all([int(x) for x in args.run_seeds.split(",")] if args.run_seeds else list(range(args.seeds)))
        payload["cpu"] = run_cpu(list(range(args.seeds)))
        if payload["cpu"]["seeds"]:
            stats.plot_cpu(payload["cpu"], RESULTS / f"{NAME}_cpu.png")
    seeds = {"simulation": payload.get("simulation", {}).get("seeds"), "cpu": payload.get("cpu", {}).get("seeds")}
    write_result(NAME, payload, seeds=seeds)


if __name__ == "__main__":
    main()
