"""One-shot (supernet) ranking quality on NB201 against the official CIFAR-10 table, vs epochs.

Checks Ning et al.'s finding (GUIDE §4): de-isomorphic sampling and a reduced
sharing extent (K>1 supernets, canonical routing) improve the ranking.

Reduced CPU scale (one thread; the whole run must fit in ~40 min on one
shared core), documented in the JSON under ``scale``:

* data: the shared CIFAR-10 subset (5 × 1,017 training images): 4,577 train /
  508 held-out (``val_fraction=0.1``, split seed 0), images resized to 16×16;
* supernet: C=8, 1 cell per stage (3 cells + 2 reductions), batch 128 (36
  steps per epoch; the aw_nas batch of 512 would give 9), SGD lr 0.05,
  momentum 0.9, wd 5e-4, cosine over the run, grad clip 5, 1 arch per step;
  checkpoints after ``--epochs`` (aw_nas trains 1000+ epochs at C=16, N=5);
* scoring: the first 192 held-out images, BN in train mode; accuracy and
  negative loss from one pass;
* ground truth: ``nb201_cifar10.csv`` test accuracy (200 epochs) of a fixed
  1,000-cell sample (``np.random.default_rng(0).choice(15625, 1000)`` over
  the table's rows); criteria: Kendall tau, P@top5%, BR@1% in ``iso`` mode
  (all 1,000 cells) and ``deiso`` mode (one per isomorphism class, truth =
  class mean), via ``criteria_by_mode`` with ``space.canonical_key``;
  #params on the same cells as the baseline.

Configs (``--configs``): ``uniform-k1``, ``deiso-k1``, ``uniform-k5``,
``deiso-k5`` (K=5 supernets split by the op on edge 3←0, each trained on every
batch: K× the training cost), ``deiso-k1-route`` (canonical routing).
Results are written after every checkpoint, so an interrupted run keeps what
it measured. The committed JSON holds the main run plus two 40-epoch runs
merged in (``--tag``/``--merge-from``); ``notes`` and ``findings`` in it
summarise them:

    nohup .venv/bin/python benchmarks/oneshot_nb201.py > /tmp/oneshot_bench.log 2>&1 &
    .venv/bin/python benchmarks/oneshot_nb201.py --configs uniform-k1,deiso-k1,deiso-k1-route --epochs 24,40 \
        --tag=-40ep --work /tmp/os_long --output /tmp/os_long.json
    .venv/bin/python benchmarks/oneshot_nb201.py --configs uniform-k1,deiso-k1 --epochs 24,40 --seed 1 \
        --tag=-40ep-s1 --work /tmp/os_s1 --output /tmp/os_s1.json
    .venv/bin/python benchmarks/oneshot_nb201.py --merge-from /tmp/os_long.json
    .venv/bin/python benchmarks/oneshot_nb201.py --merge-from /tmp/os_s1.json
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nasrank.evaluation.criteria import criteria_by_mode, kendall_tau  # noqa: E402
from nasrank.lightning_modules.supernet import train_supernet  # noqa: E402
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.rankers.oneshot import OneShotRanker  # noqa: E402
from nasrank.spaces.nb201 import Nb201Space  # noqa: E402

SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", REPO.parent / "shared" / "data"))
CONFIGS = {
    "uniform-k1": dict(sampling="uniform", num_supernets=1),
    "deiso-k1": dict(sampling="deiso", num_supernets=1),
    "uniform-k5": dict(sampling="uniform", num_supernets=5, partition="edge"),
    "deiso-k5": dict(sampling="deiso", num_supernets=5, partition="edge"),
    "deiso-k1-route": dict(sampling="deiso", num_supernets=1, canonical_routing=True),
}
KEYS = {"kendall_tau": "kendall_tau", "p_at_top_0.05": "P@top5%", "br_at_0.01": "BR@1%"}


def load_truth(space: Nb201Space, n_cells: int) -> tuple[list, np.ndarray, np.ndarray]:
    rows = list(csv.DictReader((SHARED / "nb201" / "nb201_cifar10.csv").open()))
    idx = np.random.default_rng(0).choice(len(rows), n_cells, replace=False)
    archs = [space.from_string(rows[i]["arch"]) for i in idx]
    return archs, np.array([float(rows[i]["test_acc"]) for i in idx]), np.array([float(rows[i]["params_m"]) for i in idx])


def _f(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def summarize(scores, truth, keys) -> dict:
    res = criteria_by_mode(scores, truth, keys, modes=("iso", "deiso"))
    return {mode: {k: res[mode].get(k) for k in KEYS} | {"spearman": res[mode]["spearman"]} for mode in res}


COLORS = {"uniform-k1": "tab:blue", "deiso-k1": "tab:orange", "deiso-k5": "tab:green", "uniform-k5": "tab:red",
          "deiso-k1-route": "tab:purple"}


def plot(results: dict, path: Path) -> None:
    """Criteria vs epochs: rows (acc, iso), (acc, deiso), (neg_loss, iso); colour = config, line = run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (("acc", "iso"), ("acc", "deiso"), ("neg_loss", "iso"))
    fig, axes = plt.subplots(len(rows), 3, figsize=(13, 10), sharex=True)
    for r, (metric, mode) in enumerate(rows):
        for c, (key, label) in enumerate(KEYS.items()):
            ax = axes[r][c]
            for name, cfg in results["configs"].items():
                pts = [(p["epochs"], p[metric][mode][key]) for p in cfg["checkpoints"]
                       if p[metric][mode][key] is not None]
                base = next((b for b in sorted(COLORS, key=len, reverse=True) if name.startswith(b)), None)
                tag = name[len(base):] if base else ""
                ls = "-" if not tag else ("-." if tag.endswith("-s1") else "--")
                if pts:
                    ax.plot(*zip(*pts), marker="o", label=name, ls=ls, color=COLORS.get(base))
            ref = results["baseline_params"][mode][key]
            if ref is not None:
                ax.axhline(ref, color="black", ls=":", lw=1, label="#params")
            ax.set_title(f"{label} | score {metric} | {mode}", fontsize=10)
            ax.grid(alpha=0.3)
            if r == len(rows) - 1:
                ax.set_xlabel("supernet epochs")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("NB201 one-shot ranking vs epochs, reduced CPU scale (solid: 16-ep runs; dashed: 40-ep seed 0; "
                 "dash-dot: 40-ep seed 1)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def merge_from(src: Path, out: Path) -> int:
    """Add ``src``'s configs (a run with other epochs, e.g. ``--tag -40ep``) to ``out``."""
    base, extra = json.loads(out.read_text()), json.loads(src.read_text())
    base["configs"].update(extra["configs"])
    base.setdefault("runs", []).append({k: extra.get(k) for k in ("date", "wall_seconds", "scale")} |
                                       {"configs": list(extra["configs"])})
    out.write_text(json.dumps(base, indent=2) + "\n")
    plot(base, out.with_suffix(".png"))
    print(f"merged {', '.join(extra['configs'])} into {out}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="uniform-k1,deiso-k1,deiso-k5,uniform-k5")
    ap.add_argument("--epochs", default="3,8,16", help="checkpoint epochs (the last is the run length)")
    ap.add_argument("--n-cells", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--cells-per-stage", type=int, default=1)
    ap.add_argument("--image-size", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--val-images", type=int, default=192)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default="/tmp/oneshot_nb201_ckpts")
    ap.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "oneshot_nb201.json"))
    ap.add_argument("--tag", default="", help="suffix for the config names in the results (e.g. -32ep)")
    ap.add_argument("--merge", action="store_true", help="add to the configs already in --output")
    ap.add_argument("--merge-from", default=None, metavar="JSON",
                    help="only add the configs of another results file to --output and re-plot")
    args = ap.parse_args()
    if args.merge_from:
        return merge_from(Path(args.merge_from), Path(args.output))
    torch.set_num_threads(args.threads)
    epochs = sorted(int(e) for e in args.epochs.split(","))
    names = args.configs.split(",")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    space = Nb201Space()
    archs, truth, params = load_truth(space, args.n_cells)
    keys = [space.canonical_key(a) for a in archs]
    data_dir = SHARED / "cifar10"
    results = {
        "benchmark": "oneshot_nb201", "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "torch_threads": args.threads, "torch": torch.__version__,
                    "python": platform.python_version(), "note": "2 cores shared with other jobs; wall times are noisy"},
        "scale": {"dataset": "cifar10 shared subset (4577 train / 508 held-out)", "image_size": args.image_size,
                  "channels": args.channels, "cells_per_stage": args.cells_per_stage, "batch_size": args.batch_size,
                  "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "lr_schedule": "cosine over the run",
                  "grad_clip": 5.0, "archs_per_step": 1, "val_images": args.val_images, "bn": "train mode",
                  "n_cells": args.n_cells, "cell_sample": "np.random.default_rng(0).choice(15625, n, replace=False)",
                  "n_classes_in_sample": len(set(keys)), "epochs": epochs, "seed": args.seed,
                  "truth": "nb201_cifar10.csv test_acc (200 epochs)"},
        "baseline_params": summarize(params, truth, keys),
        "configs": {},
    }
    if args.merge and out.is_file():
        old = json.loads(out.read_text())
        results["configs"] = old.get("configs", {})
        results["runs"] = old.get("runs", []) + [{k: old.get(k) for k in ("date", "wall_seconds", "scale")}]
    t_start = time.perf_counter()
    for name in names:
        cfg = CONFIGS[name]
        ckpt = Path(args.work) / f"{name}{args.tag}.ckpt"
        print(f"[{time.perf_counter() - t_start:7.0f}s] training {name} for {epochs[-1]} epochs", flush=True)
        summ = train_supernet(ckpt, data_dir=data_dir, epochs=epochs[-1], device="cpu", save_epochs=epochs[:-1],
                              channels=args.channels, cells_per_stage=args.cells_per_stage,
                              image_size=args.image_size, batch_size=args.batch_size, seed=args.seed, **cfg)
        entry = {"config": cfg, "epochs": epochs[-1], "seed": args.seed, "final_train_acc": summ.get("train_acc"),
                 "checkpoints": []}
        results["configs"][name + args.tag] = entry
        for e in epochs:
            path = ckpt if e == epochs[-1] else ckpt.with_name(f"{ckpt.stem}-ep{e}.ckpt")
            ranker = OneShotRanker(space, RunContext(data_dir=str(data_dir), device="cpu", seed=args.seed),
                                   supernet=str(path), val_images=args.val_images, batch_size=args.val_images)
            t0 = time.perf_counter()
            sc = ranker.scores_by_metric(archs, ("acc", "neg_loss"))
            score_s = time.perf_counter() - t0
            point = {"epochs": e, "train_seconds": ranker.checkpoint_info["train_seconds"],
                     "scoring_seconds": score_s, "mean_acc": float(np.mean(sc["acc"])),
                     "acc": summarize(sc["acc"], truth, keys), "neg_loss": summarize(sc["neg_loss"], truth, keys),
                     "kendall_acc_vs_params": kendall_tau(sc["acc"], params)}
            entry["checkpoints"].append(point)
            a = {k: _f(v) for k, v in point["acc"]["iso"].items()}
            print(f"[{time.perf_counter() - t_start:7.0f}s] {name}{args.tag} ep{e}: train {point['train_seconds']:.0f}s "
                  f"score {score_s:.0f}s mean acc {point['mean_acc']:.3f} | acc KT {a['kendall_tau']} "
                  f"P@5% {a['p_at_top_0.05']} BR@1% {a['br_at_0.01']} | neg_loss KT "
                  f"{_f(point['neg_loss']['iso']['kendall_tau'])}", flush=True)
            results["wall_seconds"] = time.perf_counter() - t_start
            out.write_text(json.dumps(results, indent=2) + "\n")
            plot(results, out.with_suffix(".png"))
    print(f"done in {time.perf_counter() - t_start:.0f}s -> {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
