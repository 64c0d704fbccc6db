"""``nasrank search``: run one searcher with one ranker under a budget."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nasrank.commands.common import (add_context_args, add_executor_args, add_format_arg, add_logs_arg,
                                     add_ranker_cfg_arg, add_scale_args, add_space_args, context_from_args,
                                     executor_kwargs, scale_from_args, space_from_args)
from nasrank.errors import NasrankError
from nasrank.experiments.build import parse_cfg
from nasrank.experiments.search import CONFIG_FILE, search
from nasrank.store import add_store_args, store_path

#: options that define a run; --resume reuses them from the run's config.json
RUN_OPTIONS = ("space", "space_cfg", "searcher", "searcher_cfg", "ranker", "ranker_cfg", "benchmark", "dataset",
               "data_dir", "device", "seed", "budget_queries", "budget_seconds", "executor", "workers", "ray_address",
               "gpus_per_task", "channels", "cells_per_stage", "image_size", "train_fraction", "batch_size")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="run an architecture search", description=__doc__)
    add_space_args(p)
    p.add_argument("--searcher", default="random", help="random | evolution | local | pkg.module:Class")
    p.add_argument("--searcher-cfg", action="append", metavar="KEY=VALUE",
                   help="searcher options, e.g. population_size=20,sample_size=5")
    p.add_argument("--ranker", default="tabular", help="ranker name (see `nasrank rankers`)")
    add_ranker_cfg_arg(p)
    add_context_args(p)
    add_scale_args(p)
    p.add_argument("--budget-queries", type=int, default=None, help="number of new evaluations")
    p.add_argument("--budget-seconds", type=float, default=None, help="ranker cost in seconds")
    p.add_argument("--output", default=None, help="run directory (history.jsonl, summary.json)")
    p.add_argument("--resume", default=None, metavar="DIR", help="continue the interrupted run in DIR")
    p.add_argument("--plot", action="store_true", help="write DIR/trajectory.png (refreshed on --resume)")
    add_format_arg(p)
    add_executor_args(p, "evaluations; random proposes batches of --workers, evolution runs as evolution_async")
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


def run(args: argparse.Namespace) -> int:
    from nasrank.searchers.base import Budget

    if args.resume:
        args = _resume_args(args)
    if args.plot and not args.output:
        raise NasrankError("--plot writes DIR/trajectory.png and needs --output DIR")
    Budget(queries=args.budget_queries, seconds=args.budget_seconds)  # a bad budget fails before anything loads
    space = space_from_args(args)
    context = context_from_args(args, space)
    summary, _ = search(space, context, args.ranker, args.searcher,
                        ranker_cfg=parse_cfg(args.ranker_cfg, "--ranker-cfg"),
                        searcher_cfg=parse_cfg(args.searcher_cfg, "--searcher-cfg"),
                        budget_queries=args.budget_queries, budget_seconds=args.budget_seconds,
                        output=args.output, resume=bool(args.resume), store=store_path(args),
                        **executor_kwargs(args), plot=args.plot, quiet=args.quiet, formats=args.format,
                        logs=not args.no_logs, scale=scale_from_args(args),
                        run_config={k: getattr(args, k, None) for k in (*RUN_OPTIONS, "plot", "format")})
    print_summary(summary)
    return 0


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
