"""``nasrank search``: run one searcher with one ranker under a budget."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nasrank.commands.common import (add_context_args, add_ranker_cfg_arg, add_space_args, make_context,
                                     make_ranker, make_space, parse_cfg, write_json)
from nasrank.errors import NasrankError
from nasrank.evaluation.figures import add_format_arg, parse_formats
from nasrank.lightning_modules.logs import add_logs_arg
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
    p.add_argument("--plot", action="store_true", help="write DIR/trajectory.png (refreshed on --resume)")
    add_format_arg(p)
    p.add_argument("--executor", default="serial",
                   help="serial | ray (random: batches of --workers; evolution runs as evolution_async)")
    p.add_argument("--workers", type=int, default=2, help="Ray workers (with --executor ray)")
    p.add_argument("--ray-address", default=None, help="address of an existing Ray cluster")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_store_args(p)
    add_logs_arg(p)
    p.set_defaults(func=run)


def _resume_args(args: argparse.Namespace) -> argparse.Namespace:
    cfg_path = Path(args.resume) / CONFIG_FILE
    if not cfg_path.is_file():
        raise NasrankError(f"cannot resume: {cfg_path} not found (was {args.resume} written by `nasrank search`?)")
    saved = json.loads(cfg_path.read_text())
    extend = {k for k in ("budget_queries", "budget_seconds") if getattr(args, k, None) is not None}
    for k in RUN_OPTIONS:
        if k in saved and k not in extend:  # a budget given with --resume extends the run
            setattr(args, k, saved[k])
    args.output = args.resume
    args.plot = args.plot or bool(saved.get("plot"))  # a resumed run refreshes the figure it had
    if args.format == ["png"] and saved.get("format"):
        args.format = saved["format"]
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
    if args.plot and not (args.output or args.resume):
        raise NasrankError("--plot writes DIR/trajectory.png and needs --output DIR")
    formats = parse_formats(args.format)
    budget = Budget(queries=args.budget_queries, seconds=args.budget_seconds)
    space = make_space(args)
    context = make_context(args, space)
    context.log_dir = None if (not args.output or args.no_logs) else Path(args.output) / "logs"
    if context.benchmark is not None:  # a search samples the space, not the table
        context.benchmark.warn_coverage(context.dataset)
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
        write_json(out / CONFIG_FILE, {k: getattr(args, k, None) for k in (*RUN_OPTIONS, "plot", "format")})
    history = _run_with_progress(searcher, budget, history, quiet=args.quiet)
    summary = summarize(history, space, context, args)
    summary["searcher"] = searcher_name  # e.g. evolution_async when --executor ray ran it
    if hasattr(ranker, "stats"):
        summary["store"] = ranker.stats()
    if out is not None:
        write_json(out / "summary.json", summary)
        if args.plot:
            from nasrank.evaluation.plots import plot_trajectories

            optimum = summary.get("optimum_true_acc")
            fig = plot_trajectories([(f"{searcher_name}+{args.ranker}", history)], out / "trajectory.png", optimum,
                                    title=f"{searcher_name} + {args.ranker} on {space.registry_name}",
                                    formats=formats, measured_on=summary["provenance"]["device_used"])
            if fig is None:
                print("no trajectory figure: no evaluated architecture has a true accuracy (no benchmark?)")
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
    out.update(protocol(history, bench))
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


def _human(key: str, v: Any) -> str:
    """One summary value as text: no raw dicts, no ``None``."""
    if v is None:
        return "n/a"
    if isinstance(v, float) and key.endswith("seconds"):
        return f"{v:.1f} s ({v / 3600:.2f} h)"
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_human(k, x)}" for k, x in v.items() if not isinstance(x, (dict, list)))
    return str(v)


def _provenance_line(prov: dict[str, Any]) -> str:
    git = (prov.get("git_commit") or "")[:10]
    parts = [f"nasrank {prov['versions'].get('nasrank')}", f"torch {prov['versions'].get('torch')}",
             f"git {git}{' (modified)' if prov.get('git_dirty') else ''}" if git else "not in a git repository",
             f"device {prov.get('device_used') or prov.get('device')}"]
    return ", ".join(parts)


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


def print_summary(summary: dict[str, Any]) -> None:
    """The summary as a two-column table (long values wrap; fits 80 columns)."""
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"nasrank search: {summary['searcher']} + {summary['ranker']} on {summary['space']}")
    t.add_column("field", no_wrap=True)
    t.add_column("value", overflow="fold")
    for k, v in summary.items():
        text = _provenance_line(v) if k == "provenance" else _human(k, v)
        t.add_row(k, text)
    Console(width=min(Console().width, 100)).print(t)
