"""One-shot (supernet) ranking quality on NB201 against the official CIFAR-10 table, vs training epochs.

Reduced CPU scale (one niced thread on a shared 2-core machine), recorded in the JSON under ``scale``:

* data: the shared CIFAR-10 subset (5 x 1,017 training images): 4,577 train / 508 held-out
  (``val_fraction=0.1``, split seed 0), images resized to 16x16;
* supernet: C=8, 1 cell per stage (3 cells + 2 reductions), batch 128 (36 steps per epoch), SGD lr
  0.05, momentum 0.9, wd 5e-4, cosine over the whole run, grad clip 5, 1 arch per step. Checkpoints at
  intermediate epochs are taken *during* the cosine run (their learning rate has not decayed);
* ground truth: ``nb201_cifar10.csv`` test accuracy (200 epochs) of the fixed 1,000-cell sample
  (``np.random.default_rng(0).choice(15625, 1000)`` over the table's rows).

Training is the CLI, one run per configuration and seed (``nasrank supernet train ... --epochs 200
--save-epochs 5,10,25,50,100,150``; the exact commands are in the JSON under ``runs.*.command``).
This script then scores the checkpoints (``score``), measures the per-cell cost of the ``train``
ranker at the same scale (``cost``) and draws the curves (``plot``, see ``oneshot_plots.py``):

    S=deiso-k1-s0,uniform-k1-s0   # then the same for deiso-k1-s1,uniform-k1-s1
    python benchmarks/oneshot_nb201.py score --ckpt-dir CKPTS --runs $S --protocols bs508 --epochs 200 --n-cells 1000
    python benchmarks/oneshot_nb201.py score --ckpt-dir CKPTS --runs $S --protocols bs192,recal508 --epochs 200 \
        --n-cells 500
    python benchmarks/oneshot_nb201.py score --ckpt-dir CKPTS --runs $S --protocols bs508 \
        --epochs 5,10,25,50,100,150 --n-cells 300
    python benchmarks/oneshot_nb201.py cost --cells 24
    python benchmarks/oneshot_nb201.py plot --curve-protocol bs508
    python benchmarks/oneshot_nb201.py export --ckpt CKPTS/deiso-k1-s0.ckpt --protocol recal508 --metric neg_loss

Scoring protocols (``PROTOCOLS``; each is a set of ``oneshot`` ranker options), compared on the same
checkpoints: batch-statistics BN on the first 192 held-out images (``bs192``), on all 508 in two
batches of 254 (``bs508``), and recalibrated BN (2 fixed training batches of 254) on all 508
(``recal508``); both metrics (accuracy, negative loss) come from each pass. For the 508-image
protocols the two halves are also scored apart, and their agreement (Kendall tau between the halves'
scores) measures how much of the ranking is scoring noise.

Per checkpoint and protocol: Kendall, Spearman, P@top5%, BR@1%, WR@1% in ``iso`` and ``deiso`` modes
(``criteria_by_mode``) and the complexity bias (``nasrank.evaluation.bias.complexity_bias``, 5
equal-count #params bins, as ``nasrank analyze``): the rank shift of the lowest bin. Raw scores are
kept under ``--work`` (npz) for the seed-to-seed and checkpoint-to-checkpoint agreement.
Results are written after every checkpoint; an entry already in the JSON is not scored again.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import RESULTS, SHARED, machine  # noqa: E402
from nasrank.runs.provenance import result_provenance  # noqa: E402
from nasrank.evaluation.bias import complexity_bias  # noqa: E402
from nasrank.evaluation.criteria import criteria_by_mode, kendall_tau  # noqa: E402
from nasrank.lightning_modules.supernet_scoring import scores_from_batches  # noqa: E402
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.rankers.oneshot import OneShotRanker  # noqa: E402
from nasrank.spaces.nb201 import Nb201Space  # noqa: E402

OUTPUT = RESULTS / "oneshot_nb201.json"
DATA = SHARED / "cifar10"
# every scoring option is explicit: the ranker's defaults may change (they are the chosen protocol)
PROTOCOLS = {
    "bs192": {"val_images": 192, "batch_size": 192, "bn_recalibrate_batches": 0},
    "bs508": {"val_images": None, "batch_size": 254, "bn_recalibrate_batches": 0},
    "recal508": {"val_images": None, "batch_size": 254, "bn_recalibrate_batches": 2},
}
CRITERIA = ("kendall_tau", "spearman", "p_at_top_0.05", "br_at_0.01", "wr_at_0.01")
METRICS = ("acc", "neg_loss")
BINS = 5


def load_truth(space: Nb201Space, n_cells: int = 1000) -> tuple[list, np.ndarray, np.ndarray]:
    """The fixed cell sample: ``(archs, official test acc, params in M)``; the first ``n_cells`` of 1,000."""
    rows = list(csv.DictReader((SHARED / "nb201" / "nb201_cifar10.csv").open()))
    idx = np.random.default_rng(0).choice(len(rows), 1000, replace=False)[:n_cells]
    archs = [space.from_string(rows[i]["arch"]) for i in idx]
    return archs, np.array([float(rows[i]["test_acc"]) for i in idx]), np.array([float(rows[i]["params_m"]) for i in idx])


def quality(scores, truth, keys, params) -> dict:
    """Criteria in iso and deiso modes, plus the lowest #params bin's rank shift and the controlled tau."""
    res = criteria_by_mode(scores, truth, keys, modes=("iso", "deiso"))
    out = {mode: {k: res[mode].get(k) for k in CRITERIA} for mode in res}
    cb = complexity_bias(scores, truth, params, bins=BINS, by="params")
    out["lowest_bin_shift"] = cb["bins"][0]["rank_shift"]
    out["controlled_kendall_tau"] = cb["controlled_kendall_tau"]
    out["kendall_vs_params"] = kendall_tau(scores, params)
    return out


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _write(path: Path, payload: dict) -> None:
    """Write ``payload`` with the provenance of this step (earlier steps: ``machines``)."""
    payload["provenance"] = result_provenance(
        sample="the fixed 1,000-cell NB201 sample (np.random.default_rng(0))",
        steps_note="this block is the last step that wrote the file; each step's machine is in 'machines'")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    os.replace(tmp, path)


