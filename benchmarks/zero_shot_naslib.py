"""Our zero-cost scores against NASLib's own, on the same NB201 cells (issue 31, item 4).

NASLib (NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022 D&B) publishes per-cell proxy scores
in ``naslib/data/zc_nasbench201.json`` (github.com/automl/NASLib). That file is not part of nasrank
and is never copied into this repository: pass its path (``--naslib-json``, or the environment
variable ``NASRANK_NASLIB_ZC``). Its CIFAR-10 cells are mapped to NB201 strings with NASLib's own
conversion (op indices over the edges (1,2), (1,3), (1,4), (2,3), (2,4), (3,4); ops skip_connect,
none, nor_conv_3x3, nor_conv_1x1, avg_pool_3x3), and the mapping is checked: NASLib's #params must
equal the official NB201 #params of the mapped cell, and its validation accuracy must rank like the
official test accuracy.

Each cell is then scored here with the measures both sides have (epe_nas, l2_norm, jacob_cov =
NASLib's jacov, synflow), under the protocol of ``zero_shot_modern.py`` (C=16, N=5, one batch of 64 of
the shared CIFAR-10 images, one seed, one thread). Reported per measure: the Spearman between our
scores and NASLib's on the same cells, and each side's Spearman with the official 200-epoch test
accuracy, with cell-bootstrap CIs. NASLib's file has no nwot (relu_logdet) scores, so that one cannot
be compared. Resumable: one fsynced line per cell in ``results/zero_shot_naslib_cells.jsonl``.

    OMP_NUM_THREADS=1 python benchmarks/zero_shot_naslib.py score --naslib-json PATH
    python benchmarks/zero_shot_naslib.py report --naslib-json PATH
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zero_shot_modern import RESULTS, append, context, done_indices, make_ranker, nb201_space, shared  # noqa: E402

CELLS_FILE = RESULTS / "zero_shot_naslib_cells.jsonl"
EDGES = ((1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4))
OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
#: our measure -> NASLib's name for it
SHARED_MEASURES = {"epe_nas": "epe_nas", "l2_norm": "l2_norm", "jacob_cov": "jacov", "synflow": "synflow"}


def nb201_string(key: str) -> str:
    """NASLib's ``"(4, 3, 3, 3, 2, 3)"`` -> the NB201 cell string (NASLib's conversion)."""
    idx = [int(x) for x in key.strip("()").split(",")]
    op = {e: OPS[i] for e, i in zip(EDGES, idx)}
    parts = [f"{op[(i, j)]}~{i - 1}" for i, j in sorted(op, key=lambda e: e[1])]
    return "|{}|+|{}|{}|+|{}|{}|{}|".format(*parts)


def naslib_cells(path: str) -> list[dict]:
    """NASLib's CIFAR-10 cells joined with the official table (index, test accuracy, #params)."""
    data = json.loads(Path(path).read_text())["nasbench201"]["cifar10"]
    table = {}
    with (shared() / "nb201" / "nb201_cifar10.csv").open() as fh:
        for row in csv.DictReader(fh):
            table[row["arch"]] = (int(row["index"]), float(row["test_acc"]), float(row["params_m"]))
    out = []
    for key, rec in data.items():
        arch = nb201_string(key)
        index, test_acc, params = table[arch]
        out.append({"key": key, "arch": arch, "index": index, "test_acc": test_acc, "params_official": params,
                    "naslib": rec})
    return sorted(out, key=lambda c: c["index"])


def naslib_path(args: argparse.Namespace) -> str:
    path = args.naslib_json or os.environ.get("NASRANK_NASLIB_ZC")
    if not path or not Path(path).is_file():
        raise SystemExit("zero_shot_naslib: pass --naslib-json PATH (NASLib's naslib/data/zc_nasbench201.json)")
    return path


