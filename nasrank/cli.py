"""The ``nasrank`` command. Each sub-command lives in ``nasrank.commands.<name>``."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

#: modules under nasrank.commands that define ``register(subparsers)``
COMMAND_MODULES = ("search", "spaces", "evaluate", "compare", "supernet", "analyze", "store", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nasrank", description="Neural architecture search with pluggable rankers.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"nasrank.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"nasrank.commands.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from nasrank.errors import NasrankError

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args._argv = argv
    try:
        if hasattr(args, "threads"):  # commands that run torch: no oversubscribed cores
            from nasrank.threads import limit_torch_threads

            limit_torch_threads(args.threads)
        return int(args.func(args) or 0)
    except NasrankError as exc:
        print(f"nasrank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"nasrank {args.command}: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        note = getattr(args, "interrupt_note", None)  # a command's own account of what it kept
        note = note() if callable(note) else note
        print(f"nasrank {args.command}: interrupted{'; ' + note if note else ''}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
