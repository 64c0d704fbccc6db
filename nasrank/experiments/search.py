"""Search: one searcher with one ranker under a budget (``nasrank search``)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from nasrank.errors import NasrankError
from nasrank.experiments.build import make_executor, make_ranker, open_store, write_json

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"


def scaled_cfg(ranker: str, cfg: dict[str, Any] | None, scale: dict[str, Any] | None) -> dict[str, Any]:
    """``cfg`` over the ``scale`` options the ranker takes (see :func:`nasrank.experiments.compare.ranker_cfg`)."""
    if not scale:
        return dict(cfg or {})
    from nasrank.experiments.compare import ranker_cfg

    return ranker_cfg(ranker, {ranker: dict(cfg or {})}, {}, {k: v for k, v in scale.items() if v is not None})


def search(space, context, ranker: str = "tabular", searcher: str = "random", *,
           ranker_cfg: dict[str, Any] | None = None, searcher_cfg: dict[str, Any] | None = None,
           budget_queries: int | None = None, budget_seconds: float | None = None,
           output: str | Path | None = None, resume: bool = False, store=None, executor: Any = "serial",
           workers: int = 2, ray_address: str | None = None, gpus_per_task: float = 1.0, plot: bool = False,
           quiet: bool = True, run_config: dict[str, Any] | None = None, formats: Sequence[str] = ("png",),
           logs: bool = True, scale: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    """Run ``searcher`` with ``ranker`` until the budget is spent; return ``(summary, history)``.

    With ``output`` the history goes to ``OUT/history.jsonl`` (``resume`` continues it),
    ``run_config`` (if given) to ``OUT/config.json`` and the summary to ``OUT/summary.json``
    (``plot``: ``OUT/trajectory.png`` in each of ``formats``) and, with ``logs``, training logs
    to ``OUT/logs``. ``store`` is a :class:`~nasrank.store.ResultStore`, a path to one, or None;
    ``executor="ray"`` runs ``workers`` evaluations at a time, each asking for ``gpus_per_task``
    GPUs where the cluster has them (an executor object is used as it is). A benchmark that covers
    less of the space than it has is named once on stderr.
    """
    from nasrank.history import History
    from nasrank.registry import SEARCHERS
    from nasrank.searchers.base import Budget
    from nasrank.rankers.stored import with_store

    budget = Budget(queries=budget_queries, seconds=budget_seconds)
    if context.benchmark is not None:  # a search samples the space, not the table
        context.benchmark.warn_coverage(context.dataset)
    if output and logs and context.log_dir is None:
        context.log_dir = Path(output) / "logs"
    rk = make_ranker(ranker, space, context, scaled_cfg(ranker, ranker_cfg, scale))
    rk = with_store(rk, open_store(store))
    ex, _ = make_executor(executor, workers, ray_address, gpus_per_task)
    searcher_name, s_cfg = searcher, dict(searcher_cfg or {})
    if ex is not None:  # random: batches of workers; evolution: evolution_async
        from nasrank.parallel import searcher_for_executor

        searcher_name, s_cfg = searcher_for_executor(searcher_name, s_cfg, getattr(ex, "workers", workers))
    s = SEARCHERS.create(searcher_name, space, rk, seed=context.seed, executor=ex, **s_cfg)
    out = Path(output) if output else None
    history = History(out, resume=resume)
    if out is not None and run_config is not None:
        write_json(out / CONFIG_FILE, run_config)
    history = _run_with_progress(s, budget, history, quiet=quiet)
    summary = summarize(history, space, context, searcher_name, ranker)  # e.g. evolution_async with ray
    if getattr(s, "stopped_early", None):
        summary["stopped_early"] = s.stopped_early
        print(f"nasrank: warning: {s.stopped_early}", file=sys.stderr)
    if hasattr(rk, "stats"):
        summary["store"] = rk.stats()
    if out is not None:
        write_json(out / SUMMARY_FILE, summary)
        if plot:
            from nasrank.evaluation.plots import plot_trajectories

            fig = plot_trajectories([(f"{searcher_name}+{ranker}", history)], out / "trajectory.png",
                                    summary.get("optimum_true_acc"), formats=formats,
                                    title=f"{searcher_name} + {ranker} on {space.registry_name}",
                                    measured_on=summary["provenance"]["device_used"])
            if fig is None:
                print("no trajectory figure: no evaluated architecture has a true accuracy (no benchmark?)")
    return summary, history


def _run_with_progress(searcher, budget, history, quiet: bool):
    if quiet:
        return searcher.run(budget, history)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    total = budget.queries if budget.queries is not None else budget.seconds
    with Progress(TextColumn("[bold]search"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
                  TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), transient=False) as prog:
        task = prog.add_task("search", total=total, best="-")

        def on_record(rec) -> None:
            best = searcher.history.best()
            done = len(searcher.history) if budget.queries is not None else rec.cumulative_seconds
            prog.update(task, completed=min(done, total), best=f"{best.score:.4g}" if best else "-")

        return searcher.run(budget, history, on_record=on_record)


def summarize(history, space, context, searcher: str, ranker: str) -> dict[str, Any]:
    """The summary of a search: its cost, its best architecture and, with a benchmark, how good that is."""
    best = history.best()
    bench = context.benchmark
    out: dict[str, Any] = {
        "space": space.registry_name, "searcher": searcher, "ranker": ranker, "seed": context.seed,
        "dataset": context.dataset, "benchmark": None if bench is None else bench.source,
        "n_evaluations": len(history), "n_invalid": sum(not r.valid for r in history),
        "total_cost_seconds": history.total_seconds,
        "device_seconds": sum(r.device_seconds for r in history),
        "best_arch": None if best is None else best.arch, "best_score": None if best is None else best.score,
        "best_true_acc": None if best is None else best.true_acc,
    }
    out.update(protocol(history, bench))
    if "torch" in sys.modules:  # provenance: the CPU threads the ranker ran with
        out["torch_threads"] = sys.modules["torch"].get_num_threads()
    if bench is not None and best is not None:
        try:
            opt_arch, opt_acc = bench.best(context.dataset)
            out["optimum_arch"] = space.to_string(opt_arch)
            out["optimum_true_acc"] = opt_acc
            out["true_rank_of_best"] = bench.true_rank(space.from_string(best.arch), context.dataset)
            out["benchmark_size"] = len(bench.archs(context.dataset))
        except NasrankError:
            pass
    from nasrank.provenance import provenance

    out["provenance"] = provenance(context.device)
    return out


def protocol(history, bench) -> dict[str, Any]:
    """What the search optimised, what is reported and what the cost is (read from the history's records)."""
    metrics = sorted({str(r.info["metric"]) for r in history if "metric" in r.info})
    costs = sorted({str(r.info["cost"]) for r in history if "cost" in r.info})
    out: dict[str, Any] = {}
    if metrics:
        out["search_metric"] = ", ".join(metrics)
    if bench is not None:
        out["reported"] = "true_acc: test accuracy after the benchmark's full schedule"
    if costs:
        out["cost"] = ", ".join(f"{c} training time" if c != "per query" else "fixed charge per query" for c in costs)
    return out
