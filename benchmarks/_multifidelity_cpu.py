"""Part ``cpu`` of ``search_multifidelity.py``: real training at the README's CPU scale, a pilot.

Scale: NB201 cells at C=8, one cell per stage, 16-pixel images, the shared CIFAR-10 subset
(4,577 training / 508 held-out images), batch 128, one thread, ``--device cpu``.

**Cost is this process's CPU seconds** per evaluation (:class:`CpuCharged` replaces the charged
wall seconds, kept in ``info["wall_seconds"]``): on the shared 2-core machine wall time measures
the other jobs (as in ``fear_vs_training.py``). Every method gets the same search budget of CPU
seconds (checked after each evaluation, so a run overshoots by at most one evaluation) and the
same seeds; within a seed every searcher draws the same stream of random cells (same generator).

* ``RS+fear``: random search, ``fear`` with the CPU preset of ``fear_vs_training.py``
  (threshold 0.3, stage 2 on the last cell for 10 epochs, rejection at 4x);
* ``RS+train9``: random search, ``train`` for 9 epochs, scored by the strongest protocol of the FEAR
  benchmark's calibration (``train_eval_neg_loss``: −loss on 2,048 training images, no augmentation);
* ``SH+train``: ``sh`` with ``train`` (cosine over 9 epochs), rungs 1, 3, 9 epochs, eta 3, n 9;
* ``HB+train``: ``hyperband`` with the same ``train`` and rungs.

Regret: NB201's best 200-epoch CIFAR-10 test accuracy (94.37, the official table) minus the
returned cell's. Histories go to ``--out`` (default /tmp/nasrank_multifidelity_cpu), one folder
per seed and method; a finished run (its summary.json exists) is not run again.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from _common import SHARED  # noqa: E402
import _multifidelity_stats as stats  # noqa: E402

SCALE = {"channels": 8, "cells_per_stage": 1, "image_size": 16, "train_fraction": 1.0, "batch_size": 128}
FEAR = {"threshold": 0.3, "check_every_steps": 4, "tail_cells": 1, "stage2_epochs": 10, "stage2_batch_size": 128,
        "max_stage1_epochs": 10, "reject_ratio": 4.0, "reject_by": "steps", "schedule_epochs": 200}
#: the strongest protocol for short training, chosen on the FEAR benchmark's calibration seeds (100-101)
#: for train5/10/20 (fear_vs_training_seeds.json: calibration.choice)
TRAIN_SCORE = "train_eval_neg_loss"
#: label -> (searcher, searcher options, ranker, ranker options)
METHODS = {
    "RS+fear": ("random", {}, "fear", FEAR),
    "RS+train9": ("random", {}, "train", {"epochs": 9, "score": TRAIN_SCORE}),
    "SH+train": ("sh", {"eta": 3, "n": 9}, "train", {"epochs": 9, "score": TRAIN_SCORE}),
    "HB+train": ("hyperband", {"eta": 3}, "train", {"epochs": 9, "score": TRAIN_SCORE}),
}
BUDGET_SECONDS = 50.0
CHECKPOINTS = (10.0, 20.0, 30.0, 40.0, 50.0)
OUT = Path("/tmp/nasrank_multifidelity_cpu")


class CpuCharged:
    """A ranker proxy that charges each evaluation this process's CPU seconds (wall seconds kept in info)."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, item):
        if item == "inner" or item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.inner, item)

    @staticmethod
    def _charge(ev, cpu: float):
        from nasrank.rankers.base import Evaluation

        return Evaluation(ev.score, cpu, cpu, {**ev.info, "wall_seconds": ev.seconds})

    def evaluate(self, archs, on_result=None):
        out = []
        for a in archs:
            c0 = time.process_time()
            ev = self.inner.evaluate([a])[0]
            out.append(self._charge(ev, time.process_time() - c0))
        return out

    def evaluate_at(self, arch, budget, start=0):
        c0 = time.process_time()
        ev = self.inner.evaluate_at(arch, budget, start)
        return self._charge(ev, time.process_time() - c0)


