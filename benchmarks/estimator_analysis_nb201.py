"""Estimator analysis on NB201 / CIFAR-10: complexity, op and structure bias, and variance.

Rankers and the cells each is analysed on (truth: the official 200-epoch
CIFAR-10 test accuracy of ../shared/data/nb201/nb201_cifar10.csv):

* ``params``, ``flops``: the fixed 1,000-cell sample
  (``np.random.default_rng(0).choice(15625, 1000, replace=False)`` over the
  official index order, as benchmarks/zero_shot_nb201.py draws it), from
  ``Nb201Space.features`` (checked equal to the registered ``params`` /
  ``flops`` rankers on the first cells).
* ``synflow``, ``jacob_cov``, ``relu_logdet``: reused from
  ``benchmarks/results/zero_shot_nb201.json`` (the zero-shot benchmark's
  per-cell ``raw`` scores: same sample, a prefix of it) and completed here
  with further cells of the sample, in sample order, up to ``--zs-cells``,
  under the same protocol (seed 0, one batch of 128 images, full-size
  network; cached in ``<name>_zero_shot.csv``; two reused cells are
  re-scored as a check). Their comparison with #params/#FLOPs is made on
  the same cells.
* ``train_12ep``: the 12-epoch test accuracy of
  ``nats_1000_cifar10_12ep_vs_200ep.csv``, which covers NATS indices 0..999
  only; its sample overlaps ours in about 64 cells, so it is analysed on those
  1,000 cells, beside ``params``/``flops`` on the same cells.
* ``oneshot@epE`` (``--oneshot-epochs``): supernets trained here with
  ``train_supernet`` (``--oneshot-seeds`` seeds) at the reduced CPU scale of
  benchmarks/oneshot_nb201.py (C=8, one cell per stage, 16×16 images, batch
  128, uniform sampling, SGD lr 0.05 cosine over the run, the shared
  CIFAR-10 subset with 10% held out; 192 held-out images scored per cell,
  BN in train mode, accuracy); checkpoints at every listed epoch and at the
  one before the last. Each checkpoint scores the first ``--oneshot-cells``
  cells of the sample with the ``oneshot`` ranker; the score of a cell is
  the mean over the seeds.

``--trained-zs-cells K`` (off by default for its cost) scores the first K
cells with the ZSEs at initialisation and after ``--trained-zs-epochs`` of
regular training at reduced scale, for "training does not help ZSEs".

Variance (``nasrank.evaluation.variance``): zero-shot scores of
``--zs-variance-cells`` cells under 3 init seeds with fixed data batches
(``seed``) and under 3 data batches with a fixed init (``batch``); the
one-shot ranking between supernet seeds (``seed``) and between the last two
checkpoints (``checkpoint``).

Writes ``benchmarks/results/estimator_analysis_nb201.json`` and
``estimator_analysis_nb201_*.png`` (``estimator_analysis_plots.py``, which also redraws them from
the JSON alone). Run from the repository root:
``.venv/bin/python benchmarks/estimator_analysis_nb201.py [--help]``.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, RESULTS, SHARED, write_result  # noqa: E402

sys.path.insert(0, str(REPO))
from nasrank.benchmarks import load_benchmark  # noqa: E402
from nasrank.experiments.analyze import ScoreRow, analyze_rows  # noqa: E402
from nasrank.evaluation.criteria import kendall_tau, spearman  # noqa: E402
from nasrank.evaluation.variance import repeat_consistency  # noqa: E402
from nasrank.spaces.nb201 import Nb201Space  # noqa: E402

ZS_MEASURES = ("synflow", "jacob_cov", "relu_logdet")
NAME = "estimator_analysis_nb201"
T0 = time.perf_counter()


def log(*a: Any) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s]", *a, flush=True)


def sample_archs(space: Nb201Space, n: int) -> list:
    idx = np.random.default_rng(0).choice(space.size, size=n, replace=False)
    return [space.from_index(int(i)) for i in idx]


def rows_for(name: str, archs, scores, repeat: Any = 0, variant: str = "repeat") -> list[ScoreRow]:
    return [ScoreRow(a, name, repeat, float(s), None, variant, f"{name} {a}") for a, s in zip(archs, scores)]


def same_cells_table(rankers: dict[str, dict], keys=("kendall_tau", "spearman")) -> dict:
    return {k: {m: v.get(m) for m in keys} | {"controlled_kendall_tau": v["complexity_bias"]["controlled_kendall_tau"]}
            for k, v in rankers.items() if "skipped" not in v}


# --------------------------------------------------------------------------
# zero-shot
# --------------------------------------------------------------------------
def zero_shot_scores(space, archs, args) -> tuple[dict[str, list[float]], list, dict]:
    """(measure -> scores, archs scored, provenance) for a prefix of ``archs``."""
    path = Path(args.zero_shot_json)
    if path.is_file():
        data = json.loads(path.read_text())
        raw = data.get("raw", {})
        got = {s: i for i, s in enumerate(raw.get("arch", []))}
        cells = [a for a in archs if str(a) in got]
        meas = {m: [raw["scores"][m][got[str(a)]] for a in cells] for m in ZS_MEASURES if m in raw.get("scores", {})}
        if cells and meas:
            log(f"reusing {len(cells)} zero-shot cells from {path}")
            proto = data.get("protocol", {})
            scores = {m: [float("nan") if v is None else float(v) for v in s] for m, s in meas.items()}
            src = {"source": str(path.relative_to(REPO)), "date_utc": data.get("date_utc"),
                   "seeds": proto.get("seeds"), "batch_size": proto.get("batch_size"),
                   "network": proto.get("network"), "n_cells_from_source": len(cells)}
            n_more = args.zs_cells - len(cells)
            if n_more > 0 and proto.get("seeds") == 1 and proto.get("batch_size") == args.zs_batch_size:
                done = {str(a) for a in cells}
                more = [a for a in archs if str(a) not in done][:n_more]
                extra = zero_shot_here(space, more, args)
                check = zero_shot_here(space, cells[:2], args)  # same protocol: same values
                src["check_rel_diff_on_2_reused_cells"] = max(
                    abs(check[m][i] - scores[m][i]) / max(abs(scores[m][i]), 1e-30)
                    for m in scores for i in range(2) if np.isfinite(scores[m][i]))
                cells = cells + more
                scores = {m: scores[m] + extra[m] for m in scores}
                src["n_cells_scored_here"] = len(more)
                src["source"] += f" + {len(more)} further cells of the sample scored here (same protocol, " \
                                 f"RESULTS/{args.name}_zero_shot.csv)"
            return scores, cells, src
    if args.zs_cells <= 0:
        return {}, [], {"source": f"none: {path} missing and --zs-cells 0"}
    cells = archs[:args.zs_cells]
    out = zero_shot_here(space, cells, args)
    return out, cells, {"source": "scored by this script", "seeds": 1, "batch_size": args.zs_batch_size}


def read_score_cache(cache: Path) -> dict[str, dict[str, float]]:
    """``{arch: {ranker: score}}`` from a long-format score cache (empty if absent)."""
    have: dict[str, dict[str, float]] = {}
    if cache.is_file():
        with cache.open() as fh:
            for r in csv.DictReader(fh):
                have.setdefault(r["arch"], {})[r["ranker"]] = float(r["score"])
    return have


@contextlib.contextmanager
def append_score_cache(cache: Path) -> Iterator[tuple[Any, Any]]:
    """``(csv writer, file)`` appending to a long-format score cache (header written when the file is new)."""
    new = not cache.is_file()
    with cache.open("a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["arch", "ranker", "repeat", "score", "seconds", "device_seconds", "true_acc"])
        yield w, fh


def zero_shot_here(space, cells, args) -> dict[str, list[float]]:
    """Score ``cells`` here (seed 0, one batch of ``--zs-batch-size``: the zero-shot benchmark's protocol),
    reading and extending the cache RESULTS/<name>_zero_shot.csv."""
    cache = RESULTS / f"{args.name}_zero_shot.csv"
    have = read_score_cache(cache)
    todo = [a for a in cells if str(a) not in have]
    if todo:
        z = make_zero_shot(space, args, seed=0)
        with append_score_cache(cache) as (w, fh):
            for i, a in enumerate(todo):
                (e,) = z.evaluate([a])
                for m in ZS_MEASURES:
                    v = float(e.info["measures"][m])
                    have.setdefault(str(a), {})[m] = v
                    w.writerow([str(a), m, 0, repr(v), f"{e.seconds:.3f}", f"{e.device_seconds:.3f}", ""])
                fh.flush()
                if (i + 1) % 20 == 0:
                    log(f"zero-shot here {i + 1}/{len(todo)}")
    return {m: [have[str(a)][m] for a in cells] for m in ZS_MEASURES}


def make_zero_shot(space, args, seed: int, batch_seed: int | None = None, **cfg: Any):
    import nasrank.rankers.zero_shot as zs
    from nasrank.rankers.base import RunContext

    class _Ranker(zs.ZeroShotRanker):
        """The shared-pass ranker with the data batch seed optionally decoupled from the init seed."""

        def batches(self, s: int):
            return super().batches(s if batch_seed is None else batch_seed)

    ctx = RunContext(dataset="cifar10", data_dir=str(SHARED / "cifar10"), device="cpu", seed=seed)
    return _Ranker(space, ctx, measures=ZS_MEASURES, primary="synflow", seeds=1, batch_size=args.zs_batch_size,
                   **cfg)


def zero_shot_variance(space, archs, args) -> list[ScoreRow]:
    """Rows with variant ``seed`` (init seeds 0..2, batch fixed) and ``batch`` (batches 0..2, init fixed)."""
    rows: list[ScoreRow] = []
    cells = archs[:args.zs_variance_cells]
    for variant, pairs in (("seed", [(s, 0) for s in range(3)]), ("batch", [(0, b) for b in range(3)])):
        for rep, (seed, bseed) in enumerate(pairs):
            if variant == "batch" and rep == 0:  # (0, 0) was scored under "seed"
                rows += [ScoreRow(r.arch, r.ranker, 0, r.score, None, "batch", r.where) for r in rows
                         if r.variant == "seed" and r.repeat == 0]
                continue
            z = make_zero_shot(space, args, seed=seed, batch_seed=bseed)
            for a in cells:
                (e,) = z.evaluate([a])
                for m in ZS_MEASURES:
                    rows.append(ScoreRow(a, m, rep, float(e.info["measures"][m]), None, variant, f"{m} {a}"))
            log(f"zero-shot variance {variant} repeat {rep} done")
    return rows


def zero_shot_trained(space, archs, args) -> dict[str, dict[str, float]]:
    """ZSE of each cell at initialisation and after ``--trained-zs-epochs`` of regular training.

    Reduced scale (C=8, one cell per stage, 32×32 images, the shared CIFAR-10
    subset): the ``train`` ranker trains the network (lr 0.1 cosine, batch
    256, seed 0) and the ``zero_shot`` ranker (seed 0, batch 128) scores the
    same initial network before and, through ``weights_from``, after training.
    Cached (and extended) in RESULTS/<name>_zs_trained.csv.
    """
    import nasrank.rankers.training as tr
    from nasrank.rankers.base import RunContext

    cache = RESULTS / f"{args.name}_zs_trained.csv"
    have = read_score_cache(cache)
    todo = [a for a in archs if str(a) not in have]
    if not todo:
        return {str(a): have[str(a)] for a in archs}
    scale = {"channels": 8, "cells_per_stage": 1}

    class _Train(tr.TrainRanker):
        def module(self, *a, **k):
            self.last = super().module(*a, **k)
            return self.last

    ctx = RunContext(dataset="cifar10", data_dir=str(SHARED / "cifar10"), device="cpu", seed=0)
    trainer = _Train(space, ctx, epochs=args.trained_zs_epochs, batch_size=256, **scale)
    trained: dict[str, dict] = {}
    z_init = make_zero_shot(space, args, seed=0, build_kwargs=scale)
    z_tr = make_zero_shot(space, args, seed=0, build_kwargs=scale, weights_from=lambda a, m: trained[str(a)])
    with append_score_cache(cache) as (w, fh):
        for i, a in enumerate(todo):
            (ev,) = trainer.evaluate([a])
            trained[str(a)] = {k: v.detach().clone() for k, v in trainer.last.model.state_dict().items()}
            (e0,) = z_init.evaluate([a])
            (e1,) = z_tr.evaluate([a])
            vals = {"trained_val_acc": ev.score, **{f"init:{m}": e0.info["measures"][m] for m in ZS_MEASURES},
                    **{f"trained:{m}": e1.info["measures"][m] for m in ZS_MEASURES}}
            for k, v in vals.items():
                have.setdefault(str(a), {})[k] = float(v)
                w.writerow([str(a), k, 0, repr(float(v)), "", "", ""])
            fh.flush()
            del trained[str(a)]
            if (i + 1) % 10 == 0:
                log(f"trained zero-shot {i + 1}/{len(todo)}")
    return {str(a): have[str(a)] for a in archs}


# --------------------------------------------------------------------------
# one-shot
# --------------------------------------------------------------------------
def oneshot_rows(space, archs, args, workdir: Path) -> tuple[list[ScoreRow], dict]:
    """Train ``--oneshot-seeds`` reduced supernets, score ``archs`` at each checkpoint."""
    from nasrank.lightning_modules.supernet import train_supernet
    from nasrank.rankers.base import RunContext
    from nasrank.registry import RANKERS

    epochs = sorted({int(e) for e in args.oneshot_epochs.split(",") if e.strip()})
    last = epochs[-1]
    save = sorted({*epochs[:-1], last - 1} - {0})
    rows: list[ScoreRow] = []
    info: dict[str, Any] = {"epochs": epochs, "extra_checkpoint": last - 1, "seeds": args.oneshot_seeds,
                            "cells": len(archs), "channels": args.oneshot_channels,
                            "cells_per_stage": args.oneshot_cells_per_stage, "batch_size": args.oneshot_batch_size,
                            "image_size": args.oneshot_image_size,
                            "sampling": args.oneshot_sampling, "metric": args.oneshot_metric,
                            "val_images": args.oneshot_val_images, "lr": args.oneshot_lr,
                            "data": "shared CIFAR-10 subset (5 x 1,017 images), 10% held out", "train": []}
    ctx = RunContext(dataset="cifar10", data_dir=str(SHARED / "cifar10"), device="cpu", seed=0)
    for seed in range(args.oneshot_seeds):
        out = workdir / f"supernet-s{seed}.ckpt"
        summ = train_supernet(out, data_dir=str(SHARED / "cifar10"), epochs=last, device="cpu", save_epochs=save,
                              sampling=args.oneshot_sampling, channels=args.oneshot_channels,
                              cells_per_stage=args.oneshot_cells_per_stage, batch_size=args.oneshot_batch_size,
                              seed=seed, lr=args.oneshot_lr, image_size=args.oneshot_image_size)
        info["train"].append({k: summ.get(k) for k in ("train_seconds", "global_step", "epochs")} | {"seed": seed})
        log(f"supernet seed {seed}: {summ.get('train_seconds'):.0f} s training")
        ckpts = {last: out, **{e: out.with_name(f"{out.stem}-ep{e}{out.suffix}") for e in save}}
        for ep, path in sorted(ckpts.items()):
            r = RANKERS.create("oneshot", space, ctx, supernet=str(path), metric=args.oneshot_metric,
                               val_images=args.oneshot_val_images, batch_size=args.oneshot_val_images,
                               bn_recalibrate_batches=0, charge_training=False)
            scores = [e.score for e in r.evaluate(archs)]
            rows += rows_for(f"oneshot@ep{ep}", archs, scores, repeat=seed, variant="seed")
            log(f"oneshot seed {seed} epoch {ep} scored {len(archs)} cells")
    return rows, info


# --------------------------------------------------------------------------
# cache of computed scores (long format, readable by `nasrank analyze`)
# --------------------------------------------------------------------------
ZSVAR = "zsvar:"


def write_scores(path: Path, rows: list[ScoreRow], space) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["arch", "ranker", "repeat", "score", "seconds", "device_seconds", "true_acc", "variant"])
        for r in rows:
            w.writerow([space.to_string(r.arch), r.ranker, r.repeat, repr(r.score), "", "", "", r.variant])
    log(f"wrote {path}")


def read_cached(path: Path, space) -> tuple[list[ScoreRow], list[ScoreRow], dict]:
    from nasrank.experiments.analyze import read_scores

    rows = read_scores(path, space)
    meta = json.loads(path.with_suffix(".meta.json").read_text()) if path.with_suffix(".meta.json").is_file() else {}
    zs = [ScoreRow(r.arch, r.ranker[len(ZSVAR):], r.repeat, r.score, None, r.variant, r.where)
          for r in rows if r.ranker.startswith(ZSVAR)]
    os_ = [r for r in rows if r.ranker.startswith("oneshot@")]
    return zs, os_, meta


# --------------------------------------------------------------------------
# findings
# --------------------------------------------------------------------------
def findings(res: dict) -> list[str]:
    out: list[str] = []
    zs = res["sample"].get("zero_shot_same_cells")
    if zs:
        base = max(zs["params"]["kendall_tau"], zs["flops"]["kendall_tau"])
        beat = [m for m in ZS_MEASURES if m in zs and zs[m]["kendall_tau"] is not None and zs[m]["kendall_tau"] > base]
        nums = ", ".join(f"{m} {zs[m]['kendall_tau']:.3f}" for m in ZS_MEASURES if m in zs)
        verdict = "confirmed" if len(beat) < len([m for m in ZS_MEASURES if m in zs]) / 2 else "not confirmed"
        out.append(f"ZSEs rarely beat #params/#FLOPs: {verdict} on {zs['n_cells']} cells: Kendall tau {nums} vs "
                   f"params {zs['params']['kendall_tau']:.3f} / flops {zs['flops']['kendall_tau']:.3f}; "
                   f"{len(beat)} of {len([m for m in ZS_MEASURES if m in zs])} beat the better baseline "
                   f"({', '.join(beat) or 'none'})")
    else:
        out.append("ZSEs rarely beat #params/#FLOPs: not run (no zero-shot scores)")
    os_ = res.get("oneshot")
    if os_ and os_.get("rankers"):
        eps = sorted(os_["rankers"], key=lambda k: int(k.split("@ep")[1]))
        first, lastk = os_["rankers"][eps[0]], os_["rankers"][eps[-1]]
        lo_first = first["complexity_bias"]["bins"][0]["rank_shift"]
        lo_last = lastk["complexity_bias"]["bins"][0]["rank_shift"]
        ok = lo_first > 0.05 and lo_first > lo_last
        out.append(f"OSE over-rates simple archs early: {'confirmed' if ok else 'not confirmed'}: rank shift of the "
                   f"lowest-params bin {lo_first:+.3f} at {eps[0]} vs {lo_last:+.3f} at {eps[-1]} "
                   f"(Kendall tau {first['kendall_tau']:.3f} -> {lastk['kendall_tau']:.3f}; reduced-scale supernet, "
                   f"{os_['setup']['cells']} cells)")
        var = lastk.get("variance", {}).get("seed")
        ck = os_.get("checkpoint_variance")
        if var:
            big = var["mean_kendall_tau"] is not None and var["mean_kendall_tau"] < 0.8
            ck_txt = "" if not ck else (f"; consecutive checkpoints ep{ck['epochs'][0]}/ep{ck['epochs'][1]} tau "
                                        f"{ck['mean_kendall_tau']:.3f}")
            zv = (res.get("zero_shot_variance") or {}).get("rankers", {})
            zs_txt = "; ".join(f"{m} {v2}: {d['mean_kendall_tau']:.3f}" for m, per in zv.items() if per
                               for v2, d in per.items())
            out.append(f"OSE variance is large: {'confirmed' if big else 'not confirmed'}: Kendall tau between "
                       f"supernet seeds {var['mean_kendall_tau']:.3f} (threshold 0.8), median per-arch std / spread "
                       f"of rank percentiles {var['median_relative_std_ranks']:.2f}{ck_txt}"
                       + (f"; for comparison, ZSE taus between repeats ({zs_txt})" if zs_txt else ""))
        else:
            out.append("OSE variance is large: not run (one supernet seed)")
    else:
        out.append("OSE over-rates simple archs early: not run (no one-shot scores)")
        out.append("OSE variance is large: not run (no one-shot scores)")
    zt = res.get("zero_shot_trained")
    if zt:
        kt = zt["kendall_tau"]
        gains = {m: kt[f"trained:{m}"] - kt[f"init:{m}"] for m in ZS_MEASURES
                 if kt.get(f"trained:{m}") is not None and kt.get(f"init:{m}") is not None}
        helped = [m for m, g in gains.items() if g > 0.05]
        nums = ", ".join(f"{m} {kt[f'init:{m}']:.3f} -> {kt[f'trained:{m}']:.3f}" for m in gains)
        out.append(f"training does not help ZSEs: {'confirmed' if not helped else 'not confirmed'} on "
                   f"{zt['n_cells']} cells after {zt['epochs']} epochs at reduced scale: Kendall tau {nums} "
                   f"(gain > 0.05 for: {', '.join(helped) or 'none'}; the trained networks' own val acc "
                   f"{kt['trained_val_acc']:.3f}, params {kt['params']:.3f})")
    else:
        out.append("training does not help ZSEs: not run (--trained-zs-cells 0: training each network here took "
                   "about 4 min per cell on the shared CPU)")
    return out


# --------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--bins", type=int, default=5)
    ap.add_argument("--zero-shot-json", default=str(RESULTS / "zero_shot_nb201.json"))
    ap.add_argument("--zs-cells", type=int, default=400,
                    help="zero-shot cells wanted: those of the zero-shot json, completed here up to this number "
                         "(0 = only the json's)")
    ap.add_argument("--zs-batch-size", type=int, default=128)
    ap.add_argument("--zs-variance-cells", type=int, default=30, help="0 = skip the zero-shot variance runs")
    ap.add_argument("--oneshot-epochs", default="3,8,16",
                    help="checkpoint epochs; the last is the run length (empty = no one-shot)")
    ap.add_argument("--oneshot-seeds", type=int, default=2)
    ap.add_argument("--oneshot-cells", type=int, default=1000)
    ap.add_argument("--oneshot-channels", type=int, default=8)
    ap.add_argument("--oneshot-cells-per-stage", type=int, default=1)
    ap.add_argument("--oneshot-batch-size", type=int, default=128)
    ap.add_argument("--oneshot-image-size", type=int, default=16)
    ap.add_argument("--oneshot-lr", type=float, default=0.05)
    ap.add_argument("--oneshot-sampling", default="uniform")
    ap.add_argument("--oneshot-metric", default="acc")
    ap.add_argument("--oneshot-val-images", type=int, default=192, help="held-out images scored per cell")
    ap.add_argument("--reuse-scores", action="store_true",
                    help="take the one-shot and zero-shot-variance scores from RESULTS/<name>_scores.csv "
                         "(written by an earlier run) instead of computing them")
    ap.add_argument("--trained-zs-cells", type=int, default=0,
                    help="cells scored by ZSEs before and after regular training (0 = skip; about 4 min per cell "
                         "on the shared 2-core CPU, so off by default)")
    ap.add_argument("--trained-zs-epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--name", default=NAME, help="result name (JSON and png prefix under benchmarks/results)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    space = Nb201Space()
    table = SHARED / "nb201" / "nb201_cifar10.csv"
    bench = load_benchmark(f"csv:{table}", space)
    archs = sample_archs(space, args.cells)
    feats = {space.key(a): space.features(a) for a in space.all_archs()}
    log(f"features of all {len(feats)} cells")

    # params / flops from the features, checked against the registered rankers
    from nasrank.rankers.base import RunContext
    from nasrank.registry import RANKERS

    for name in ("params", "flops"):
        r = RANKERS.create(name, space, RunContext())
        got = r.score(archs[:10])
        assert got == [feats[space.key(a)][name] for a in archs[:10]], name
    result: dict[str, Any] = {"protocol": {
        "truth": "official CIFAR-10 200-epoch test accuracy (nb201_cifar10.csv)",
        "sample": f"np.random.default_rng(0).choice(15625, {args.cells}, replace=False) over the official index order",
        "bins": args.bins, "by": "params",
        "score_of_an_arch": "mean over its finite repeats (nasrank.experiments.analyze.analyze_rows)"}}
    base_rows = [r for n in ("params", "flops") for r in rows_for(n, archs, [feats[space.key(a)][n] for a in archs])]

    # zero-shot
    zs, zs_cells, zs_src = zero_shot_scores(space, archs, args)
    zs_rows = [r for m, s in zs.items() for r in rows_for(m, zs_cells, s)]
    sample = analyze_rows(base_rows + zs_rows, space, bench, bins=args.bins, features=feats)
    result["sample"] = {"n_cells": len(archs), "zero_shot": {**zs_src, "n_cells": len(zs_cells)}, "rankers": sample}
    if zs_cells:
        same = analyze_rows([r for n in ("params", "flops") for r in rows_for(n, zs_cells, [feats[space.key(a)][n]
                                                                                             for a in zs_cells])]
                            + zs_rows, space, bench, bins=args.bins, features=feats)
        result["sample"]["zero_shot_same_cells"] = {
            "n_cells": len(zs_cells), **same_cells_table(same),
            "complexity_bias": {m: same[m]["complexity_bias"] for m in ("params", "flops")}}
    log("sample analysed")

    # short training on NATS 0..999
    nats = SHARED / "nb201" / "nats_1000_cifar10_12ep_vs_200ep.csv"
    with nats.open() as fh:
        nrows = list(csv.DictReader(fh))
    n_archs = [space.from_string(r["arch"]) for r in nrows]
    short_rows = rows_for("train_12ep", n_archs, [float(r["test_acc_12ep"]) for r in nrows])
    short_rows += [r for n in ("params", "flops") for r in rows_for(n, n_archs, [feats[space.key(a)][n] for a in n_archs])]
    short = analyze_rows(short_rows, space, bench, bins=args.bins, features=feats)
    overlap = len({space.key(a) for a in n_archs} & {space.key(a) for a in archs})
    result["nats_0_999"] = {"n_cells": len(n_archs), "overlap_with_sample": overlap,
                            "note": "the 12-epoch record covers NATS indices 0..999 only, so train_12ep is analysed "
                                    "on those cells, beside params/flops on the same cells",
                            "rankers": short}
    log("short training analysed")

    cache = RESULTS / f"{args.name}_scores.csv"
    if args.reuse_scores:
        vrows, orows, meta = read_cached(cache, space)
        setup = meta.get("oneshot_setup")
        log(f"reused {len(vrows)} zero-shot variance and {len(orows)} one-shot rows from {cache}")
    else:
        vrows = zero_shot_variance(space, archs, args) if args.zs_variance_cells > 0 else []
        orows, setup = [], None
        if args.oneshot_epochs:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                orows, setup = oneshot_rows(space, archs[:args.oneshot_cells], args, Path(tmp))
        if vrows or orows:
            write_scores(cache, [ScoreRow(r.arch, ZSVAR + r.ranker, r.repeat, r.score, None, r.variant, r.where)
                                 for r in vrows] + orows, space)
            cache.with_suffix(".meta.json").write_text(json.dumps({"oneshot_setup": setup,
                                                                   "zs_variance_cells": args.zs_variance_cells,
                                                                   "zs_batch_size": args.zs_batch_size}, indent=1))

    # zero-shot variance
    if vrows:
        var = analyze_rows(vrows, space, bench, bins=args.bins, features=feats)
        result["zero_shot_variance"] = {"n_cells": len({space.key(r.arch) for r in vrows}),
                                        "variants": {"seed": "init seeds 0,1,2 with the seed-0 data batch",
                                                     "batch": "data batches of seeds 0,1,2 with the seed-0 init"},
                                        "rankers": {k: v.get("variance") for k, v in var.items()}}

    # one-shot
    if orows:
        epochs = setup["epochs"]
        os_cells = list({space.key(r.arch): r.arch for r in orows}.values())
        main_rows = [r for r in orows if int(r.ranker.split("@ep")[1]) in epochs]
        res_os = analyze_rows(main_rows, space, bench, bins=args.bins, features=feats)
        ck = None
        last = epochs[-1]
        pair = [r for r in orows if r.ranker in (f"oneshot@ep{last - 1}", f"oneshot@ep{last}") and r.repeat == 0]
        if len({r.ranker for r in pair}) == 2:
            a = np.array([r.score for r in pair if r.ranker == f"oneshot@ep{last - 1}"])
            b = np.array([r.score for r in pair if r.ranker == f"oneshot@ep{last}"])
            ck = {"epochs": [last - 1, last], **repeat_consistency(np.vstack([a, b]), [last - 1, last])}
        same = analyze_rows(main_rows + [r for n in ("params", "flops") for r in
                                         rows_for(n, os_cells, [feats[space.key(a)][n] for a in os_cells])],
                            space, bench, bins=args.bins, features=feats)
        result["oneshot"] = {"setup": setup, "rankers": res_os, "checkpoint_variance": ck,
                             "same_cells": same_cells_table(same)}
        log("one-shot analysed")

    # zero-shot before / after training
    if args.trained_zs_cells > 0:
        cells = archs[:args.trained_zs_cells]
        got = zero_shot_trained(space, cells, args)
        truth = np.array([bench.true_accuracy(a) for a in cells])
        block: dict[str, Any] = {"n_cells": len(cells), "epochs": args.trained_zs_epochs,
                                 "scale": "C=8, 1 cell per stage, 32x32, shared CIFAR-10 subset, batch 256, lr 0.1",
                                 "kendall_tau": {}}
        for key in ["trained_val_acc", *[f"{p}:{m}" for m in ZS_MEASURES for p in ("init", "trained")]]:
            v = np.array([got[str(a)][key] for a in cells])
            block["kendall_tau"][key] = kendall_tau(v, truth)
        block["kendall_tau"]["params"] = kendall_tau([feats[space.key(a)]["params"] for a in cells], truth)
        result["zero_shot_trained"] = block

    result["findings"] = findings(result)
    for line in result["findings"]:
        print("-", line)

    from estimator_analysis_plots import plot_results

    plot_results(result, args.name)
    result["wall_s_total"] = time.perf_counter() - T0
    from nasrank.experiments.analyze import nan_to_none as _nan_to_none

    write_result(args.name, _nan_to_none(result), seeds=list(range(args.oneshot_seeds)),
                 sample=f"the fixed {args.cells}-cell NB201 sample; zero-shot on its first {args.zs_cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
