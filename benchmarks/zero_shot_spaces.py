"""Zero-shot rankers on NB101 and DARTS (NB301) cells against their recorded CIFAR-10 accuracy.

Ground truth: the 500 NB101 cells of ``nb101/nb101_cifar10_500.csv`` (``val_acc``,
108 epochs) and the 725 DARTS cells of ``nb301/nb301_cifar10_725.csv``
(``val_acc`` as recorded by NAS-Bench-301), both read with ``load_benchmark``.

Each space's cells are put in a fixed random order (``np.random.default_rng(0)``
permutation of the table's architectures), so any prefix is a uniform random
subset. On each cell the shared-pass ``zero_shot`` ranker computes every
zero-shot measure (synflow, jacob_cov, relu_logdet, snip, grad_norm, grasp,
fisher, plain) from one batch of 64 images of the shared CIFAR-10 subset, one
seed, on a reduced network (``--nb101-build`` / ``--darts-build``), and the
``params`` and ``flops`` rankers count the same reduced network. A space stops
at its wall budget (``--nb101-budget-min``, ``--darts-budget-min``): the criteria
are computed on the prefix scored and the JSON says how many cells that was.
As a reference, the table's own ``params_m`` / ``flops_m`` columns (full-scale
counts: NB101's benchmark network; NASLib's reduced DARTS network) are
correlated with ``val_acc`` on the same cells.

Costs are process-CPU seconds (and wall seconds) per architecture with one torch
thread. Writes ``benchmarks/results/zero_shot_spaces.json`` through
``_common.write_result``. Run from the repository root:
``.venv/bin/python benchmarks/zero_shot_spaces.py`` (see ``--help``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import SHARED, write_result  # noqa: E402

from nasrank.benchmarks import load_benchmark  # noqa: E402
from nasrank.evaluation.criteria import criteria_by_mode, ranking_criteria  # noqa: E402
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.registry import RANKERS, SPACES  # noqa: E402

MEASURES = ("synflow", "jacob_cov", "relu_logdet", "snip", "grad_norm", "grasp", "fisher")
KEYS = ("spearman", "kendall_tau", "pearson", "p_at_top_0.05", "br_at_0.05", "n_valid", "n_invalid")

#: Published Spearman rank correlations we are confident enough to quote, all approximate.
PUBLISHED = {
    "nb101": {
        "source": "Abdelfattah et al., 'Zero-Cost Proxies for Lightweight NAS' (ICLR 2021), Table 'NAS-Bench-101', "
                  "all 423k cells, full-size networks, CIFAR-10 (approximate, quoted from memory)",
        "spearman": {"grad_norm": -0.20, "snip": -0.16, "grasp": 0.45, "fisher": -0.26, "synflow": 0.37,
                     "jacob_cov": 0.38},
        "other": "NASWOT (relu_logdet), Mellor et al. ICML 2021: Kendall tau ~0.3 on NB101 (approximate); "
                 "params/flops on NB101 are reported around 0.3-0.4 Spearman in NAS-Bench-Suite-Zero "
                 "(Krishnakumar et al. 2022) (approximate, not quoted as a number)",
    },
    "darts": {
        "source": "NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022 D&B) evaluates these proxies on NB301 "
                  "(the 725-cell table used here comes from its zc_nasbench301.json); we do not quote its per-proxy "
                  "numbers from memory. Qualitatively, zero-cost proxies are reported to be much weaker on NB301 than "
                  "on NB201, with params/flops competitive with the best of them.",
        "spearman": {},
    },
}


def crit(scores, truth) -> dict:
    c = ranking_criteria(scores, truth, ks=(0.05,))
    return {k: c.get(k) for k in KEYS}


def table_truth(space, csv: str, arch_strings: list[str]) -> dict[str, list[float]]:
    """``val_acc``, ``params_m``, ``flops_m`` of the given cells, read from the shared table
    (never stored in the results: the reference data stays outside the repository)."""
    bench = load_benchmark(f"csv:{csv}", space)
    recs = [bench.record(space.from_string(a), "cifar10") for a in arch_strings]
    return {"val_acc": [r.accuracy for r in recs], "params_m": [float(r.extra["params_m"]) for r in recs],
            "flops_m": [float(r.extra["flops_m"]) for r in recs]}


def add_deiso(block: dict, space, truth: dict[str, list[float]]) -> None:
    """Add de-isomorphic criteria (one entry per isomorphism class, mean truth) from ``block["raw"]``.

    NB101's 500 rows hold only 292 distinct networks after pruning (one class has 55 rows, all
    input->output), so tied scores with differing ``val_acc`` weigh on the per-row (iso) figures.
    """
    raw = block["raw"]
    keys = [space.canonical_key(space.from_string(a)) for a in raw["arch"]]
    block["n_isomorphism_classes"] = len(set(keys))
    tn = truth["val_acc"]

    def deiso(sc) -> dict:
        c = criteria_by_mode(sc, tn, keys, modes=("deiso",), ks=(0.05,))["deiso"]
        return {"deiso_spearman": c.get("spearman"), "deiso_kendall_tau": c.get("kendall_tau"), "deiso_n": c.get("n")}

    for k in block["table"]:
        block["table"][k].update(deiso(raw["scores"][k]))
    for k, col in (("params_m_column", "params_m"), ("flops_m_column", "flops_m")):
        block["table_columns_reference"][k].update(deiso(truth[col]))
    pub = (block.get("published") or {}).get("spearman", {})
    block["comparison_with_published"] = {
        k: {"published_approx": v, "ours_spearman": block["table"][k]["spearman"],
            "ours_deiso_spearman": block["table"][k]["deiso_spearman"]} for k, v in pub.items()}
    ranked = sorted(block["table"], key=lambda k: -np.nan_to_num(block["table"][k]["deiso_spearman"], nan=-9))
    block["best_deiso"] = ranked[0]


def timed(ranker, arch) -> tuple[object, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    (e,) = ranker.evaluate([arch])
    return e, time.process_time() - c0, time.perf_counter() - w0


def run_space(name: str, csv: str, build: dict, budget_min: float, args, log) -> dict:
    """Score one space's table (a random-order prefix within the budget) and return its result block."""
    space = SPACES.create(name)
    bench = load_benchmark(f"csv:{csv}", space)
    table = bench.archs("cifar10")
    order = np.random.default_rng(0).permutation(len(table))
    archs = [table[int(i)] for i in order]
    ctx = RunContext(dataset="cifar10", data_dir=args.data_dir, device="cpu", seed=0)
    z = RANKERS.create("zero_shot", space, ctx, seeds=1, batch_size=args.batch_size, n_batches=1, build_kwargs=build)
    pr = RANKERS.create("params", space, ctx, **build)
    fl = RANKERS.create("flops", space, ctx, **build)
    z.evaluate([archs[-1]]), pr.evaluate([archs[-1]]), fl.evaluate([archs[-1]])  # load images, warm kernels
    budget = budget_min * 60 if budget_min > 0 else float("inf")
    rows, reasons, truth, tab_p, tab_f = [], {}, [], [], []
    cost = {k: {"cpu": [], "wall": []} for k in ("zero_shot", "params", "flops")}
    t0 = time.perf_counter()
    for i, a in enumerate(archs):
        e, c, w = timed(z, a)
        cost["zero_shot"]["cpu"].append(c), cost["zero_shot"]["wall"].append(w)
        m = dict(e.info["measures"])
        if "reason" in e.info:
            reasons[str(a)] = e.info["reason"]
        for key, r in (("params", pr), ("flops", fl)):
            ee, c, w = timed(r, a)
            m[key] = ee.score
            cost[key]["cpu"].append(c), cost[key]["wall"].append(w)
        rows.append(m)
        rec = bench.record(a, "cifar10")
        truth.append(rec.accuracy)
        tab_p.append(float(rec.extra["params_m"])), tab_f.append(float(rec.extra["flops_m"]))
        elapsed = time.perf_counter() - t0
        if (i + 1) % 25 == 0:
            log(f"{name}: {i + 1}/{len(archs)} cells, {elapsed / (i + 1):.2f} s wall/cell")
        if elapsed * (i + 2) / (i + 1) > budget:
            break
    n = len(rows)
    log(f"{name}: scored {n} of {len(archs)} cells in {time.perf_counter() - t0:.0f} s")
    tn = np.asarray(truth, dtype=float)
    zc = float(np.mean(cost["zero_shot"]["cpu"]))
    table_out = {}
    for k in (*MEASURES, "params", "flops"):
        own = cost[k]["cpu"] if k in ("params", "flops") else cost["zero_shot"]["cpu"]
        table_out[k] = {**crit([r[k] for r in rows], tn),
                        "cpu_s_per_arch": float(np.mean(own)),
                        "cpu_s_note": "own ranker" if k in ("params", "flops") else "shared zero_shot pass (all 8 measures)"}
    ref = {"params_m_column": crit(tab_p, tn), "flops_m_column": crit(tab_f, tn)}
    ranked = sorted(table_out, key=lambda k: -np.nan_to_num(table_out[k]["spearman"], nan=-9))
    best_zse = next(k for k in ranked if k in MEASURES)
    best_base = max(("params", "flops"), key=lambda k: np.nan_to_num(table_out[k]["spearman"], nan=-9))
    block = {
        "csv": str(csv), "cells_in_table": len(table), "cells_scored": n,
        "subset": ("all cells" if n == len(table) else
                   f"first {n} of np.random.default_rng(0).permutation({len(table)}) over bench.archs('cifar10') "
                   f"(wall budget {budget_min} min reached): a uniform random subset"),
        "ground_truth": "val_acc column", "network": build,
        "table": table_out, "table_columns_reference": ref,
        "ranking_by_spearman": ranked, "best": ranked[0], "best_zero_shot": best_zse, "best_baseline": best_base,
        "zero_shot_beats_params_flops": bool(np.nan_to_num(table_out[best_zse]["spearman"], nan=-9)
                                             > np.nan_to_num(table_out[best_base]["spearman"], nan=-9)),
        "zse_above_best_baseline": [k for k in MEASURES if np.nan_to_num(table_out[k]["spearman"], nan=-9)
                                    > np.nan_to_num(table_out[best_base]["spearman"], nan=-9)],
        "cost": {"zero_shot_cpu_s_per_arch": zc, "zero_shot_wall_s_per_arch": float(np.mean(cost["zero_shot"]["wall"])),
                 "params_cpu_s_per_arch": float(np.mean(cost["params"]["cpu"])),
                 "flops_cpu_s_per_arch": float(np.mean(cost["flops"]["cpu"]))},
        "published": PUBLISHED.get(name),
        "raw": {"arch": [str(a) for a in archs[:n]],
                "scores": {k: [r[k] for r in rows] for k in (*MEASURES, "plain", "params", "flops")},
                "reasons": reasons},
    }
    add_deiso(block, space, {"val_acc": list(tn), "params_m": tab_p, "flops_m": tab_f})
    return block


