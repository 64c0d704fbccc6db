"""Scoring a pool (the format: :mod:`nasrank.pool.table`): every cell of a fixed sample scored once by every ranker, resumable and shardable.

``init_pool(folder, plan)`` fixes the cells (a seeded sample of the ground-truth table) and their
split (calibration / report) and writes ``manifest.json`` before any scoring. ``score_shard(folder,
shard, shards)`` scores the cells of one shard (cell ``i`` belongs to shard ``i % shards``), cell by
cell and every ranker per cell, appending one fsynced JSON line per (cell, ranker) to
``records/shard-K-of-N.jsonl``; a rerun skips what is there (a cut last line is dropped), so it is
safe to stop at any point. Two processes on one shard are refused (an ``fcntl`` lock on the file).

The charged cost is this process's CPU seconds (``cost="process_cpu"``, one thread: what the
candidate costs on a core of its own) or the ranker's own charge (``cost="charged"``: measured wall
time on a GPU). A ranker with ``rungs`` is trained once on a schedule spanning the last rung and
scored at each (``evaluate_at``), recording the score and the cumulative cost at every rung. A ranker whose score
depends on the candidates it saw (it declares ``depends_on_history``, e.g. ``ensemble``: ranks within
the candidates seen) is scored in one batch over every planned cell, in manifest order, so its score
is the within-pool aggregate whatever the shard; each cell is charged the batch's cost in proportion
to the ranker's own per-candidate seconds.

A plan may grow: ``init_pool`` with the recorded plan plus rankers appended (everything else equal)
adds them to the manifest (``extensions`` says when and where), and ``score_shard`` then scores only
the new (cell, ranker) pairs.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError

from nasrank.pool.table import MANIFEST, RECORDS, read_records  # noqa: F401  (the format lives there)

COSTS = ("process_cpu", "charged")


@dataclass
class PoolRanker:
    """One ranker of a pool: ``label`` names it in the table; ``rungs`` (a fidelity ranker) records
    the score and cumulative cost after each of these budgets of one run."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    rungs: list[int] | None = None


@dataclass
class PoolPlan:
    """What a pool is: the space, its ground truth, the data, the cells and the rankers."""

    space: str
    benchmark: str
    rankers: list[PoolRanker]
    cells: int = 300
    seed: int = 0
    calibration_fraction: float = 0.25
    dataset: str = "cifar10"
    data_dir: str | None = None
    device: str = "cpu"
    cost: str = "process_cpu"
    scale_preset: str = "cpu"


def _write_json(path: Path, obj: Any) -> None:
    from nasrank.runs.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(obj, indent=1, default=str) + "\n")


def select_cells(benchmark: Any, space: Any, plan: PoolPlan) -> list[dict[str, Any]]:
    """The pool: ``plan.cells`` distinct table cells drawn with ``plan.seed``, in a random order;
    every ``round(1 / calibration_fraction)``-th position is a calibration cell (so any prefix of
    the order holds the same share of calibration cells)."""
    import numpy as np

    archs = benchmark.archs(plan.dataset)
    if plan.cells > len(archs):
        raise NasrankError(f"pool: {plan.cells} cells asked, the benchmark has {len(archs)}")
    rng = np.random.default_rng(plan.seed)
    idx = rng.choice(len(archs), size=plan.cells, replace=False)
    every = max(1, round(1 / plan.calibration_fraction)) if plan.calibration_fraction > 0 else 0
    cells = []
    for pos, i in enumerate(idx):
        arch = archs[int(i)]
        cells.append({"cell": pos, "arch": space.to_string(arch), "true_acc": benchmark.true_accuracy(arch, plan.dataset),
                      "split": "calibration" if every and pos % every == 0 else "report"})
    return cells


