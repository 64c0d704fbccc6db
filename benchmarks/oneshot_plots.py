"""Summaries and curves for ``oneshot_nb201.py``: tau and complexity bias against supernet epochs.

``summarize_and_plot`` reads the results JSON and the raw scores (npz under ``WORK/scores``),
recomputes every curve point on the cells common to all its checkpoints (intermediate checkpoints
may have been scored on fewer cells than the final ones), and adds to the JSON:

* ``protocol_comparison``: per protocol and metric, Kendall (iso) of each run's final checkpoint on
  the cells every protocol scored, and the mean over runs; ``default_protocol`` is the best mean;
* ``curves``: per configuration (runs differing only in seed), per epoch: the mean, min and max
  over seeds of Kendall (iso and deiso) and of the lowest #params bin's rank shift;
* ``agreement``: Kendall tau between the scores of two seeds of a configuration at the same epoch
  (variance from sharing) and between consecutive checkpoints of one run (forgetting).

Figures (next to the JSON, each with its ``.figure.json``): ``oneshot_tau_vs_epochs.png`` and
``oneshot_bias_vs_epochs.png``. One line per configuration (mean over seeds, markers at measured
epochs only), seeds as a min-max band; a missing point is not drawn; every panel states its n.
Redraw them from the JSON alone with ``python -m benchmarks.oneshot_plots``.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from benchmarks.oneshot_nb201 import BINS, METRICS, load_truth, quality
from nasrank.evaluation.criteria import kendall_tau
from nasrank.lightning_modules.supernet_scoring import scores_from_batches
from nasrank.runs.provenance import result_provenance
from nasrank.spaces.nb201 import Nb201Space

COLORS = {"deiso-k1": "tab:orange", "uniform-k1": "tab:blue", "deiso-k5": "tab:green", "uniform-k5": "tab:red",
          "deiso-k1-route": "tab:purple", "deiso-k1-50ep": "tab:brown", "deiso-k5-50ep": "tab:olive"}


def config_of(run: str) -> str:
    """``deiso-k1-s0`` -> ``deiso-k1`` (runs that differ only in seed share a configuration)."""
    return re.sub(r"-s\d+$", "", run)


def _scores(work: Path, run: str, epoch: int, proto: str, metric: str, n: int) -> np.ndarray | None:
    path = work / "scores" / f"{run}-ep{epoch}-{proto}.npz"
    if not path.is_file():
        return None
    counts = np.load(path)["counts"]
    if counts.shape[0] < n:
        return None
    return np.array(scores_from_batches(counts[:n], (metric,))[metric])


def compare_protocols(res: dict, work: Path) -> dict:
    """Kendall (iso) per protocol x metric on each run's final checkpoint, on the cells all protocols share."""
    space = Nb201Space()
    archs, truth, params = load_truth(space)
    keys = [space.canonical_key(a) for a in archs]
    protos = list(res["protocols"])
    table: dict = {"runs": {}, "mean": {}}
    for run, rec in res["runs"].items():
        point = rec["checkpoints"].get(str(rec["epochs"]), {})
        have = point.get("protocols", {})
        if not all(p in have for p in protos):
            continue
        n = min(have[p]["n_cells"] for p in protos)
        row = {"n_cells": n}
        for p in protos:
            for m in METRICS:
                s = _scores(work, run, rec["epochs"], p, m, n)
                if s is not None:
                    q = quality(s, truth[:n], keys[:n], params[:n])
                    row[f"{p}/{m}"] = {"kendall_iso": q["iso"]["kendall_tau"], "kendall_deiso": q["deiso"]["kendall_tau"],
                                       "lowest_bin_shift": q["lowest_bin_shift"],
                                       "seconds_per_cell": have[p]["scoring_seconds"] / have[p]["n_cells"]}
        table["runs"][run] = row
    for key in {k for row in table["runs"].values() for k in row if k != "n_cells"}:
        vals = [row[key]["kendall_iso"] for row in table["runs"].values() if key in row]
        table["mean"][key] = {"kendall_iso": float(np.mean(vals)), "runs": len(vals)}
    if table["mean"]:
        best = max(table["mean"], key=lambda k: table["mean"][k]["kendall_iso"])
        table["best"] = best
    return table


