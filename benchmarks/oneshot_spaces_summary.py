"""Summaries, findings and figures for ``oneshot_spaces.py``.

``summarize(res, work, folder)`` adds to the results dict:

* ``baselines``: per space, on exactly the cells each run's final checkpoint scored: #params of the
  table (``params_m``, the full-scale network), and, where ``zero_shot_spaces.json`` scored the same
  cells, its #params of the reduced build and its best zero-shot estimator (by Kendall there);
* ``curves``: per run, Kendall (iso, neg_loss) and the lowest-bin shift per epoch, all on the cells
  every checkpoint of the run scored;
* ``seed_agreement`` (two seeds of a configuration) and ``deiso_vs_uniform`` (NB101);
* ``findings``: one line per finding of Ning et al. and space: confirmed / refuted / not reached.

Figure: ``oneshot_spaces_tau_vs_epochs.png`` (one panel per space; markers at measured epochs only;
#params and the best zero-shot estimator as horizontal reference lines on the final cells).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from benchmarks._common import RESULTS
from nasrank.evaluation.criteria import criteria_by_mode, kendall_tau
from nasrank.lightning_modules.supernet_scoring import scores_from_batches

METRIC = "neg_loss"


def _scores(work: Path, run: str, epoch: int, n: int | None = None) -> np.ndarray | None:
    path = work / "scores" / f"{run}-ep{epoch}.npz"
    if not path.is_file():
        return None
    counts = np.load(path)["counts"]
    counts = counts if n is None else counts[:n]
    return np.array(scores_from_batches(counts, (METRIC,))[METRIC])


def _tau_modes(scores, truth, keys) -> dict:
    res = criteria_by_mode(scores, truth, keys, modes=("iso", "deiso"))
    return {m: res[m]["kendall_tau"] for m in res}


def baselines(space_name: str, n: int) -> dict:
    """#params (table) and, on the cells zero_shot_spaces.json scored too, its params and best ZSE."""
    from benchmarks.oneshot_spaces import load_truth

    space, archs, truth, params = load_truth(space_name)
    archs, truth, params = archs[:n], truth[:n], params[:n]
    keys = [space.canonical_key(a) for a in archs]
    from nasrank.evaluation.bias import complexity_bias

    rng = np.random.default_rng(0)
    random_shift = np.mean([complexity_bias(rng.permutation(n).astype(float), truth, params)["bins"][0]["rank_shift"]
                            for _ in range(20)])
    out = {"n_cells": n, "table_params_m": _tau_modes(params, truth, keys),
           "random_score_lowest_bin_shift": float(random_shift)}
    zs_path = RESULTS / "zero_shot_spaces.json"
    zs = json.loads(zs_path.read_text())["spaces"].get(space_name) if zs_path.is_file() else None
    if zs:
        raw = zs["raw"]
        where = {s: i for i, s in enumerate(raw["arch"])}
        idx = [(j, where[space.to_string(a)]) for j, a in enumerate(archs) if space.to_string(a) in where]
        mine, theirs = [j for j, _ in idx], [i for _, i in idx]
        best = zs["best_zero_shot"]
        out["zero_shot_cells"] = len(idx)
        out["zero_shot_cell_indices"] = "cells of this run that zero_shot_spaces.json scored (matched by arch string)"
        for name in ("params", best):
            vals = np.array([raw["scores"][name][i] for i in theirs], dtype=float)
            out[f"zero_shot_{name}"] = {"ranker": name, **_tau_modes(vals, truth[mine], [keys[j] for j in mine])}
        out["best_zero_shot"] = best
    return out


def curves(res: dict, work: Path) -> dict:
    from benchmarks.oneshot_spaces import load_truth

    out = {}
    for run, rec in res.get("runs", {}).items():
        cks = rec.get("checkpoints", {})
        if not cks:
            continue
        space_name = run.split("-")[0]
        n = min(p["n_cells"] for p in cks.values())
        space, archs, truth, params = load_truth(space_name)
        keys = [space.canonical_key(a) for a in archs[:n]]
        pts = []
        for e in sorted(int(k) for k in cks):
            s = _scores(work, run, e, n)
            if s is None:
                continue
            from nasrank.evaluation.bias import complexity_bias

            pts.append({"epochs": e, **_tau_modes(s, truth[:n], keys),
                        "lowest_bin_shift": complexity_bias(s, truth[:n], params[:n])["bins"][0]["rank_shift"]})
        out[run] = {"n_cells": n, "metric": METRIC, "points": pts}
    return out


