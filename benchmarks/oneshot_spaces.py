"""One-shot (supernet) ranking quality on NB101 and DARTS (NB301) cells, a CPU pilot at small scale.

Same shape as ``oneshot_nb201.py``: train supernets with the CLI (``nasrank supernet train``),
score the shared truth tables' cells with the measured protocol (recalibrated BN on 2 fixed
training batches of 254, negative loss on all 508 held-out images: the ``oneshot`` ranker's
defaults), and report the criteria in ``iso`` and ``deiso`` modes next to #params and the best
zero-shot estimator of ``zero_shot_spaces.json`` on the same cells.

Scale (``SCALE``; one niced thread on a shared 2-core machine): the shared CIFAR-10 subset (4,577
train / 508 held-out, 16x16 images), batch 128, SGD lr 0.05 cosine over the run, 1 cell per stage
(NB101: stem 10 channels, 3 stacks; DARTS: 4 channels, 5 cells). Ground truth: ``val_acc`` of
``nb101/nb101_cifar10_500.csv`` (108 epochs) and ``nb301/nb301_cifar10_725.csv``; cells in the fixed
order ``np.random.default_rng(0).permutation(N)`` (a prefix is a uniform random subset).

    python benchmarks/oneshot_spaces.py train --run nb101-deiso-s0-e100
    python benchmarks/oneshot_spaces.py score --runs nb101-deiso-s0 --n-cells 500 --n-cells-intermediate 150
    python benchmarks/oneshot_spaces.py summarize
    python benchmarks/oneshot_spaces.py export --run nb101-deiso-s0

CPU seconds (process time of this script's process, one thread) are recorded for every training
and scoring step under ``cpu_seconds``; wall seconds include contention with other jobs.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import RESULTS, SHARED, machine  # noqa: E402
from nasrank.evaluation.bias import complexity_bias  # noqa: E402
from nasrank.evaluation.criteria import criteria_by_mode, kendall_tau  # noqa: E402
from nasrank.lightning_modules.supernet_scoring import scores_from_batches  # noqa: E402
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.registry import SPACES  # noqa: E402

OUTPUT = RESULTS / "oneshot_spaces.json"
DATA = SHARED / "cifar10"
WORK = Path(os.environ.get("ONESHOT_SPACES_WORK", "/tmp/os26"))
SCALE = {"nb101": {"channels": 10, "cells_per_stage": 1, "epochs": 30},
         "darts": {"channels": 4, "cells_per_stage": 1, "epochs": 20}}
COMMON = {"image_size": 16, "batch_size": 128, "lr": 0.05}
TRUTH = {"nb101": SHARED / "nb101" / "nb101_cifar10_500.csv", "darts": SHARED / "nb301" / "nb301_cifar10_725.csv"}
PROTOCOL = {"val_images": None, "batch_size": 254, "bn_recalibrate_batches": 2}  # recal508, the ranker's default
CRITERIA = ("kendall_tau", "spearman", "p_at_top_0.05", "br_at_0.01", "wr_at_0.01")
METRICS = ("acc", "neg_loss")
BINS = 5


def cpu_seconds() -> float:
    """Process CPU seconds (user + system) so far, children included."""
    ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime


def load_truth(space_name: str) -> tuple[object, list, np.ndarray, np.ndarray]:
    """``(space, archs, val_acc, params_m)`` of the shared table, in the fixed random order."""
    space = SPACES.create(space_name)
    rows = list(csv.DictReader(TRUTH[space_name].open()))
    order = np.random.default_rng(0).permutation(len(rows))
    archs = [space.arch_from_row(rows[i]) for i in order]
    return (space, archs, np.array([float(rows[i]["val_acc"]) for i in order]),
            np.array([float(rows[i]["params_m"]) for i in order]))


def quality(scores, truth, keys, params) -> dict:
    """Criteria in iso and deiso modes, the lowest #params bin's rank shift, the controlled tau."""
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
    from nasrank.runs.provenance import result_provenance

    payload["provenance"] = result_provenance(seeds=[0], sample="the shared tables' cells in the fixed order "
                                              "default_rng(0).permutation(N); per checkpoint n_cells of them")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    os.replace(tmp, path)


def ckpt_path(run: str, epoch: int | None = None) -> Path:
    return WORK / "ckpts" / (f"{run}.ckpt" if epoch is None else f"{run}-ep{epoch}.ckpt")