def print_table(name: str, block: dict) -> None:
    def f(v) -> str:
        return "   n/a" if v is None or not np.isfinite(v) else f"{v:6.3f}"

    print(f"\n{name}: {block['cells_scored']} cells, network {block['network']}")
    print(f"{'ranker':16s} {'spearman':>8s} {'kendall':>7s} {'cpu s/arch':>10s} {'published':>9s}")
    pub = (block.get("published") or {}).get("spearman", {})
    for k, d in block["table"].items():
        print(f"{k:16s} {f(d['spearman']):>8s} {f(d['kendall_tau']):>7s} {d['cpu_s_per_arch']:10.3f} {f(pub.get(k)):>9s}")
    for k, d in block["table_columns_reference"].items():
        print(f"{k:16s} {f(d['spearman']):>8s} {f(d['kendall_tau']):>7s}")
    if "n_isomorphism_classes" in block:
        print(f"de-iso ({block['n_isomorphism_classes']} classes) spearman:",
              {k: round(d["deiso_spearman"], 3) for k, d in block["table"].items() if d.get("deiso_spearman") is not None})
    print("best:", block["best"], "| best zero-shot:", block["best_zero_shot"], "| beats params/flops:",
          block["zero_shot_beats_params_flops"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nb101-csv", default=str(SHARED / "nb101/nb101_cifar10_500.csv"))
    ap.add_argument("--darts-csv", default=str(SHARED / "nb301/nb301_cifar10_725.csv"))
    ap.add_argument("--data-dir", default=str(SHARED / "cifar10"))
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--nb101-build", default="stem_channels=16,num_stacks=3,cells_per_stack=1")
    ap.add_argument("--darts-build", default="channels=8,layers=5")
    ap.add_argument("--nb101-budget-min", type=float, default=7.0, help="wall budget for NB101 (0 = none)")
    ap.add_argument("--darts-budget-min", type=float, default=16.0, help="wall budget for DARTS (0 = none)")
    ap.add_argument("--spaces", default="nb101,darts")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--name", default="zero_shot_spaces")
    ap.add_argument("--recompute", action="store_true",
                    help="only recompute the de-isomorphic criteria from the raw scores of the existing result JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.recompute:
        import json

        from _common import RESULTS

        result = json.loads((RESULTS / f"{args.name}.json").read_text())
        result["machine_of_measurement"] = result.pop("machine", None)
        csvs = {"nb101": args.nb101_csv, "darts": args.darts_csv}
        for name, block in result["spaces"].items():
            space = SPACES.create(name)
            for col in ("val_acc", "params_m", "flops_m"):
                block["raw"].pop(col, None)
            add_deiso(block, space, table_truth(space, csvs[name], block["raw"]["arch"]))
            print_table(name, block)
        write_result(args.name, result)
        return 0
    t_start = time.perf_counter()
    log = lambda *a: print(f"[{time.perf_counter() - t_start:7.1f}s]", *a, flush=True)  # noqa: E731

    def kw(s: str) -> dict:
        return {k: int(v) for k, v in (p.split("=") for p in s.split(",") if p)}

    spec = {"nb101": (args.nb101_csv, kw(args.nb101_build), args.nb101_budget_min),
            "darts": (args.darts_csv, kw(args.darts_build), args.darts_budget_min)}
    protocol = {
        "images": "CIFAR-10 subset ../shared/data/cifar10, one batch via ImageDataModule.fixed_batches",
        "batch_size": args.batch_size, "n_batches": 1, "seeds": 1, "device": "cpu", "torch_threads": args.threads,
        "rankers": "zero_shot (shared passes, all measures) + params + flops on the same reduced build",
        "reduced_network": {k: v[1] for k, v in spec.items()},
        "why_reduced": "CPU budget: full-scale NB101 (stem 128, 3x3 cells) and DARTS networks cost seconds to tens of "
                       "seconds per measure pass on a shared 2-core CPU",
        "note": "2 CPU cores shared with other jobs: wall seconds include contention; process CPU seconds are the "
                "cleaner cost figure",
    }
    spaces: dict[str, dict] = {}
    for name in [s.strip() for s in args.spaces.split(",") if s.strip()]:
        csv, build, budget = spec[name]
        spaces[name] = run_space(name, csv, build, budget, args, log)
        print_table(name, spaces[name])
        write_result(args.name, {"benchmark": "zero-shot rankers on NB101 and DARTS/NB301 (benchmarks/zero_shot_spaces.py)",
                                 "protocol": protocol, "spaces": spaces,
                                 "wall_s_total": time.perf_counter() - t_start},
                     seeds=[0], sample="per space: spaces.<name>.subset")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
