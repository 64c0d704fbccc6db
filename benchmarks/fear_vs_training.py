"""FEAR vs the strongest shortened-training baseline at matched quality: calibrate, then report.

Two phases, each a ``nasrank compare --seeds ... --frontier train`` sweep (the library's
:func:`nasrank.experiments.sweep.compare_seeds`) on NB201 with the rankers ``fear`` (threshold T1),
``fear02=fear`` (threshold T2), ``synflow>fear`` and the family ``train5/10/20/40=train``, every one
recording all of its scoring protocols in the same run (``record_protocols=True``):

1. **calibration** (``--calibration-seeds``, default 100,101; never reported): each member's
   scoring protocol (held-out accuracy or loss, last-epoch or no-augmentation training accuracy or
   loss, every held-out image) and FEAR's threshold and stage-2 score are chosen by mean Spearman
   (:mod:`fear_calibration`);
2. **reporting** (``--seeds``, default 0-2): the histories are rescored with the chosen protocols
   (the passes a protocol does not need are taken out of its cost), #params and synflow are scored
   on the same candidates at their measured cost, and the sweep is summarized:
   ``benchmarks/results/fear_vs_training_seeds.json`` (``calibration``, ``main_seeds``, ``family``,
   ``matched[LABEL].cost_ratio_at_equal_spearman`` with ``mean``, ``ci_low``, ``ci_high``,
   ``extrapolated``, ``p_lower_bound``) + ``_frontier.png``, ``_regret.png``.

Presets (``--scale``):

* ``cpu``: C=8, N=1, 16 px, the shared 5k-image CIFAR-10 subset (train_fraction 1), batch 128,
  one thread; FEAR at 0.3 and 0.2, tail_cells=1, stage 2 of 10 epochs at batch 128 (from
  ``fear_pilot.py``). Cost = this process's CPU seconds per candidate (recorded in each history
  record as ``info.process_cpu_seconds``): on a shared machine wall time measures the other jobs.
* ``full``: C=16, N=5, 32 px, batch 256, FEAR at 0.4 and 0.5 with stage2_batch_size 256,
  max_stage1_epochs 10, ``--device gpu``: the authors' network size; runs unchanged on a GPU.
  Cost = charged seconds (GPU wall time). The same calibration logic applies.

Run (each phase resumable: a rerun with the same folders and seeds keeps finished candidates)::

    OMP_NUM_THREADS=1 python benchmarks/fear_vs_training.py --scale cpu --phase calibrate \
        --calibration-seeds 100,101 --calibration-candidates 8 --calibration-dir /tmp/fear_calib
    OMP_NUM_THREADS=1 python benchmarks/fear_vs_training.py --scale cpu --phase run --seeds 0-2 \
        --candidates 10 --out /tmp/fear_main
    python benchmarks/fear_vs_training.py --phase analyze --calibration-dir /tmp/fear_calib \
        --out /tmp/fear_main --seeds 0-2 --candidates 10      # choose, rescore, summarize (no training)

``--phase all`` does the three in turn.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, SHARED, machine  # noqa: E402

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
           **{f"{k}.epochs": v for k, v in family.items()}, "cascade.keep_fraction": 0.25, "synflow.seeds": 1,
           # every scoring protocol recorded in one run (its passes timed), chosen afterwards on calibration seeds
           "fear.record_protocols": True, f"{second}.record_protocols": True,
           **{f"{k}.record_protocols": True for k in family}}
    return items, cfg


def record_cpu_seconds() -> None:
    """Benchmark instrumentation: every history record gets ``info["process_cpu_seconds"]``, this process's
    CPU time since the previous record (one thread: what the candidate costs on a core of its own)."""
    from nasrank.runs.history import History

    init, append = History.__init__, History.append

    def new_init(self, *a, **k):
        init(self, *a, **k)
        self._cpu_mark = time.process_time()

    def new_append(self, arch, score, seconds, device_seconds, true_acc=None, ranker="", info=None, **fields):
        info = {**(info or {}), "process_cpu_seconds": time.process_time() - self._cpu_mark}
        rec = append(self, arch, score, seconds, device_seconds, true_acc, ranker, info, **fields)
        self._cpu_mark = time.process_time()
        return rec

    History.__init__, History.append = new_init, new_append


def run(args, preset: dict, family: dict[str, int], out: str, seeds: list[int], candidates: int) -> None:
    """One sweep (resumable): ``compare_seeds`` into ``out``."""
    import torch

    from nasrank.experiments import make_context, make_space
    from nasrank.experiments.config import CompareConfig, assign_options
    from nasrank.experiments.sweep import Sweep, compare_seeds

    torch.set_num_threads(1)
    if preset["cost"] == "cpu":
        record_cpu_seconds()
    items, cfg = rankers_and_cfg(preset, family)
    space = make_space("nb201")
    context = make_context(space, benchmark=f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", dataset="cifar10",
                           data_dir=SHARED / "cifar10", device=preset["device"])
    resume = (Path(out) / "sweep.json").exists()
    specs, common = assign_options(cfg, items, common=True)
    config = CompareConfig(specs, candidates=candidates, common=common, scale=preset["scale"],
                           baseline="train10" if "train10" in family else list(family)[0], resume=resume,
                           output=out)
    compare_seeds(space, context, config, Sweep(seeds, list(family), args.n_boot))


def zero_cost_points(folder: Path, seeds: list[int], preset: dict, candidates: int) -> None:
    """#params and synflow on each seed's candidates (those of ``train5``), at their measured CPU cost."""
    import torch

    from fear_calibration import read_history
    from nasrank.experiments import make_context, make_space
    from nasrank.experiments.build import make_ranker

    torch.set_num_threads(1)
    space = make_space("nb201")
    ctx = make_context(space, benchmark=f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", dataset="cifar10",
                       data_dir=SHARED / "cifar10", device="cpu")
    build = {k: preset["scale"][k] for k in ("channels", "cells_per_stage")}
    for name, cfg in (("params", dict(build)), ("synflow", {"seeds": 1, "build_kwargs": build})):
        ranker = make_ranker(name, space, ctx, cfg)
        for s in seeds:
            path = folder / f"seed{s}" / name / "history.jsonl"
            if path.exists():
                continue
            lines = []
            for rec in read_history(folder, s, "train5")[:candidates]:
                t0 = time.process_time()
                (ev,) = ranker.evaluate([space.from_string(rec["arch"])])
                cpu = time.process_time() - t0
                lines.append(json.dumps({"step": len(lines), "arch": rec["arch"], "score": ev.score,
                                         "seconds": ev.seconds, "device_seconds": ev.device_seconds,
                                         "true_acc": rec["true_acc"], "ranker": name,
                                         "info": {**ev.info, "process_cpu_seconds": cpu}}))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")


