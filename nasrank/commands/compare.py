"""``nasrank compare``: argument parsing and printing; the experiment and its documentation are
:mod:`nasrank.experiments.compare`."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasrank.commands.help_text import searcher_help
from nasrank.commands.common import (add_context_args, add_executor_args, add_format_arg, add_logs_arg,
                                     add_scale_args, add_space_args, context_from_args, executor_config,
                                     space_from_args)
from nasrank.errors import NasrankError
from nasrank.experiments.build import parse_cfg, parse_ranker_list
from nasrank.experiments.compare import __doc__ as COMPARE_DOC
from nasrank.experiments.compare import SCALE_OPTIONS, compare, prepare_output
from nasrank.commands.common import add_store_args, make_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="run the same search with several rankers and compare cost and outcome",
                       description=COMPARE_DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_space_args(p)
    p.add_argument("--searcher", default="random", help=searcher_help())
    p.add_argument("--searcher-cfg", action="append", metavar="KEY=VALUE", help="searcher options")
    p.add_argument("--rankers", required=True, help="comma-separated rankers; 'a>b' is a cascade, LABEL=NAME a labelled run, e.g. fear,synflow>fear,train20=train")
    p.add_argument("--ranker-cfg", action="append", metavar="NAME.KEY=VALUE",
                   help="options of one ranker, e.g. fear.threshold=0.5 (repeatable; no NAME. = every ranker taking KEY)")
    p.add_argument("--candidates", type=int, required=True, help="new evaluations per ranker (Budget(queries=N))")
    p.add_argument("--baseline", default=None, help="ranker whose cost is the reference (default: the last listed)")
    add_context_args(p)
    g = add_scale_args(p)
    g.add_argument("--epochs", type=int, default=None, help="training epochs (train ranker)")
    p.add_argument("--output", required=True, help="output folder (OUT/<ranker>/history.jsonl, OUT/compare.json)")
    p.add_argument("--resume", action="store_true", help="continue the histories already in --output")
    p.add_argument("--seeds", default=None,
                   help="a seed sweep, e.g. 0-4 or 0,3,7: one candidate stream per seed (OUT/seed<S>/), "
                        "aggregated with 95%% bootstrap CIs in OUT/compare.json")
    p.add_argument("--frontier", default=None, metavar="RANKER",
                   help="the baseline family: the labelled runs of this ranker (--rankers train5=train,"
                        "train10=train,... --frontier train) or a comma list of labels; adds frontier and "
                        "matched-quality cost ratios (implies a sweep over --seed when --seeds is not given)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates for the sweep's CIs (1000)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier compare output in --output (its compare.json, figures, ranker folders)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    add_executor_args(p, "candidates (the searcher's parallel variant, as in search)")
    add_store_args(p)
    add_format_arg(p)
    add_logs_arg(p)
    p.set_defaults(func=run)


def compare_config(args: argparse.Namespace, items: list[str]):
    """The :class:`~nasrank.experiments.config.CompareConfig` of the command line."""
    from nasrank.experiments.config import CompareConfig, Output, Scale, assign_options

    from nasrank.experiments.presets import with_preset

    specs, common = assign_options(parse_cfg(args.ranker_cfg, "--ranker-cfg"), items, common=True)
    from nasrank.experiments.presets import preset_scale

    given = {k: getattr(args, k, None) for k in SCALE_OPTIONS if getattr(args, k, None) is not None}
    scale = preset_scale(getattr(args, "preset", None), given)  # checked by Scale, named as its fields
    return CompareConfig(
        with_preset(specs, common, getattr(args, "preset", None)), candidates=args.candidates,
        searcher=args.searcher, searcher_options=parse_cfg(args.searcher_cfg, "--searcher-cfg"), common=common,
        scale=Scale.of(scale), baseline=args.baseline,
        seed=args.seed, resume=args.resume, overwrite=args.overwrite, executor=executor_config(args),
        output=Output(args.output, args.format, not args.no_logs, make_store(args), args.quiet))


def run(args: argparse.Namespace) -> int:
    if args.candidates is None or args.candidates <= 0:
        raise NasrankError(f"--candidates must be a positive integer, got {args.candidates}")
    rankers = parse_ranker_list(args.rankers, cascades=True)
    if args.seeds is not None or args.frontier is not None:
        return run_sweep(args, rankers)
    prepare_output(Path(args.output), args.resume, args.overwrite)  # before anything loads
    config = compare_config(args, rankers)
    args.interrupt_note = lambda: interrupt_note(args.output)
    space = space_from_args(args)
    context = context_from_args(args, space)
    result = compare(space, context, config)  # progress: nasrank.runtime.progress, unless --quiet
    if not args.quiet:
        print_table(result)
    else:  # warnings are never quiet
        from rich.console import Console

        print_warnings(result, Console(stderr=True))
    return 0


def print_warnings(result: dict[str, Any], con) -> None:
    """compare.json's warnings (a threshold ranker that missed often or cost more than the baseline)."""
    warnings = result.get("warnings")
    if warnings is None:  # a result written before compare.json had warnings
        from nasrank.experiments.threshold_warnings import compare_warnings

        warnings = compare_warnings(result["rankers"], result["baseline"])
    for w in warnings:
        con.print(f"[bold red]WARNING[/bold red] {w}", highlight=False)