def init_pool(folder: str | Path, plan: PoolPlan) -> dict[str, Any]:
    """Create the pool folder and its manifest (cells, split, rankers with resolved options, provenance),
    or check that an existing manifest describes the same plan."""
    from nasrank.experiments.build import make_ranker
    from nasrank.runs.provenance import provenance

    if plan.cost not in COSTS:
        raise NasrankError(f"pool: cost must be one of {', '.join(COSTS)}, got {plan.cost!r}")
    folder = Path(folder)
    path = folder / MANIFEST
    want = json.loads(json.dumps(asdict(plan), default=str))
    if path.is_file():
        manifest = json.loads(path.read_text())
        if manifest["plan"] == want:
            return manifest
        return _extend(path, manifest, plan, want)
    space, ctx = _space_and_context(plan)
    resolved = _resolve(plan.rankers, space, ctx)
    manifest = {"format": "nasrank-pool/1", "plan": json.loads(json.dumps(asdict(plan), default=str)),
                "space": plan.space, "dataset": plan.dataset, "benchmark_fingerprint": ctx.benchmark.fingerprint(),
                "rankers": resolved, "cells": select_cells(ctx.benchmark, space, plan),
                "provenance": provenance(plan.device)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORDS).mkdir(exist_ok=True)
    _write_json(path, manifest)
    return manifest


def _space_and_context(plan: PoolPlan) -> tuple[Any, Any]:
    """The plan's space and its run context (ground truth, data, device)."""
    from nasrank.experiments import make_context, make_space

    space = make_space(plan.space)
    return space, make_context(space, benchmark=plan.benchmark, dataset=plan.dataset, data_dir=plan.data_dir,
                               device=plan.device)


def _resolve(rankers: list[PoolRanker], space: Any, ctx: Any) -> dict[str, Any]:
    """Each ranker's name, resolved options (``config()``) and rungs, by label."""
    from nasrank.experiments.build import make_ranker

    return {r.label: {"name": r.name, "config": make_ranker(r.name, space, ctx, dict(r.options)).config(),
                      "rungs": r.rungs} for r in rankers}


def _extend(path: Path, manifest: dict[str, Any], plan: PoolPlan, want: dict[str, Any]) -> dict[str, Any]:
    """Add the rankers ``plan`` appends to the recorded plan (everything else must be equal)."""
    from nasrank.runs.provenance import provenance

    have = manifest["plan"]
    n = len(have["rankers"])
    same_rest = {k: v for k, v in have.items() if k != "rankers"} == {k: v for k, v in want.items() if k != "rankers"}
    if not same_rest or want["rankers"][:n] != have["rankers"] or len(want["rankers"]) == n:
        raise NasrankError(f"pool {path.parent}: manifest.json was made by another plan (a plan may only append "
                           "rankers); use a new folder")
    space, ctx = _space_and_context(plan)
    added = plan.rankers[n:]
    manifest["rankers"].update(_resolve(added, space, ctx))
    manifest["plan"] = want
    manifest.setdefault("extensions", []).append({"rankers": [r.label for r in added],
                                                  "provenance": provenance(plan.device)})
    _write_json(path, manifest)
    return manifest


def _charge(plan: PoolPlan, ev: Any, cpu: float) -> float:
    return cpu if plan.cost == "process_cpu" else float(ev.seconds)


def _evaluation_line(cell: dict, label: str, ev: Any, cpu: float, wall: float, plan: PoolPlan) -> dict[str, Any]:
    score = float(ev.score)
    return {"cell": cell["cell"], "arch": cell["arch"], "ranker": label,
            "score": score if math.isfinite(score) else None, "status": ev.status,
            "seconds": _charge(plan, ev, cpu), "process_cpu_seconds": cpu, "wall_seconds": wall,
            "device_seconds": float(ev.device_seconds), "info": ev.info}


def _score_rungs(ranker: Any, arch: Any, cell: dict, label: str, rungs: list[int], plan: PoolPlan) -> dict[str, Any]:
    """One run over the rungs: score and cumulative cost at each."""
    rows, start, cum_cpu, cum_wall, cum_charge = [], 0, 0.0, 0.0, 0.0
    for budget in rungs:
        c0, t0 = time.process_time(), time.perf_counter()
        ev = ranker.evaluate_at(arch, budget, start)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        cum_cpu, cum_wall = cum_cpu + cpu, cum_wall + wall
        cum_charge += _charge(plan, ev, cpu)
        score = float(ev.score)
        rows.append({"fidelity": budget, "score": score if math.isfinite(score) else None, "status": ev.status,
                     "added_seconds": _charge(plan, ev, cpu), "seconds": cum_charge, "process_cpu_seconds": cum_cpu, "wall_seconds": cum_wall,
                     "info": ev.info})
        start = budget
    ranker.release(arch)
    last = rows[-1]
    return {"cell": cell["cell"], "arch": cell["arch"], "ranker": label, "score": last["score"],
            "status": last["status"], "seconds": last["seconds"], "process_cpu_seconds": last["process_cpu_seconds"],
            "wall_seconds": last["wall_seconds"], "device_seconds": last["wall_seconds"], "rungs": rows}


