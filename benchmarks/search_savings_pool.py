"""Score a pool of NB201 cells once with every ranker (issue 30), resumable, one thread per process.

Presets (``--scale``):

* ``cpu``: C=8, N=1, 16 px, the shared 5k-image CIFAR-10 subset (train_fraction 1), batch 128, one
  thread; cost = this process's CPU seconds. Rankers: #params, synflow, relu_logdet (NASWOT),
  jacob_cov, FEAR at thresholds 0.3 and 0.2 (no early rejection while scoring: the replay applies
  ``reject_ratio`` in stream order from the recorded steps to threshold), train3/5 (each its own
  cosine schedule) and ``rungs`` (one ``train`` run with a 9-epoch cosine schedule scored after 1, 3
  and 9 epochs). Every training ranker records every scoring protocol (chosen later on the
  calibration cells). Appended later (issue 31): MeCo (``meco``) and the ensemble ``ens`` (mean rank
  of #params, synflow and MeCo; scored in one batch over all planned cells, so its score is the
  within-pool rank aggregate). The rung run's last rung is a family member of its own schedule (``train9``:
  cosine over 9 epochs, scored after 9), so no separate train9/train10 run is made.
* ``full``: C=16, N=5, 32 px, batch 256, ``--device gpu``, FEAR at 0.4 and 0.5, train 5/10/20, rungs
  1/3/9/27; cost = charged (wall) seconds. Runs unchanged on a GPU.

Run (each shard its own one-thread process; a rerun resumes; ``--limit`` bounds the cells per call)::

    OMP_NUM_THREADS=1 python benchmarks/search_savings_pool.py --pool benchmarks/results/pool_cpu --init
    OMP_NUM_THREADS=1 nice -n 15 python benchmarks/search_savings_pool.py --pool benchmarks/results/pool_cpu \
        --shard 0 --shards 2 &
    OMP_NUM_THREADS=1 nice -n 15 python benchmarks/search_savings_pool.py --pool benchmarks/results/pool_cpu \
        --shard 1 --shards 2 &
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED  # noqa: E402

SCALES = {
    "cpu": {"scale": {"channels": 8, "cells_per_stage": 1, "image_size": 16, "train_fraction": 1.0, "batch_size": 128},
            "fear": {"check_every_steps": 4, "tail_cells": 1, "stage2_epochs": 10, "stage2_batch_size": 128,
                     "max_stage1_epochs": 10, "reject_ratio": None, "reject_by": "steps", "schedule_epochs": 200},
            "thresholds": {"fear": 0.3, "fear02": 0.2}, "family": {"train3": 3, "train5": 5},
            "rungs": [1, 3, 9], "device": "cpu", "cost": "process_cpu"},
    "full": {"scale": {"channels": 16, "cells_per_stage": 5, "image_size": 32, "train_fraction": 1.0, "batch_size": 256},
             "fear": {"check_every_steps": 4, "stage2_epochs": 10, "stage2_batch_size": 256, "max_stage1_epochs": 10,
                      "reject_ratio": None, "reject_by": "steps", "schedule_epochs": 200},
             "thresholds": {"fear": 0.4, "fear05": 0.5}, "family": {"train5": 5, "train10": 10, "train20": 20},
             "rungs": [1, 3, 9, 27], "device": "gpu", "cost": "charged"},
}


def pool_rankers(preset: dict) -> list:
    """The rankers of a preset, with their options."""
    from nasrank.experiments.pool import PoolRanker

    scale = preset["scale"]
    build = {k: scale[k] for k in ("channels", "cells_per_stage")}
    zs = {"seeds": 1, "batch_size": 64, "build_kwargs": build}
    out = [PoolRanker("params", "params", dict(build)), PoolRanker("synflow", "synflow", dict(zs)),
           PoolRanker("relu_logdet", "relu_logdet", dict(zs)), PoolRanker("jacob_cov", "jacob_cov", dict(zs))]
    for label, thr in preset["thresholds"].items():
        out.append(PoolRanker(label, "fear", {**scale, **preset["fear"], "threshold": thr, "record_protocols": True}))
    for label, epochs in preset["family"].items():
        out.append(PoolRanker(label, "train", {**scale, "epochs": epochs, "record_protocols": True}))
    out.append(PoolRanker("rungs", "train", {**scale, "epochs": preset["rungs"][-1], "record_protocols": True},
                          rungs=list(preset["rungs"])))
    # issue 31's first stages, appended (a plan may only grow at its end): the best new proxy and the
    # a-priori ensemble, scored in one batch over the planned cells (ranks within the pool)
    out += [PoolRanker("meco", "meco", dict(zs)),
            PoolRanker("ens", "ensemble", {"members": ["params", "synflow", "meco"], "measure_cfg": dict(zs)})]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", required=True, help="the pool folder")
    ap.add_argument("--scale", choices=sorted(SCALES), default="cpu")
    ap.add_argument("--cells", type=int, default=300)
    ap.add_argument("--init", action="store_true", help="write the manifest (cells, split, rankers) and stop")
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="at most this many cells in this call")
    ap.add_argument("--benchmark", default=f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}")
    ap.add_argument("--data-dir", default=str(SHARED / "cifar10"))
    args = ap.parse_args()
    import torch

    from nasrank.experiments.pool import PoolPlan, init_pool, score_shard

    torch.set_num_threads(1)
    preset = SCALES[args.scale]
    plan = PoolPlan(space="nb201", benchmark=args.benchmark, rankers=pool_rankers(preset), cells=args.cells,
                    data_dir=args.data_dir, device=preset["device"], cost=preset["cost"], scale_preset=args.scale)
    init_pool(args.pool, plan)
    if args.init:
        return 0
    n = score_shard(args.pool, args.shard, args.shards, args.limit, log=lambda m: print(m, flush=True))
    print(f"wrote {n} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
