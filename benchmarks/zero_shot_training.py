"""FEAR's second finding with the new proxies: do zero-cost scores degrade as training proceeds? (issue 31)

Cells: the first ``--cells`` (100) of the fixed NB201 sample of ``zero_shot_modern.py`` (the same
cells as its first 100). Each cell is trained once at the CPU preset of the pool (C=8, N=1, 16 px,
the shared 5k-image CIFAR-10 subset, batch 128, lr 0.1 cosine over 10 epochs, seed 0, one thread)
and its network is scored by every measure of ``zero_shot_modern.py`` (one batch of 64 of the shared
images, initialisation seed irrelevant: the trained weights are loaded strictly) at 0 (the very
weights training starts from), 1, 3 and 10 epochs, through the ``train`` ranker's ``evaluate_at``
(one run, continued). The Spearman of each proxy with the official 200-epoch test accuracy at each
point, with a cell-bootstrap CI, goes to ``benchmarks/results/zero_shot_training.json``, with the
trained network's own held-out accuracy beside it.

Phases (resumable: one fsynced JSON line per cell; ``--shard K --shards N`` splits the cells over
one-thread processes, cell ``i`` of the sample to shard ``i % N``):

    OMP_NUM_THREADS=1 python benchmarks/zero_shot_training.py score --shard 0 --shards 2 &
    OMP_NUM_THREADS=1 python benchmarks/zero_shot_training.py score --shard 1 --shards 2 &
    python benchmarks/zero_shot_training.py report
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zero_shot_modern import RESULTS, append, context, done_indices, measures, nb201_space, sample_indices  # noqa: E402

POINTS = (0, 1, 3, 10)
SCALE = {"channels": 8, "cells_per_stage": 1}
TRAIN = {**SCALE, "image_size": 16, "train_fraction": 1.0, "batch_size": 128, "epochs": POINTS[-1]}
ZS = {"batch_size": 64, "seeds": 1, "n_batches": 1, "build_kwargs": SCALE}


def cells_file(shard: int, shards: int) -> Path:
    return RESULTS / f"zero_shot_training_cells-{shard}-of-{shards}.jsonl"


class _Snapshots:
    """The ``train`` ranker, keeping the weights its run starts from and those after each rung."""

    def __init__(self, space, ctx) -> None:
        from nasrank.rankers.training import TrainRanker

        outer = self

        class _Train(TrainRanker):
            def module(self, model, *a, **k):
                outer.initial = outer.initial or {n: t.detach().clone() for n, t in model.state_dict().items()}
                outer.last = super().module(model, *a, **k)
                return outer.last

        self.initial, self.last = None, None
        self.ranker = _Train(space, ctx, **TRAIN)

    def start(self) -> None:
        self.initial, self.last = None, None

    def weights(self) -> dict:
        return {n: t.detach().clone() for n, t in self.last.model.state_dict().items()}


def _scorer(space, ctx, weights: dict):
    from nasrank.registry import RANKERS

    def load(arch, model):  # strict: the trained network and the scored one are the same module tree
        model.load_state_dict(weights, strict=True)
        return None

    return RANKERS.create("zero_shot", space, ctx, measures=list(measures()), weights_from=load, **ZS)


def score_cell(space, ctx, snaps: _Snapshots, idx: int) -> dict:
    """Train one cell through the rungs and score its network at every point."""
    arch = space.from_index(idx)
    snaps.start()
    rec: dict = {"index": idx, "arch": space.to_string(arch), "points": {}}
    c0, start = time.process_time(), 0
    states: dict[int, dict] = {}
    for budget in POINTS[1:]:
        ev = snaps.ranker.evaluate_at(arch, budget, start)
        states[budget] = snaps.weights()
        rec["points"][str(budget)] = {"val_acc": float(ev.score), "train_acc": ev.info.get("train_acc")}
        start = budget
    snaps.ranker.release(arch)
    states[0] = snaps.initial
    rec["points"].setdefault("0", {"val_acc": None, "train_acc": None})
    rec["train_cpu_s"] = time.process_time() - c0
    for point in POINTS:
        c1 = time.process_time()
        (ev,) = _scorer(space, ctx, states[point]).evaluate([arch])
        rec["points"][str(point)].update({"measures": ev.info["measures"], "reason": ev.info.get("reason", {}),
                                          "score_cpu_s": time.process_time() - c1})
    return rec


def score(args: argparse.Namespace) -> None:
    space, ctx = nb201_space(), context()
    snaps = _Snapshots(space, ctx)
    path = cells_file(args.shard, args.shards)
    done = done_indices(path)
    for pos, idx in enumerate(sample_indices(args.cells)):
        if pos % args.shards != args.shard or idx in done:
            continue
        rec = score_cell(space, ctx, snaps, idx)
        append(path, rec)
        done[idx] = rec
        print(f"shard {args.shard}: {len(done)} cells (this one {rec['train_cpu_s']:.1f} CPU s training)", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("phase", choices=("score", "report"))
    p.add_argument("--cells", type=int, default=100)
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--n-boot", type=int, default=1000)
    args = p.parse_args()
    if args.phase == "score":
        score(args)
    else:
        from zero_shot_training_report import report

        report(args)


if __name__ == "__main__":
    main()