def calibrate(args, preset: dict, family: dict[str, int]) -> dict:
    """Every protocol's Spearman on the calibration seeds, and the choice (see :mod:`fear_calibration`)."""
    from fear_calibration import choose, family_wide_choice, protocol_table

    items = rankers_and_cfg(preset, family)[0]
    labels = [it.split("=")[0] for it in items if ">" not in it]
    table = protocol_table(Path(args.calibration_dir), args.calibration_seeds, labels, args.calibration_candidates)
    default = {lab: ("val_acc" if lab in family else "train") for lab in labels}
    choice = choose(table, default)
    fear_labels = [lab for lab in labels if lab not in family and lab in choice]
    best_fear = max(fear_labels, key=lambda lab: table[lab][choice[lab]]["mean"] or -math.inf) if fear_labels else None
    return {"seeds": args.calibration_seeds, "candidates": args.calibration_candidates,
            "folder": str(args.calibration_dir), "spearman": table, "choice": choice,
            "fear_choice": {"label": best_fear, "threshold": None if best_fear is None else
                            (preset["fear"]["threshold"] if best_fear == "fear" else preset["second_threshold"][1]),
                            "score_split": choice.get(best_fear)},
            "family_wide_choice": family_wide_choice(table, list(family)),
            "rule": "per member, the protocol with the highest mean Spearman over the calibration seeds "
                    "(ties: the default); FEAR's threshold: the FEAR run with the higher Spearman"}


def analyze_main(args, preset: dict, family: dict[str, int], calibration: dict) -> dict:
    """Rescore the reporting seeds with the calibrated choice, add the zero-cost points, summarize."""
    from fear_calibration import protocol_table, rescore_folder
    from fear_sweep_analysis import analyze

    items = rankers_and_cfg(preset, family)[0]
    labels = [it.split("=")[0] for it in items]
    choice = dict(calibration["choice"])
    cascade_fear = choice.get("fear")
    if cascade_fear:
        choice["synflow>fear"] = cascade_fear
    src, dst = Path(args.out), Path(args.out) / "rescored"
    rescore_folder(src, dst, args.seeds, choice, labels)
    zero_cost_points(dst, args.seeds, preset, args.candidates)
    report = analyze(dst, args.seeds, items + ["params", "synflow"], list(family), preset["cost"],
                     args.candidates, n_boot=args.n_boot)
    report["calibration"] = calibration
    report["sensitivity"] = family_wide_check(args, preset, family, items, choice, calibration)
    report["family"] = {lab: {"epochs": family[lab], "protocol": choice.get(lab)} for lab in family}
    report["matched"] = (report.get("main") or {}).get("matched", {})
    report["reporting_seeds_all_protocols"] = {
        "note": "every protocol's Spearman on the reporting seeds, for transparency; NOT used for the choice",
        "spearman": protocol_table(src, args.seeds, [x.split("=")[0] for x in items if ">" not in x],
                                   args.candidates)}
    return report


