"""``nasrank store ls|export|prune``: inspect, export and prune the persistent result store."""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from typing import Any

from nasrank.runs.atomic import atomic_write
from nasrank.errors import NasrankError
from nasrank.store import COLUMNS, ResultStore
from nasrank.commands.common import add_store_args, store_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="inspect, export or prune the result store", description=__doc__)
    actions = p.add_subparsers(dest="action", required=True)

    ls = actions.add_parser("ls", help="count stored evaluations per (space, ranker, config hash, dataset)")
    _add_filters(ls)
    ls.add_argument("--wide", action="store_true", help="every column, however wide")
    ls.set_defaults(func=run_ls)

    ex = actions.add_parser("export", help="write stored evaluations as CSV or JSONL")
    _add_filters(ex)
    ex.add_argument("--output", "-o", default="-", help="file to write (.csv or .jsonl; '-' = stdout, default)")
    ex.add_argument("--format", choices=("csv", "jsonl"), default=None,
                    help="output format (default: from the --output suffix, else csv)")
    ex.set_defaults(func=run_export)

    pr = actions.add_parser("prune", help="delete stored evaluations by filter")
    _add_filters(pr)
    pr.add_argument("--older-than", type=float, default=None, metavar="DAYS", help="rows stored more than DAYS ago")
    pr.add_argument("--all", action="store_true", help="delete every row matching the other filters (or all rows)")
    pr.set_defaults(func=run_prune)


def _add_filters(p: argparse.ArgumentParser) -> None:
    add_store_args(p)
    p.add_argument("--space", default=None, help="only this space (nb201 also matches nb201(channels=8,...))")
    p.add_argument("--ranker", default=None, help="only this ranker name")
    p.add_argument("--config-hash", default=None, help="only this ranker config hash")
    p.add_argument("--dataset", default=None, help="only this dataset fingerprint (as `ls` prints it)")


def _open(args: argparse.Namespace, read_only: bool = True) -> ResultStore:
    """The store to inspect: read-only for ls and export (a store in a read-only folder reads), writable for prune."""
    path = store_path(args)
    if path is None:
        raise NasrankError("the result store is disabled (--no-store or NASRANK_STORE=none); give --store PATH")
    return ResultStore(path, create=False, read_only=read_only)


def _filters(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    return {"space": args.space, "ranker": args.ranker, "config_hash": args.config_hash, "dataset": args.dataset,
            **extra}


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def run_ls(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from nasrank.commands.terminal import fit_columns

    store = _open(args)
    counts = store.counts(**_filters(args))
    headers = ("space", "ranker", "config hash", "dataset", "rows", "invalid", "seeds", "cost (s)", "first", "last",
               "config")
    rows = []
    for c in counts:
        cfg = json.dumps(c["config"], sort_keys=True)
        rows.append((c["space"], c["ranker"], c["config_hash"], c["dataset"], str(c["n"]), str(c["n_invalid"] or 0),
                     str(c["n_seeds"]), f"{c['seconds'] or 0.0:.4g}", _when(c["first"]), _when(c["last"]),
                     cfg if len(cfg) <= 60 else cfg[:57] + "..."))
    console = Console()
    width = 10_000 if args.wide else console.width
    keep = fit_columns(headers, rows, width, ("config", "first", "invalid", "seeds", "last", "dataset"))
    if args.wide:
        console = Console(width=max(80, sum(max([len(headers[i])] + [len(r[i]) for r in rows]) + 3
                                            for i in keep) + 1))
    t = Table(title=f"result store {store.path}")
    for i in keep:
        t.add_column(headers[i], justify="right" if headers[i] in ("rows", "invalid", "seeds", "cost (s)") else "left")
    for r in rows:
        t.add_row(*(r[i] for i in keep))
    console.print(t)
    dropped = [headers[i] for i in range(len(headers)) if i not in keep]
    more = f" (columns left out to fit {width}: {', '.join(dropped)}; --wide shows them)" if dropped else ""
    console.print(f"{sum(c['n'] for c in counts)} rows in {len(counts)} groups{more}")
    _explain_unstored(args.ranker, sum(c["n"] for c in counts))
    return 0


#: rankers whose scores the store never holds, and why
UNSTORED = {
    "cascade": "a cascade's survivors depend on the candidates it saw before (depends_on_history)",
    "fear": "FEAR with early rejection (reject_ratio) scores against the fastest candidate so far "
            "(depends_on_history); FEAR without reject_ratio is stored",
}


def _explain_unstored(ranker: str | None, n_rows: int) -> None:
    """Say why a ranker the user asked for has no rows, or which rankers are never stored."""
    from rich.console import Console

    if ranker is not None and n_rows == 0 and ranker in UNSTORED:
        Console().print(f"no {ranker} rows: {UNSTORED[ranker]}; such results live only in each run's "
                        "history.jsonl", highlight=False)
    elif ranker is None:
        Console().print("never stored: cascade, and fear with reject_ratio (their scores depend on earlier "
                        "candidates)", highlight=False)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def run_export(args: argparse.Namespace) -> int:
    store = _open(args)
    fmt = args.format
    if fmt is None:
        fmt = "jsonl" if args.output.endswith((".jsonl", ".json")) else "csv"
    if args.output == "-":
        n = _export(store, args, fmt, sys.stdout)
        if args.ranker in UNSTORED and n == 0:
            print(f"nasrank store export: {args.ranker}: {UNSTORED[args.ranker]}", file=sys.stderr)
        return 0
    with atomic_write(args.output, "w", newline="", what="export file") as fh:  # a failure keeps the old file
        n = _export(store, args, fmt, fh)
    print(f"wrote {n} rows to {args.output} ({fmt})")
    if args.ranker in UNSTORED and n == 0:
        _explain_unstored(args.ranker, 0)
    return 0


def _export(store: ResultStore, args: argparse.Namespace, fmt: str, fh) -> int:
    n = 0
    if fmt == "csv":
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for row in store.rows(**_filters(args)):
            w.writerow(["" if row[c] is None else
                        (json.dumps(row[c], sort_keys=True) if c in ("info", "config") else row[c])
                        for c in COLUMNS])
            n += 1
    else:
        for row in store.rows(**_filters(args)):
            fh.write(json.dumps(_jsonable(row), default=str) + "\n")
            n += 1
    return n


def run_prune(args: argparse.Namespace) -> int:
    filters = _filters(args, older_than_days=args.older_than)
    if args.older_than is not None and not args.older_than >= 0:
        raise NasrankError(f"--older-than must be a non-negative number of days, got {args.older_than!r}")
    if not args.all and all(v is None for v in filters.values()):
        raise NasrankError("prune needs a filter (--ranker, --space, --config-hash, --dataset, --older-than) "
                           "or --all")
    store = _open(args, read_only=False)
    store.check_integrity()
    n = store.delete(**filters)
    print(f"deleted {n} rows from {store.path} ({len(store)} left)")
    return 0