SAVE_EPOCHS = {20: (5, 10), 30: (5, 10, 20), 60: (10, 20, 40), 100: (10, 25, 50, 75)}


def run_spec(run: str) -> tuple[str, str, int, int]:
    """``nb101-deiso-s0-e100`` -> ``(space, sampling, seed, epochs)`` (no ``-eE``: the space's SCALE epochs)."""
    parts = run.split("-")
    epochs = int(parts[3][1:]) if len(parts) > 3 else SCALE[parts[0]]["epochs"]
    return parts[0], parts[1], int(parts[2][1:]), epochs


def train_command(run: str) -> list[str]:
    """The CLI arguments of one run (``nasrank supernet train ...``)."""
    space, sampling, seed, epochs = run_spec(run)
    sc = SCALE[space]
    return ["supernet", "train", "--space", space, "--sampling", sampling, "--seed", str(seed),
            "--channels", str(sc["channels"]), "--cells-per-stage", str(sc["cells_per_stage"]),
            "--image-size", str(COMMON["image_size"]), "--batch-size", str(COMMON["batch_size"]),
            "--lr", str(COMMON["lr"]), "--epochs", str(epochs),
            "--save-epochs", ",".join(map(str, SAVE_EPOCHS[epochs])), "--data-dir", str(DATA), "--device", "cpu",
            "--threads", "1", "--quiet", "--no-logs", "--output", str(ckpt_path(run))]


def _shown(argv: list[str]) -> str:
    return "nasrank " + " ".join(argv).replace(str(DATA), "SHARED/cifar10").replace(str(WORK), "WORK")


def cmd_train(args: argparse.Namespace) -> int:
    """Train one run; its CPU seconds and command go to ``WORK/train-<run>.json`` (merged by ``score``)."""
    from nasrank.cli import main as cli

    torch.set_num_threads(1)
    argv = train_command(args.run)
    ckpt_path("x").parent.mkdir(parents=True, exist_ok=True)
    c0, t0 = cpu_seconds(), time.perf_counter()
    rc = cli(argv)
    _write(WORK / f"train-{args.run}.json", {"command": _shown(argv), "train_cpu_seconds": cpu_seconds() - c0,
                                             "train_wall_seconds": time.perf_counter() - t0})
    return rc


def score_one(space, ckpt: Path, archs, seed: int = 0) -> np.ndarray:
    from nasrank.rankers.oneshot import OneShotRanker

    ranker = OneShotRanker(space, RunContext(data_dir=str(DATA), device="cpu", seed=seed), supernet=str(ckpt),
                           **PROTOCOL)
    return ranker.score_counts(archs)


