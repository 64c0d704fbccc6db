"""``nasrank analyze``: where a ranker's errors go (complexity, op and structure bias) and how
much its ranking varies between repeats.

Reads the long-format ``scores.csv`` that ``nasrank evaluate`` writes
(``arch,ranker,repeat,score,seconds,device_seconds,true_acc``; an optional
``variant`` column names what differed between repeats, e.g. ``seed``,
``batch`` or ``checkpoint``). Writes ``DIR/analysis.json``,
``DIR/bias_complexity.png``, ``DIR/bias_ops.png`` and, when some ranker has
two or more repeats, ``DIR/variance.png``; prints a table.

Per ranker, the bias analysis uses each architecture's mean score over its
finite repeats (all variants together); rows whose score is NaN/inf or empty
are dropped and counted (``n_dropped_rows``). ``true_acc`` comes from the
file where given, otherwise from ``--benchmark``. The statistics are defined
in :mod:`nasrank.evaluation.bias` and :mod:`nasrank.evaluation.variance`.
"""
from __future__ import annotations

import argparse
import math
from typing import Any

from nasrank.commands.common import add_format_arg, space_from_args
from nasrank.experiments.analyze import analyze


def register(sub: argparse._SubParsersAction) -> None:
    from nasrank.benchmarks import SPEC_HELP

    p = sub.add_parser("analyze", help="bias and variance analysis of rankers' scores", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", nargs="?", metavar="SCORES",
                   help="scores.csv (long format, from `nasrank evaluate`) or the evaluate output folder holding it")
    p.add_argument("--scores", default=None, help="the same as SCORES (kept for older command lines)")
    p.add_argument("--benchmark", default=None, help=f"ground truth for rows without true_acc: {SPEC_HELP}")
    p.add_argument("--space", default="nb201", help="space name (see `nasrank spaces`) or pkg.module:Class")
    p.add_argument("--space-cfg", action="append", metavar="KEY=VALUE", help="space constructor options")
    p.add_argument("--dataset", default="cifar10", help="dataset of the benchmark's accuracies")
    p.add_argument("--output", default="nasrank_analysis", help="folder for analysis.json and the plots")
    p.add_argument("--by", default="params", choices=("params", "flops"), help="complexity measure of the bins")
    p.add_argument("--bins", type=int, default=5, help="number of equal-count complexity bins")
    p.add_argument("--no-plots", action="store_true", help="write analysis.json only")
    
    add_format_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nasrank.errors import NasrankError

    if args.bins < 1:
        raise NasrankError(f"--bins must be a positive integer, got {args.bins}")
    scores = scores_path(args.input, args.scores)
    space = space_from_args(args)
    result = analyze(scores, args.output, space, args.benchmark, args.dataset, args.by, args.bins,
                     formats=() if args.no_plots else args.format)
    print_table(result)
    return 0


def scores_path(positional: str | None, flag: str | None) -> str:
    """The scores file ``SCORES`` or ``--scores`` names (a folder: its ``scores.csv``)."""
    from pathlib import Path

    from nasrank.errors import NasrankError

    if positional and flag and Path(positional) != Path(flag):
        raise NasrankError(f"give the scores once: SCORES {positional!r} or --scores {flag!r}, not both")
    given = positional or flag
    if not given:
        raise NasrankError("nothing to analyze: give SCORES (a scores.csv, or the nasrank evaluate folder holding it)")
    path = Path(given)
    return str(path / "scores.csv") if path.is_dir() else given


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def print_table(result: dict[str, Any]) -> None:
    """One row per ranker: correlation, controlled tau, lowest/highest-bin shift, over-rated ops, variance."""
    from rich.console import Console
    from rich.table import Table

    from nasrank.evaluation.bias import OVERRATE_RHO, OVERRATE_SHIFT, high_shift

    t = Table(title=f"nasrank analyze: {result['scores']}", caption=f"bin tau: mean Kendall tau inside "
              f"{result['bins']} {result['by']} bins; shift: rank shift in the lowest/highest bin")
    for col in ("ranker", "N", "drop", "tau", "bin tau", "shift lo", "shift hi", "over-rated ops",
                "repeat tau mean/min"):
        t.add_column(col, overflow="fold")
    for name, r in result["rankers"].items():
        if "skipped" in r:
            t.add_row(name, str(r["n_archs"]), str(r["n_dropped_rows"]), "skipped", "-", "-", "-", "-", "-")
            continue
        cb = r["complexity_bias"]
        over = [op[2:].replace("nor_", "") for op, st in r["op_bias"].items()
                if (st["spearman_feature_vs_error"] or 0) > OVERRATE_RHO and (high_shift(st) or 0) > OVERRATE_SHIFT]
        var = r.get("variance") or {}
        vtxt = "; ".join(f"{k}: {_fmt(v['mean_kendall_tau'])}/{_fmt(v['min_kendall_tau'])}" for k, v in var.items())
        t.add_row(name, str(r["n_archs"]), str(r["n_dropped_rows"]), _fmt(r["kendall_tau"]),
                  _fmt(cb["controlled_kendall_tau"]), _fmt(cb["bins"][0]["rank_shift"], "+.3f"),
                  _fmt(cb["bins"][-1]["rank_shift"], "+.3f"), ", ".join(over) or "-", vtxt or "-")
    con = Console()
    con.print(t)
    for name, r in result["rankers"].items():
        con.print(f"- {r.get('summary_text') or name + ' skipped: ' + r['skipped']}", highlight=False)
    for line in result.get("cautions") or []:
        con.print(f"caution: {line}", highlight=False)
