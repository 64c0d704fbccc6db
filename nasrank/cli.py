"""The ``nasrank`` command. Each sub-command lives in ``nasrank.commands.<name>``."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

#: modules under nasrank.commands that define ``register(subparsers)``
COMMAND_MODULES = ("search", "spaces", "evaluate", "compare", "supernet", "analyze", "store", "report")


def _version() -> str:
    from nasrank.provenance import version

    return version()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nasrank", description="Neural architecture search with pluggable rankers.")
    parser.add_argument("--version", action="version", version=f"nasrank {_version()}")
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush raises nothing."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (e.g. captured by a test)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    from nasrank.errors import NasrankError

    from nasrank.provenance import set_command
    from nasrank.quiet import silence_third_party

    silence_third_party()

    parser = build_parser()
    args = parser.parse_args(argv)
    set_command(list(sys.argv[1:] if argv is None else argv))
    try:
        rc = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        return rc
    except NasrankError as exc:
        print(f"nasrank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"nasrank {args.command}: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `nasrank ... | head` closed the pipe: stop quietly (status 1, as rich does)
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        print(f"nasrank {args.command}: interrupted; everything evaluated so far is saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
