"""Scoring protocols chosen on calibration seeds, then applied to the reporting seeds' histories.

Every ``train`` member and every FEAR run of ``fear_vs_training.py`` records all of its scoring
protocols in one run (``record_protocols=True``): the ``train`` ranker in ``info["protocols"]`` with
each pass's wall seconds in ``info["protocol_seconds"]``; FEAR its stage-2 training accuracy and
held-out accuracy and loss. This module

* measures every protocol's Spearman (against the benchmark's true accuracy) per member and seed,
* chooses each member's protocol on the *calibration* seeds only (highest mean Spearman),
* rewrites the reporting seeds' histories with the chosen protocol as the score and the cost of the
  passes that protocol does not need taken out (:func:`rescore_folder`), so that the family is
  scored and charged as if each member had run with its chosen protocol alone.

A pass's CPU cost is its wall seconds times the record's CPU/wall ratio (the passes run inside the
candidate's one-thread process; the ratio carries the machine's load).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from nasrank.experiments.compare import ranker_dirname
from nasrank.rankers.training_scores import PROTOCOLS

FEAR_PROTOCOLS = ("train", "val", "val_loss")


def _fear_info(rec: dict) -> dict | None:
    info = rec.get("info") or {}
    inner = info.get("second") if isinstance(info.get("second"), dict) else info
    return inner if "reached" in inner else None


def protocol_scores(rec: dict) -> dict[str, float]:
    """Every protocol's score of one history record (the record's own score where a protocol has none)."""
    info = rec.get("info") or {}
    if isinstance(info.get("protocols"), dict):
        return {p: float(info["protocols"].get(p, math.nan)) for p in PROTOCOLS}
    fear = _fear_info(rec)
    if fear is None:
        return {}
    if not fear.get("reached") or "stage2_val_loss" not in fear:  # not reached / rejected: the sentinel
        return {p: float(rec["score"]) for p in FEAR_PROTOCOLS}
    return {"train": float(fear["stage2_train_acc"]), "val": float(fear["stage2_val_acc"]),
            "val_loss": math.exp(-float(fear["stage2_val_loss"]))}


def _spearman(scores: list[float], truth: list[float]) -> float | None:
    s, t = np.asarray(scores, float), np.asarray(truth, float)
    ok = np.isfinite(s) & np.isfinite(t)
    if ok.sum() < 3 or np.ptp(s[ok]) == 0:
        return None
    return float(spearmanr(s[ok], t[ok]).statistic)


def read_history(folder: Path, seed: int, label: str) -> list[dict]:
    p = folder / f"seed{seed}" / ranker_dirname(label) / "history.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines() if x.strip()] if p.exists() else []


def protocol_table(folder: Path, seeds: list[int], labels: list[str], candidates: int) -> dict[str, Any]:
    """``{label: {protocol: {"per_seed": {seed: rho}, "mean": rho}}}`` over the complete seeds."""
    out: dict[str, Any] = {}
    for lab in labels:
        per: dict[str, dict[str, float | None]] = {}
        for s in seeds:
            recs = read_history(folder, s, lab)[:candidates]
            if len(recs) < candidates:
                continue
            table = [protocol_scores(r) for r in recs]
            for p in (table[0] if table else {}):
                per.setdefault(p, {})[str(s)] = _spearman([t[p] for t in table], [r["true_acc"] for r in recs])
        if per:
            out[lab] = {p: {"per_seed": v, "mean": _mean(v.values())} for p, v in per.items()}
    return out


def _mean(values) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def choose(table: dict[str, Any], default: dict[str, str]) -> dict[str, str]:
    """Each label's protocol with the highest mean Spearman (ties: the default, else the first)."""
    out = {}
    for lab, protos in table.items():
        best = max((m["mean"] for m in protos.values() if m["mean"] is not None), default=None)
        tied = [p for p, m in protos.items() if best is not None and m["mean"] is not None and m["mean"] >= best - 1e-12]
        out[lab] = default.get(lab) if default.get(lab) in tied else (tied[0] if tied else default.get(lab))
    return out


def _pass_cpu(rec: dict, passes: set[str]) -> float:
    """The CPU seconds of ``passes`` in this record: their wall seconds times the record's CPU/wall ratio."""
    info = rec.get("info") or {}
    wall = sum(float(v) for k, v in (info.get("protocol_seconds") or {}).items() if k in passes)
    ratio = (info.get("process_cpu_seconds") or 0.0) / rec["seconds"] if rec.get("seconds") else 1.0
    return wall * ratio


def rescore(rec: dict, protocol: str) -> dict:
    """The record scored by ``protocol``, charged without the passes it does not need."""
    scores = protocol_scores(rec)
    if not scores or protocol not in scores:
        return rec
    out = json.loads(json.dumps(rec))
    out["score"] = scores[protocol]
    info = out["info"]
    info["rescored_protocol"] = protocol
    if isinstance(info.get("protocol_seconds"), dict):
        need = PROTOCOLS[protocol][0]
        unused = {p for p in info["protocol_seconds"] if p != need}
        cpu_cut, wall_cut = _pass_cpu(rec, unused), sum(info["protocol_seconds"][p] for p in unused)
        if info.get("process_cpu_seconds") is not None:
            info["process_cpu_seconds"] = max(0.0, info["process_cpu_seconds"] - cpu_cut)
        out["seconds"] = max(0.0, out["seconds"] - wall_cut)
        out["device_seconds"] = out["seconds"] * float(info.get("devices", 1))
    return out


def rescore_folder(src: Path, dst: Path, seeds: list[int], choice: dict[str, str], labels: list[str]) -> None:
    """``dst/seed<S>/<label>/history.jsonl``: ``src``'s histories rescored with ``choice``."""
    for s in seeds:
        for lab in labels:
            recs = read_history(src, s, lab)
            if not recs:
                continue
            path = dst / f"seed{s}" / ranker_dirname(lab) / "history.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            proto = choice.get(lab)
            lines = [json.dumps(rescore(r, proto) if proto else r) for r in recs]
            tmp = path.with_suffix(".tmp")
            tmp.write_text("\n".join(lines) + "\n")
            os.replace(tmp, path)


def family_wide_choice(table: dict[str, Any], family: list[str]) -> str | None:
    """The one protocol with the highest Spearman averaged over the family's members (a robustness check:
    per-member choices on few calibration candidates can follow noise)."""
    protos = [p for p in PROTOCOLS if all(p in table.get(f, {}) for f in family)]
    means = {p: _mean(table[f][p]["mean"] for f in family) for p in protos}
    means = {p: v for p, v in means.items() if v is not None}
    return max(means, key=means.get) if means else None