def score(args: argparse.Namespace) -> None:
    cells = naslib_cells(naslib_path(args))[: args.cells]
    space, ctx = nb201_space(), context()
    ranker = make_ranker("zero_shot", space, ctx, measures=list(SHARED_MEASURES))
    done = done_indices(CELLS_FILE)
    for c in cells:
        if c["index"] in done:
            continue
        arch = space.from_index(c["index"])
        c0 = time.process_time()
        (ev,) = ranker.evaluate([arch])
        rec = {"index": c["index"], "arch": space.to_string(arch), "cpu_s": time.process_time() - c0,
               "measures": ev.info["measures"]}
        append(CELLS_FILE, rec)
        done[c["index"]] = rec
        print(f"{len(done)} of {len(cells)} cells", flush=True)


def _rho_ci(a: np.ndarray, b: np.ndarray, idx: list[np.ndarray]) -> dict:
    from nasrank.evaluation.criteria import spearman

    ok = np.isfinite(a) & np.isfinite(b)
    boots = [spearman(a[i][ok[i]], b[i][ok[i]]) for i in idx]
    lo, hi = np.nanpercentile(boots, [2.5, 97.5])
    return {"spearman": spearman(a[ok], b[ok]), "ci": [float(lo), float(hi)], "n": int(ok.sum())}


def report(args: argparse.Namespace) -> None:
    from _common import write_result

    cells = naslib_cells(naslib_path(args))
    ours = done_indices(CELLS_FILE)
    both = [c for c in cells if c["index"] in ours]
    if not both:
        raise SystemExit("zero_shot_naslib: no cells scored yet (run the score phase)")
    truth = np.asarray([c["test_acc"] for c in both])
    rng = np.random.default_rng(0)
    idx = [rng.integers(0, len(both), len(both)) for _ in range(args.n_boot)]
    params_equal = [abs(c["naslib"]["params"] - c["params_official"]) < 1e-5 for c in cells]
    val = np.asarray([c["naslib"]["val_accuracy"] for c in cells])
    all_truth = np.asarray([c["test_acc"] for c in cells])
    all_idx = [rng.integers(0, len(cells), len(cells)) for _ in range(args.n_boot)]
    table = {}
    for ours_name, theirs_name in SHARED_MEASURES.items():
        a = np.asarray([ours[c["index"]]["measures"][ours_name] for c in both], dtype=float)
        b = np.asarray([c["naslib"][theirs_name] for c in both], dtype=float)
        every = np.asarray([c["naslib"][theirs_name] for c in cells], dtype=float)
        table[ours_name] = {"naslib_name": theirs_name, "ours_vs_naslib": _rho_ci(a, b, idx),
                            "ours_vs_test_acc": _rho_ci(a, truth, idx), "naslib_vs_test_acc": _rho_ci(b, truth, idx),
                            "naslib_all_cells_vs_test_acc": _rho_ci(every, all_truth, all_idx),
                            "naslib_all_cells_vs_their_val_acc": _rho_ci(every, val, all_idx)}
    from nasrank.evaluation.criteria import spearman

    payload = {
        "benchmark": "our zero-cost scores against NASLib's own on the same NB201 cells (benchmarks/zero_shot_naslib.py)",
        "naslib_file": "automl/NASLib naslib/data/zc_nasbench201.json (not copied here), its cifar10 cells",
        "protocol": {"ours": "as zero_shot_modern.py: C=16, N=5, 32 px, one batch of 64, one seed, one thread",
                     "truth": "CIFAR-10 test accuracy after 200 epochs (nb201_cifar10.csv)", "ci": "95% cell bootstrap"},
        "mapping_check": {"cells": len(cells), "params_equal_share": float(np.mean(params_equal)),
                          "naslib_val_vs_official_test_spearman": spearman(val, all_truth)},
        "cells_compared": len(both), "cpu_s_per_cell": float(np.mean([ours[c["index"]]["cpu_s"] for c in both])),
        "table": table, "not_compared": {"relu_logdet (nwot)": "not in NASLib's zc_nasbench201.json"},
    }
    write_result("zero_shot_naslib", payload, seeds=[0], sample=f"{len(both)} NASLib CIFAR-10 cells")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("phase", choices=("score", "report"))
    p.add_argument("--naslib-json", default=None)
    p.add_argument("--cells", type=int, default=10_000, help="at most this many of NASLib's cells (index order)")
    p.add_argument("--n-boot", type=int, default=1000)
    args = p.parse_args()
    score(args) if args.phase == "score" else report(args)


if __name__ == "__main__":
    main()