def _score_batch(ranker: Any, space: Any, manifest: dict[str, Any], mine: list[dict], label: str,
                 plan: PoolPlan) -> list[dict[str, Any]]:
    """A history-dependent ranker: every planned cell in one batch (manifest order); the lines of ``mine``."""
    archs = [space.from_string(c["arch"]) for c in manifest["cells"]]
    c0, t0 = time.process_time(), time.perf_counter()
    evs = ranker.evaluate(archs)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    own = [max(float(e.seconds), 0.0) for e in evs]
    total = sum(own)
    lines = []
    for c in mine:
        i = c["cell"]
        share = own[i] / total if total else 1.0 / len(evs)
        line = _evaluation_line(c, label, evs[i], cpu * share, wall * share, plan)
        line["info"] = {**line["info"], "scored_in_batch_of": len(archs)}
        lines.append(line)
    return lines


class _ShardFile:
    """The append-only, locked record file of one shard."""

    def __init__(self, path: Path) -> None:
        from nasrank.runs.atomic import open_run_file

        self.path = path
        self.fh = open_run_file(path, "a", "pool shard")  # no link followed, no device written
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise NasrankError(f"pool shard {path.name} is being scored by another process") from None

    def append(self, line: dict[str, Any]) -> None:
        self.fh.write(json.dumps(line, default=str) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


def score_shard(folder: str | Path, shard: int = 0, shards: int = 1, limit: int | None = None,
                log: Any = print) -> int:
    """Score the cells of shard ``shard`` of ``shards`` that are not yet recorded (at most ``limit``
    cells this call); returns how many (cell, ranker) lines were written."""
    from nasrank.experiments.build import make_ranker

    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    plan = PoolPlan(**{**manifest["plan"], "rankers": [PoolRanker(**r) for r in manifest["plan"]["rankers"]]})
    if not 0 <= shard < shards:
        raise NasrankError(f"pool: shard must be in 0..{shards - 1}, got {shard}")
    path = folder / RECORDS / f"shard-{shard}-of-{shards}.jsonl"
    done = {(r["cell"], r["ranker"]) for r in read_records(path)}
    space, ctx = _space_and_context(plan)
    rankers = {r.label: (r, make_ranker(r.name, space, ctx, dict(r.options))) for r in plan.rankers}
    out, written, cells_done = _ShardFile(path), 0, 0
    try:
        for label, (spec, ranker) in rankers.items():
            mine = [c for c in manifest["cells"] if c["cell"] % shards == shard and (c["cell"], label) not in done]
            if getattr(ranker, "depends_on_history", False) and mine:
                for line in _score_batch(ranker, space, manifest, mine, label, plan):
                    out.append(line)
                    done.add((line["cell"], label))
                    written += 1
                log(f"pool shard {shard}/{shards}: {label} scored in one batch")
        for cell in manifest["cells"]:
            if cell["cell"] % shards != shard or all((cell["cell"], lab) in done for lab in rankers):
                continue
            if limit is not None and cells_done >= limit:
                break
            arch = space.from_string(cell["arch"])
            for label, (spec, ranker) in rankers.items():
                if (cell["cell"], label) in done:
                    continue
                if spec.rungs:
                    line = _score_rungs(ranker, arch, cell, label, list(spec.rungs), plan)
                else:
                    c0, t0 = time.process_time(), time.perf_counter()
                    (ev,) = ranker.evaluate([arch])
                    line = _evaluation_line(cell, label, ev, time.process_time() - c0, time.perf_counter() - t0, plan)
                out.append(line)
                written += 1
            cells_done += 1
            log(f"pool shard {shard}/{shards}: cell {cell['cell']} done ({cells_done} this run)")
    finally:
        out.close()
    return written