def seed_agreement(res: dict, work: Path) -> dict:
    """Kendall between the final scores of two seeds of one configuration (on their common cells)."""
    by_cfg: dict[str, list[str]] = {}
    for run in res.get("runs", {}):
        by_cfg.setdefault(re.sub(r"-s\d+$", "", run), []).append(run)
    out = {}
    for cfg, runs in by_cfg.items():
        if len(runs) < 2:
            continue
        a, b = sorted(runs)[:2]
        e = _final(res, a)["epochs"]
        sa, sb = _scores(work, a, e), _scores(work, b, e)
        if sa is None or sb is None:
            continue
        n = min(len(sa), len(sb))
        taus = [_final(res, r)[METRIC]["iso"]["kendall_tau"] for r in (a, b)]
        out[cfg] = {"runs": [a, b], "n_cells": n, "kendall_between_seeds": kendall_tau(sa[:n], sb[:n]),
                    "kendall_vs_truth_per_seed": taus}
    return out


def _final(res: dict, run: str) -> dict | None:
    """The run's last scored checkpoint (its final one unless scoring was cut short; ``epochs`` says which)."""
    cks = res["runs"].get(run, {}).get("checkpoints", {})
    return cks[max(cks, key=int)] if cks else None


def findings(res: dict) -> list[dict]:
    """One line per (finding, space): confirmed / refuted / not reached, with the numbers behind it."""
    rows = []
    for space in ("nb101", "darts"):
        runs = [r for r in res.get("runs", {}) if r.startswith(space + "-") and _final(res, r)]
        if not runs:
            for f in ("ose_vs_params", "tau_rises_with_epochs", "complexity_bias", "seed_variance"):
                rows.append({"finding": f, "space": space, "verdict": "not reached", "why": "no run scored"})
            continue
        base = res["baselines"][space]["table_params_m"]["iso"]
        best = max(runs, key=lambda r: _final(res, r)[METRIC]["iso"]["kendall_tau"])
        tau = _final(res, best)[METRIC]["iso"]["kendall_tau"]
        rows.append({"finding": "OSE ranks above #params (paper: OSEs beat #params once trained)", "space": space,
                     "verdict": "confirmed" if tau > base else "refuted at this scale",
                     "numbers": f"best run {best} (epoch {_final(res, best)['epochs']}, {_final(res, best)['n_cells']} "
                                f"cells): tau {tau:.3f} vs #params {base:.3f} on the same cells (iso); deiso mode "
                                f"{_final(res, best)[METRIC]['deiso']['kendall_tau']:.3f} vs "
                                f"{res['baselines'][space]['table_params_m']['deiso']:.3f}"})
        longest = max(runs, key=lambda r: res["runs"][r].get("epochs", 0))
        pts = res["curves"][longest]["points"]
        if len(pts) >= 2:
            rise = pts[-1]["iso"] - pts[0]["iso"]
            last = pts[-1]["iso"] - pts[-2]["iso"]
            verdict = ("confirmed (still rising: under-trained)" if rise > 0.02 and last > 0.01 else
                       "confirmed (plateau reached)" if rise > 0.02 else "not reached: no rise within the epochs run")
            rows.append({"finding": "Kendall rises with supernet epochs", "space": space, "verdict": verdict,
                         "numbers": f"{longest} on {res['curves'][longest]['n_cells']} cells (iso): "
                                    + ", ".join(f"ep{p['epochs']} {p['iso']:.3f}" for p in pts)})
        shift = _final(res, best)[METRIC]["lowest_bin_shift"]
        rows.append({"finding": "OSE over-rates the smallest architectures (complexity bias)", "space": space,
                     "verdict": ("refuted" if shift < -0.03 else "not reached (|shift| < 0.03)" if shift <= 0.03
                                 else "confirmed, stronger than a random score's" if shift > res["baselines"][space]["random_score_lowest_bin_shift"]
                                 else "confirmed, weaker than a random score's"),
                     "numbers": f"lowest #params bin rank shift {shift:+.3f} ({best}, epoch "
                                f"{_final(res, best)['epochs']}; a random score gets "
                                f"{res['baselines'][space]['random_score_lowest_bin_shift']:+.3f} on these cells)"})
        seeds = {k: v for k, v in res.get("seed_agreement", {}).items() if k.startswith(space + "-")}
        if seeds:
            k, v = next(iter(seeds.items()))
            rows.append({"finding": "OSE rankings vary across supernet seeds", "space": space,
                         "verdict": "confirmed" if v["kendall_between_seeds"] < 0.8 else "refuted",
                         "numbers": f"{k}: tau between seeds {v['kendall_between_seeds']:.3f}"})
        else:
            rows.append({"finding": "OSE rankings vary across supernet seeds", "space": space,
                         "verdict": "not reached", "numbers": "one seed only (CPU budget)"})
    dv = res.get("deiso_vs_uniform")
    rows.append({"finding": "de-isomorphic sampling helps in isomorphic spaces", "space": "nb101",
                 "verdict": dv["verdict"] if dv else "not reached", "numbers": dv["numbers"] if dv else "no pair"})
    return rows


