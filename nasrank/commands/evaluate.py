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
from typing import Any

from nasrank.commands.common import (add_context_args, add_executor_args, add_format_arg, add_logs_arg,
                                     add_scale_args, add_space_args, context_from_args, executor_config,
                                     scale_from_args, space_from_args)
from nasrank.errors import NasrankError
from nasrank.experiments.build import parse_cfg, parse_ranker_list
from nasrank.experiments.config import EvaluateConfig, Output, Scale, assign_options
from nasrank.experiments.presets import with_preset
from nasrank.experiments.evaluate import check_output, check_selection, evaluate, parse_modes
from nasrank.commands.common import add_store_args, store_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="measure how well rankers rank benchmark architectures",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_space_args(p)
    p.add_argument("--rankers", default="params,flops", help="comma-separated ranker names (default params,flops)")
    p.add_argument("--ranker-cfg", action="append", metavar="NAME.KEY=VALUE",
                   help="options of one ranker, e.g. synflow.batch_size=64,flops.channels=8 (repeatable; "
                        "KEY=VALUE alone when there is one ranker)")
    add_context_args(p)
    add_scale_args(p)
    p.add_argument("--sample", default=None, metavar="N|all", help="number of benchmark architectures, or all")
    p.add_argument("--archs", default=None, metavar="FILE", help="evaluate these architectures (one per line)")
    p.add_argument("--modes", default="iso,deiso,iso2deiso", help="isomorphism modes: iso, deiso, iso2deiso")
    p.add_argument("--repeats", type=int, default=1, help="score every architecture R times (seeds seed..seed+R-1)")
    p.add_argument("--output", required=True, help="folder for scores.csv, report.json and the plots")
    p.add_argument("--no-plots", action="store_true", help="skip scatter.png and criteria.png")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_executor_args(p, "architectures")
    add_store_args(p)
    add_format_arg(p)
    add_logs_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # cheap checks first: a typo fails before anything is loaded or computed
    names = parse_ranker_list(args.rankers)
    specs, _ = assign_options(parse_cfg(args.ranker_cfg, "--ranker-cfg"), names, common=False)
    specs = with_preset(specs, {}, args.preset)
    modes = parse_modes(args.modes)
    check_selection(args.sample, args.archs, args.repeats)
    check_output(args.output)  # a foreign folder fails before the benchmark loads (nothing is created yet)
    if args.benchmark in (None, "none"):
        from nasrank.benchmarks import SPEC_HELP

        raise NasrankError(f"nasrank evaluate needs true accuracies: give --benchmark {SPEC_HELP}")
    space = space_from_args(args)
    context = context_from_args(args, space)
    status: dict[str, Any] = {}
    args.interrupt_note = lambda: interrupt_note(status, store_path(args))
    config = EvaluateConfig(specs, sample=args.sample, archs_file=args.archs, modes=modes, repeats=args.repeats,
                            seed=args.seed, scale=Scale.of(scale_from_args(args)), executor=executor_config(args),
                            output=Output(args.output, args.format, not args.no_logs, store_path(args), args.quiet),
                            plots=not args.no_plots, space_cfg=parse_cfg(args.space_cfg, "--space-cfg"))
    report = evaluate(space, context, config, status=status)
    args.output_lock = status.get("lock")  # held until the command ends (config.yaml included)
    print_table(report)
    return 0


def interrupt_note(status: dict[str, Any], store: str | None) -> str:
    """What an interrupted ``evaluate`` kept, truthfully."""
    if not status.get("partial"):
        return "nothing was scored yet"
    kept = f"the {status.get('n_rows', 0)} scores finished so far are in {status['partial']}"
    if store is None:
        return kept + " (no result store: a rerun computes them again)"
    return kept + f" and in the result store {store} (a rerun of the same command reuses them)"


def print_table(report: dict[str, Any]) -> None:
    """The main criteria per ranker and mode."""
    from rich.console import Console
    from rich.table import Table

    from nasrank.evaluation.ranking_report import MAIN_CRITERIA

    t = Table(title=f"nasrank evaluate: {report['n_archs']} {report['space_id']} architectures, "
                    f"{report['dataset']} ({report['benchmark']})")
    t.add_column("ranker", overflow="fold")
    t.add_column("mode", no_wrap=True, min_width=9)
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
    Console().print(t)  # 8 short columns: fits 80
    if report.get("store"):
        from nasrank.commands.common import store_line

        reps = report["rankers"].values()
        stats = {"n_cached": sum(r.get("n_cached", 0) for r in reps), "n_fresh": sum(r.get("n_fresh", 0) for r in reps),
                 "store": report["store"]}
        print(f"store: {store_line(stats)}")
