"""``nasrank evaluate``: score benchmark architectures with several rankers and measure how well each ranks them.

The architectures are a uniform sample of the benchmark's table (``--sample N``:
the first N of one permutation drawn with ``--seed``, so a larger sample with
the same seed contains the smaller one; ``all`` = every row), or the list in
``--archs FILE`` (one architecture string per line; blank lines and ``#``
comments are skipped). Every ranker scores every architecture ``--repeats``
times, with ``context.seed`` = seed, seed+1, ...; results go through the result
store, so a rerun or a larger sample computes only what is new.

Writes ``OUT/scores.csv`` (one row per architecture, ranker and repeat),
``OUT/report.json`` (per ranker: every ranking criterion in every
``--modes`` mode, on the mean score over repeats), ``OUT/scatter.png`` and
``OUT/criteria.png``, and prints a summary table.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

from nasrank.commands.common import (add_context_args, add_space_args, make_context, make_ranker, make_space, parse_cfg,
                                     parse_ranker_list)
from nasrank.errors import MissingFileError, NasrankError
from nasrank.store import add_store_args, make_store

REPORT_FILE = "report.json"
SCORES_FILE = "scores.csv"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="measure how well rankers rank benchmark architectures",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_space_args(p)
    p.add_argument("--rankers", default="params,flops", help="comma-separated ranker names (default params,flops)")
    p.add_argument("--ranker-cfg", action="append", metavar="NAME.KEY=VALUE",
                   help="options of one ranker, e.g. synflow.batch_size=64,flops.channels=8 (repeatable; "
                        "KEY=VALUE alone when there is one ranker)")
    add_context_args(p)
    p.add_argument("--sample", default=None, metavar="N|all", help="number of benchmark architectures, or all")
    p.add_argument("--archs", default=None, metavar="FILE", help="evaluate these architectures (one per line)")
    p.add_argument("--modes", default="iso,deiso,iso2deiso", help="isomorphism modes: iso, deiso, iso2deiso")
    p.add_argument("--repeats", type=int, default=1, help="score every architecture R times (seeds seed..seed+R-1)")
    p.add_argument("--output", required=True, help="folder for scores.csv, report.json and the plots")
    p.add_argument("--no-plots", action="store_true", help="skip scatter.png and criteria.png")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_store_args(p)
    from nasrank.evaluation.figures import add_format_arg

    add_format_arg(p)
    from nasrank.lightning_modules.logs import add_logs_arg

    add_logs_arg(p)
    p.set_defaults(func=run)


# --------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------
def parse_ranker_cfg(pairs: list[str] | None, rankers: list[str]) -> dict[str, dict[str, Any]]:
    """``["synflow.batch_size=64"]`` -> ``{"synflow": {"batch_size": 64}}`` (KEY=VALUE alone with one ranker)."""
    out: dict[str, dict[str, Any]] = {n: {} for n in rankers}
    for key, value in parse_cfg(pairs, "--ranker-cfg").items():
        name, dot, opt = key.rpartition(".")
        if not dot:
            if len(rankers) != 1:
                raise NasrankError(f"--ranker-cfg {key}={value!r}: write NAME.{key}=VALUE to say which ranker "
                                   f"({', '.join(rankers)}) it is for")
            name, opt = rankers[0], key
        if name not in out:
            raise NasrankError(f"--ranker-cfg {key}: ranker {name!r} is not in --rankers ({', '.join(rankers)})")
        out[name][opt] = value
    return out


def parse_sample(text: str | None) -> int | None:
    """``"all"`` -> None; ``"200"`` -> 200; anything else (0, negative, not a number) is an error."""
    if text is None or str(text).strip().lower() == "all":
        return None
    try:
        n = int(str(text).strip())
    except ValueError:
        raise NasrankError(f"--sample must be a positive integer or 'all', got {text!r}") from None
    if n < 1:
        raise NasrankError(f"--sample must be a positive integer or 'all', got {text!r}")
    return n


def parse_modes(text: str) -> list[str]:
    from nasrank.evaluation.criteria import MODES

    modes = [m.strip() for m in (text or "").split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if not modes or bad:
        raise NasrankError(f"--modes: unknown mode(s) {', '.join(bad) or repr(text)}; "
                           f"expected some of {', '.join(MODES)}")
    return list(dict.fromkeys(modes))


# --------------------------------------------------------------------------
# architectures
# --------------------------------------------------------------------------
def sample_archs(bench, dataset: str, n: int | None, seed: int) -> list:
    """``n`` architectures of the benchmark's table, uniformly without replacement, in table order.

    They are the first ``n`` of ``default_rng(seed).permutation(len(table))``,
    so a larger ``n`` with the same seed contains the smaller sample.
    ``n=None`` gives every row.
    """
    import numpy as np

    table = bench.archs(dataset)
    if n is None:
        return list(table)
    if n > len(table):
        raise NasrankError(f"--sample {n} exceeds the {len(table)} architectures of {bench.source} on {dataset}")
    idx = np.sort(np.random.default_rng(seed).permutation(len(table))[:n])
    return [table[i] for i in idx]


def read_archs_file(path: str | Path, space, bench, dataset: str) -> list:
    """Architectures listed in ``path``; each must parse and be in the benchmark (errors name the line)."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "--archs file")
    archs, seen = [], set()
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            arch = space.from_string(text)
        except (NasrankError, ValueError) as exc:
            raise NasrankError(f"--archs {path}, line {line_no}: {exc}") from None
        if bench.true_accuracy(arch, dataset) is None:
            raise NasrankError(f"--archs {path}, line {line_no}: {text} is not in the benchmark "
                               f"{bench.source} for {dataset}")
        key = space.key(arch)
        if key not in seen:  # a repeated line would count twice in the criteria
            seen.add(key)
            archs.append(arch)
    if not archs:
        raise NasrankError(f"--archs {path} lists no architectures")
    return archs


