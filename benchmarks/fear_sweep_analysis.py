"""The analysis half of ``fear_vs_training.py``: a sweep folder's histories -> the results JSON.

Reads ``DIR/seed<S>/<label>/history.jsonl`` (what ``nasrank compare --seeds`` writes), summarizes
them with :func:`nasrank.evaluation.sweep_summary.summarize_sweep` and adds what the FEAR
benchmark needs: coverage, FEAR's cost split, the matched baseline's regret, the target check.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from nasrank.evaluation.frontier_plots import write_sweep_plots
from nasrank.evaluation.seed_stats import RunTable
from nasrank.evaluation.sweep_summary import summarize_sweep
from nasrank.experiments.build import ranker_label
from nasrank.experiments.compare import ranker_dirname

COST_LABELS = {"cpu": "CPU seconds per candidate, one thread", "charged": "charged seconds per candidate"}
COSTS = {"cpu": lambda r: (r.get("info") or {}).get("process_cpu_seconds"), "charged": lambda r: r.get("seconds")}


def load(folder: Path, seeds: list[int], labels: list[str]) -> dict[int, dict[str, list[dict]]]:
    """Every seed's records per label (labels without a history are absent)."""
    from fear_calibration import read_history

    return {s: {lab: recs for lab in labels if (recs := read_history(folder, s, lab))} for s in seeds}


def _tables(records, seeds, labels, n: dict[int, int], cost: str) -> dict[int, dict[str, RunTable]]:
    return {s: {lab: RunTable.from_records(records[s][lab][:n[s]], cost=COSTS[cost]) for lab in labels
                if lab in records[s]} for s in seeds}


def fear_cost_split(recs: list[dict], epoch_cpu_seconds: float | None) -> dict[str, Any]:
    """Where a FEAR run's cost goes, per candidate it trained: stage 1, stage 2 (cache included), the rest.

    The stages are timed in wall seconds, which the other jobs on a shared machine inflate; each
    candidate's CPU seconds are split in the proportions of its own wall-time split, then averaged.
    ``in_train_epochs`` divides by the CPU cost of one epoch of ``train10``.
    """
    rows = []
    for r in recs:
        info = r["info"].get("second") if isinstance(r["info"].get("second"), dict) else r["info"]
        if "reached" not in info:
            continue
        # the record's charged seconds: FEAR's stages + the rest (a cascade's cheap stage included)
        wall = max(r["seconds"], (info.get("stage1_seconds") or 0.0) + (info.get("stage2_seconds") or 0.0))
        cpu = r["info"].get("process_cpu_seconds")
        s1, s2 = (info.get("stage1_seconds") or 0.0) / wall, (info.get("stage2_seconds") or 0.0) / wall
        rows.append((info, s1, s2, cpu))
    if not rows:
        return {}
    n = len(rows)
    out: dict[str, Any] = {
        "n_trained": n, "n_reached": sum(bool(i.get("reached")) for i, *_ in rows),
        "n_not_reached": sum(i.get("reached") is False and not i.get("rejected") for i, *_ in rows),
        "n_rejected": sum(bool(i.get("rejected")) for i, *_ in rows),
        "mean_stage1_epochs": sum(i.get("stage1_epochs") or 0.0 for i, *_ in rows) / n,
        "mean_stage2_steps": sum(i.get("stage2_steps") or 0.0 for i, *_ in rows) / n,
        "wall_share": {"stage1": sum(r[1] for r in rows) / n, "stage2": sum(r[2] for r in rows) / n}}
    out["wall_share"]["other"] = 1 - out["wall_share"]["stage1"] - out["wall_share"]["stage2"]
    if all(r[3] is not None for r in rows):
        cpu = {"stage1": sum(r[1] * r[3] for r in rows) / n, "stage2": sum(r[2] * r[3] for r in rows) / n,
               "total": sum(r[3] for r in rows) / n}
        cpu["other"] = cpu["total"] - cpu["stage1"] - cpu["stage2"]
        out["cpu_seconds"] = cpu
        if epoch_cpu_seconds:
            out["in_train_epochs"] = {k: v / epoch_cpu_seconds for k, v in cpu.items()}
    return out


def matched_regret(summary: dict, label: str) -> dict[str, Any] | None:
    """The ranker's regret against its matched baseline's: the cheapest family member ranking at least as
    well (Spearman), or the best-ranking member when none does."""
    fr = summary.get("frontier") or {}
    members = fr.get("members") or {}
    q = summary["aggregate"][label]["spearman"]["mean"]
    if q is None or not members:
        return None
    ok = [m for m, v in members.items() if v["spearman"]["mean"] is not None and v["spearman"]["mean"] >= q]
    base = ok[0] if ok else max(members, key=lambda m: members[m]["spearman"]["mean"] or -math.inf)
    mine, theirs = summary["aggregate"][label]["regret"]["mean"], members[base]["regret"]["mean"]
    return {"matched_member": base, "regret": mine, "member_regret": theirs,
            "no_worse": None if mine is None or theirs is None else mine <= theirs + 1e-9}


def run_log(folder: Path, seeds: list[int], labels: list[str]) -> dict[str, dict[str, Any]]:
    """When, under what load and at what CPU/wall cost each (seed, ranker) job ran, where a runner kept it
    (``seed<S>/compare_<label>.json``, written by the retired per-job runner of the 2026-11-28 sweep)."""
    keys = ("finished", "loadavg_start", "loadavg_end", "wall_seconds_job", "process_cpu_seconds",
            "total_cost_seconds")
    out: dict[str, dict[str, Any]] = {}
    for s in seeds:
        for lab in labels:
            p = folder / f"seed{s}" / f"compare_{ranker_dirname(lab)}.json"
            if p.exists():
                run = json.loads(p.read_text())["rankers"][lab]
                out.setdefault(str(s), {})[lab] = {k: run.get(k) for k in keys}
    return out


