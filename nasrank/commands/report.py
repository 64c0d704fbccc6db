"""``nasrank report``: merge several outputs into one table and one figure.

Each OUT is recognised by its files:

* a ``nasrank search`` run: ``history.jsonl`` (with ``summary.json``; an
  interrupted run without it is summarised from its history and ``config.yaml``);
* a ``nasrank compare`` output: ``compare.json`` and one ``<ranker>/history.jsonl``
  per ranker (one row each);
* a ``nasrank compare --seeds`` sweep: one row per seed and ranker, its seeds merged;
* a ``nasrank evaluate`` output: ``report.json`` and/or ``scores.csv``
  (``arch,ranker,repeat,score,seconds,device_seconds,true_acc``), one row per
  ranker, drawn as its Spearman and Kendall (``DIR/report_evaluate.png``), not as a search.

Writes ``DIR/report.csv``, ``DIR/report.json`` and ``DIR/report.png`` (``--format
png,pdf,svg``; what it shows is listed in ``DIR/report.figure.json``): per run, the
true accuracy of the best-scored architecture so far and the best true accuracy
found so far, against cumulative ranker cost, one row of panels per kind of cost.
Runs that differ only in their seed are merged into one curve (mean, 95% band)
and one ``groups`` entry (mean ± CI). Prints the table. ``--html`` adds
``DIR/report.html``: one self-contained page (no server, no network) with the
table, every figure, each input's configuration and provenance, and the seeds
with their CIs.

Example: ``nasrank report runs/sweep --html --output runs/sweep_report``
"""
from __future__ import annotations

import argparse
from typing import Any

from nasrank.commands.common import add_format_arg
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
    p.add_argument("--html", action="store_true",
                   help="also write DIR/report.html: one self-contained page (tables, every figure as inline SVG, "
                        "configuration, provenance, seeds with CIs) that opens offline in any browser")
    add_format_arg(p)
    p.set_defaults(func=run)


def _cost_text(v: Any) -> str:
    if not isinstance(v, (int, float)):
        return "-"
    return f"{v:.4g} s" if v < 1e5 else f"{v / 3600:.1f} h"


def print_table(rows: list[dict[str, Any]]) -> None:
    """One line per run; the ranker column is dropped when every run label already names it (80 columns)."""
    from rich.console import Console
    from rich.table import Table

    cols = [(h, k) for h, k in TABLE
            if not (k == "ranker" and all(str(r.get("ranker")) in str(r.get("run")) for r in rows))]
    t = Table(title=f"nasrank report: {len(rows)} runs")
    for header, key in cols:
        if key in ("run", "ranker"):
            t.add_column(header, overflow="fold", min_width=18 if key == "run" else 8)
        else:
            t.add_column(header, no_wrap=True, justify="right")
    for r in rows:
        cells = []
        for _, k in cols:
            v = r.get(k)
            if k.endswith("seconds"):
                cells.append(_cost_text(v))
            else:
                cells.append("-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v))
        t.add_row(*cells)
    Console().print(t)


def print_groups(groups: list[dict[str, Any]]) -> None:
    """Seed groups: mean ± 95% CI of the best true accuracy and the cost."""
    from rich.console import Console
    from rich.table import Table

    def pm(g: dict[str, Any], k: str, fmt: str) -> str:
        m, h = g.get(f"{k}_mean"), g.get(f"{k}_ci95")
        if m is None:
            return "-"
        return format(m, fmt) + ("" if h is None else " ± " + format(h, fmt))

    t = Table(title="seed groups (mean ± 95% CI)")
    t.add_column("group", overflow="fold")
    for h in ("runs", "best true acc", "true rank", "cost (h)"):
        t.add_column(h, justify="right", no_wrap=True)
    for g in groups:
        hours = {k: (v / 3600 if isinstance(v, (int, float)) else v) for k, v in g.items() if k.startswith("total_cost")}
        t.add_row(g["group"], str(g["n_runs"]), pm(g, "best_true_acc", ".2f"), pm(g, "true_rank_of_best", ".0f"),
                  pm(hours, "total_cost_seconds", ".3g"))
    Console().print(t)


def run(args: argparse.Namespace) -> int:
    rows, paths = report(args.outputs, args.output, args.title, args.format, html=args.html)
    if not args.quiet:
        print_table(rows)
        if paths["groups"]:
            print_groups(paths["groups"])
        figs = ", ".join(map(str, paths["figures"])) or "no figure (no run has a true accuracy)"
        print(f"wrote {paths['csv']}, {paths['json']}, {figs}" + (f", {paths['html']}" if paths.get("html") else ""))
    return 0