def curves(res: dict, work: Path, proto: str, metric: str) -> dict:
    """Per configuration and epoch: mean/min/max over seeds, on the cells common to the run's checkpoints."""
    space = Nb201Space()
    archs, truth, params = load_truth(space)
    keys = [space.canonical_key(a) for a in archs]
    out: dict = {}
    for run, rec in res["runs"].items():
        pts = {int(e): p["protocols"][proto]["n_cells"] for e, p in rec["checkpoints"].items() if proto in p["protocols"]}
        if not pts:
            continue
        n = min(pts.values())
        cfg = out.setdefault(config_of(run), {"n_cells": n, "seeds": {}, "epochs": {}})
        cfg["n_cells"] = min(cfg["n_cells"], n)
        for e in sorted(pts):
            s = _scores(work, run, e, proto, metric, n)
            if s is None:
                continue
            q = quality(s, truth[:n], keys[:n], params[:n])
            cfg["seeds"].setdefault(run, {})[e] = {"kendall_iso": q["iso"]["kendall_tau"],
                                                   "kendall_deiso": q["deiso"]["kendall_tau"],
                                                   "lowest_bin_shift": q["lowest_bin_shift"], "n_cells": n}
    for cfg in out.values():
        epochs = sorted({e for pts in cfg["seeds"].values() for e in pts})
        for e in epochs:
            vals = [pts[e] for pts in cfg["seeds"].values() if e in pts]
            cfg["epochs"][e] = {k: {"mean": float(np.mean([v[k] for v in vals])), "min": float(min(v[k] for v in vals)),
                                    "max": float(max(v[k] for v in vals)), "seeds": len(vals)}
                                for k in ("kendall_iso", "kendall_deiso", "lowest_bin_shift")}
    return out


def agreement(res: dict, work: Path, proto: str, metric: str) -> dict:
    """Seed-to-seed Kendall per configuration and epoch; checkpoint-to-checkpoint Kendall per run."""
    out: dict = {"between_seeds": {}, "consecutive_checkpoints": {}}
    by_cfg: dict = {}
    for run, rec in res["runs"].items():
        by_cfg.setdefault(config_of(run), []).append(run)
        eps = sorted(int(e) for e, p in rec["checkpoints"].items() if proto in p["protocols"])
        n = min((rec["checkpoints"][str(e)]["protocols"][proto]["n_cells"] for e in eps), default=0)
        pairs = {}
        for a, b in zip(eps, eps[1:]):
            sa, sb = _scores(work, run, a, proto, metric, n), _scores(work, run, b, proto, metric, n)
            if sa is not None and sb is not None:
                pairs[f"{a}->{b}"] = kendall_tau(sa, sb)
        out["consecutive_checkpoints"][run] = pairs
    for cfg, runs in by_cfg.items():
        if len(runs) < 2:
            continue
        a, b = sorted(runs)[:2]
        ea, eb = res["runs"][a]["checkpoints"], res["runs"][b]["checkpoints"]
        row = {}
        for e in sorted({int(k) for k in ea} & {int(k) for k in eb}):
            pa, pb = ea[str(e)]["protocols"].get(proto), eb[str(e)]["protocols"].get(proto)
            if pa and pb:
                n = min(pa["n_cells"], pb["n_cells"])
                row[e] = kendall_tau(_scores(work, a, e, proto, metric, n), _scores(work, b, e, proto, metric, n))
        out["between_seeds"][f"{a} vs {b}"] = row
    return out


def null_lowest_bin_shift(truth, params) -> float:
    """The lowest #params bin's rank shift expected of a score with no information (random order):
    0.5 minus the bin's mean true percentile. A shift above it over-rates small cells beyond chance."""
    from nasrank.evaluation.bias import complexity_bins, rank_percentiles

    bins = complexity_bins(params, BINS)
    return float(0.5 - rank_percentiles(truth)[bins == 0].mean())


