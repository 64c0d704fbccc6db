"""Wall-clock speed-up of the Ray executor over the serial one, for the same random search.

The same random search (seed, query budget, ``batch_size = workers``) runs with
a ranker that does real work per architecture (default: ``flops`` of the full
NB201 CIFAR-10 network, C=16 N=5, ~0.3-0.6 s each on one core), first with the
serial executor, then with ``RayExecutor(workers)``. Reported:

* ``ratio_steady``: serial wall / Ray wall, Ray already started and its workers
  warm (torch imported, the ranker shipped): the speed-up a long search sees;
* ``ratio_end_to_end``: the same with Ray's start-up and warm-up included;
* ``identical``: the two histories hold the same architectures and scores in the
  same order (the ranker is deterministic), hence the same best architecture;
* ``store``: when ``nasrank.store`` exists, the result store's overhead per
  evaluation (lookup miss + insert, and a cached lookup), measured around a
  ranker that costs nothing, and the Ray search rerun with a fresh store.

Target: ratio_steady >= 1.7 with 2 workers on 2 cores. The measurement is only
meaningful on a quiet machine: ``loadavg`` before and after is recorded, and a
load above the core count depresses the ratio. Rerun on a quiet machine with

    .venv/bin/python benchmarks/parallel_speedup.py [--workers 2] [--queries 40] [--ranker flops] [--name NAME]

Each ranker's result is its own file: ``parallel_speedup.json`` (jacob_cov) and
``parallel_speedup_flops.json`` (``--ranker flops --name parallel_speedup_flops``).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, write_result  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nasrank.rankers.base import Evaluation, Ranker, RunContext  # noqa: E402
from nasrank.registry import RANKERS, SEARCHERS  # noqa: E402
from nasrank.searchers import Budget  # noqa: E402
from nasrank.spaces.nb201 import Nb201Space  # noqa: E402


class FreeRanker(Ranker):
    """Costs nothing: isolates the store's own overhead."""

    def evaluate_one(self, arch):
        return Evaluation(float(arch.count("nor_conv_3x3")), 0.0, 0.0, {})


def make_ranker(name: str, space):
    if name not in RANKERS:
        try:  # zero-shot rankers register on import
            import nasrank.rankers.zero_shot  # noqa: F401
        except ImportError:
            pass
    ctx = RunContext(data_dir=str(SHARED / "cifar10"), device="cpu", seed=0)
    return RANKERS.create(name, space, ctx)


def search(space, ranker, seed: int, queries: int, workers: int, executor=None):
    t0 = time.perf_counter()
    h = SEARCHERS.create("random", space, ranker, seed=seed, executor=executor,
                         batch_size=workers).run(Budget(queries=queries))
    return h, time.perf_counter() - t0