def checkpoint_path(ckpt_dir: Path, run: str, epoch: int, final: int) -> Path:
    return ckpt_dir / (f"{run}.ckpt" if epoch == final else f"{run}-ep{epoch}.ckpt")


def run_record(module_hp: dict, info: dict, ckpt: Path) -> dict:
    """How a run was trained (from the checkpoint), with the CLI command that reproduces it."""
    hp = module_hp
    cmd = (f"nasrank supernet train --sampling {hp['sampling']} --num-supernets {hp['num_supernets']} "
           f"--partition {hp['partition']}{' --canonical-routing' if hp['canonical_routing'] else ''} "
           f"--epochs {hp['epochs']} --save-epochs 5,10,25,50,100,150 --channels {hp['channels']} "
           f"--cells-per-stage {hp['cells_per_stage']} --image-size {hp['image_size']} --batch-size "
           f"{hp['batch_size']} --seed {hp['seed']} --data-dir SHARED/cifar10 --device cpu --output {ckpt.name}")
    return {"config": {k: hp[k] for k in ("sampling", "num_supernets", "partition", "canonical_routing")},
            "seed": hp["seed"], "epochs": hp["epochs"], "train_seconds": info.get("train_seconds"),
            "train_history": [h for h in info.get("train_history", []) if h["epoch"] <= hp["epochs"]], "command": cmd, "checkpoints": {}}


def score_one(ckpt: Path, protocol: str, archs, seed: int) -> tuple[np.ndarray, float, dict]:
    """Counts per (arch, batch), scoring wall seconds, checkpoint info."""
    space = Nb201Space()
    ranker = OneShotRanker(space, RunContext(data_dir=str(DATA), device="cpu", seed=seed), supernet=str(ckpt),
                           **PROTOCOLS[protocol])
    t0 = time.perf_counter()
    counts = ranker.score_counts(archs)
    return counts, time.perf_counter() - t0, ranker.checkpoint_info