def cost_table(res: dict, proto: str) -> dict:
    """Supernet training + scoring seconds per run beside the ``train`` ranker on the same cells.

    ``equal_compute_epochs_per_cell``: epochs of one-by-one training each of the scored cells could
    get for the supernet's total seconds, from the measured per-cell-epoch cost of the sample.
    """
    sample = res.get("train_ranker_sample")
    out: dict = {"protocol": proto, "runs": {}}
    for run, rec in res["runs"].items():
        point = rec["checkpoints"].get(str(rec["epochs"]), {}).get("protocols", {}).get(proto)
        if point is None or rec.get("train_seconds") is None:
            continue
        per_cell = point["scoring_seconds"] / point["n_cells"]
        total = rec["train_seconds"] + per_cell * 1000
        row = {"train_seconds": rec["train_seconds"], "scoring_seconds_1000_cells": per_cell * 1000,
               "total_seconds": total, "seconds_per_cell": total / 1000}
        if sample:
            one = sample["seconds_per_cell_epoch"]
            row["train_ranker_seconds_1000_cells_1_epoch"] = one * 1000
            row["equal_compute_epochs_per_cell"] = total / (one * 1000)
        out["runs"][run] = row
    return out


def targets(res: dict) -> dict:
    """The issue's targets: per configuration, final-checkpoint Kendall (iso) per seed and mean.

    ``default``: the chosen protocol on the cells all protocols share; ``bs508_neg_loss_all``: batch-stat
    BN, negative loss, on every cell the final checkpoint was scored on (1,000 where done).
    """
    comp, best = res.get("protocol_comparison", {}), res.get("default_protocol")
    out: dict = {}
    for run, rec in res["runs"].items():
        cfg = out.setdefault(config_of(run), {"default": {}, "bs508_neg_loss_all": {}})
        row = comp.get("runs", {}).get(run, {})
        if best in row:
            cfg["default"][run] = row[best]["kendall_iso"]
        point = rec["checkpoints"].get(str(rec["epochs"]), {}).get("protocols", {}).get("bs508")
        if point:
            cfg["bs508_neg_loss_all"][run] = {"kendall_iso": point["neg_loss"]["iso"]["kendall_tau"],
                                              "n_cells": point["n_cells"]}
    for cfg in out.values():
        for key in ("default", "bs508_neg_loss_all"):
            vals = [v if isinstance(v, float) else v["kendall_iso"] for v in cfg[key].values()]
            cfg[f"{key}_mean"] = float(np.mean(vals)) if vals else None
    return out


MARKERS = "osD^vP*Xh"


def _draw(ax, curves_: dict, key: str, ref: float | None, ref_label: str) -> None:
    """One line per configuration (mean over seeds, a distinct marker each), seeds as a min-max band."""
    for i, (cfg, c) in enumerate(curves_.items()):
        eps = sorted(c["epochs"], key=int)
        mean = [c["epochs"][e][key]["mean"] for e in eps]
        lo = [c["epochs"][e][key]["min"] for e in eps]
        hi = [c["epochs"][e][key]["max"] for e in eps]
        seeds = max(c["epochs"][e][key]["seeds"] for e in eps)
        col = COLORS.get(cfg)
        ax.plot([int(e) for e in eps], mean, marker=MARKERS[i % len(MARKERS)], color=col,
                label=f"{cfg} ({'mean of ' if seeds > 1 else ''}{seeds} seed{'s' if seeds > 1 else ''})")
        if seeds > 1:
            ax.fill_between([int(e) for e in eps], lo, hi, color=col, alpha=0.2, lw=0)
    if ref is not None:
        ax.axhline(ref, color="black", ls=":", lw=1, label=ref_label)
    ax.set_xscale("log")
    ax.set_xlabel("supernet epochs (checkpoints inside one 200-epoch cosine run)")
    ax.grid(alpha=0.3)


def _legend_below(ax, ncol: int = 2) -> None:
    """The legend under the panel, never over its data."""
    ax.legend(fontsize=7, ncol=ncol, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)


def _curve_cells(res: dict) -> int:
    return min(c["n_cells"] for c in res["curves"].values())


def _agreement_cells(res: dict, run: str, proto: str) -> int:
    """Cells a run's consecutive checkpoints were compared on: the fewest any of its checkpoints scored."""
    cks = res["runs"][run]["checkpoints"].values()
    return min((p["protocols"][proto]["n_cells"] for p in cks if proto in p["protocols"]), default=0)


