"""``nasrank search``: run one searcher with one ranker under a budget."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nasrank.commands.help_text import searcher_help
from nasrank.commands.common import (add_context_args, add_executor_args, add_format_arg, add_logs_arg,
                                     add_ranker_cfg_arg, add_scale_args, add_space_args, context_from_args,
                                     executor_config, scale_from_args, space_from_args)
from nasrank.errors import NasrankError
from nasrank.experiments.build import parse_cfg
from nasrank.experiments.search import search
from nasrank.commands.common import add_store_args, store_path

#: config.yaml's record of the benchmark's content (:meth:`Benchmark.fingerprint`), checked on --resume
FINGERPRINT_KEY = "benchmark_fingerprint"

#: options that define a run; --resume reuses them from the run's config.yaml
RUN_OPTIONS = ("space", "space_cfg", "searcher", "searcher_cfg", "ranker", "ranker_cfg", "benchmark", "dataset",
               "data_dir", "device", "seed", "budget_queries", "budget_seconds", "executor", "workers", "ray_address",
               "gpus_per_task", "preset", "channels", "cells_per_stage", "image_size", "train_fraction",
               "batch_size")
_CFGS = ("space_cfg", "searcher_cfg", "ranker_cfg")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="run an architecture search", description=__doc__)
    add_space_args(p)
    p.add_argument("--searcher", default="random", help=searcher_help())
    p.add_argument("--searcher-cfg", action="append", metavar="KEY=VALUE",
                   help="searcher options, e.g. population_size=20,sample_size=5")
    p.add_argument("--ranker", default="tabular", help="ranker name (see `nasrank rankers`)")
    add_ranker_cfg_arg(p)
    add_context_args(p)
    add_scale_args(p)
    p.add_argument("--budget-queries", type=int, default=None, help="number of new evaluations")
    p.add_argument("--budget-seconds", type=float, default=None, help="ranker cost in seconds")
    p.add_argument("--output", default=None, help="run directory (history.jsonl, summary.json)")
    p.add_argument("--resume", default=None, metavar="DIR", help="continue the interrupted run in DIR")
    p.add_argument("--trust-config", action="store_true",
                   help="with --resume or --config: act on the import paths, pickled benchmark or file "
                        "paths named in a config file that another user created or may edit")
    p.add_argument("--plot", action="store_true", help="write DIR/trajectory.png (refreshed on --resume)")
    add_format_arg(p)
    add_executor_args(p, "evaluations; random proposes batches of --workers, evolution runs as evolution_async")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_store_args(p)
    add_logs_arg(p)
    p.set_defaults(func=run, _parser=p)


def _explicit_options(args: argparse.Namespace) -> set[str]:
    """The run options the user typed (not argparse defaults)."""
    parser, argv = getattr(args, "_parser", None), getattr(args, "_argv", None)
    if parser is None or argv is None or "search" not in argv:
        return set()
    sub_argv = argv[argv.index("search") + 1:]
    saved = [(a, a.default) for a in parser._actions]
    try:
        for a, _ in saved:
            a.default = argparse.SUPPRESS
        given, _ = parser.parse_known_args(sub_argv)
    finally:
        for a, d in saved:
            a.default = d
    return set(vars(given)) & set(RUN_OPTIONS)


def _saved_options(args: argparse.Namespace, saved: dict[str, Any]) -> dict[str, Any]:
    """The run options of a saved configuration; an option it leaves out had its default."""
    parser = getattr(args, "_parser", None)
    out = {}
    for k in (*RUN_OPTIONS, "plot", "format", FINGERPRINT_KEY):
        if k in saved:
            out[k] = saved[k]
        elif parser is not None:
            out[k] = parser.get_default(k)
    for k in _CFGS:  # as the command line gives them: a list of KEY=VALUE strings or mappings
        v = out.get(k)
        out[k] = None if not v else ([v] if isinstance(v, dict) else list(v))
    return out


def _same(key: str, given: Any, saved: Any) -> bool:
    if key in _CFGS:
        return parse_cfg(given, "--" + key.replace("_", "-")) == parse_cfg(saved, "--" + key.replace("_", "-"))
    return _as_run_path(key, given) == _as_run_path(key, saved)


def _resume_args(args: argparse.Namespace) -> argparse.Namespace:
    from nasrank.runs.trust import check_config_trust, path_references, read_run_config, run_config_path

    run_dir = Path(args.resume)
    if not run_dir.is_dir():
        raise NasrankError(f"cannot resume: {run_dir} is not a folder (give the run's --output folder)")
    cfg_path = run_config_path(run_dir)
    if cfg_path is None:
        raise NasrankError(f"cannot resume: {run_dir / 'config.yaml'} not found (was {args.resume} written by "
                           "`nasrank search`?)")
    if not (run_dir / "history.jsonl").is_file():
        raise NasrankError(f"cannot resume: {run_dir / 'history.jsonl'} is missing (deleted?); "
                           "start a new run with --output instead")
    raw = read_run_config(cfg_path)
    _check_saved_keys(args, raw, cfg_path)
    saved = _saved_options(args, raw)
    refs = check_config_trust(cfg_path, saved, getattr(args, "trust_config", False))
    paths = path_references(saved)
    code = [r for r in refs if r not in paths]
    if code:
        print(f"nasrank search: note: resuming {run_dir} runs what its {cfg_path.name} names: {'; '.join(code)}",
              file=sys.stderr)
    if paths:
        print(f"nasrank search: note: resuming {run_dir} reads or writes the paths its {cfg_path.name} names: "
              f"{'; '.join(paths)}", file=sys.stderr)
    extend = {k for k in ("budget_queries", "budget_seconds") if getattr(args, k, None) is not None}
    clash = sorted(k for k in _explicit_options(args) - extend
                   if k in saved and not _same(k, getattr(args, k), saved[k]))
    if clash:
        given = ", ".join(f"--{k.replace('_', '-')} {getattr(args, k)!r} (the run has {saved[k]!r})" for k in clash)
        raise NasrankError(f"cannot resume {run_dir} with other options: {given}; --resume continues the run "
                           f"with the options in its {cfg_path.name} (a budget given extends it); drop them or "
                           "start a new --output")
    for k in RUN_OPTIONS:
        if k in saved and k not in extend:  # a budget given with --resume extends the run
            setattr(args, k, saved[k])
    args.output = args.resume
    args.run_fingerprint = saved.get(FINGERPRINT_KEY)
    args.plot = args.plot or bool(saved.get("plot"))  # a resumed run refreshes the figure it had (checked a bool)
    if args.format == ["png"] and saved.get("format"):
        args.format = saved["format"]
    return args


def _check_saved_keys(args: argparse.Namespace, saved: dict[str, Any], path: Path) -> None:
    """Refuse a saved option this command does not know (a typo, or a file of another command) and a
    ``plot`` that is not true or false (``"false"`` would read as true)."""
    from nasrank.commands.config import RECORD_ONLY
    from nasrank.errors import did_you_mean

    parser = getattr(args, "_parser", None)
    if parser is not None:
        known = {a.dest for a in parser._actions if a.option_strings} | RECORD_ONLY | {FINGERPRINT_KEY}
        for key in saved:
            if key not in known:
                name = key.replace("_", "-")
                raise NasrankError(f"cannot resume: {path}: unknown option {name!r}"
                                   f"{did_you_mean(name, sorted(k.replace('_', '-') for k in known))}; "
                                   "was it edited? remove it")
    if saved.get("plot") is not None and not isinstance(saved["plot"], bool):
        raise NasrankError(f"cannot resume: {path}: plot must be true or false, got {saved['plot']!r}")


def search_config(args: argparse.Namespace, record: dict[str, Any] | None = None):
    """The :class:`~nasrank.experiments.config.SearchConfig` of the command line."""
    from nasrank.experiments.config import Output, RankerSpec, Scale, SearchConfig

    from nasrank.experiments.presets import with_preset

    spec = RankerSpec(args.ranker, args.ranker, parse_cfg(args.ranker_cfg, "--ranker-cfg"))
    return SearchConfig(
        ranker=with_preset([spec], {}, getattr(args, "preset", None))[0],
        searcher=args.searcher, searcher_options=parse_cfg(args.searcher_cfg, "--searcher-cfg"),
        budget_queries=args.budget_queries, budget_seconds=args.budget_seconds, scale=Scale.of(scale_from_args(args)),
        executor=executor_config(args), resume=bool(args.resume), plot=args.plot, record=record,
        output=Output(args.output, args.format, not args.no_logs, store_path(args), args.quiet))


def run(args: argparse.Namespace) -> int:
    from nasrank.commands.config import recorded_options
    from nasrank.searchers.base import Budget

    if args.resume:
        args = _resume_args(args)
    if args.plot and not args.output:
        raise NasrankError("--plot writes DIR/trajectory.png and needs --output DIR")
    Budget(queries=args.budget_queries, seconds=args.budget_seconds)  # a bad budget fails before anything loads
    note = default_benchmark(args)
    args.interrupt_note = lambda: interrupt_note(args.output, store_path(args))
    space = space_from_args(args)
    context = context_from_args(args, space)
    if note:  # once the table has loaded (an error is still one line)
        print(note, file=sys.stderr)
    fingerprint = check_benchmark_fingerprint(args, context.benchmark)
    parser = getattr(args, "_parser", None)
    record = None
    if parser is not None:  # the configuration as data: paths absolute, the benchmark's fingerprint
        record = {k: _as_run_path(k.replace("-", "_"), v) for k, v in recorded_options(parser, args).items()}
        record[FINGERPRINT_KEY.replace("_", "-")] = fingerprint
        args.run_record = record  # cli.main writes the same file again after the run
    summary, _ = search(space, context, search_config(args, record))
    print_summary(summary)
    return 0


def default_benchmark(args: argparse.Namespace) -> str | None:
    """No ``--benchmark`` on nb201 (a new run): the embedded table, so that the defaults (``--ranker
    tabular``) work together out of the box; returns the note that names it (for stderr).
    ``--benchmark none`` gives none."""
    if args.benchmark is not None or args.resume or args.space != "nb201":
        return None
    from nasrank.benchmarks.embedded import SOURCE

    args.benchmark = "embedded"
    return (f"nasrank search: note: no --benchmark given; using --benchmark embedded ({SOURCE.split(': ', 1)[1]});"
            " --benchmark none runs without one")


def _as_run_path(key: str, value: Any) -> Any:
    """A path-holding run option (``--benchmark csv:PATH``, ``--data-dir``) with its path made absolute,
    so that a resume from another working directory reads the same files."""
    import os

    if not isinstance(value, str) or not value:
        return value
    if key == "data_dir":
        return os.path.abspath(value)
    if key == "benchmark":
        kind, colon, arg = value.partition(":")
        if colon and arg and kind in ("csv", "nats", "nb201", "nds"):
            return f"{kind}:{os.path.abspath(arg)}"
    return value


def check_benchmark_fingerprint(args: argparse.Namespace, bench: Any) -> str | None:
    """The content fingerprint of the run's benchmark; on ``--resume`` it must be the one the run
    recorded (a table edited, moved or swapped since is refused, never mixed into one history)."""
    fp = None if bench is None or not hasattr(bench, "fingerprint") else bench.fingerprint()
    recorded = getattr(args, "run_fingerprint", None)
    if args.resume and recorded is not None and fp != recorded:
        raise NasrankError(f"cannot resume {args.resume}: benchmark {args.benchmark} is not the table the run "
                           f"started with (content fingerprint {fp}, the run recorded {recorded}); restore "
                           "that table or start a new --output")
    return fp


def _human(key: str, v: Any) -> str:
    """One summary value as text: no raw dicts, no ``None``."""
    if v is None:
        return "n/a"
    if key == "ranker_options" and isinstance(v, dict):
        return ", ".join(f"{k}={x}" for k, x in v.items()) or "(none)"
    if isinstance(v, list):
        return "; ".join(map(str, v))
    if isinstance(v, float) and key.endswith("seconds"):
        return f"{v:.1f} s ({v / 3600:.2f} h)"
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_human(k, x)}" for k, x in v.items() if not isinstance(x, (dict, list)))
    return str(v)


def _provenance_line(prov: dict[str, Any]) -> str:
    git = (prov.get("git_commit") or "")[:10]
    parts = [f"nasrank {prov['versions'].get('nasrank')}", f"torch {prov['versions'].get('torch')}",
             f"git {git}{' (modified)' if prov.get('git_dirty') else ''}" if git else "not in a git repository",
             f"device {prov.get('device_used') or prov.get('device')}"]
    return ", ".join(parts)


def interrupt_note(output: str | None, store: str | None) -> str:
    """What an interrupted search kept, truthfully."""
    if output is None:
        return ("nothing was saved (no --output and --no-store)" if store is None else
                f"finished evaluations are in the result store {store}, but without --output the search "
                "cannot be resumed")
    hist = Path(output) / "history.jsonl"
    try:
        n = sum(1 for line in hist.read_bytes().splitlines() if line.strip())
    except OSError:
        n = 0
    return f"the {n} evaluations finished so far are in {hist}; continue with: nasrank search --resume {output}"


def print_summary(summary: dict[str, Any]) -> None:
    """The summary as a two-column table (long values wrap; fits 80 columns): a rich table on a
    terminal, plain aligned text in a log or a pipe."""
    title = f"nasrank search: {summary['searcher']} + {summary['ranker']} on {summary['space']}"
    from nasrank.commands.common import store_line

    rows = [(k, _provenance_line(v) if k == "provenance" else _human(k, v)) for k, v in summary.items()
            if k != "store"]
    store = f"store: {store_line(summary['store'])}" if isinstance(summary.get("store"), dict) else None
    if not sys.stdout.isatty():
        from nasrank.commands.terminal import plain_table

        print(plain_table(title, rows))
        if store:
            print(store)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    t.add_column("field", no_wrap=True)
    t.add_column("value", overflow="fold")
    for k, text in rows:
        t.add_row(k, text)
    Console(width=min(Console().width, 100)).print(t)
    if store:
        print(store)
