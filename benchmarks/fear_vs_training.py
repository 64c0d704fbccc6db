"""FEAR vs shortened regular training at matched quality: a seed sweep with the training frontier.

Runs ``nasrank compare --seeds ... --frontier train`` (the library's
:func:`nasrank.experiments.sweep.compare_seeds`) on NB201 with the rankers
``fear`` (threshold T1), ``fear02=fear`` (threshold T2), ``synflow>fear`` and the
baseline family ``train5/10/20/40=train``, then writes
``benchmarks/results/fear_vs_training_seeds.json`` (+ ``_frontier.png``,
``_regret.png``): per ranker the mean and 95% bootstrap CI over seeds and
candidates of cost per candidate, Spearman, Kendall, winner's regret, and for
FEAR and the cascade the cost ratio to the training family at equal
Spearman / Kendall / regret; FEAR's cost split into stage 1, stage 2 and the
rest; the target check.

Presets (``--scale``):

* ``cpu``: C=8, N=1, 16 px, the shared 5k-image CIFAR-10 subset (train_fraction 1), batch 128,
  one thread; FEAR at 0.3 and 0.2, tail_cells=1, stage 2 of 10 epochs at batch 128 (from
  ``fear_pilot.py``). Cost = this process's CPU seconds per candidate (recorded in each history
  record as ``info.process_cpu_seconds``): on a shared machine wall time measures the other jobs.
* ``full``: C=16, N=5, 32 px, batch 256, FEAR at 0.4 and 0.5 with stage2_batch_size 256,
  max_stage1_epochs 10, ``--device gpu``: the authors' network size; runs unchanged on a GPU.
  Cost = charged seconds (GPU wall time).

Run, resumable (a rerun with the same --out and --seeds keeps finished seeds and candidates)::

    OMP_NUM_THREADS=1 nohup python benchmarks/fear_vs_training.py --scale cpu --seeds 0-2 \\
        --out /tmp/fear_seeds > /tmp/fear_seeds.log 2>&1 &
    python benchmarks/fear_vs_training.py --analyze /tmp/fear_seeds   # summary of what has finished

``--analyze`` needs no training: it reads ``OUT/seed<S>/<label>/history.jsonl``. A family member
that ran on fewer seeds or candidates than the rest is left out of the main frontier and summarized
separately on the seeds and candidates it covers (``extended_family``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, SHARED, machine  # noqa: E402
from nasrank.provenance import result_provenance  # noqa: E402

FAMILY = {"train5": 5, "train10": 10, "train20": 20, "train40": 40}
SCALES = {
    "cpu": {"scale": {"channels": 8, "cells_per_stage": 1, "image_size": 16, "train_fraction": 1.0, "batch_size": 128},
            "fear": {"threshold": 0.3, "check_every_steps": 4, "tail_cells": 1, "stage2_epochs": 10,
                     "stage2_batch_size": 128, "max_stage1_epochs": 10, "reject_ratio": 4.0, "reject_by": "steps",
                     "schedule_epochs": 200},
            "second_threshold": ("fear02", 0.2), "device": "cpu", "cost": "cpu"},
    "full": {"scale": {"channels": 16, "cells_per_stage": 5, "image_size": 32, "train_fraction": 1.0, "batch_size": 256},
             "fear": {"threshold": 0.4, "check_every_steps": 4, "stage2_epochs": 10, "stage2_batch_size": 256,
                      "max_stage1_epochs": 10, "reject_ratio": 4.0, "reject_by": "steps", "schedule_epochs": 200},
             "second_threshold": ("fear05", 0.5), "device": "gpu", "cost": "charged"},
}
TARGET = {"ratio_at_equal_spearman": 2.4, "ci_low": 1.5}


def rankers_and_cfg(preset: dict, family: dict[str, int]) -> tuple[list[str], dict]:
    """The ``--rankers`` items and ``--ranker-cfg`` of a preset."""
    second, thr = preset["second_threshold"]
    items = ["fear", f"{second}=fear", "synflow>fear", *(f"{k}=train" for k in family)]
    cfg = {**{f"fear.{k}": v for k, v in preset["fear"].items()}, f"{second}.threshold": thr,
           **{f"{k}.epochs": v for k, v in family.items()}, "cascade.keep_fraction": 0.25, "synflow.seeds": 1}
    return items, cfg


def record_cpu_seconds() -> None:
    """Benchmark instrumentation: every history record gets ``info["process_cpu_seconds"]``, this process's
    CPU time since the previous record (one thread: what the candidate costs on a core of its own)."""
    from nasrank.history import History

    init, append = History.__init__, History.append

    def new_init(self, *a, **k):
        init(self, *a, **k)
        self._cpu_mark = time.process_time()

    def new_append(self, arch, score, seconds, device_seconds, true_acc=None, ranker="", info=None):
        info = {**(info or {}), "process_cpu_seconds": time.process_time() - self._cpu_mark}
        rec = append(self, arch, score, seconds, device_seconds, true_acc, ranker, info)
        self._cpu_mark = time.process_time()
        return rec

    History.__init__, History.append = new_init, new_append


def run(args, preset: dict, family: dict[str, int]) -> None:
    """The sweep itself (resumable): ``compare_seeds`` into ``args.out``."""
    import torch

    from nasrank.experiments import make_context, make_space
    from nasrank.experiments.sweep import compare_seeds

    torch.set_num_threads(1)
    if preset["cost"] == "cpu":
        record_cpu_seconds()
    items, cfg = rankers_and_cfg(preset, family)
    space = make_space("nb201")
    context = make_context(space, benchmark=f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", dataset="cifar10",
                           data_dir=SHARED / "cifar10", device=preset["device"])
    resume = (Path(args.out) / "sweep.json").exists()
    compare_seeds(space, context, items, args.candidates, args.out, args.seeds, family=list(family),
                  baseline="train10" if "train10" in family else list(family)[0], resume=resume,
                  n_boot=args.n_boot, ranker_cfg_pairs=cfg, scale=preset["scale"])


def main() -> int:
    from fear_sweep_analysis import analyze

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=sorted(SCALES), default="cpu")
    ap.add_argument("--seeds", default="0-2", help="seed list, e.g. 0-2 or 0,3,7")
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--family", default=",".join(f"{k}={v}" for k, v in FAMILY.items()),
                    help="LABEL=EPOCHS baselines of the training family")
    ap.add_argument("--out", default="/tmp/fear_seeds", help="sweep folder (resumable)")
    ap.add_argument("--analyze", metavar="DIR", default=None, help="summarize DIR's runs; train nothing")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--results", default=str(RESULTS / "fear_vs_training_seeds.json"))
    ap.add_argument("--note", action="append", default=[], help="a note for the results JSON (repeatable)")
    ap.add_argument("--smoke", action="store_true", help="tiny networks, 1 epoch, 3 candidates (checks the script)")
    args = ap.parse_args()
    from nasrank.experiments.sweep import parse_seeds

    args.seeds = parse_seeds(args.seeds)
    preset = json.loads(json.dumps(SCALES[args.scale]))
    family = {k: int(v) for k, v in (x.split("=") for x in args.family.split(","))}
    if args.smoke:
        preset["scale"].update(channels=4, train_fraction=0.05, batch_size=64)
        preset["fear"].update(threshold=0.12, stage2_epochs=1, max_stage1_epochs=1)
        family = {k: 1 + i for i, k in enumerate(family)}
        args.candidates = 3
    started = machine()
    if args.analyze is None:
        run(args, preset, family)
    folder = Path(args.analyze or args.out)
    report = analyze(folder, args.seeds, rankers_and_cfg(preset, family)[0], list(family), preset["cost"],
                     args.candidates, n_boot=args.n_boot)
    report.update(benchmark="fear_vs_training_seeds", machine=started, finished=machine()["date"],
                  scale_preset=args.scale, preset=preset, family_epochs=family, candidates=args.candidates,
                  target=TARGET, command=" ".join(sys.argv), notes=args.note,
                  provenance=result_provenance(
                      seeds=list(args.seeds), sample=f"{args.candidates} random NB201 candidates per seed",
                      machine_note="the machine of this command (with --analyze: the analysis step, not the training)"))
    res = Path(args.results)
    res.parent.mkdir(parents=True, exist_ok=True)
    tmp = res.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    os.replace(tmp, res)
    for png, suffix in (("frontier.png", "_frontier.png"), ("regret_vs_cost.png", "_regret.png")):
        if (folder / "analysis" / png).exists():
            shutil.copy(folder / "analysis" / png, res.with_name(res.stem + suffix))
            manifest = (folder / "analysis" / png).with_suffix(".figure.json")  # save_figure's manifest
            if manifest.exists():
                shutil.copy(manifest, res.with_name(res.stem + suffix.replace(".png", ".figure.json")))
    print(json.dumps(report["headline"], indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