def _pair_cells(res: dict, pair: str, eps: list[int], proto: str) -> str:
    """``n = 300; 1000 at 200 ep``: the cells both seeds scored, per epoch (the fewer of the two)."""
    a, b = pair.split(" vs ")
    ns = {e: min(res["runs"][r]["checkpoints"][str(e)]["protocols"][proto]["n_cells"] for r in (a, b)) for e in eps}
    common = min(ns.values())
    other = [f"{v} at {e} ep" for e, v in ns.items() if v != common]
    return "; ".join([f"n = {common}", *other])


def plot_tau(res: dict, out_dir: Path, proto: str, metric: str) -> None:
    """``oneshot_tau_vs_epochs.png``: Kendall (iso, deiso) per configuration, seed and checkpoint agreement."""
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import palette, save_figure

    cv, base, n = res["curves"], res["baseline_params_curve_cells"], _curve_cells(res)
    fig, axes = plt.subplots(2, 2, figsize=(13, 11))
    (a, b), (c, d) = axes
    _draw(a, cv, "kendall_iso", base["iso"]["kendall_tau"], f"#params (same {n} cells)")
    a.axhline(0.40, color="grey", ls="--", lw=1, label="target 0.40")
    a.set_title(f"Ranking quality against the 200-epoch truth (iso), n = {n} cells.", fontsize=10)
    a.set_ylabel("Kendall tau")
    _draw(b, cv, "kendall_deiso", base["deiso"]["kendall_tau"], f"#params (same {n} cells)")
    b.set_title(f"The same with one cell per isomorphism class (deiso), n = {n} cells.", fontsize=10)
    b.set_ylabel("Kendall tau (deiso)")
    for i, (pair, row) in enumerate(res["agreement"]["between_seeds"].items()):
        eps = sorted(int(e) for e in row)
        c.plot(eps, [row[str(e)] if str(e) in row else row[e] for e in eps], marker=MARKERS[i], lw=2,
               color=COLORS.get(config_of(pair.split(" vs ")[0])), label=f"{pair} ({_pair_cells(res, pair, eps, proto)})")
    c.set_title("Two seeds of one configuration agree more as training ends (n: legend).", fontsize=10)
    runs = [r for r, p in res["agreement"]["consecutive_checkpoints"].items() if p]
    cols = palette(len(runs))
    ns = set()
    for i, run in enumerate(runs):
        pairs = res["agreement"]["consecutive_checkpoints"][run]
        ns.add(_agreement_cells(res, run, proto))
        d.plot([int(k.split("->")[1]) for k in pairs], list(pairs.values()), marker=MARKERS[i % len(MARKERS)],
               ls="--", lw=1, color=cols[i], label=run)
    d.set_title(f"Each checkpoint against the previous one of its run, n = {'/'.join(map(str, sorted(ns)))} cells.",
                fontsize=10)
    c.set_xlabel("supernet epochs (both seeds at the same checkpoint)")
    d.set_xlabel("supernet epochs (the later checkpoint of each pair)")
    for ax in (c, d):
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_ylabel("Kendall tau between the two score vectors")
        ax.grid(alpha=0.3)
    for ax in (a, b, c, d):
        _legend_below(ax, {id(c): 1, id(d): 3}.get(id(ax), 2))
    fig.suptitle("One-shot ranking on NB201 improves up to about 50 supernet epochs, then levels off.\n"
                 f"(C=8, N=1, 16 px, CIFAR-10 subset; score {metric}, protocol {proto}; "
                 f"first {n} cells of the 1,000-cell sample; bands: min-max over seeds).", fontsize=10)
    fig.tight_layout(h_pad=3)
    save_figure(fig, out_dir / "oneshot_tau_vs_epochs.png",
                notes=["final-checkpoint values on 500 and 1,000 cells are in oneshot_nb201.json "
                       "(protocol_comparison, targets), not on these axes"])


