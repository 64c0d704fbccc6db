"""nasrank data: where each official data file comes from, what a folder holds, and a download.

  nasrank data                       every item: what it is, the flag that reads it, its layout, its origin
  nasrank data sources cifar10       one item
  nasrank data check DIR             what DIR holds: found, missing, sizes and md5s
  nasrank data download cifar10 DIR  fetch (resumable), verify the md5, unpack DIR/cifar-10-batches-py
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="where the official data comes from; check a folder; download CIFAR",
                       description=__doc__)
    p.set_defaults(func=run_sources, name=None, json=False)
    actions = p.add_subparsers(dest="action")
    s = actions.add_parser("sources", help="where each item comes from and the layout its reader expects")
    s.add_argument("name", nargs="?", help="one item (default: all)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=run_sources)
    c = actions.add_parser("check", help="what a data folder holds: found, missing, sizes, md5s")
    c.add_argument("dir", help="the data folder (as given to --data-dir, or its parent)")
    c.add_argument("--only", action="append", metavar="NAME", help="check only these items (repeatable)")
    c.add_argument("--no-checksums", action="store_true", help="sizes only (no md5)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=run_check)
    d = actions.add_parser("download", help="fetch, verify and unpack an item with a public URL")
    d.add_argument("name", help="cifar10 | cifar100")
    d.add_argument("dir", help="the data folder to put it in (then: --data-dir DIR)")
    d.add_argument("--mirror", default=None, metavar="URL", help="a base URL that holds the same archive name")
    d.add_argument("--remove-archive", action="store_true", help="delete the .tar.gz once unpacked")
    d.set_defaults(func=run_download)


def _collapsed(files: tuple[str, ...]) -> list[str]:
    """``train_data_batch_1 .. _10`` written once as ``train_data_batch_{1..10}``."""
    import re

    out: list[str] = []
    runs: dict[str, list[int]] = {}
    for f in files:
        m = re.fullmatch(r"(.*?_)(\d+)", f)
        if m:
            if m.group(1) not in runs:
                runs[m.group(1)] = []
                out.append(m.group(1))
            runs[m.group(1)].append(int(m.group(2)))
        else:
            out.append(f)
    return [f"{x}{{{min(runs[x])}..{max(runs[x])}}}" if x in runs else x for x in out]


def _layout(src) -> str:
    base = f"DIR/{src.folder}/" if src.folder else "DIR/"
    files = _collapsed(src.files)
    return base + ("{" + ", ".join(files) + "}" if len(files) > 1 else files[0])


def _describe(src) -> dict:
    out = {"name": src.key, "title": src.title, "read_by": src.read_by, "layout": _layout(src),
           "origin": src.origin}
    if src.archive is not None:
        out["download"] = f"nasrank data download {src.key} DIR ({src.archive.url}, ~{src.archive.size_mb} MB, " \
                          f"md5 {src.archive.md5})"
    return out


def run_sources(args: argparse.Namespace) -> int:
    from nasrank.data.sources import SOURCES, source

    items = [_describe(source(args.name))] if args.name else [_describe(s) for s in SOURCES.values()]
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    for d in items:
        print(f"{d['name']}: {d['title']}")
        for k in ("read_by", "layout", "origin", "download"):
            if k in d:
                print(f"  {k.replace('_', ' '):9s} {d[k]}")
    if not args.name:
        print("\ncheck a folder: nasrank data check DIR")
    return 0


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def _status_row(st) -> dict:
    return {"name": st.key, "complete": st.complete, "folder": None if st.found is None else str(st.found),
            "missing": st.missing, "note": st.note,
            "files": [{"path": str(f.path), "size": f.size, "md5": f.md5, "official_md5": f.official}
                      for f in st.files]}


def _print_status(st) -> None:
    from nasrank.data.sources import SOURCES

    src = SOURCES[st.key]
    if st.found is None:
        how = f"nasrank data download {st.key} DIR" if src.archive else f"see nasrank data sources {st.key}"
        print(f"{st.key:11s} missing    expected {_layout(src)} ({how})")
        return
    word = "complete" if st.complete else ("partial" if st.partial and not st.missing else "incomplete")
    size = sum(f.size for f in st.files)
    print(f"{st.key:11s} {word:10s} {st.found}: {len(st.files):,} file(s), {_mib(size)}"
          + (f"; {st.note}" if st.note else ""))
    for name in st.missing:
        print(f"  missing  {name}")
    if len(st.files) <= 20:
        for f in st.files:
            verdict = {True: "  (published md5)", False: "  (not the published md5)", None: ""}[f.official]
            print(f"  {f.path.name:24s} {f.size:>13,} B  md5 {f.md5 or '-'}{verdict}")


def run_check(args: argparse.Namespace) -> int:
    from nasrank.data.check import check_dir
    from nasrank.data.sources import source

    keys = [source(k).key for k in args.only] if args.only else None
    rows = check_dir(args.dir, keys, checksums=not args.no_checksums)
    if args.json:
        print(json.dumps([_status_row(st) for st in rows], indent=2))
        return 0
    for st in rows:
        _print_status(st)
    print(f"{sum(st.complete for st in rows)} of {len(rows)} item(s) complete under {args.dir}")
    return 0


class _Reporter:
    """One stderr line per 10% (or per 10 s when the size is unknown)."""

    def __init__(self, name: str) -> None:
        self.name, self.last, self.t = name, -1, time.monotonic()

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            step = 10 * done // total
            if step > self.last:
                self.last = step
                print(f"{self.name}: {_mib(done)} of {_mib(total)} ({10 * step}%)", file=sys.stderr)
        elif time.monotonic() - self.t >= 10:
            self.t = time.monotonic()
            print(f"{self.name}: {_mib(done)}", file=sys.stderr)


def run_download(args: argparse.Namespace) -> int:
    from nasrank.data.download import download
    from nasrank.data.sources import downloadable, source
    from nasrank.errors import NasrankError

    src = source(args.name)
    if src.archive is None:
        raise NasrankError(f"{src.key} has no public download (those with one: {', '.join(downloadable())}); "
                           f"get it from {src.origin}")
    folder = download(src, args.dir, args.mirror, _Reporter(src.archive.name), keep_archive=not args.remove_archive)
    print(f"{src.key}: {folder} verified (published md5s); use --data-dir {args.dir}")
    return 0
