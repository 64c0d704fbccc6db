"""Zero-shot rankers on NB201 / CIFAR-10 against the official 200-epoch test accuracy.

A fixed sample of 1,000 cells (``np.random.default_rng(0)``, uniform over the
official table's 15,625 rows, without replacement) is scored by every
zero-shot measure through the shared-pass ``zero_shot`` ranker (whose values
equal the single-measure rankers', tests/test_zero_shot.py), and by ``params``
and ``flops``. Because the sample is uniform and its order random, any prefix
of it is itself a uniform sample: with ``--budget-min`` the scoring stops at a
wall-clock budget and the criteria are computed on the prefix scored.

Phases (each ranker timed with wall and process-CPU seconds per architecture):
1. ``params`` and ``flops`` on all sampled cells;
2. every single-measure ranker alone on the first ``--single-cells`` cells
   (cost of each alone, and the sum of singles vs. the shared-pass ranker);
3. the shared-pass ``zero_shot`` ranker (``--seeds`` seeds) on the sample's
   prefix until the budget is reached;
4. seeds 1..``--seed-cells-seeds``-1 on the first ``--seed-cells`` cells, to
   compare the 1-seed ranking with the protocol's 3-seed average.

Writes ``benchmarks/results/zero_shot_nb201.json``. Run from the repository
root: ``.venv/bin/python benchmarks/zero_shot_nb201.py`` (see ``--help``).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from nasrank.runs.provenance import result_provenance  # noqa: E402

from nasrank.benchmarks import load_benchmark  # noqa: E402
from nasrank.evaluation.criteria import ranking_criteria, spearman  # noqa: E402
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.rankers.zero_shot import MEASURES  # noqa: E402
from nasrank.registry import RANKERS  # noqa: E402
from nasrank.spaces.nb201 import Nb201Space  # noqa: E402

ANCHORS = {"synflow": 0.737, "jacob_cov": 0.731, "snip": 0.596, "grad_norm": 0.594, "grasp": 0.514,
           "fisher": 0.360, "params": 0.75}
KEYS = ("spearman", "kendall_tau", "pearson", "p_at_top_0.05", "br_at_0.01", "br_at_0.05", "n_valid", "n_invalid")


def machine_info() -> dict:
    """``_common.machine()`` plus the load when the run starts."""
    return {**machine(), "loadavg_start": list(os.getloadavg())}


def crit(scores, truth) -> dict:
    c = ranking_criteria(scores, truth, ks=(0.01, 0.05))  # BR@1% needs >= 100 valid cells
    return {k: c.get(k) for k in KEYS}


def timed(ranker, arch) -> tuple[object, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    (e,) = ranker.evaluate([arch])
    return e, time.process_time() - c0, time.perf_counter() - w0


def table_truth(csv: str | Path, arch_strings: list[str]) -> np.ndarray:
    """True accuracies of the given cells, read from the shared table (never stored in results)."""
    bench = load_benchmark(f"csv:{csv}", Nb201Space())
    return np.asarray([bench.true_accuracy(bench.space.from_string(a)) for a in arch_strings], dtype=float)


def plot(result: dict, path: Path, acc: np.ndarray) -> None:
    """Scatter of each ranker's score rank against the true accuracy (from ``result["raw"]``), one panel
    per ranker with its n (the cells it scored with a finite value); saved with its ``.figure.json``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import rankdata

    from nasrank.evaluation.figures import save_figure

    raw = result["raw"]
    series = {**raw["scores"], "params": raw["params"], "flops": raw["flops"]}
    fig, axes = plt.subplots(2, 5, figsize=(17, 7.2), sharey=True)
    for ax, (name, s) in zip(axes.ravel(), series.items()):
        s = np.asarray(s, dtype=float)
        ok = np.isfinite(s)
        ax.scatter(rankdata(s[ok]) / ok.sum(), acc[ok], s=6, alpha=0.6)
        d = result["table"][name]
        ax.set_title(f"{name} (n = {int(ok.sum())})\nSpearman {d['spearman']:.3f}, Kendall {d['kendall_tau']:.3f}",
                     fontsize=9)
        ax.set_xlabel("score rank (fraction of the n cells)", fontsize=8)
    axes[0, 0].set_ylabel("CIFAR-10 test acc (%)")
    axes[1, 0].set_ylabel("CIFAR-10 test acc (%)")
    p = result["protocol"]
    net = p["network"]
    fig.suptitle(f"Zero-shot rankers against the 200-epoch test accuracy on {p['cells_scored_by_zero_shot']} NB201 "
                 f"cells (full-size network C={net['channels']}, N={net['cells_per_stage']}; one batch of "
                 f"{p['batch_size']} images; {p['seeds']} seed{'s' if p['seeds'] != 1 else ''}).", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def print_table(result: dict) -> None:
    def f(v) -> str:
        return "   n/a" if v is None else f"{v:6.3f}"

    print(f"{'ranker':12s} {'spearman':>8s} {'kendall':>7s} {'P@top5%':>7s} {'BR@1%':>6s} {'BR@5%':>6s} "
          f"{'cpu s':>7s} {'anchor':>6s}")
    for m, d in result["table"].items():
        print(f"{m:12s} {f(d['spearman']):>8s} {f(d['kendall_tau']):>7s} {f(d.get('p_at_top_0.05')):>7s} "
              f"{f(d.get('br_at_0.01')):>6s} {f(d.get('br_at_0.05')):>6s} {d['cpu_s_per_arch_alone']:7.3f} "
              f"{f(d['anchor_spearman']):>6s}")
    print("all together / sum of singles (cpu):", result["cost"]["ratio_all_together_over_sum_of_singles_cpu"])


def update(args) -> int:
    """Recompute some measures on the cells of an existing result (``--update``)."""
    out = Path(args.out)
    result = json.loads(out.read_text())
    proto = result["protocol"]
    space = Nb201Space()
    archs = [space.from_string(a) for a in result["raw"]["arch"]]
    tn = table_truth(args.csv, result["raw"]["arch"])
    ctx = RunContext(dataset="cifar10", data_dir=args.data_dir, device=proto["device"], seed=0)
    zcfg = dict(batch_size=proto["batch_size"], n_batches=1, build_kwargs=proto["network"])
    warm = archs[0]
    for m in [x.strip() for x in args.update.split(",") if x.strip()]:
        if m not in MEASURES:
            raise SystemExit(f"--update: unknown measure {m!r}")
        t0 = time.perf_counter()
        r = RANKERS.create(m, space, ctx, seeds=proto["seeds"], **zcfg)
        r.evaluate([warm])
        sc, cpu, wall = [], [], []
        for a in archs:
            e, c, w = timed(r, a)
            sc.append(e.score), cpu.append(c), wall.append(w)
        result["raw"]["scores"][m] = sc
        result["table"][m] = {**result["table"][m], **crit(sc, tn)}
        seeds = result.get("seeds")
        if seeds and m in seeds["by_measure"]:
            k, n_seeds = seeds["cells"], seeds["seeds"]
            extra = n_seeds - proto["seeds"]
            ctx2 = RunContext(dataset="cifar10", data_dir=args.data_dir, device=proto["device"], seed=proto["seeds"])
            r2 = RANKERS.create(m, space, ctx2, seeds=extra, **zcfg)
            s1 = np.asarray(sc[:k], dtype=float)
            sx = np.asarray(r2.score(archs[:k]), dtype=float)
            s3 = (proto["seeds"] * s1 + extra * sx) / n_seeds
            seeds["by_measure"][m] = {
                "spearman_1seed": spearman(s1, tn[:k]), f"spearman_{n_seeds}seeds": spearman(s3, tn[:k]),
                "spearman_seed0_vs_other_seeds": spearman(s1, sx),
                "kendall_1seed": crit(s1, tn[:k])["kendall_tau"],
                f"kendall_{n_seeds}seeds": crit(s3, tn[:k])["kendall_tau"]}
        proto.setdefault("updates", []).append({
            "measure": m, "note": args.update_note, "cells": len(archs),
            "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "cpu_s_per_arch_alone_in_update": float(np.mean(cpu)), "wall_s_per_arch_alone_in_update": float(np.mean(wall)),
            "wall_s": time.perf_counter() - t0})
        print(m, result["table"][m], flush=True)
    # recompute every ranker's criteria from the raw scores (picks up changes to KEYS too)
    raw = {**result["raw"]["scores"], "params": result["raw"]["params"], "flops": result["raw"]["flops"]}
    for name, sc in raw.items():
        result["table"][name] = {**result["table"][name], **crit(sc, tn)}
    result["provenance"] = result_provenance(seeds=proto.get("seed_values"),
                                             sample=f"{len(archs)} cells; update: {args.update_note}")
    out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    plot(result, out.with_suffix(".png"), tn)
    print_table(result)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", default=str(REPO.parent / "shared/data/nb201/nb201_cifar10.csv"))
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared/data/cifar10"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cells", type=int, default=1000, help="size of the fixed sample")
    ap.add_argument("--budget-min", type=float, default=33.0, help="wall budget for phases 2-4 (0 = none)")
    ap.add_argument("--seeds", type=int, default=1, help="seeds of the main run")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--cells-per-stage", type=int, default=5)
    ap.add_argument("--single-cells", type=int, default=5)
    ap.add_argument("--seed-cells", type=int, default=16)
    ap.add_argument("--seed-cells-seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/zero_shot_nb201.json"))
    ap.add_argument("--plot-from", default=None, help="only redraw the png from an existing result JSON")
    ap.add_argument("--update", default=None,
                    help="comma-separated measures to recompute with their single rankers on the cells of the "
                         "existing --out JSON (after a change of definition); also redoes their 'seeds' entries")
    ap.add_argument("--update-note", default="", help="why --update was run (kept in the JSON)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.plot_from:
        src = Path(args.plot_from)
        res = json.loads(src.read_text())
        plot(res, src.with_suffix(".png"), table_truth(args.csv, res["raw"]["arch"]))
        return 0
    if args.update:
        return update(args)
    t_start = time.perf_counter()
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    machine = machine_info()

    space = Nb201Space()
    bench = load_benchmark(f"csv:{args.csv}", space)
    table = [space.from_index(i) for i in range(space.size)]
    rng = np.random.default_rng(0)
    idx = rng.choice(len(table), size=args.cells, replace=False)
    archs = [table[int(i)] for i in idx]
    truth = np.array([bench.true_accuracy(a, "cifar10") for a in archs], dtype=float)
    build = {"channels": args.channels, "cells_per_stage": args.cells_per_stage}
    ctx = RunContext(dataset="cifar10", data_dir=args.data_dir, device=args.device, seed=0)
    zcfg = dict(batch_size=args.batch_size, n_batches=1, build_kwargs=build)
    log = lambda *a: print(f"[{time.perf_counter() - t_start:7.1f}s]", *a, flush=True)  # noqa: E731

    # -- phase 1: params on all cells (flops, ~0.3 s each, after phase 3 on the cells scored) --
    base: dict[str, dict] = {}

    def run_baseline(name: str, cells: list) -> None:
        r = RANKERS.create(name, space, ctx, **build)
        sc, cpu, wall = [], [], []
        for a in cells:
            e, c, w = timed(r, a)
            sc.append(e.score), cpu.append(c), wall.append(w)
        base[name] = {"scores": sc, "cpu_s": float(np.mean(cpu)), "wall_s": float(np.mean(wall))}
        log(name, "done on", len(cells), "cells; spearman", crit(sc, truth[:len(sc)])["spearman"])

    run_baseline("params", archs)
    t_budget0 = time.perf_counter()
    budget = args.budget_min * 60 if args.budget_min > 0 else float("inf")

    # -- phase 2: each measure alone on a few cells ---------------------------
    warm = space.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    singles: dict[str, dict] = {}
    single_scores: dict[str, list] = {}
    for m in MEASURES:
        r = RANKERS.create(m, space, ctx, seeds=args.seeds, **zcfg)
        r.evaluate([warm])  # loads the images and warms the kernels
        cpu, wall, sc = [], [], []
        for a in archs[:args.single_cells]:
            e, c, w = timed(r, a)
            cpu.append(c), wall.append(w), sc.append(e.score)
        singles[m] = {"cpu_s": float(np.mean(cpu)), "wall_s": float(np.mean(wall))}
        single_scores[m] = sc
        log("single", m, singles[m])

    # -- phase 3: the shared-pass ranker on the sample's prefix --------------
    z = RANKERS.create("zero_shot", space, ctx, seeds=args.seeds, **zcfg)
    z.evaluate([warm])
    rows, zcpu, zwall, zmeas = [], [], [], []
    for i, a in enumerate(archs):
        e, c, w = timed(z, a)
        rows.append(e.info["measures"]), zcpu.append(c), zwall.append(w), zmeas.append(e.info["measure_seconds"])
        if "reason" in e.info:
            rows[-1] = {**rows[-1], "_reason": e.info["reason"]}
        elapsed = time.perf_counter() - t_budget0
        per = elapsed / (i + 1 + 2 * args.single_cells)  # rough wall per cell and pass
        need4 = per * (args.seed_cells_seeds - 1) * args.seed_cells
        if (i + 1) % 10 == 0:
            log(f"zero_shot {i + 1} cells, {np.mean(zwall):.2f} s wall/cell")
        if i + 1 >= max(args.seed_cells, args.single_cells) and elapsed + np.mean(zwall) + need4 > budget:
            break
    n = len(rows)
    log(f"zero_shot stopped after {n} cells")
    run_baseline("flops", archs[:n])
    mismatch = {m: max(abs(rows[k][m] - single_scores[m][k]) / max(abs(single_scores[m][k]), 1e-30)
                       for k in range(min(n, args.single_cells))
                       if np.isfinite(single_scores[m][k]) and np.isfinite(rows[k][m]))
                for m in MEASURES}

    # -- phase 4: more seeds on the first cells --------------------------------
    k = min(args.seed_cells, n)
    seed_block = None
    if args.seed_cells_seeds > args.seeds and k >= 3:
        extra = args.seed_cells_seeds - args.seeds
        ctx2 = RunContext(dataset="cifar10", data_dir=args.data_dir, device=args.device, seed=args.seeds)
        z2 = RANKERS.create("zero_shot", space, ctx2, seeds=extra, **zcfg)
        z2.evaluate([warm])
        more = [z2.evaluate([a])[0].info["measures"] for a in archs[:k]]
        tk = truth[:k]
        seed_block = {"cells": k, "seeds": args.seed_cells_seeds, "by_measure": {}}
        for m in MEASURES:
            s1 = np.array([rows[j][m] for j in range(k)])
            sx = np.array([more[j][m] for j in range(k)])
            s3 = (args.seeds * s1 + extra * sx) / args.seed_cells_seeds
            seed_block["by_measure"][m] = {
                "spearman_1seed": spearman(s1, tk), f"spearman_{args.seed_cells_seeds}seeds": spearman(s3, tk),
                "spearman_seed0_vs_other_seeds": spearman(s1, sx),
                "kendall_1seed": crit(s1, tk)["kendall_tau"],
                f"kendall_{args.seed_cells_seeds}seeds": crit(s3, tk)["kendall_tau"]}
        seed_block["params_spearman_same_cells"] = spearman(base["params"]["scores"][:k], tk)
        log("seeds done")

    # -- report --------------------------------------------------------------
    tn = truth[:n]
    table_out: dict[str, dict] = {}
    for m in MEASURES:
        s = [r[m] for r in rows]
        table_out[m] = {**crit(s, tn), "cpu_s_per_arch_alone": singles[m]["cpu_s"],
                        "wall_s_per_arch_alone": singles[m]["wall_s"],
                        "wall_s_share_in_shared_pass": float(np.mean([d[m] for d in zmeas])),
                        "anchor_spearman": ANCHORS.get(m)}
    for name in ("params", "flops"):
        table_out[name] = {**crit(base[name]["scores"][:n], tn),
                           "spearman_all_scored_by_it": crit(base[name]["scores"], truth[:len(base[name]["scores"])])["spearman"],
                           "cells_scored_by_it": len(base[name]["scores"]),
                           "cpu_s_per_arch_alone": base[name]["cpu_s"], "wall_s_per_arch_alone": base[name]["wall_s"],
                           "anchor_spearman": ANCHORS.get(name)}
    zc = float(np.mean(zcpu[:args.single_cells]))
    zw = float(np.mean(zwall[:args.single_cells]))
    sum_c = sum(singles[m]["cpu_s"] for m in MEASURES)
    sum_w = sum(singles[m]["wall_s"] for m in MEASURES)
    result = {
        "benchmark": "zero-shot rankers on NB201 CIFAR-10 (benchmarks/zero_shot_nb201.py)",
        "date_utc": started,
        "finished_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {**machine, "loadavg_end": list(os.getloadavg()),
                    "note": "2 CPU cores shared with ~6 other jobs: wall seconds include contention; "
                            "process CPU seconds are the cleaner cost figure"},
        "protocol": {
            "sample": f"{args.cells} cells, np.random.default_rng(0).choice(15625, {args.cells}, replace=False) "
                      "over the official index order of nb201_cifar10.csv",
            "cells_scored_by_zero_shot": n,
            "cells_scored_by_params": args.cells,
            "ground_truth": "CIFAR-10 test accuracy, 200 epochs (nb201_cifar10.csv)",
            "images": "CIFAR-10 subset ../shared/data/cifar10 (5 x 1,017 train images), "
                      "ImageDataModule.fixed_batches(batch_size, 1, seed) from the 90% train split",
            "network": build, "batch_size": args.batch_size, "n_batches": 1, "seeds": args.seeds,
            "seed_values": list(range(args.seeds)), "device": args.device, "torch_threads": args.threads,
            "budget_min": args.budget_min,
            "singles_timed_on_first_cells": args.single_cells,
            "differences_to_published": [
                f"{n} uniformly sampled cells instead of all 15,625",
                f"{args.seeds} seed(s) instead of 3 (3-seed effect measured on {k} cells in 'seeds')",
                "images from a 5,085-image CIFAR-10 subset (any 128 of them are a random batch, as in the paper)",
                "grasp: one forward for g and Hg (the reference code runs two identical forwards)",
                "per-measure costs on a shared 2-core CPU, not a GPU",
            ],
        },
        "table": table_out,
        "cost": {
            "shared_pass_cpu_s_per_arch": zc, "shared_pass_wall_s_per_arch": zw,
            "sum_of_singles_cpu_s_per_arch": sum_c, "sum_of_singles_wall_s_per_arch": sum_w,
            "ratio_all_together_over_sum_of_singles_cpu": zc / sum_c,
            "ratio_all_together_over_sum_of_singles_wall": zw / sum_w,
            "shared_pass_cpu_s_per_arch_all_cells": float(np.mean(zcpu)),
            "note": f"ratio on the first {args.single_cells} cells (same cells for singles and shared pass)",
        },
        "shared_vs_single_max_rel_diff": mismatch,
        "seeds": seed_block,
        "raw": {"arch": [str(a) for a in archs[:n]],
                "scores": {m: [r[m] for r in rows] for m in MEASURES},
                "params": base["params"]["scores"][:n], "flops": base["flops"]["scores"][:n],
                "reasons": {str(archs[j]): rows[j]["_reason"] for j in range(n) if "_reason" in rows[j]}},
        "wall_s_total": time.perf_counter() - t_start,
        "provenance": result_provenance(seeds=list(range(args.seeds)),
                                        sample=f"the first {n} cells of the fixed {args.cells}-cell sample"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    plot(result, out.with_suffix(".png"), tn)
    log("wrote", out, "and", out.with_suffix(".png"))
    print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
