"""The ``nasrank`` command. Each sub-command lives in ``nasrank.commands.<name>``."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

#: modules under nasrank.commands that define ``register(subparsers)``
COMMAND_MODULES = ("search", "spaces", "evaluate", "compare", "supernet", "analyze", "store", "report", "data")


def _version() -> str:
    from nasrank.runs.provenance import version

    return version()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``nasrank`` parser; ``only`` (a command's name) registers that command alone, so that
    ``nasrank search`` does not import the modules of the seven others."""
    parser = argparse.ArgumentParser(prog="nasrank", description="Neural architecture search with pluggable rankers.")
    parser.add_argument("--version", action="version", version=f"nasrank {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES if only not in COMMAND_MODULES else (only,):
        try:
            mod = importlib.import_module(f"nasrank.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"nasrank.commands.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    _show_defaults(parser)
    return parser


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Descriptions as written (reST markup removed), and every option's default in --help."""

    def _format_text(self, text: str) -> str:
        from nasrank.commands.help_text import plain

        return super()._format_text(plain(text))

    def _expand_help(self, action: argparse.Action) -> str:
        from nasrank.commands.help_text import plain

        return plain(super()._expand_help(action))

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every (sub-)parser shows defaults and its examples; every sub-command takes --config where it applies."""
    from nasrank.commands.config import CONFIG_COMMANDS, add_config_arg
    from nasrank.commands.help_text import epilog

    def walk(p: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        p.formatter_class = HelpFormatter
        p.epilog = p.epilog or epilog(words)
        if words in CONFIG_COMMANDS:
            add_config_arg(p)
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, child in a.choices.items():
                    walk(child, words + (name,))

    walk(parser, ())


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush raises nothing."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (e.g. captured by a test)
        pass


def _config_request(argv: Sequence[str]) -> tuple[tuple[str, ...], str] | None:
    """``(command words, FILE)`` when ``argv`` gives ``--config FILE`` to a command that takes it."""
    from nasrank.commands.config import CONFIG_COMMANDS

    path = None
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            path = argv[i + 1]
        elif a.startswith("--config="):
            path = a.split("=", 1)[1]
    if path is None:
        return None
    words = tuple(argv[:2]) if argv[:1] == ["supernet"] else tuple(argv[:1])
    return (words, path) if words in CONFIG_COMMANDS else None


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parser.parse_args`` whose "unrecognized arguments" error suggests the closest option."""
    from nasrank.commands.config import command_words, leaf_parser
    from nasrank.errors import did_you_mean

    args, extra = parser.parse_known_args(argv)
    if extra:
        leaf = leaf_parser(parser, command_words(args))
        options = [s for a in leaf._actions for s in a.option_strings]
        hints = [f"{x}{did_you_mean(x.split('=')[0], options) if x.startswith('-') else ''}" for x in extra]
        leaf.error("unrecognized arguments: " + " ".join(hints))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from nasrank.commands.config import apply_config, leaf_parser
    from nasrank.errors import NasrankError
    from nasrank.runs.provenance import set_command
    from nasrank.runtime.interrupts import record_interrupts
    from nasrank.runtime.quiet import silence_third_party

    silence_third_party()
    previous = record_interrupts()  # a Ctrl-C is reported as one, whatever a library turns it into
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        parser = build_parser(argv[0] if argv else None)
        request = _config_request(argv)
        if request is not None:  # the file's values become defaults, so that flags parsed next override them
            try:
                apply_config(leaf_parser(parser, request[0]), request[1], trusted="--trust-config" in argv)
            except NasrankError as exc:
                print(f"nasrank {' '.join(request[0])}: error: {exc}", file=sys.stderr)
                return 2
        args = _parse(parser, argv)
        args._argv = argv
        set_command(argv)
        try:
            return _run(parser, args)
        except BaseException as exc:
            return _failed(exc, args)
    finally:
        record_interrupts(previous)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run the parsed command (and write its run folder's config.yaml when it succeeds)."""
    from nasrank.commands.config import CONFIG_COMMANDS, command_words, leaf_parser, write_run_config

    if hasattr(args, "threads"):  # commands that run torch: no oversubscribed cores
        from nasrank.runtime.threads import limit_torch_threads

        limit_torch_threads(args.threads)
    rc = int(args.func(args) or 0)
    if rc == 0 and command_words(args) in CONFIG_COMMANDS:
        write_run_config(leaf_parser(parser, command_words(args)), args)
    sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
    return rc


def _failed(exc: BaseException, args: argparse.Namespace) -> int:
    """The exit status of a command that raised ``exc`` (and its one line on stderr); re-raises a bug."""
    from nasrank.errors import NasrankError
    from nasrank.runtime import interrupts

    if isinstance(exc, KeyboardInterrupt) or interrupts.received():
        # a Ctrl-C, also when a library made it something else (Lightning: sys.exit(1); torch: a
        # RuntimeError of its mode stack): what the command kept, and how to go on
        note = getattr(args, "interrupt_note", None)  # a command's own account of what it kept
        note = note() if callable(note) else note
        print(f"nasrank {args.command}: interrupted{'; ' + note if note else ''}", file=sys.stderr)
        return 130
    if isinstance(exc, NasrankError):
        print(f"nasrank {args.command}: error: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, FileNotFoundError):
        print(f"nasrank {args.command}: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    if isinstance(exc, BrokenPipeError):  # `nasrank ... | head` closed the pipe: stop quietly (status 1, as rich does)
        _silence_stdout()
        return 1
    raise exc


if __name__ == "__main__":
    sys.exit(main())