def _coverage(records, seeds, labels, candidates) -> dict[str, dict[str, int]]:
    return {lab: {str(s): len(records[s].get(lab, [])) for s in seeds} for lab in labels}


def analyze(folder: Path, seeds: list[int], items: list[str], family: list[str], cost: str, candidates: int,
            n_boot: int = 1000) -> dict[str, Any]:
    """The results JSON body (see the module docstring); plots go to ``folder/analysis``.

    Main summary: the seeds where the first ranker (``fear``) and at least two family members ran every
    candidate, with the members and rankers complete on all of them. A ranker complete on fewer of
    those seeds is summarized against the same family on its own seeds (``fewer_seeds``); a family
    member with fewer seeds or candidates joins the family on what it covers (``extended_family``).
    """
    labels = [ranker_label(it) for it in items]
    records = load(folder, seeds, labels)
    full = {lab: [s for s in seeds if len(records[s].get(lab, [])) >= candidates] for lab in labels}
    others = [lab for lab in labels if lab not in family]
    main_seeds = [s for s in full[labels[0]] if sum(s in full[f] for f in family) >= 2]
    main_family = [f for f in family if main_seeds and all(s in full[f] for s in main_seeds)]
    main_others = [lab for lab in others if main_seeds and all(s in full[lab] for s in main_seeds)]
    report: dict[str, Any] = {"coverage": _coverage(records, seeds, labels, candidates), "main_seeds": main_seeds,
                              "main_family": main_family, "main_rankers": main_others, "cost_basis": cost,
                              "runs": run_log(folder, seeds, labels)}
    if len(main_family) < 2:
        report["error"] = "fewer than two family members complete on a common seed: nothing to match yet"
        return report
    n = {s: candidates for s in main_seeds}
    summary = summarize_sweep(_tables(records, main_seeds, main_others + main_family, n, cost), family=main_family,
                              n_boot=n_boot, seed=0, baseline="train10")
    report["main"] = summary
    write_sweep_plots(summary, folder / "analysis", COST_LABELS[cost])
    wall = summarize_sweep(_tables(records, main_seeds, main_others + main_family, n, "charged"),
                           family=main_family, n_boot=max(1, n_boot // 5), seed=0, baseline="train10")
    report["charged_wall_seconds_view"] = {"matched": wall["matched"],
                                           "cost_per_candidate": {k: v["cost_per_candidate"]
                                                                  for k, v in wall["aggregate"].items()}}
    report["fewer_seeds"] = {}
    for lab in others:
        own = [s for s in main_seeds if s in full[lab]]
        if lab not in main_others and own:
            sub = summarize_sweep(_tables(records, own, [lab] + main_family, n, cost), family=main_family,
                                  n_boot=n_boot, seed=0, baseline="train10")
            report["fewer_seeds"][lab] = {"seeds": own, "aggregate": sub["aggregate"][lab],
                                          "matched": sub["matched"][lab], "headline": headline(sub, [lab])[lab]}
    ext = [f for f in family if f not in main_family and any(records[s].get(f) for s in main_seeds)]
    ext_seeds = [s for s in main_seeds if ext and all(s in full[f] for f in ext)]  # complete seeds first,
    ext_seeds = ext_seeds or [s for s in main_seeds if ext and all(records[s].get(f) for f in ext)]  # else prefixes
    if ext_seeds:
        k = {s: min(len(records[s][f]) for f in ext) for s in ext_seeds}
        sub = summarize_sweep(_tables(records, ext_seeds, main_others + main_family + ext, k, cost),
                              family=main_family + ext, n_boot=n_boot, seed=0, baseline="train10")
        report["extended_family"] = {"members": ext, "seeds_and_candidates": {str(s): k[s] for s in ext_seeds},
                                     "summary": sub, "headline": headline(sub, main_others)}
        write_sweep_plots(sub, folder / "analysis" / "extended", COST_LABELS[cost])
    train10 = [COSTS[cost](r) for s in main_seeds for r in records[s].get("train10", [])[:candidates]]
    epoch = (sum(train10) / len(train10) / 10) if train10 and None not in train10 else None
    report["train_epoch_cost_seconds"] = epoch
    report["fear_cost_split"] = {lab: fear_cost_split([r for s in main_seeds if s in full[lab]
                                                       for r in records[s][lab][:candidates]], epoch)
                                 for lab in others}
    report["headline"] = headline(summary, main_others)
    return report


def headline(summary: dict, others: list[str]) -> dict[str, Any]:
    """Per non-family ranker: cost, quality, the matched ratios, regret vs the matched baseline, target."""
    out = {}
    for lab in others:
        a, m = summary["aggregate"][lab], summary["matched"].get(lab, {})
        sp = m.get("cost_ratio_at_equal_spearman") or {}
        out[lab] = {"cost_per_candidate": a["cost_per_candidate"]["mean"], "spearman": a["spearman"],
                    "regret": a["regret"], "cost_ratio_vs_train10": a.get("cost_ratio_vs_baseline"),
                    "cost_ratio_at_equal_spearman": sp,
                    "cost_ratio_at_equal_kendall": m.get("cost_ratio_at_equal_kendall"),
                    "cost_ratio_at_equal_regret": m.get("cost_ratio_at_equal_regret"),
                    "regret_vs_matched_baseline": matched_regret(summary, lab),
                    "n_not_reached": a["n_not_reached"], "n_rejected": a["n_rejected"],
                    "meets_target": None if sp.get("mean") is None else
                    bool(sp["mean"] >= 2.4 and (sp.get("ci_low") or 0) >= 1.5)}
    return out
