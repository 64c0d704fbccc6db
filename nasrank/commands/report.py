"""``nasrank report``: merge several outputs into one table and one figure.

Each OUT is recognised by its files:

* a ``nasrank search`` run: ``history.jsonl`` (with ``summary.json``; an
  interrupted run without it is summarised from its history and ``config.json``);
* a ``nasrank compare`` output: ``compare.json`` and one ``<ranker>/history.jsonl``
  per ranker (one row each);
* a ``nasrank evaluate`` output: ``report.json`` and/or ``scores.csv``
  (``arch,ranker,repeat,score,seconds,device_seconds,true_acc``), one row per
  ranker. Its curve takes the architectures in file order, as a search that
  proposed them in that order would (mean score over repeats, cost summed).

Writes ``DIR/report.csv``, ``DIR/report.json`` and ``DIR/report.png`` (true
accuracy of the best-scored architecture so far against cumulative ranker cost,
one line per run) and prints the table.
"""
from __future__ import annotations

import argparse
from typing import Any

from nasrank.experiments.report import report

#: (header, key) of the printed table (report.csv / report.json have every column, best_arch included)
TABLE = (("run", "run"), ("ranker", "ranker"), ("n", "n_evaluations"), ("cost", "total_cost_seconds"),
         ("best true acc", "best_true_acc"), ("true rank", "true_rank_of_best"), ("spearman", "spearman"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="merge search / evaluate / compare outputs into one table and figure",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("outputs", nargs="+", metavar="OUT", help="folders written by nasrank search, evaluate or compare")
    p.add_argument("--output", default="nasrank_report", help="folder for report.csv, report.json, report.png")
    p.add_argument("--title", default=None, help="figure title")
    p.add_argument("--quiet", action="store_true", help="do not print the table")
    p.set_defaults(func=run)


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"nasrank report: {len(rows)} runs")
    for header, key in TABLE:
        if key in ("run", "ranker"):
            t.add_column(header, overflow="fold")
        else:
            t.add_column(header, no_wrap=True, justify="right")
    for r in rows:
        cells = []
        for _, k in TABLE:
            v = r.get(k)
            if isinstance(v, float) and k.endswith("seconds"):
                cells.append(f"{v:.4g} s" if v < 1e5 else f"{v / 3600:.1f} h")
            else:
                cells.append("-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v))
        t.add_row(*cells)
    Console().print(t)


def run(args: argparse.Namespace) -> int:
    rows, paths = report(args.outputs, args.output, args.title)
    if not args.quiet:
        print_table(rows)
        print(f"wrote {paths['csv']}, {paths['json']}, {paths['png']}")
    return 0
