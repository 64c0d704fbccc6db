"""``nasrank spaces`` and ``nasrank rankers``: what can be chosen by name."""
from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spaces", help="list search spaces (or describe one: its string format, ops, an example)")
    p.add_argument("name", nargs="?", help="a space name: its architecture strings' format, ops and an example")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_spaces)
    r = sub.add_parser("rankers", help="list rankers and searchers (or a ranker's options)")
    r.add_argument("name", nargs="?", help="a ranker name: list its options (from its declaration)")
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
    from nasrank.catalog import SPACE_FORMATS
    from nasrank.registry import SPACES

    d = SPACES.describe(name)
    out = {"name": name, "summary": d["summary"], "size": d["size"], "size_is_estimate": bool(d["size_is_estimate"]),
           "canonical_classes": d["canonical_classes"], "supernet": bool(d.get("supernet_provider")),
           "rankers": supported_rankers(name)}
    if name in SPACE_FORMATS:  # a user's space documents its own strings
        out["format"], ops, out["example"] = SPACE_FORMATS[name]
        out["ops"] = list(ops)
    return out


def _size(d: dict) -> str:
    size = "?" if d["size"] is None else (f"{d['size']:.3g}" if d["size"] >= 1e9 else f"{d['size']:,}")
    return f"~{size} (estimate)" if d["size_is_estimate"] else size


def print_space(d: dict) -> None:
    """``nasrank spaces NAME``: what an architecture string looks like, and what can rank it."""
    from nasrank.commands.help_text import plain

    print(f"{d['name']}: {plain(d['summary'])}")
    classes = f" ({d['canonical_classes']:,} isomorphism classes)" if d["canonical_classes"] else ""
    ops = d.get("ops") or []
    choices = any(": " in o for o in ops)  # NDS: the choices of each per-stage field
    rows = [("size", _size(d) + classes), ("format", d.get("format")),
            ("choices" if choices else "ops", ("; " if choices else ", ").join(ops)), ("example", d.get("example")),
            ("supernet", "yes: the oneshot ranker (nasrank supernet train)" if d["supernet"] else "no"),
            ("rankers", ", ".join(d["rankers"]))]
    for key, value in rows:
        if value:
            print(f"  {key:9s} {value}")


def run_spaces(args: argparse.Namespace) -> int:
    from nasrank.registry import SPACES

    if args.name:
        d = describe_space(args.name)
        if args.json:
            print(json.dumps({k: d[k] for k in ("name", "size", "canonical_classes")}))
        else:
            print_space(d)
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
        t.add_row(d["name"], _size(d), str(d["canonical_classes"] or "-"), ", ".join(d["rankers"]))
    Console().print(t)
    return 0


def ranker_options(name: str) -> dict:
    """``{"name", "summary", "options": [{"name", "default", "help", "choices"}]}`` of one ranker."""
    from nasrank import options
    from nasrank.registry import RANKERS, accepted_options, declared_options

    cls = RANKERS.get(name)
    decl = declared_options(cls)
    if decl is not None:
        opts = options.describe(decl)
    else:  # a user's ranker without a declaration: its constructor's keyword arguments
        acc = accepted_options(cls)
        opts = [{"name": n, "default": acc.defaults.get(n), "help": "", "choices": None} for n in acc.names]
    return {"name": name, "summary": RANKERS.describe(name)["summary"], "options": opts}


def run_rankers(args: argparse.Namespace) -> int:
    from nasrank.commands.help_text import plain
    from nasrank.registry import RANKERS, SEARCHERS

    if args.name:
        d = ranker_options(args.name)
        if args.json:
            print(json.dumps(d, indent=2, default=repr))
            return 0
        print(f"{d['name']}: {plain(d['summary'])}")
        print("options (--ranker-cfg KEY=VALUE):" if d["options"] else "no options")
        for o in d["options"]:
            extra = f" (one of: {', '.join(map(str, o['choices']))})" if o["choices"] else ""
            print(f"  {o['name']}={o['default']!r}  {plain(o['help'])}{extra}")
        return 0

    d = {"rankers": {n: RANKERS.describe(n)["summary"] for n in RANKERS.names()},
         "searchers": {n: SEARCHERS.describe(n)["summary"] for n in SEARCHERS.names()}}
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        for fam, items in d.items():
            print(f"{fam}:")
            for n, doc in items.items():
                print(f"  {n:15s} {plain(doc)}")
    return 0