def deiso_vs_uniform(res: dict) -> dict | None:
    pairs = [(f"nb101-deiso-s{s}", f"nb101-uniform-s{s}") for s in range(3)]
    got = [(d, u) for d, u in pairs if _final(res, d) and _final(res, u)]
    if not got:
        return None
    diffs = {mode: [_final(res, d)[METRIC][mode]["kendall_tau"] - _final(res, u)[METRIC][mode]["kendall_tau"]
                    for d, u in got] for mode in ("iso", "deiso")}
    mean = {m: float(np.mean(v)) for m, v in diffs.items()}
    verdict = ("confirmed" if min(mean.values()) > 0.02 else "refuted" if max(mean.values()) < -0.02
               else "not reached (difference within +-0.02)")
    return {"pairs": got, "tau_difference_deiso_minus_uniform": diffs, "mean": mean, "verdict": verdict,
            "numbers": f"deiso - uniform Kendall: iso {mean['iso']:+.3f}, deiso mode {mean['deiso']:+.3f} "
                       f"({len(got)} seed pair(s))"}


def plot(res: dict, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import palette, save_figure

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, space in zip(axes, ("nb101", "darts")):
        runs = [r for r in res.get("curves", {}) if r.startswith(space + "-")]
        colors = palette(max(1, len(runs)))
        for c, run in zip(colors, runs):
            pts = res["curves"][run]["points"]
            ax.plot([p["epochs"] for p in pts], [p["iso"] for p in pts], "o-", color=c,
                    label=f"OSE {run} ({res['curves'][run]['n_cells']} cells)")
        b = res.get("baselines", {}).get(space)
        if b:
            ax.axhline(b["table_params_m"]["iso"], color="grey", ls="--",
                       label=f"#params (table) on {b['n_cells']} cells")
            z = b.get(f"zero_shot_{b.get('best_zero_shot')}")
            if z:
                ax.axhline(z["iso"], color="black", ls=":",
                           label=f"{b['best_zero_shot']} (zero-shot) on {b['zero_shot_cells']} of them")
        ax.set_title(f"{space}: OSE Kendall vs supernet epochs")
        ax.set_xlabel("supernet training epochs")
        ax.set_ylabel("Kendall tau vs truth (neg_loss, iso)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, folder / "oneshot_spaces_tau_vs_epochs.png",
                notes=["pilot at small CPU scale, one seed unless two are listed; curves on the cells every "
                       "checkpoint of the run scored; reference lines on the final checkpoint's cells"])


def summarize(res: dict, work: Path, folder: Path, notes: list[str]) -> None:
    res["curves"] = curves(res, work)
    res["baselines"] = {}
    for space in ("nb101", "darts"):
        ns = [_final(res, r)["n_cells"] for r in res.get("runs", {}) if r.startswith(space + "-") and _final(res, r)]
        if ns:
            res["baselines"][space] = baselines(space, min(ns))
    res["seed_agreement"] = seed_agreement(res, work)
    res["deiso_vs_uniform"] = deiso_vs_uniform(res)
    res["findings"] = findings(res)
    res["notes"] = list(dict.fromkeys([*res.get("notes", []), *notes]))
    plot(res, folder)