def cmd_score(args: argparse.Namespace) -> int:
    torch.set_num_threads(1)
    out = Path(args.output)
    res = _read(out)
    res["scale"] = {"common": COMMON, "per_space": SCALE, "protocol": PROTOCOL | {"metric": "neg_loss"},
                    "dataset": "cifar10 shared subset (4577 train / 508 held-out)", "complexity_bins": BINS,
                    "cell_order": "np.random.default_rng(0).permutation(N) over the table's rows"}
    (WORK / "scores").mkdir(parents=True, exist_ok=True)
    for run in args.runs.split(","):
        rec = res.setdefault("runs", {}).setdefault(run, {})
        space_name, sampling, seed, final = run_spec(run)
        rec.update({"space": space_name, "sampling": sampling, "seed": seed, "epochs": final,
                    "command": _shown(train_command(run))})
        rec.update(_read(WORK / f"train-{run}.json"))
        space, archs, truth, params = load_truth(space_name)
        keys = [space.canonical_key(a) for a in archs]
        wanted = [int(v) for v in args.epochs.split(",")] if args.epochs else [*SAVE_EPOCHS[final], final]
        for e in [v for v in [*SAVE_EPOCHS[final], final] if v in wanted]:
            n = args.n_cells if e == final else args.n_cells_intermediate
            n = min(n, len(archs))
            point = rec.setdefault("checkpoints", {}).setdefault(str(e), {})
            if point.get("n_cells", 0) >= n:
                continue
            path = ckpt_path(run, None if e == final else e)
            while not path.is_file():  # the run may still be training
                time.sleep(10)
            c0, t0 = cpu_seconds(), time.perf_counter()
            counts = score_one(space, path, archs[:n])
            np.savez_compressed(WORK / "scores" / f"{run}-ep{e}.npz", counts=counts)
            scores = scores_from_batches(counts, METRICS)
            point.update({"epochs": e, "n_cells": n, "scoring_cpu_seconds": cpu_seconds() - c0,
                          "scoring_wall_seconds": time.perf_counter() - t0,
                          **{m: quality(scores[m], truth[:n], keys[:n], params[:n]) for m in METRICS}})
            print(f"{time.strftime('%H:%M:%S')} {run} ep{e} n={n}: tau neg_loss "
                  f"{point['neg_loss']['iso']['kendall_tau']:.3f} acc {point['acc']['iso']['kendall_tau']:.3f} "
                  f"cpu {point['scoring_cpu_seconds']:.0f}s", flush=True)
            res.setdefault("machines", []).append(machine() | {"step": f"score {run} ep{e}"})
            _write(out, res)
    _write(out, res)  # run records updated even when every checkpoint was scored before
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    from benchmarks.oneshot_spaces_summary import summarize

    res = _read(Path(args.output))
    for extra in args.merge:  # runs scored into another file (in parallel, to avoid two writers of one JSON)
        other = _read(Path(extra))
        res.setdefault("runs", {}).update(other.get("runs", {}))
        res.setdefault("machines", []).extend(other.get("machines", []))
        res.setdefault("scale", other.get("scale"))
    summarize(res, WORK, Path(args.output).parent, args.note)
    _write(Path(args.output), res)
    print(json.dumps(res.get("findings"), indent=1))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Slim copy of a run's final checkpoint + check scores of the first 5 cells (for users and tests)."""
    from nasrank.lightning_modules.supernet import export_supernet
    from nasrank.rankers.oneshot import OneShotRanker

    space_name = args.run.split("-")[0]
    dst = RESULTS / f"oneshot_{space_name}_supernet.pt"
    record = export_supernet(ckpt_path(args.run, args.epoch), dst, packed=space_name == "darts")
    space, archs, _, _ = load_truth(space_name)
    ranker = OneShotRanker(space, RunContext(data_dir=str(DATA), device="cpu", seed=0), supernet=str(dst))
    record["check_scores"] = {"ranker_cfg": {}, "archs": [space.to_string(a) for a in archs[:5]],
                              "scores": ranker.score(archs[:5]),
                              "note": "the first 5 cells of the benchmark order, the ranker's default protocol"}
    record["size_bytes"] = dst.stat().st_size
    record["usage"] = (f"nasrank evaluate --space {space_name} --rankers oneshot --ranker-cfg "
                       f"supernet=benchmarks/results/{dst.name} --data-dir DATA/cifar10 ...")
    _write(dst.with_suffix(".json"), record)
    print(json.dumps({k: v for k, v in record.items() if k != "hyper_parameters"}, indent=1, default=str))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", default=str(OUTPUT))
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one supernet with the CLI at the benchmark's scale")
    t.add_argument("--run", required=True, help="SPACE-SAMPLING-sSEED[-eEPOCHS], e.g. nb101-deiso-s0-e100")
    t.set_defaults(func=cmd_train)
    s = sub.add_parser("score", help="score a run's checkpoints on the truth table's cells")
    s.add_argument("--runs", required=True, help="e.g. nb101-deiso-s0,darts-uniform-s0")
    s.add_argument("--n-cells", type=int, default=10_000, help="cells for the final checkpoint (default: all)")
    s.add_argument("--n-cells-intermediate", type=int, default=150)
    s.add_argument("--epochs", default=None, metavar="E1,E2", help="only these checkpoints (default: all of the run)")
    s.set_defaults(func=cmd_score)
    m = sub.add_parser("summarize", help="baselines, seeds, deiso vs uniform, findings, figures")
    m.add_argument("--note", action="append", default=[])
    m.add_argument("--merge", action="append", default=[], metavar="JSON",
                   help="also take the runs of this results file (scored in parallel into another --output)")
    m.set_defaults(func=cmd_summarize)
    x = sub.add_parser("export", help="commit-sized copy of a run's final checkpoint + check scores")
    x.add_argument("--run", required=True)
    x.add_argument("--epoch", type=int, default=None, help="an intermediate checkpoint (default: the final one)")
    x.set_defaults(func=cmd_export)
    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