def plot_bias(res: dict, out_dir: Path, proto: str, metric: str) -> None:
    """``oneshot_bias_vs_epochs.png``: lowest-#params-bin rank shift; train vs held-out accuracy."""
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import palette, save_figure

    cv, base, n = res["curves"], res["baseline_params_curve_cells"], _curve_cells(res)
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.5))
    _draw(axes[0], cv, "lowest_bin_shift", base["lowest_bin_shift"], "#params as the score")
    axes[0].axhline(0.0, color="grey", lw=0.8)
    axes[0].axhline(res["null_lowest_bin_shift_curve_cells"], color="red", ls=":", lw=1,
                    label="a random score (no information)")
    axes[0].set_ylabel("rank shift of the lowest-#params bin (+: over-rated)")
    axes[0].set_title(f"Small cells are over-rated early in training, n = {n} cells (5 #params bins).", fontsize=10)
    cols = palette(len(res["runs"]))
    for i, (run, rec) in enumerate(res["runs"].items()):
        h = rec.get("train_history") or []
        if h:
            axes[1].plot([r["epoch"] for r in h], [r["train_acc"] for r in h], lw=0.8, color=cols[i],
                         label=f"{run}: training accuracy of the sampled paths")
        pts = sorted((int(e), p["protocols"][proto]["mean_acc"]) for e, p in rec["checkpoints"].items()
                     if proto in p["protocols"])
        if pts:
            axes[1].plot(*zip(*pts), marker=MARKERS[i % len(MARKERS)], ls="--", color=cols[i],
                         label=f"{run}: held-out accuracy, mean over the scored cells")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("supernet epochs")
    axes[1].set_ylabel("accuracy of the sub-networks")
    axes[1].set_title("Sub-networks are still under-trained at 200 epochs (accuracy still rising).", fontsize=10)
    axes[1].grid(alpha=0.3)
    _legend_below(axes[0], 2)
    _legend_below(axes[1], 2)
    fig.suptitle(f"Complexity bias of the one-shot scores.\n(score {metric}, protocol {proto}; first {n} cells "
                 "of the 1,000-cell sample; bands: min-max over seeds)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out_dir / "oneshot_bias_vs_epochs.png")


def plot_all(res: dict, out_dir: Path, proto: str, metric: str) -> None:
    plot_tau(res, out_dir, proto, metric)
    plot_bias(res, out_dir, proto, metric)


def replot(path: Path) -> None:
    """Redraw both figures from the results JSON alone (no scores, no training)."""
    res = json.loads(path.read_text())
    proto, metric = res["curve_protocol"].split("/")
    plot_all(res, path.parent, proto, metric)


def summarize_and_plot(path: Path, work: Path, proto: str | None = None, metric: str | None = None,
                       notes: list[str] | None = None) -> dict:
    """Add ``protocol_comparison``, ``default_protocol``, ``curves`` and ``agreement`` to the JSON; draw."""
    res = json.loads(path.read_text())
    res["notes"] = list(dict.fromkeys(res.get("notes", []) + list(notes or [])))
    res["protocol_comparison"] = compare_protocols(res, work)
    best = res["protocol_comparison"].get("best", "bs192/acc")
    res["default_protocol"] = best
    c_proto, c_metric = (proto or "bs192"), (metric or best.split("/")[1])
    res["curve_protocol"] = f"{c_proto}/{c_metric}"
    res["curves"] = curves(res, work, c_proto, c_metric)
    res["agreement"] = agreement(res, work, c_proto, c_metric)
    n = min((c["n_cells"] for c in res["curves"].values()), default=1000)
    space = Nb201Space()
    archs, truth, params = load_truth(space, n)
    res["baseline_params_curve_cells"] = quality(params, truth, [space.canonical_key(a) for a in archs], params)
    res["null_lowest_bin_shift_curve_cells"] = null_lowest_bin_shift(truth, params)
    res["cost"] = cost_table(res, best.split("/")[0])
    res["targets"] = targets(res)
    res["provenance"] = result_provenance(sample="the fixed 1,000-cell NB201 sample (np.random.default_rng(0))",
                                          steps_note="written by the plot step; each step's machine is in 'machines'")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(res, indent=2, default=float) + "\n")
    os.replace(tmp, path)
    plot_all(res, path.parent, c_proto, c_metric)
    return res


if __name__ == "__main__":
    replot(Path(__file__).resolve().parent / "results" / "oneshot_nb201.json")
