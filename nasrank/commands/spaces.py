"""``nasrank spaces`` and ``nasrank rankers``: what can be chosen by name."""
from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spaces", help="list search spaces (or describe one)")
    p.add_argument("name", nargs="?", help="a space name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_spaces)
    r = sub.add_parser("rankers", help="list rankers and searchers")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=run_rankers)


def supported_rankers(space_name: str) -> list[str]:
    """The rankers that support ``space_name`` (from their declarations: nothing is imported). A ranker
    that ``requires`` a capability (``supernet``) needs the space's ``<capability>_provider``."""
    from nasrank.registry import RANKERS, SPACES

    space = SPACES.describe(space_name)
    out = []
    for n in RANKERS.names():
        d = RANKERS.describe(n)
        sup = d["supported_spaces"]
        if (sup is None or space_name in sup) and all(space.get(f"{cap}_provider") for cap in d.get("requires") or ()):
            out.append(n)
    return out


def describe_space(name: str) -> dict:
    from nasrank.registry import SPACES

    d = SPACES.describe(name)
    return {"name": name, "size": d["size"], "size_is_estimate": bool(d["size_is_estimate"]),
            "canonical_classes": d["canonical_classes"], "rankers": supported_rankers(name)}


def run_spaces(args: argparse.Namespace) -> int:
    from nasrank.registry import SPACES

    if args.name:
        d = describe_space(args.name)
        if args.json:
            print(json.dumps({k: d[k] for k in ("name", "size", "canonical_classes")}))
        else:
            print(json.dumps(d, indent=2))
        return 0
    rows = [describe_space(n) for n in SPACES.names()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title="search spaces")
    for c in ("name", "size", "canonical classes", "rankers"):
        t.add_column(c)
    for d in rows:
        size = "?" if d["size"] is None else (f"{d['size']:.3g}" if d["size"] >= 1e9 else f"{d['size']:,}")
        if d["size_is_estimate"]:
            size = f"~{size} (estimate)"
        t.add_row(d["name"], size, str(d["canonical_classes"] or "-"), ", ".join(d["rankers"]))
    Console().print(t)
    return 0


def run_rankers(args: argparse.Namespace) -> int:
    from nasrank.registry import RANKERS, SEARCHERS

    d = {"rankers": {n: RANKERS.describe(n)["summary"] for n in RANKERS.names()},
         "searchers": {n: SEARCHERS.describe(n)["summary"] for n in SEARCHERS.names()}}
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        for fam, items in d.items():
            print(f"{fam}:")
            for n, doc in items.items():
                print(f"  {n:14s} {doc}")
    return 0