def store_overhead(space, n: int) -> dict:
    """Seconds per evaluation that the store adds (fresh: miss + insert; cached: hit), zero-cost ranker."""
    from nasrank.rankers.stored import with_store
    from nasrank.store import ResultStore

    archs = space.sample_many(n, np.random.default_rng(123))
    plain = FreeRanker(space)
    t0 = time.perf_counter()
    for a in archs:
        plain.evaluate([a])
    t_plain = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        stored = with_store(FreeRanker(space), ResultStore(Path(d) / "s.sqlite"))
        t0 = time.perf_counter()
        for a in archs:
            stored.evaluate([a])
        t_fresh = time.perf_counter() - t0
        t0 = time.perf_counter()
        for a in archs:
            stored.evaluate([a])
        t_cached = time.perf_counter() - t0
        stored.store.close()
    return {"n": n, "fresh_seconds_per_eval": (t_fresh - t_plain) / n,
            "cached_seconds_per_eval": (t_cached - t_plain) / n, "plain_seconds_per_eval": t_plain / n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--ranker", default="flops", help="flops (default) | synflow | jacob_cov | ...")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--serial-threads", type=int, default=1, help="torch threads of the serial run (workers use 1)")
    ap.add_argument("--no-store", action="store_true", help="skip the store measurements")
    ap.add_argument("--name", default="parallel_speedup", help="result file benchmarks/results/NAME.json")
    args = ap.parse_args()

    from nasrank.execution.ray_executor import RayExecutor

    load_before = os.getloadavg()
    torch.set_num_threads(args.serial_threads)
    space = Nb201Space()
    ranker = make_ranker(args.ranker, space)
    ranker.evaluate(space.sample_many(1, np.random.default_rng(999)))  # warm the serial path the same way

    h_serial, t_serial = search(space, ranker, args.seed, args.queries, args.workers)
    print(f"serial: {len(h_serial)} evaluations in {t_serial:.1f} s")

    t0 = time.perf_counter()
    ex = RayExecutor(workers=args.workers).start()
    t_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex.evaluate(ranker, space.sample_many(args.workers, np.random.default_rng(998)))  # warm-up: import, ship
    t_warm = time.perf_counter() - t0
    h_ray, t_ray = search(space, ranker, args.seed, args.queries, args.workers, executor=ex)
    print(f"ray ({args.workers} workers): {len(h_ray)} evaluations in {t_ray:.1f} s "
          f"(+ start {t_start:.1f} s, warm-up {t_warm:.1f} s)")

    same = [(r.arch, r.score) for r in h_serial] == [(r.arch, r.score) for r in h_ray]
    out: dict = {
        "ranker": args.ranker, "space": "nb201 (C=16, N=5, CIFAR-10 network)", "queries": args.queries,
        "workers": args.workers, "seed": args.seed, "serial_torch_threads": args.serial_threads,
        "serial_seconds": t_serial, "ray_seconds": t_ray, "ray_start_seconds": t_start,
        "ray_warmup_seconds": t_warm, "ratio_steady": t_serial / t_ray,
        "ratio_end_to_end": t_serial / (t_ray + t_start + t_warm), "target_ratio_steady": 1.7,
        "mean_ranker_seconds_serial": float(np.mean([r.seconds for r in h_serial])),
        "mean_ranker_seconds_ray": float(np.mean([r.seconds for r in h_ray])),
        "identical": same, "best_arch_serial": h_serial.best().arch, "best_arch_ray": h_ray.best().arch,
        "best_arch_identical": h_serial.best().arch == h_ray.best().arch,
    }
    if not args.no_store:
        try:
            from nasrank.rankers.stored import with_store
            from nasrank.store import ResultStore

            out["store"] = store_overhead(space, 200)
            with tempfile.TemporaryDirectory() as d:
                stored = with_store(ranker, ResultStore(Path(d) / "s.sqlite"))
                h_st, t_st = search(space, stored, args.seed, args.queries, args.workers, executor=ex)
                out["store"]["ray_seconds_with_store"] = t_st
                out["store"]["ray_with_store_identical"] = [(r.arch, r.score) for r in h_st] == \
                    [(r.arch, r.score) for r in h_ray]
        except ImportError as exc:
            out["store"] = {"skipped": f"nasrank.store not available ({exc})"}
    ex.close()
    out["loadavg_before"] = load_before
    out["loadavg_after"] = os.getloadavg()
    out["note"] = ("measured on a machine shared with other jobs: a load average above cpu_count depresses the "
                   "ratio; rerun on a quiet machine for the figure to quote")
    print(f"speed-up {out['ratio_steady']:.2f}x steady ({out['ratio_end_to_end']:.2f}x with Ray start-up); "
          f"identical histories: {same}; load {load_before[0]:.1f} -> {out['loadavg_after'][0]:.1f}")
    write_result(args.name, out, seeds=[args.seed],
                 sample=f"{args.queries} random-search queries on NB201, batches of {args.workers}")


if __name__ == "__main__":
    main()
