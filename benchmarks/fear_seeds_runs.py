"""Raw runs of the seed sweep behind ``fear_vs_training_seeds.json`` (CPU scale), one ranker at a time.

``fear_vs_training.py --scale cpu`` runs the same sweep in one call (``compare_seeds``); this runner
orders the (ranker, seed) jobs by priority instead, so that a CPU budget too small for the whole
sweep still ends with a complete core (FEAR and the cheapest family members on every seed) and the
costlier jobs last. It wrote the folder that ``fear_vs_training.py --analyze`` summarized.

For each seed, then for each ranker in priority order, runs ``compare`` with that
one ranker into ``OUT/seed<S>/`` (history ``OUT/seed<S>/<label>/history.jsonl``,
summary ``OUT/seed<S>/compare_<label>.json``). A ranker whose history already holds
the candidates is skipped; a partial one is resumed (its evaluations replayed, not repaid).
Jobs listed in ``--late`` (``LABEL@SEED``) run after every seed's main rankers.

    OMP_NUM_THREADS=1 nohup python benchmarks/fear_seeds_runs.py --out DIR > DIR.log 2>&1 &
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", REPO.parent / "shared" / "data"))

SCALE = {"channels": 8, "cells_per_stage": 1, "image_size": 16, "train_fraction": 1.0, "batch_size": 128}
FEAR_CFG = {"threshold": 0.3, "check_every_steps": 4, "tail_cells": 1, "stage2_epochs": 10, "stage2_batch_size": 128,
            "max_stage1_epochs": 10, "reject_ratio": 4.0, "reject_by": "steps", "schedule_epochs": 200}
MAIN = ["fear", "train5=train", "train10=train"]
CFG = {**{f"fear.{k}": v for k, v in FEAR_CFG.items()}, "fear02.threshold": 0.2,
       "train5.epochs": 5, "train10.epochs": 10, "train20.epochs": 20, "train40.epochs": 40,
       "cascade.keep_fraction": 0.25, "synflow.seeds": 1}


def record_cpu_seconds() -> None:
    """Add ``info["process_cpu_seconds"]`` to every history record: this process's CPU time since the last one.

    The charged ``seconds`` are wall time, which the other jobs on a shared machine inflate;
    CPU time is what one candidate costs on a core of its own.
    """
    from nasrank.history import History

    init, append = History.__init__, History.append

    def new_init(self, *a, **k):
        init(self, *a, **k)
        self._cpu_mark = time.process_time()

    def new_append(self, arch, score, seconds, device_seconds, true_acc=None, ranker="", info=None):
        now = time.process_time()
        info = {**(info or {}), "process_cpu_seconds": now - self._cpu_mark}
        rec = append(self, arch, score, seconds, device_seconds, true_acc, ranker, info)
        self._cpu_mark = time.process_time()
        return rec

    History.__init__, History.append = new_init, new_append


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--late", default="fear02=fear@0,synflow>fear@0,fear02=fear@1,synflow>fear@1,fear02=fear@2,"
                                      "synflow>fear@2,train20=train@0,train20=train@1,train20=train@2,"
                                      "train40=train@0")
    args = ap.parse_args()
    record_cpu_seconds()
    from nasrank.benchmarks import load_benchmark
    from nasrank.experiments.build import ranker_label
    import nasrank
    from nasrank import CompareConfig
    from nasrank.experiments.compare import ranker_dirname
    from nasrank.experiments.config import assign_options
    from nasrank.rankers.base import RunContext
    from nasrank.spaces.nb201 import Nb201Space

    space = Nb201Space()
    bench = load_benchmark(f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", space)
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs = [(item, s) for s in seeds for item in MAIN]
    jobs += [(j.rsplit("@", 1)[0], int(j.rsplit("@", 1)[1])) for j in args.late.split(",") if j]
    for item, seed in jobs:
        label = ranker_label(item)
        out = Path(args.out) / f"seed{seed}"
        hist = out / ranker_dirname(label) / "history.jsonl"
        if hist.exists() and len(hist.read_text().splitlines()) >= args.candidates:
            print(f"skip {label} seed {seed}", flush=True)
            continue
        context = RunContext(benchmark=bench, dataset="cifar10", data_dir=str(SHARED / "cifar10"), seed=seed)
        cpu0, t0, load0 = time.process_time(), time.perf_counter(), os.getloadavg()
        spec = item.split("=", 1)[-1]
        names = {label, spec, *spec.split(">")} | ({"cascade"} if ">" in spec else set())
        cfg = {k: v for k, v in CFG.items() if k.rpartition(".")[0] in names}
        specs, common = assign_options(cfg, [item], common=True)
        res = nasrank.compare(space, CompareConfig(specs, candidates=args.candidates, common=common, scale=SCALE,
                                                   seed=seed, resume=True, output=out), context).result
        run = res["rankers"][label]
        run.update(process_cpu_seconds=time.process_time() - cpu0, wall_seconds_job=time.perf_counter() - t0,
                   loadavg_start=list(load0), loadavg_end=list(os.getloadavg()),
                   finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        (out / f"compare_{ranker_dirname(label)}.json").write_text(json.dumps(res, indent=1, default=str))
        print(f"done {label} seed {seed}: cost {run['total_cost_seconds']:.1f}s cpu {run['process_cpu_seconds']:.1f}s "
              f"spearman {run['spearman']} best {run['best_true_acc']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
