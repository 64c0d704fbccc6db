"""Search: one searcher with one ranker under a budget (``nasrank search``)."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError
from nasrank.experiments.build import open_store, random_search_warning, write_json
from nasrank.experiments.config import SearchConfig, build_ranker
from nasrank.runtime.progress import run_search

SUMMARY_FILE = "summary.json"


def search(space, context, config: SearchConfig) -> tuple[dict[str, Any], Any]:
    """Run ``config.searcher`` with ``config.ranker`` until the budget is spent; return ``(summary, history)``.

    With ``config.output.folder`` the history goes to ``OUT/history.jsonl`` (``config.resume``
    continues it), ``config.record`` (if given) to ``OUT/config.yaml`` and the summary to
    ``OUT/summary.json`` (``config.plot``: ``OUT/trajectory.png`` in each of the output's formats)
    and, with logs, training logs to ``OUT/logs``. A benchmark that covers less of the space
    than it has is named once on stderr.
    """
    from nasrank.runs.history import History
    from nasrank.registry import SEARCHERS
    from nasrank.searchers.base import Budget
    from nasrank.rankers.stored import with_store

    budget = Budget(queries=config.budget_queries, seconds=config.budget_seconds)
    output = config.output.folder
    if output:  # no link in the run folder leads a write (state, logs, history) elsewhere
        from nasrank.runs.atomic import refuse_links_under
        from nasrank.runs.trust import LEGACY_RUN_CONFIG, RUN_CONFIG

        refuse_links_under(output, allow=(RUN_CONFIG, LEGACY_RUN_CONFIG))
    if context.benchmark is not None:  # a search samples the space, not the table
        context.benchmark.warn_coverage(context.dataset)
    if output and config.output.logs and context.log_dir is None:
        context.log_dir = Path(output) / "logs"
    rk = with_store(build_ranker(config.ranker, space, context, config.scale), open_store(config.output.store))
    ex, _ = config.executor.make()
    searcher_name, s_cfg = config.searcher, dict(config.searcher_options)
    if ex is not None:  # random: batches of workers; evolution: evolution_async
        from nasrank.execution.ray_executor import searcher_for_executor

        searcher_name, s_cfg = searcher_for_executor(searcher_name, s_cfg,
                                                     getattr(ex, "workers", config.executor.workers))
    s = SEARCHERS.create(searcher_name, space, rk, seed=context.seed, executor=ex, **s_cfg)
    warning = random_search_warning(s, budget.queries)
    if warning:
        print(f"nasrank: warning: {warning}", file=sys.stderr)
    out = Path(output) if output else None
    history = History(out, resume=config.resume)
    if out is not None and config.record is not None:
        from nasrank.runs.trust import RUN_CONFIG, write_run_config

        write_run_config(out, RUN_CONFIG, "search", config.record)
    try:
        history = run_search(s, budget, history, quiet=config.output.quiet)  # nasrank.runtime.progress
    finally:
        history.sync()  # the lines not yet fsynced (History.SYNC_SECONDS), also when interrupted
    ranker = config.ranker.label
    summary = summarize(history, space, context, searcher_name, ranker)  # e.g. evolution_async with ray
    if getattr(s, "stopped_early", None):
        summary["stopped_early"] = s.stopped_early
        print(f"nasrank: warning: {s.stopped_early}", file=sys.stderr)
    summary["ranker_options"] = rk.config()  # as resolved: defaults, scale, --ranker-cfg
    warnings = [w for w in (warning, _missed_warning(ranker, history)) if w]
    if warnings:
        summary["warnings"] = warnings
    if hasattr(rk, "stats"):
        summary["store"] = rk.stats()
    if out is not None:
        write_json(out / SUMMARY_FILE, summary)
        if config.plot:
            from nasrank.evaluation.captions import caption
            from nasrank.evaluation.plots import plot_trajectories

            fig = plot_trajectories([(f"{searcher_name}+{ranker}", history)], out / "trajectory.png",
                                    summary.get("optimum_true_acc"), formats=config.output.formats,
                                    title=f"{searcher_name} + {ranker} on {space.registry_name}",
                                    measured_on=summary["provenance"]["device_used"], caption=caption(
                                        len(history), "evaluations", summary["benchmark"], context.dataset,
                                        config.scale.given()))
            if fig is None:
                print("no trajectory figure: no evaluated architecture has a true accuracy (no benchmark?)")
    history.close()  # fsync the rest and release the run folder (the caller keeps the records)
    return summary, history


def _missed_warning(label: str, history) -> str | None:
    """A threshold ranker that missed its threshold on more than 10% of the candidates (printed)."""
    from nasrank.experiments.threshold_warnings import missed_warning
    from nasrank.runs.outcomes import outcome_counts

    records = list(history)
    text = missed_warning(label, {"n_evaluations": len(records), **outcome_counts(records).as_counts()})
    if text:
        print(f"nasrank: warning: {text}", file=sys.stderr)
    return text


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
            out["benchmark_size"] = bench.size(context.dataset) if hasattr(bench, "size") else len(bench.archs(context.dataset))
        except NasrankError:
            pass
    from nasrank.runs.provenance import provenance

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