# --------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------
def _score(ranker, archs: list, on_result: Callable[[int, Any], None]) -> list:
    """Evaluate ``archs``; ``on_result(i, evaluation)`` as each one finishes."""
    from nasrank.store import StoredRanker

    if isinstance(ranker, StoredRanker):
        return ranker.evaluate(archs, on_result=on_result)
    out = []
    for i, a in enumerate(archs):
        ev = ranker.evaluate([a])[0]
        out.append(ev)
        on_result(i, ev)
    return out


def score_all(rankers: dict[str, Any], archs: list, repeats: int, seed: int, quiet: bool = False) -> dict[str, dict]:
    """Score every architecture ``repeats`` times with every ranker.

    Returns ``{name: {"score", "seconds", "device_seconds": (repeats, n) arrays, "stats": {...}}}``.
    """
    import contextlib

    import numpy as np

    n = len(archs)
    results: dict[str, dict] = {}
    progress = contextlib.nullcontext(None)
    if not quiet:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[note]}"), TimeElapsedColumn())
    with progress as prog:
        for name, ranker in rankers.items():
            task = None if prog is None else prog.add_task(name, total=n * repeats, note="")
            res = {k: np.full((repeats, n), np.nan) for k in ("score", "seconds", "device_seconds")}
            cached = [0]
            t0 = time.perf_counter()
            for r in range(repeats):
                ranker.context.seed = seed + r

                def on_result(i: int, ev, r: int = r) -> None:
                    res["score"][r, i] = ev.score if ev.score is not None else np.nan
                    res["seconds"][r, i] = ev.seconds
                    res["device_seconds"][r, i] = ev.device_seconds
                    cached[0] += bool(ev.info.get("cached"))
                    if prog is not None:
                        prog.update(task, advance=1, note=f"{cached[0]} from store" if cached[0] else "")

                evs = _score(ranker, archs, on_result)
                for i, ev in enumerate(evs):  # in case a ranker's evaluate skipped the callback
                    res["score"][r, i] = ev.score if ev.score is not None else np.nan
                    res["seconds"][r, i] = ev.seconds
                    res["device_seconds"][r, i] = ev.device_seconds
            ranker.context.seed = seed
            res["stats"] = {"n_cached": cached[0], "n_fresh": n * repeats - cached[0],
                            "wall_seconds": time.perf_counter() - t0}
            if hasattr(ranker, "stats"):
                st = ranker.stats()
                res["stats"].update(fresh_seconds=st["fresh_seconds"], cached_seconds=st["cached_seconds"])
            results[name] = res
    return results


