"""The report of ``zero_shot_training.py``: each proxy's Spearman at 0, 1, 3 and 10 epochs, with CIs,
the figure and ``results/zero_shot_training.json``."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from _common import write_result
from zero_shot_modern import RESULTS, done_indices, sample_indices
from zero_shot_modern_report import AZ_PARTS, ENSEMBLE, truth_of
from zero_shot_training import POINTS, TRAIN, ZS

#: the figure's two panels (measures training leaves unchanged are left out, and named)
PANELS = (("2022-2024 proxies", ("meco", "meco_opt", "zico", "zen", "ensemble(" + ",".join(ENSEMBLE) + ")")),
          ("2021 proxies", ("synflow", "relu_logdet", "jacob_cov", "epe_nas", "l2_norm")))
REFERENCE = "trained val_acc"


def records(cells: int) -> list[dict]:
    """Every shard's cell lines, in sample order."""
    recs: dict[int, dict] = {}
    for path in sorted(RESULTS.glob("zero_shot_training_cells-*-of-*.jsonl")):
        recs.update(done_indices(path))
    order = sample_indices(cells)
    return [recs[i] for i in order if i in recs]


def point_columns(recs: list[dict], point: int) -> dict[str, np.ndarray]:
    """Each measure's scores at ``point`` (AZ-NAS and the ensemble as rank aggregates over these cells)."""
    from nasrank.rankers.ensemble import aggregate_ranks, pool_ranks

    at = [r["points"][str(point)] for r in recs]
    names = sorted(at[0]["measures"])
    cols = {m: np.asarray([a["measures"][m] for a in at], dtype=float) for m in names}
    for m in ("swap", "swap_reg"):  # one distinct pattern = constant activations: invalid
        if m in cols:
            cols[m] = np.where(cols["swap"] <= 1, np.nan, cols[m])
    from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

    cols["params"] = np.asarray([Nb201Space.official_params_m(Nb201Arch.from_string(r["arch"])) for r in recs])
    if all(p in cols for p in AZ_PARTS):
        cols["az_nas"] = aggregate_ranks(np.vstack([pool_ranks(list(cols[p])) for p in AZ_PARTS]), "log")
    if all(p in cols for p in ENSEMBLE):
        cols["ensemble(" + ",".join(ENSEMBLE) + ")"] = aggregate_ranks(
            np.vstack([pool_ranks(list(cols[p])) for p in ENSEMBLE]), "mean")
    if point:
        cols["trained val_acc"] = np.asarray([a["val_acc"] for a in at], dtype=float)
    return cols


def unchanged_by_training(cols: dict[int, dict[str, np.ndarray]]) -> dict[str, str]:
    """Measures whose every cell's value is the same at every point, with why: the measure re-initialises
    the network before scoring (it declares ``needs_pristine``: AZ-NAS's parts, SWAP) or reads only the
    architecture (#params, FLOPs); FEAR's question does not apply to them."""
    from nasrank.rankers.zero_cost._registry import MEASURES, get_measure

    out = {}
    for m, at0 in cols[0].items():
        if not all(np.array_equal(cols[p][m], at0, equal_nan=True) for p in POINTS[1:] if m in cols[p]):
            continue
        pristine = m in MEASURES and getattr(get_measure(m), "needs_pristine", False)
        out[m] = ("re-initialises the network before scoring (needs_pristine)" if pristine else
                  "a rank aggregate of parts that training does not change" if m not in MEASURES and m != "params"
                  else "reads the architecture only" if m == "params" or getattr(get_measure(m), "data_free", False)
                  else "no change measured")
    return out


def spearman_ci(scores: np.ndarray, truth: np.ndarray, idx: np.ndarray) -> dict:
    """Spearman on the valid cells, with a 95% percentile CI over the bootstrap cell draws ``idx``."""
    from nasrank.evaluation.criteria import spearman

    ok = np.isfinite(scores)
    point = spearman(scores[ok], truth[ok]) if ok.sum() > 2 else None
    boots = []
    for i in idx:
        keep = i[ok[i]]
        boots.append(spearman(scores[keep], truth[keep]) if len(keep) > 2 else np.nan)
    lo, hi = (np.nanpercentile(boots, [2.5, 97.5]) if np.isfinite(boots).any() else (None, None))
    return {"spearman": point, "ci": [None if lo is None else float(lo), None if hi is None else float(hi)],
            "n_valid": int(ok.sum()), "_boots": boots}