def _run_one(seed: int, label: str, out: Path) -> None:
    from nasrank.experiments.build import make_context, make_ranker, make_space
    from nasrank.runs.history import History
    from nasrank.registry import SEARCHERS
    from nasrank.searchers.base import Budget

    searcher, s_cfg, ranker, r_cfg = METHODS[label]
    folder = out / f"seed{seed}" / label
    if (folder / "done.json").exists():
        return
    space = make_space("nb201", {})
    ctx = make_context(space, benchmark=f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", dataset="cifar10",
                       data_dir=str(SHARED / "cifar10"), device="cpu", seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    resume = (folder / "history.jsonl").exists() and (folder / "history.jsonl").stat().st_size > 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    rk = CpuCharged(make_ranker(ranker, space, ctx, {**SCALE, **r_cfg}))
    s = SEARCHERS.create(searcher, space, rk, seed=seed, **s_cfg)
    s.run(Budget(seconds=BUDGET_SECONDS), History(folder, resume=resume)).close()
    done = {"process_cpu_seconds": time.process_time() - cpu0, "wall_seconds_job": time.perf_counter() - t0,
            "loadavg_end": list(__import__("os").getloadavg())}
    (folder / "done.json").write_text(json.dumps(done))
    print(f"done seed {seed} {label}: {done}", flush=True)


def run_all(seeds: list[int], out: Path = OUT) -> None:
    """Run every seed's methods, seed by seed (so that an early stop leaves whole seeds)."""
    for seed in seeds:
        for label in METHODS:
            _run_one(seed, label, out)


def _within_budget(h):
    """The run as a ``BUDGET_SECONDS`` budget would have stopped it (a run made with a larger budget,
    seed 0's RS+fear at 120 s, is cut after its first evaluation that reaches the budget)."""
    kept = []
    for r in h.records:
        kept.append(r)
        if r.cumulative_seconds >= BUDGET_SECONDS:
            break
    h.records = kept
    return h


def _regret_at(h, optimum: float, c: float) -> float | None:
    """Regret after ``c`` CPU seconds; None when the run has no answer yet or (unfinished) never got that far."""
    if h.total_seconds < c and not h.finished:
        return None
    return stats.regret_at(h.trajectory(), optimum, c)


def _load(out: Path, seed: int, label: str):
    from nasrank.runs.history import History

    folder = out / f"seed{seed}" / label
    if not (folder / "history.jsonl").exists():
        return None, None
    h = _within_budget(History.load(folder))
    done = json.loads((folder / "done.json").read_text()) if (folder / "done.json").exists() else None
    h.finished = done is not None or h.total_seconds >= BUDGET_SECONDS
    return h, done


def run_cpu(seeds: list[int], out: Path = OUT) -> dict:
    """Regret at the checkpoints, per seed and over seeds, of the runs of ``seeds`` (an unfinished run
    counts up to the cost it reached; ``finished`` says which ones are)."""
    optimum = 94.37333333333333  # NB201 CIFAR-10, index 6111 (../shared/data/README.md)
    seeds = [s for s in seeds if any(_load(out, s, m)[0] is not None for m in METHODS)]
    result: dict = {"seeds": seeds, "pilot": True,
                    "notes": ["the budget was cut from 120 to 80, then to 50 CPU s while the runs went (load 12-14 "
                              "on 2 cores gave each run ~0.1 core); runs begun with a larger budget (seed 0's RS+fear "
                              "at 120 s; RS+train9 on seed 0 and RS+fear on seeds 1, 2 at 80 s, resumed) are read up "
                              "to their first evaluation that reaches 50 s; the process_cpu_seconds of a resumed run "
                              "covers only its resume"], "budget_seconds": BUDGET_SECONDS,
                    "scale": SCALE, "optimum": optimum, "checkpoints_seconds": list(CHECKPOINTS), "methods": {},
                    "cost": "this process's CPU seconds per evaluation (wall seconds in each record's info.wall_seconds)"}
    for label in METHODS:
        runs, loaded = [], {s: _load(out, s, label) for s in seeds}
        loaded = {s: v for s, v in loaded.items() if v[0] is not None}  # a method not begun on a seed: no run
        for seed, (h, done) in loaded.items():
            best = h.best()
            runs.append({"seed": seed, "finished": h.finished, "n_evaluations": len(h),
                         "total_cost_seconds": h.total_seconds,
                         "final_regret": None if best is None or best.true_acc is None else optimum - best.true_acc,
                         "best_arch": None if best is None else best.arch,
                         "fidelities": sorted({r.fidelity for r in h if r.fidelity is not None}),
                         "trajectory": [[c, None if a is None else optimum - a] for c, a in h.trajectory()],
                         **(done or {})})
            print(f"cpu {label:10s} seed {seed}: {len(h)} evals, cost {h.total_seconds:.0f}s, "
                  f"regret {runs[-1]['final_regret']}, finished {h.finished}", flush=True)
        searcher, s_cfg, ranker, r_cfg = METHODS[label]
        result["methods"][label] = {
            "searcher": searcher, "searcher_cfg": s_cfg, "ranker": ranker, "ranker_cfg": r_cfg, "runs": runs,
            "regret_at_seconds": {str(int(c)): stats.summarize_regrets(
                [_regret_at(loaded[s][0], optimum, c) if s in loaded else None for s in seeds]) for c in CHECKPOINTS}}
    result["winners"] = {str(int(c)): stats.winner({m: [None if _load(out, s, m)[0] is None
                                                        else _regret_at(_load(out, s, m)[0], optimum, c) for s in seeds]
                                                    for m in METHODS}) for c in CHECKPOINTS}
    result["winners_note"] = ("a method is ranked at a checkpoint only if every seed's run reached it; "
                              "n_no_answer counts the seeds without a value (no answer yet, or not run that far)")
    return result