# --------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    import numpy as np

    from nasrank.evaluation.criteria import spearman
    from nasrank.evaluation.report import (json_safe, plot_criteria, plot_scatter, ranker_report,
                                           write_scores_csv)
    from nasrank.store import space_id, with_store

    # cheap checks first: a typo fails before anything is loaded or computed
    names = parse_ranker_list(args.rankers)
    cfgs = parse_ranker_cfg(args.ranker_cfg, names)
    modes = parse_modes(args.modes)
    if not isinstance(args.repeats, int) or args.repeats < 1:
        raise NasrankError(f"--repeats must be a positive integer, got {args.repeats!r}")
    if args.archs is not None and args.sample is not None:
        raise NasrankError("give either --sample N|all or --archs FILE, not both")
    if args.archs is None and args.sample is None:
        raise NasrankError("nothing to evaluate: give --sample N|all or --archs FILE")
    n_sample = parse_sample(args.sample) if args.archs is None else None
    if args.benchmark in (None, "none"):
        from nasrank.benchmarks import SPEC_HELP

        raise NasrankError(f"nasrank evaluate needs true accuracies: give --benchmark {SPEC_HELP}")

    space = make_space(args)
    context = make_context(args, space)
    context.log_dir = None if args.no_logs else Path(args.output) / "logs"
    bench = context.benchmark
    if args.archs is not None:
        archs = read_archs_file(args.archs, space, bench, context.dataset)
    else:
        archs = sample_archs(bench, context.dataset, n_sample, args.seed)
    rankers = {name: make_ranker(name, space, dataclasses.replace(context), cfgs[name]) for name in names}
    store = make_store(args)
    rankers = {name: with_store(r, store) for name, r in rankers.items()}

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    arch_strings = [space.to_string(a) for a in archs]
    truth = np.array([bench.true_accuracy(a, context.dataset) for a in archs], dtype=np.float64)
    class_keys = [space.canonical_key(a) for a in archs]

    results = score_all(rankers, archs, args.repeats, args.seed, quiet=args.quiet)
    write_scores_csv(out / SCORES_FILE, arch_strings, truth, results)

    report: dict[str, Any] = {
        "space": space.registry_name, "space_id": space_id(space),
        "space_cfg": parse_cfg(args.space_cfg, "--space-cfg"),
        "benchmark": bench.source, "dataset": context.dataset, "n_archs": len(archs), "seed": args.seed,
        "sample": "all" if (args.archs is None and n_sample is None) else n_sample, "archs_file": args.archs,
        "repeats": args.repeats, "modes": modes, "store": None if store is None else str(store.path),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rankers": {},
    }
    from nasrank.provenance import provenance

    report["provenance"] = provenance(context.device)
    for name, ranker in rankers.items():
        res = results[name]
        rep = ranker_report(res["score"], res["seconds"], res["device_seconds"], truth, class_keys, modes)
        report["rankers"][name] = {"config": ranker.config(), "config_hash": ranker.config_hash(), **rep,
                                   **res["stats"]}
    (out / REPORT_FILE).write_text(_dumps(json_safe(report)))

    if not args.no_plots:
        from nasrank.evaluation.figures import parse_formats
        from nasrank.evaluation.report import mean_over_repeats

        fmts = parse_formats(args.format)
        means = {n: mean_over_repeats(results[n]["score"]) for n in names}
        plot_scatter(out / "scatter.png", {n: (means[n], truth) for n in names},
                     {n: spearman(means[n], truth) if np.isfinite(means[n]).sum() > 1 else None for n in names},
                     truth_label=f"true accuracy ({context.dataset})", formats=fmts)
        plot_criteria(out / "criteria.png", {n: report["rankers"][n]["criteria"][modes[0]] for n in names}, modes[0],
                      formats=fmts)
    print_table(report)
    return 0


def _dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, indent=2, allow_nan=False, default=str) + "\n"


def print_table(report: dict[str, Any]) -> None:
    """The main criteria per ranker and mode."""
    from rich.console import Console
    from rich.table import Table

    from nasrank.evaluation.report import MAIN_CRITERIA

    t = Table(title=f"nasrank evaluate: {report['n_archs']} {report['space_id']} architectures, "
                    f"{report['dataset']} ({report['benchmark']})")
    t.add_column("ranker")
    t.add_column("mode")
    for _, title in MAIN_CRITERIA:
        t.add_column(title, justify="right")
    t.add_column("n_valid", justify="right")
    t.add_column("s/arch", justify="right")
    for name, rep in report["rankers"].items():
        for mode in report["modes"]:
            c = rep["criteria"][mode]
            cells = ["-" if c.get(k) is None else f"{c[k]:.3f}" for k, _ in MAIN_CRITERIA]
            spa = rep["seconds_per_arch"]
            t.add_row(name, mode, *cells, str(c.get("n_valid", rep["n_valid"])),
                      "-" if spa is None else f"{spa:.3g}")
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=160)
    console.print(t)
