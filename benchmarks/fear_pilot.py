"""Pilot for ``fear_vs_training``: where to put FEAR's threshold and stage 2 at this machine's scale.

On cells *other than the benchmark's* (random search seed 1 by default; the
benchmark uses seed 0), each cell is trained once with FEAR's stage-1 recipe
(lr 0.1, cosine over 200 epochs, clip 5) up to the highest threshold or
``--epochs``; the weights are copied when the running training accuracy first
crosses each threshold. From each copy, stage 2 (cached features) is run with
every ``--stage2`` setting ``EPOCHSxBATCH``. The baseline ``train`` ranker is
run on the same cell. Reported: Spearman/Kendall with the 200-epoch truth of
every (threshold, stage 2, score split) choice and of the baseline, and the
cost of each choice as a fraction of the baseline's, per cell and in total.

Writes ``benchmarks/results/fear_pilot.json`` (or ``--results``; per-cell
scores and traces, no true accuracies)::

    .venv/bin/python benchmarks/fear_pilot.py --batch-size 64 --train-fraction 1.0
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from nasrank.runs.provenance import result_provenance  # noqa: E402

SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", REPO.parent / "shared" / "data"))


def crossing_recorder(thresholds: list[float], every: int):
    """A Lightning callback that snapshots the weights when the running accuracy first crosses each threshold."""
    import lightning as L

    class Crossings(L.Callback):
        def __init__(self) -> None:
            self.t0 = 0.0
            self.hits: dict[float, dict[str, Any]] = {}
            self.trace: list[tuple[int, float, float]] = []

        def on_train_start(self, trainer, module) -> None:
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            if (batch_idx + 1) % every:
                return
            acc = module.running_train_acc
            secs = time.perf_counter() - self.t0
            step = int(trainer.global_step)
            self.trace.append((step, round(secs, 3), round(acc, 4)))
            for t in thresholds:
                if t not in self.hits and acc >= t:
                    nb = trainer.num_training_batches
                    self.hits[t] = {"steps": step, "seconds": secs, "epochs": trainer.current_epoch + (batch_idx + 1) / nb,
                                    "state": copy.deepcopy(module.model.state_dict())}
            if len(self.hits) == len(thresholds):
                trainer.should_stop = True

    return Crossings()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cells", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1, help="random-search seed of the cells (the benchmark uses 0)")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--cells-per-stage", type=int, default=1)
    ap.add_argument("--image-size", type=int, default=16)
    ap.add_argument("--train-fraction", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=10, help="baseline epochs, and the cap of stage 1")
    ap.add_argument("--thresholds", default="0.3,0.4,0.5")
    ap.add_argument("--stage2", default="5x1024,5x256,10x128", help="comma list of EPOCHSxBATCH")
    ap.add_argument("--check-every", type=int, default=4, help="check the running accuracy every N steps")
    ap.add_argument("--tail-cells", type=int, default=None, help="FEAR's freeze point (default: the space's)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the train baseline (FEAR variants only)")
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results" / "fear_pilot.json"))
    args = ap.parse_args()

    import numpy as np

    from nasrank.benchmarks import load_benchmark
    from nasrank.evaluation.criteria import rank_correlations
    from nasrank.rankers.base import RunContext
    from nasrank.registry import RANKERS
    from nasrank.spaces.nb201 import Nb201Space

    thresholds = sorted(float(t) for t in args.thresholds.split(","))
    stage2 = [tuple(int(v) for v in s.split("x")) for s in args.stage2.split(",")]
    space = Nb201Space()
    bench = load_benchmark(f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", space)
    context = RunContext(benchmark=bench, dataset="cifar10", data_dir=str(SHARED / "cifar10"), seed=0)
    scale = {"channels": args.channels, "cells_per_stage": args.cells_per_stage, "image_size": args.image_size,
             "train_fraction": args.train_fraction, "batch_size": args.batch_size}
    fear = RANKERS.create("fear", space, context, **scale, threshold=thresholds[-1], reject_ratio=None,
                          max_stage1_epochs=args.epochs, score_split="val", tail_cells=args.tail_cells)
    train = RANKERS.create("train", space, context, **scale, epochs=args.epochs)
    archs = space.sample_many(args.cells, np.random.default_rng(args.seed))
    started = dt.datetime.now(dt.timezone.utc)
    rows = []
    for i, arch in enumerate(archs):
        row: dict[str, Any] = {"arch": space.to_string(arch), "true_acc": bench.record(arch, "cifar10").accuracy}
        if not args.no_baseline:
            base = train.evaluate_one(arch)
            row["train"] = {"score": base.score, "seconds": base.seconds, "train_acc": base.info["train_acc"]}
        fear.seed_run()
        model = fear.build(arch)
        rec = crossing_recorder(thresholds, args.check_every)
        module = fear.module(model, fear.schedule_epochs)
        trainer = fear.trainer(args.epochs, callbacks=[rec], name=f"pilot{i}")
        t0 = time.perf_counter()
        trainer.fit(module, datamodule=fear.datamodule())
        row["stage1"] = {"seconds": time.perf_counter() - t0, "steps": int(trainer.global_step),
                         "epoch_train_acc": module.epoch_train_acc, "trace": rec.trace}
        row["thresholds"] = {}
        for t in thresholds:
            hit = rec.hits.get(t)
            if hit is None:
                row["thresholds"][str(t)] = None
                continue
            out = {k: hit[k] for k in ("steps", "seconds", "epochs")}
            for e, b in stage2:
                fear.stage2_epochs, fear.stage2_batch_size = e, b
                m = fear.build(arch)
                m.load_state_dict(hit["state"])
                t1 = time.perf_counter()
                r = fear.stage2_cached(m, fear.tail(m), f"pilot{i}-{t}-{e}x{b}")
                out[f"{e}x{b}"] = {"train_acc": r["stage2_train_acc"], "val_acc": r["stage2_val_acc"],
                                   "seconds": time.perf_counter() - t1}
            row["thresholds"][str(t)] = out
        rows.append(row)
        print(i, row["true_acc"], *((round(row["train"]["score"], 3), round(row["train"]["seconds"], 1))
                                    if "train" in row else ()),
              {t: (v or {}).get("steps") for t, v in row["thresholds"].items()}, flush=True)

    truth = [r["true_acc"] for r in rows]
    summary: dict[str, Any] = {}
    base_cost = None
    if not args.no_baseline:
        base_cost = sum(r["train"]["seconds"] for r in rows)
        summary["train"] = {**rank_correlations([r["train"]["score"] for r in rows], truth),
                            "seconds_per_cell": base_cost / len(rows)}
    for t in thresholds:
        key = str(t)
        reached = [r for r in rows if r["thresholds"][key] is not None]
        steps = [r["thresholds"][key]["steps"] for r in reached]
        entry: dict[str, Any] = {"reached": len(reached), "median_steps": float(np.median(steps)) if steps else None,
                                 "max_over_min_steps": (max(steps) / min(steps)) if steps else None}
        for e, b in stage2:
            s = f"{e}x{b}"
            for split in ("train_acc", "val_acc"):
                # not reached ranks below every reached cell
                scores = [r["thresholds"][key][s][split] if r["thresholds"][key] else -1.0 for r in rows]
                entry[f"{s}/{split}"] = rank_correlations(scores, truth)
            cost = sum((r["thresholds"][key]["seconds"] + r["thresholds"][key][s]["seconds"])
                       if r["thresholds"][key] else r["stage1"]["seconds"] for r in rows)
            entry[f"{s}/seconds_per_cell"] = cost / len(rows)
            entry[f"{s}/cost_fraction_of_train"] = cost / base_cost if base_cost else None
            entry[f"{s}/stage2_seconds_per_cell"] = (sum(r["thresholds"][key][s]["seconds"] for r in reached)
                                                     / len(reached)) if reached else None
        summary[key] = entry
    for r in rows:  # the truth stays in ../shared: the script reads it at run time
        del r["true_acc"]
    report = {"benchmark": "fear_pilot", "date": started.isoformat(timespec="seconds"),
              "machine": {**machine(), "loadavg_end": list(os.getloadavg())},
              "provenance": result_provenance(seeds=[args.seed], sample=f"{args.cells} NB201 cells (seed {args.seed})"),
              "setup": {**vars(args), "scale": scale, "cells_seed": args.seed,
                        "truth": "shared nb201_cifar10.csv (200-epoch test accuracy, %)"},
              "summary": summary, "cells": rows}
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