def protocol_entry(counts: np.ndarray, seconds: float, truth, keys, params) -> dict:
    scores = scores_from_batches(counts, METRICS)
    entry = {"n_cells": len(truth), "scoring_seconds": seconds, "mean_acc": float(np.mean(scores["acc"])),
             "std_acc": float(np.std(scores["acc"]))}
    for m in METRICS:
        entry[m] = quality(scores[m], truth, keys, params)
    if counts.shape[1] == 2:  # two halves of the held-out set: scoring-noise agreement
        halves = [scores_from_batches(counts[:, j:j + 1], METRICS) for j in (0, 1)]
        entry["split_half_kendall"] = {m: kendall_tau(halves[0][m], halves[1][m]) for m in METRICS}
    return entry


def cmd_score(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    out = Path(args.output)
    res = _read(out)
    space = Nb201Space()
    archs_all, truth_all, params_all = load_truth(space)
    res.setdefault("benchmark", "oneshot_nb201")
    res.setdefault("scale", {"dataset": "cifar10 shared subset (4577 train / 508 held-out)", "image_size": 16,
                             "channels": 8, "cells_per_stage": 1, "batch_size": 128, "lr": 0.05,
                             "lr_schedule": "cosine over the run", "n_cells": 1000,
                             "cell_sample": "np.random.default_rng(0).choice(15625, 1000, replace=False)",
                             "truth": "nb201_cifar10.csv test_acc (200 epochs)", "complexity_bins": BINS})
    res["protocols"] = PROTOCOLS
    keys_all = [space.canonical_key(a) for a in archs_all]
    res["baseline_params"] = quality(params_all, truth_all, keys_all, params_all)
    res.setdefault("machines", []).append(machine() | {"step": f"score {args.runs} {args.protocols} {args.epochs}"})
    work = Path(args.work)
    (work / "scores").mkdir(parents=True, exist_ok=True)
    epochs = [int(e) for e in args.epochs.split(",")]
    runs = res.setdefault("runs", {})
    for run in args.runs.split(","):
        from nasrank.lightning_modules.supernet import load_supernet

        final_path = Path(args.ckpt_dir) / f"{run}.ckpt"
        module, info = load_supernet(final_path)
        rec = runs.setdefault(run, run_record(dict(module.hparams), info, final_path))
        rec.update({k: v for k, v in run_record(dict(module.hparams), info, final_path).items() if k != "checkpoints"})
        final = int(module.hparams.epochs)
        for e in epochs:
            if e > final:
                continue
            ckpt = checkpoint_path(Path(args.ckpt_dir), run, e, final)
            point = rec["checkpoints"].setdefault(str(e), {"epochs": e, "protocols": {}})
            for proto in args.protocols.split(","):
                n = args.n_cells if (e == final or args.n_cells_intermediate is None) else args.n_cells_intermediate
                old = point["protocols"].get(proto)
                if old is not None and old["n_cells"] >= n:
                    continue
                counts, secs, ck_info = score_one(ckpt, proto, archs_all[:n], int(module.hparams.seed))
                np.savez_compressed(work / "scores" / f"{run}-ep{e}-{proto}.npz", counts=counts)
                point["train_seconds"] = ck_info.get("train_seconds")
                point["protocols"][proto] = protocol_entry(counts, secs, truth_all[:n], keys_all[:n], params_all[:n])
                q = point["protocols"][proto]
                print(f"{time.strftime('%H:%M:%S')} {run} ep{e} {proto} n={n} {secs:.0f}s: tau acc "
                      f"{q['acc']['iso']['kendall_tau']:.3f} neg_loss {q['neg_loss']['iso']['kendall_tau']:.3f} "
                      f"shift {q['acc']['lowest_bin_shift']:+.3f} half-tau {q.get('split_half_kendall')}", flush=True)
                _write(out, res)
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    """Train ``--cells`` cells of the sample one by one with the ``train`` ranker at the supernet's scale."""
    from nasrank.rankers.training import TrainRanker

    torch.set_num_threads(1)
    out = Path(args.output)
    res = _read(out)
    space = Nb201Space()
    archs, truth, params = load_truth(space)
    ctx = RunContext(data_dir=str(DATA), device="cpu", seed=0)
    ranker = TrainRanker(space, ctx, epochs=args.epochs, channels=8, cells_per_stage=1, image_size=16,
                         batch_size=128, lr=0.05)
    pick = np.random.default_rng(1).choice(len(archs), args.cells, replace=False)
    evs = []
    for i in pick:
        ev = ranker.evaluate([archs[i]])[0]
        evs.append(ev)
        print(f"cell {i}: {ev.seconds:.1f}s val acc {ev.score:.3f}", flush=True)
    secs = np.array([e.seconds for e in evs])
    res["train_ranker_sample"] = {
        "machine": machine(), "cells": [int(i) for i in pick], "epochs": args.epochs,
        "options": {"channels": 8, "cells_per_stage": 1, "image_size": 16, "batch_size": 128, "lr": 0.05},
        "seconds": secs.tolist(), "mean_seconds": float(secs.mean()), "std_seconds": float(secs.std(ddof=1)),
        "seconds_per_cell_epoch": float(secs.mean() / args.epochs),
        "kendall_vs_truth": kendall_tau([e.score for e in evs], truth[pick]),
        "note": "wall seconds per cell (build + train + score on the 508 held-out images) on the same niced core",
    }
    _write(out, res)
    print(json.dumps(res["train_ranker_sample"], indent=1, default=float))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export a slim copy of ``--ckpt`` with the scores of a few cells, for users and the tests."""
    from nasrank.lightning_modules.supernet import export_supernet

    dst = Path(args.dest)
    record = export_supernet(args.ckpt, dst)
    space = Nb201Space()
    archs = load_truth(space, 5)[0]
    cfg = {k: v for k, v in PROTOCOLS[args.protocol].items() if v is not None} | {"metric": args.metric}
    ranker = OneShotRanker(space, RunContext(data_dir=str(DATA), device="cpu", seed=0), supernet=str(dst), **cfg)
    record["check_scores"] = {"ranker_cfg": cfg, "archs": [space.to_string(a) for a in archs],
                              "scores": ranker.score(archs), "note": "the first 5 cells of the benchmark sample"}
    where = dst.resolve().relative_to(REPO) if dst.resolve().is_relative_to(REPO) else dst
    record["usage"] = (f"--ranker oneshot --ranker-cfg supernet={where} (the ranker's defaults are this protocol: "
                       + ",".join(f"{k}={v}" for k, v in cfg.items()) + ")")
    _write(dst.with_suffix(".json"), record)
    print(json.dumps(record, indent=1, default=str))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from benchmarks.oneshot_plots import summarize_and_plot

    summarize_and_plot(Path(args.output), Path(args.work), args.curve_protocol, args.curve_metric, args.note)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", default=str(OUTPUT))
    ap.add_argument("--work", default="/tmp/os19", help="folder for raw scores (npz)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score", help="score checkpoints under protocols")
    s.add_argument("--ckpt-dir", required=True)
    s.add_argument("--runs", required=True, help="run names: CKPT_DIR/<run>.ckpt and <run>-ep<E>.ckpt")
    s.add_argument("--protocols", default="bs192")
    s.add_argument("--epochs", default="5,10,25,50,100,150,200")
    s.add_argument("--n-cells", type=int, default=1000)
    s.add_argument("--n-cells-intermediate", type=int, default=None,
                   help="score intermediate checkpoints on the first N cells only")
    s.set_defaults(func=cmd_score)
    c = sub.add_parser("cost", help="per-cell cost of the train ranker at the supernet's scale")
    c.add_argument("--cells", type=int, default=24)
    c.add_argument("--epochs", type=int, default=1)
    c.set_defaults(func=cmd_cost)
    x = sub.add_parser("export", help="commit-sized copy of a checkpoint (weights only) + JSON config")
    x.add_argument("--ckpt", required=True)
    x.add_argument("--dest", default=str(RESULTS / "oneshot_nb201_supernet.pt"))
    x.add_argument("--protocol", default="bs508", choices=sorted(PROTOCOLS))
    x.add_argument("--metric", default="acc", choices=METRICS)
    x.set_defaults(func=cmd_export)
    p = sub.add_parser("plot", help="summaries (seed bands, agreement) and the curves")
    p.add_argument("--curve-protocol", default=None, help="protocol of the curves (default bs192, on every checkpoint)")
    p.add_argument("--curve-metric", default=None, help="metric of the curves (default: the best protocol's)")
    p.add_argument("--note", action="append", default=[], help="a line for the JSON's notes (repeatable)")
    p.set_defaults(func=cmd_plot)
    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
