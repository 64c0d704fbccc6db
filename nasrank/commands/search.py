"""``nasrank search``: run one searcher with one ranker under a budget."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nasrank.commands.common import (add_context_args, add_ranker_cfg_arg, add_space_args, make_context,
                                     make_ranker, make_space, parse_cfg, write_json)
from nasrank.errors import NasrankError
from nasrank.store import add_store_args, make_store, with_store

CONFIG_FILE = "config.json"
#: options that define a run; --resume reuses them from the run's config.json
RUN_OPTIONS = ("space", "space_cfg", "searcher", "searcher_cfg", "ranker", "ranker_cfg", "benchmark", "dataset",
               "data_dir", "device", "seed", "budget_queries", "budget_seconds", "executor", "workers", "ray_address")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="run an architecture search", description=__doc__)
    add_space_args(p)
    p.add_argument("--searcher", default="random", help="random | evolution | local | pkg.module:Class")
    p.add_argument("--searcher-cfg", action="append", metavar="KEY=VALUE",
                   help="searcher options, e.g. population_size=20,sample_size=5")
    p.add_argument("--ranker", default="tabular", help="ranker name (see `nasrank rankers`)")
    add_ranker_cfg_arg(p)
    add_context_args(p)
    p.add_argument("--budget-queries", type=int, default=None, help="number of new evaluations")
    p.add_argument("--budget-seconds", type=float, default=None, help="ranker cost in seconds")
    p.add_argument("--output", default=None, help="run directory (history.jsonl, summary.json)")
    p.add_argument("--resume", default=None, metavar="DIR", help="continue the interrupted run in DIR")
    p.add_argument("--plot", action="store_true", help="write DIR/trajectory.png")
    p.add_argument("--executor", default="serial",
                   help="serial | ray (random: batches of --workers; evolution runs as evolution_async)")
    p.add_argument("--workers", type=int, default=2, help="Ray workers (with --executor ray)")
    p.add_argument("--ray-address", default=None, help="address of an existing Ray cluster")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_store_args(p)
    p.set_defaults(func=run)


def _resume_args(args: argparse.Namespace) -> argparse.Namespace:
    cfg_path = Path(args.resume) / CONFIG_FILE
    if not cfg_path.is_file():
        raise NasrankError(f"cannot resume: {cfg_path} not found (was {args.resume} written by `nasrank search`?)")
    if not (Path(args.resume) / "history.jsonl").is_file():
        raise NasrankError(f"cannot resume: {Path(args.resume) / 'history.jsonl'} is missing (deleted?); "
                           "start a new run with --output instead")
    saved = json.loads(cfg_path.read_text())
    extend = {k for k in ("budget_queries", "budget_seconds") if getattr(args, k, None) is not None}
    for k in RUN_OPTIONS:
        if k in saved and k not in extend:  # a budget given with --resume extends the run
            setattr(args, k, saved[k])
    args.output = args.resume
    return args


def make_executor(args: argparse.Namespace):
    if args.executor == "serial":
        return None
    if args.executor == "ray":
        from nasrank.parallel import RayExecutor

        return RayExecutor(workers=args.workers, address=args.ray_address)
    raise NasrankError(f"unknown executor {args.executor!r}; expected serial or ray")


def run(args: argparse.Namespace) -> int:
    import nasrank.searchers  # noqa: F401  (registration)
    from nasrank.history import History
    from nasrank.registry import SEARCHERS
    from nasrank.searchers.base import Budget

    if args.resume:
        args = _resume_args(args)
    budget = Budget(queries=args.budget_queries, seconds=args.budget_seconds)
    space = make_space(args)
    context = make_context(args, space)
    ranker = make_ranker(args.ranker, space, context, parse_cfg(args.ranker_cfg, "--ranker-cfg"))
    ranker = with_store(ranker, make_store(args))
    executor = make_executor(args)
    searcher_name, searcher_cfg = args.searcher, parse_cfg(args.searcher_cfg, "--searcher-cfg")
    if executor is not None:  # random: batches of --workers; evolution: evolution_async
        from nasrank.parallel import searcher_for_executor

        searcher_name, searcher_cfg = searcher_for_executor(searcher_name, searcher_cfg, args.workers)
    searcher = SEARCHERS.create(searcher_name, space, ranker, seed=args.seed, executor=executor, **searcher_cfg)
    out = Path(args.output) if args.output else None
    history = History(out, resume=bool(args.resume))
    if out is not None:
        write_json(out / CONFIG_FILE, {k: getattr(args, k, None) for k in RUN_OPTIONS})
    history = _run_with_progress(searcher, budget, history, quiet=args.quiet)
    summary = summarize(history, space, context, args)
    if hasattr(ranker, "stats"):
        summary["store"] = ranker.stats()
    if out is not None:
        write_json(out / "summary.json", summary)
        if args.plot:
            from nasrank.evaluation.plots import plot_trajectories

            optimum = summary.get("optimum_true_acc")
            plot_trajectories([(f"{args.searcher}+{args.ranker}", history)], out / "trajectory.png", optimum)
    print_summary(summary)
    return 0


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


def summarize(history, space, context, args) -> dict[str, Any]:
    best = history.best()
    bench = context.benchmark
    out: dict[str, Any] = {
        "space": space.registry_name, "searcher": args.searcher, "ranker": args.ranker, "seed": args.seed,
        "dataset": context.dataset, "benchmark": None if bench is None else bench.source,
        "n_evaluations": len(history), "n_invalid": sum(not r.valid for r in history),
        "total_cost_seconds": history.total_seconds,
        "device_seconds": sum(r.device_seconds for r in history),
        "best_arch": None if best is None else best.arch, "best_score": None if best is None else best.score,
        "best_true_acc": None if best is None else best.true_acc,
    }
    if bench is not None and best is not None:
        try:
            opt_arch, opt_acc = bench.best(context.dataset)
            out["optimum_arch"] = space.to_string(opt_arch)
            out["optimum_true_acc"] = opt_acc
            out["true_rank_of_best"] = bench.true_rank(space.from_string(best.arch), context.dataset)
            out["benchmark_size"] = len(bench.archs(context.dataset))
        except NasrankError:
            pass
    return out


def print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"nasrank search: {summary['searcher']} + {summary['ranker']} on {summary['space']}")
    t.add_column("field")
    t.add_column("value", overflow="fold")
    for k, v in summary.items():
        if isinstance(v, float) and k.endswith("seconds"):
            v = f"{v:.1f} s ({v / 3600:.2f} h)"
        elif isinstance(v, float):
            v = f"{v:.4f}"
        t.add_row(k, str(v))
    Console().print(t)