def interrupt_note(output: str) -> str:
    """What an interrupted compare (or seed sweep) kept, counted, and how to continue it."""
    out = Path(output)
    hists = list(out.glob("*/history.jsonl")) + list(out.glob("seed*/*/history.jsonl"))
    n = 0
    for h in hists:
        try:
            n += sum(1 for line in h.read_bytes().splitlines() if line.strip())
        except OSError:
            pass
    return (f"the {n} evaluations finished so far are in {len(hists)} history.jsonl file(s) under {out}; "
            "continue with the same command and --resume")


def run_sweep(args: argparse.Namespace, rankers: list[str]) -> int:
    """``--seeds`` / ``--frontier``: :func:`nasrank.experiments.sweep.compare_seeds` with live progress."""
    args.interrupt_note = lambda: interrupt_note(args.output)
    from nasrank.experiments.sweep import Sweep, compare_seeds, family_labels, parse_seeds
    from nasrank.runs.limits import MAX_BOOT, count

    seeds = parse_seeds(args.seeds) if args.seeds is not None else [args.seed]
    family = family_labels(args.frontier, rankers) if args.frontier is not None else None
    count(args.n_boot, "--n-boot", MAX_BOOT)
    config = compare_config(args, rankers)
    space = space_from_args(args)
    context = context_from_args(args, space)
    progress = None
    if not args.quiet:
        from nasrank.commands.compare_view import SweepProgress

        progress = SweepProgress(len(seeds), len(rankers), args.candidates)
    try:
        result = compare_seeds(space, context, config, Sweep(seeds, family, args.n_boot), progress)
    finally:
        if progress is not None:
            progress.stop()
    from nasrank.commands.compare_view import print_sweep

    if not args.quiet:
        print_sweep(result)
    else:
        from rich.console import Console

        for w in result["warnings"]:  # warnings are never quiet
            Console(stderr=True).print(f"[bold red]WARNING[/bold red] {w}", highlight=False)
    return 0


def _cell(key: str, v: Any) -> str:
    """Short, whole numbers for an 80-column table (no ellipses)."""
    from nasrank.evaluation.formats import short_number

    if v is None:
        return "-"
    if key == "total_cost_seconds":
        return f"{v:.3g} s" if v < 1e4 else f"{v / 3600:.3g} h"
    if key == "cost_ratio_vs_baseline":
        from nasrank.experiments.threshold_warnings import ratio_text

        return ratio_text(v)
    if key == "best_true_acc":
        return f"{v:.2f}"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console

    from rich.table import Table

    t = Table(title=f"nasrank compare: {result['searcher']} search, {result['candidates']} candidates, "
                    f"{result['space']} / {result['dataset']} (baseline {result['baseline']})")
    cols = [("ranker", "ranker"), ("cost", "total_cost_seconds"), ("vs base", "cost_ratio_vs_baseline"),
            ("best acc", "best_true_acc"), ("rank", "true_rank_of_best"), ("spearman", "spearman"),
            ("missed", "n_not_reached"), ("rejected", "n_rejected"), ("filtered", "n_filtered")]
    rows = list(result["rankers"].values())
    cols = [c for c in cols if c[1] not in ("n_not_reached", "n_rejected", "n_filtered")
            or any(r.get(c[1]) for r in rows)]
    t.add_column("ranker", overflow="fold")
    for name, _ in cols[1:]:
        t.add_column(name, justify="right", no_wrap=True)
    for r in rows:
        t.add_row(*(_cell(k, r.get(k)) for _, k in cols))
    con = Console()
    con.print(t)
    for name, r in result["rankers"].items():
        con.print(f"best of {name}: {r.get('best_arch')}", highlight=False, soft_wrap=True)
    print_warnings(result, con)
    kinds = {r.get("cost_kind") for r in rows if r.get("cost_kind")}
    if len(kinds) > 1:
        con.print("note: the costs are of different kinds (" + "; ".join(
            f"{name}: {r['cost_kind']}" for name, r in result["rankers"].items()) + "); ratios between them "
            "compare a benchmark's GPU time with this machine's wall time", highlight=False)
    if not result.get("same_candidates", True):
        con.print("note: the rankers saw different candidates (the searcher depends on scores)")