def _draw(ax, table: dict, names: tuple[str, ...]) -> None:
    x = np.arange(len(POINTS))
    names = tuple(m for m in names if m in table and not table[m].get("unchanged_by_training")) + (REFERENCE,)
    for k, m in enumerate(names):
        rows = [table[m].get(str(p)) for p in POINTS]
        y = np.array([np.nan if r is None or r["spearman"] is None else r["spearman"] for r in rows])
        lo = np.array([np.nan if r is None or r["ci"][0] is None else r["ci"][0] for r in rows])
        hi = np.array([np.nan if r is None or r["ci"][1] is None else r["ci"][1] for r in rows])
        style = {"color": "black", "lw": 2.2, "ls": "--"} if m == REFERENCE else {"color": f"C{k % 10}"}
        ax.errorbar(x + (k - len(names) / 2) * 0.04, y, yerr=[y - lo, hi - y], marker="o", ms=4, capsize=2,
                    label=m, **style)  # NaN (no value at a point) leaves a gap, never a zero
    ax.set_xticks(x, [str(p) for p in POINTS])
    ax.set_xlabel("epochs of training before scoring")
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3, axis="y")


def plot(table: dict, n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import save_figure

    fig, axes = plt.subplots(1, len(PANELS), figsize=(11, 4.8), sharey=True)
    for ax, (title, names) in zip(axes, PANELS):
        _draw(ax, table, names)
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel("Spearman ρ vs 200-epoch test accuracy (95% CI)")
    flat = sorted(m for m in table if table[m].get("unchanged_by_training"))
    fig.suptitle(f"Zero-cost proxies on networks trained 0-10 epochs (CPU preset: C=8, N=1, 16 px, 5k images), "
                 f"{n} NB201 cells, one seed\ndashed: the trained network's own held-out accuracy (none at 0 epochs)\n"
                 f"not drawn, unchanged by training: {', '.join(flat) or 'none'}", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def report(args: argparse.Namespace) -> None:
    recs = records(args.cells)
    if not recs:
        raise SystemExit("zero_shot_training: no cells scored yet (run the score phase)")
    truth = truth_of([r["index"] for r in recs])
    rng = np.random.default_rng(0)
    idx = [rng.integers(0, len(recs), len(recs)) for _ in range(args.n_boot)]
    table: dict[str, dict] = {}
    cols = {point: point_columns(recs, point) for point in POINTS}
    for point in POINTS:
        for m, scores in cols[point].items():
            table.setdefault(m, {})[str(point)] = spearman_ci(scores, truth, idx)
    for m, why in unchanged_by_training(cols).items():
        table[m].update({"unchanged_by_training": True, "why": why})
    for m, per in table.items():
        at0, at10 = per.get("0", {}).get("spearman"), per.get(str(POINTS[-1]), {}).get("spearman")
        per["change_0_to_10"] = None if at0 is None or at10 is None else at10 - at0
        b0, b10 = per.get("0", {}).get("_boots"), per.get(str(POINTS[-1]), {}).get("_boots")
        if per["change_0_to_10"] is not None and b0 is not None and b10 is not None:
            d = np.asarray(b10) - np.asarray(b0)  # the same cell draws at both points: a paired interval
            per["change_0_to_10_ci"] = [float(x) for x in np.nanpercentile(d, [2.5, 97.5])]
        for point in POINTS:
            per.get(str(point), {}).pop("_boots", None)
    n = len(recs)
    payload = {
        "benchmark": "zero-cost proxies after 0, 1, 3 and 10 epochs of training (benchmarks/zero_shot_training.py)",
        "protocol": {"sample": f"the first {n} cells of the zero_shot_modern sample", "points_epochs": list(POINTS),
                     "training": {**TRAIN, "lr": "0.1 cosine over 10 epochs", "seed": 0,
                                  "data": "../shared/data/cifar10 (5k-image subset), 90% train split"},
                     "scoring": {**ZS, "weights": "the trained network's, loaded strictly; at 0 the weights "
                                 "training starts from"},
                     "ground_truth": "CIFAR-10 test accuracy after 200 epochs (nb201_cifar10.csv)",
                     "ci": f"95% percentile bootstrap over cells ({args.n_boot} draws, the same draws for every "
                           "measure and point)"},
        "cells_scored": n, "target_cells": args.cells,
        "train_cpu_s_per_cell": float(np.mean([r["train_cpu_s"] for r in recs])),
        "table": table,
    }
    write_result("zero_shot_training", payload, seeds=[0], sample=payload["protocol"]["sample"])
    plot(table, n, RESULTS / "zero_shot_training.png")