def family_wide_check(args, preset: dict, family: dict[str, int], items: list[str], choice: dict[str, str],
                      calibration: dict) -> dict:
    """The same summary with one protocol for the whole family (also chosen on the calibration seeds)."""
    from fear_calibration import rescore_folder
    from fear_sweep_analysis import analyze

    proto = calibration.get("family_wide_choice")
    if proto is None:
        return {}
    wide = {**choice, **{lab: proto for lab in family}}
    dst = Path(args.out) / "rescored_family_wide"
    rescore_folder(Path(args.out), dst, args.seeds, wide, [it.split("=")[0] for it in items])
    rep = analyze(dst, args.seeds, items, list(family), preset["cost"], args.candidates,
                  n_boot=max(1, args.n_boot // 2))
    return {"family_wide_protocol": proto, "note": "robustness check: every member scored by the one protocol "
            "with the best Spearman averaged over the members on the calibration seeds",
            "matched": (rep.get("main") or {}).get("matched", {}),
            "family_spearman": {m: v["spearman"] for m, v in
                                ((rep.get("main") or {}).get("frontier") or {}).get("members", {}).items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=sorted(SCALES), default="cpu")
    ap.add_argument("--phase", choices=("calibrate", "run", "analyze", "all", "figures"), default="all",
                    help="figures: redraw the two figures from --results alone (no training)")
    ap.add_argument("--seeds", default="0-2", help="reporting seeds, e.g. 0-2 or 0,3,7")
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--calibration-seeds", default="100,101", help="seeds for choosing protocols (never reported)")
    ap.add_argument("--calibration-candidates", type=int, default=8)
    ap.add_argument("--family", default=",".join(f"{k}={v}" for k, v in FAMILY.items()),
                    help="LABEL=EPOCHS baselines of the training family")
    ap.add_argument("--out", default="/tmp/fear_main", help="reporting sweep folder (resumable)")
    ap.add_argument("--calibration-dir", default="/tmp/fear_calib", help="calibration sweep folder (resumable)")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--results", default=str(RESULTS / "fear_vs_training_seeds.json"))
    ap.add_argument("--note", action="append", default=[], help="a note for the results JSON (repeatable)")
    ap.add_argument("--smoke", action="store_true", help="tiny networks, 1 epoch, 3 candidates (checks the script)")
    args = ap.parse_args()
    if args.phase == "figures":
        redraw(Path(args.results))
        return 0
    from nasrank.experiments.sweep import parse_seeds
    from nasrank.runs.provenance import provenance

    args.seeds, args.calibration_seeds = parse_seeds(args.seeds), parse_seeds(args.calibration_seeds)
    if set(args.seeds) & set(args.calibration_seeds):
        ap.error("the reporting seeds must be disjoint from the calibration seeds")
    preset = json.loads(json.dumps(SCALES[args.scale]))
    family = {k: int(v) for k, v in (x.split("=") for x in args.family.split(","))}
    if args.smoke:
        preset["scale"].update(channels=4, train_fraction=0.05, batch_size=64)
        preset["fear"].update(threshold=0.12, stage2_epochs=1, max_stage1_epochs=1)
        family = {k: 1 + i for i, k in enumerate(family)}
        args.candidates = args.calibration_candidates = 3
    started = machine()
    if args.phase in ("calibrate", "all"):
        run(args, preset, family, args.calibration_dir, args.calibration_seeds, args.calibration_candidates)
    if args.phase in ("run", "all"):
        run(args, preset, family, args.out, args.seeds, args.candidates)
    if args.phase not in ("analyze", "all"):
        return 0
    report = analyze_main(args, preset, family, calibrate(args, preset, family))
    report.update(benchmark="fear_vs_training_seeds", machine=started, finished=machine()["date"],
                  scale_preset=args.scale, preset=preset, family_epochs=family, candidates=args.candidates,
                  main_seeds_requested=args.seeds, target=TARGET, command=" ".join(sys.argv), notes=args.note,
                  provenance=provenance(preset["device"]))
    write_report(report, Path(args.results), Path(args.out) / "rescored")
    print(json.dumps(report.get("headline"), indent=2, default=str))
    return 0


def write_report(report: dict, res: Path, folder: Path) -> None:
    """The results JSON (atomic) and the sweep's figures beside it."""
    res.parent.mkdir(parents=True, exist_ok=True)
    tmp = res.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    os.replace(tmp, res)
    for stem, suffix in (("frontier", "_frontier"), ("regret_vs_cost", "_regret")):
        for ext in (".png", ".figure.json"):
            if (folder / "analysis" / f"{stem}{ext}").exists():
                shutil.copy(folder / "analysis" / f"{stem}{ext}", res.with_name(res.stem + suffix + ext))


def redraw(res: Path) -> None:
    """``<stem>_frontier.png`` and ``<stem>_regret.png`` (with their manifests) again from the results JSON
    alone: the reporting sweep's summary (``main``), with the caption n, benchmark, scale."""
    from fear_sweep_analysis import COST_LABELS

    from nasrank.evaluation.captions import caption
    from nasrank.evaluation.frontier_plots import plot_sweep

    report = json.loads(res.read_text())
    cap = caption(f"{len(report['main_seeds'])} seeds ×", f"{report['candidates']} candidates",
                  "NB201 CIFAR-10 table (nb201_cifar10.csv)", None, report["preset"]["scale"])
    for metric, suffix in (("spearman", "_frontier"), ("regret", "_regret")):
        plot_sweep(report["main"], res.with_name(res.stem + suffix + ".png"), metric,
                   cost_label=COST_LABELS[report["preset"]["cost"]], caption=cap)


if __name__ == "__main__":
    sys.exit(main())
