"""``nasrank analyze``: where a ranker's errors go (complexity, op and structure bias) and how
much its ranking varies between repeats.

Reads the long-format ``scores.csv`` that ``nasrank evaluate`` writes
(``arch,ranker,repeat,score,seconds,device_seconds,true_acc``; an optional
``variant`` column names what differed between repeats, e.g. ``seed``,
``batch`` or ``checkpoint``). Writes ``DIR/analysis.json``,
``DIR/bias_complexity.png``, ``DIR/bias_ops.png`` and, when some ranker has
two or more repeats, ``DIR/variance.png``; prints a table.

Per ranker, the bias analysis uses each architecture's mean score over its
finite repeats (all variants together); rows whose score is NaN/inf or empty
are dropped and counted (``n_dropped_rows``). ``true_acc`` comes from the
file where given, otherwise from ``--benchmark``. The statistics are defined
in :mod:`nasrank.evaluation.bias` and :mod:`nasrank.evaluation.variance`.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from nasrank.errors import MissingFileError, NasrankError

REQUIRED_COLUMNS = ("arch", "ranker", "score")
DEFAULT_VARIANT = "repeat"


@dataclass(frozen=True)
class ScoreRow:
    """One scoring of one architecture by one ranker."""

    arch: Any
    ranker: str
    repeat: Hashable = 0
    score: float = float("nan")
    true_acc: float | None = None
    variant: str = DEFAULT_VARIANT
    where: str = ""  # "FILE, line N", for error messages


def register(sub: argparse._SubParsersAction) -> None:
    from nasrank.benchmarks import SPEC_HELP

    p = sub.add_parser("analyze", help="bias and variance analysis of rankers' scores", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scores", required=True, help="long-format scores.csv (from `nasrank evaluate`)")
    p.add_argument("--benchmark", default=None, help=f"ground truth for rows without true_acc: {SPEC_HELP}")
    p.add_argument("--space", default="nb201", help="space name (see `nasrank spaces`) or pkg.module:Class")
    p.add_argument("--space-cfg", action="append", metavar="KEY=VALUE", help="space constructor options")
    p.add_argument("--dataset", default="cifar10", help="dataset of the benchmark's accuracies")
    p.add_argument("--output", required=True, help="folder for analysis.json and the plots")
    p.add_argument("--by", default="params", choices=("params", "flops"), help="complexity measure of the bins")
    p.add_argument("--bins", type=int, default=5, help="number of equal-count complexity bins")
    p.add_argument("--no-plots", action="store_true", help="write analysis.json only")
    from nasrank.evaluation.figures import add_format_arg

    add_format_arg(p)
    p.set_defaults(func=run)


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------
def _float_or_nan(text: str | None, what: str, where: str) -> float:
    if text is None or text.strip() == "":
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise NasrankError(f"{where}: {what} {text!r} is not a number") from None


def _repeat(text: str | None) -> Hashable:
    if text is None or text.strip() == "":
        return 0
    try:
        return int(text)
    except ValueError:
        return text.strip()


def read_scores(path: str | Path, space) -> list[ScoreRow]:
    """Read a long-format scores file; every malformed input raises one :class:`NasrankError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "scores file")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames
        if not cols:
            raise NasrankError(f"scores file {path} is empty (expected a header "
                               f"arch,ranker,repeat,score,seconds,device_seconds,true_acc)")
        cols = [c.strip() for c in cols]
        reader.fieldnames = cols
        missing = [c for c in REQUIRED_COLUMNS if c not in cols]
        if missing:
            raise NasrankError(f"scores file {path} has no {', '.join(repr(c) for c in missing)} column "
                               f"(columns: {', '.join(cols)}); expected the long format "
                               f"arch,ranker,repeat,score,seconds,device_seconds,true_acc")
        rows: list[ScoreRow] = []
        parsed: dict[str, Any] = {}
        for line, raw in enumerate(reader, start=2):
            where = f"scores file {path}, line {line}"
            text = (raw.get("arch") or "").strip()
            ranker = (raw.get("ranker") or "").strip()
            if not text or not ranker:
                raise NasrankError(f"{where}: empty {'arch' if not text else 'ranker'}")
            if text not in parsed:
                try:
                    parsed[text] = space.from_string(text)
                except (NasrankError, ValueError, KeyError, TypeError) as exc:
                    raise NasrankError(f"{where}: cannot read architecture {text!r}: {exc}") from None
            acc = _float_or_nan(raw.get("true_acc"), "true_acc", where)
            rows.append(ScoreRow(parsed[text], ranker, _repeat(raw.get("repeat")),
                                 _float_or_nan(raw.get("score"), "score", where),
                                 None if math.isnan(acc) else acc,
                                 (raw.get("variant") or "").strip() or DEFAULT_VARIANT, where))
    if not rows:
        raise NasrankError(f"scores file {path} has a header but no rows")
    return rows


# --------------------------------------------------------------------------
# analysis
# --------------------------------------------------------------------------
def op_names(space) -> tuple[str, ...]:
    """The space's op names (module-level ``OPS`` of its module, or ``space.OPS``), or ()."""
    ops = getattr(space, "OPS", None)
    if ops is None:
        ops = getattr(importlib.import_module(type(space).__module__), "OPS", ())
    return tuple(ops)


def split_features(space, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(op-count feature names ``n_<op>``, all other feature names)."""
    ops = {f"n_{o}" for o in op_names(space)}
    names = list(names)
    return [n for n in names if n in ops], [n for n in names if n not in ops]


def _truths(rows: Sequence[ScoreRow], space, benchmark, dataset: str) -> dict[Hashable, float]:
    """True accuracy per arch key: the file's value where given, else the benchmark's."""
    out: dict[Hashable, float] = {}
    for r in rows:
        k = space.key(r.arch)
        if benchmark is not None:
            acc = benchmark.true_accuracy(r.arch, dataset)
            if acc is None:
                raise NasrankError(f"{r.where}: architecture {space.to_string(r.arch)} is not in the benchmark "
                                   f"{benchmark.source} (dataset {dataset})")
        if k in out:
            continue
        if r.true_acc is not None:
            out[k] = r.true_acc
        elif benchmark is not None:
            out[k] = float(acc)
        else:
            raise NasrankError(f"{r.where}: true_acc is empty and no --benchmark was given to look it up")
    return out


def analyze_rows(rows: Sequence[ScoreRow], space, benchmark=None, dataset: str = "cifar10", by: str = "params",
                 bins: int = 5, features: dict[Hashable, dict[str, float]] | None = None,
                 source: str = "scores") -> dict[str, Any]:
    """The whole analysis of ``rows`` (see the module docstring); returns the ``rankers`` mapping.

    ``features`` (arch key -> feature dict) may be passed to reuse them.
    A ranker with fewer than two finite architectures is reported as
    ``{"skipped": reason, ...}``; if every ranker is, :class:`NasrankError`
    names ``source``.
    """
    from nasrank.evaluation.bias import complexity_bias, feature_bias, summarize_bias
    from nasrank.evaluation.criteria import kendall_tau, spearman
    from nasrank.evaluation.variance import matrix_from_long, repeat_consistency

    if not rows:
        raise NasrankError(f"{source}: no scores to analyze")
    truth = _truths(rows, space, benchmark, dataset)
    features = {} if features is None else features
    for r in rows:
        k = space.key(r.arch)
        if k not in features:
            features[k] = space.features(r.arch)
    by_ranker: "OrderedDict[str, list[ScoreRow]]" = OrderedDict()
    for r in rows:
        by_ranker.setdefault(r.ranker, []).append(r)

    out: dict[str, Any] = {}
    for name, rr in by_ranker.items():
        sums: "OrderedDict[Hashable, list[float]]" = OrderedDict()
        dropped = 0
        for r in rr:
            k = space.key(r.arch)
            lst = sums.setdefault(k, [])
            if math.isfinite(r.score):
                lst.append(r.score)
            else:
                dropped += 1
        keys = [k for k, v in sums.items() if v]
        if len(keys) < 2:
            out[name] = {"n_archs": len(keys), "n_rows": len(rr), "n_dropped_rows": dropped,
                         "skipped": f"fewer than two architectures with a finite score ({dropped} NaN/inf/empty "
                                    f"rows dropped)"}
            continue
        s = np.array([np.mean(sums[k]) for k in keys])
        t = np.array([truth[k] for k in keys])
        fnames = list(features[keys[0]])
        if by not in fnames:
            raise NasrankError(f"space {space.registry_name!r} gives no {by!r} feature (it gives: {', '.join(fnames)})")
        fmat = {f: np.array([features[k].get(f, np.nan) for k in keys], dtype=float) for f in fnames}
        ops, others = split_features(space, fnames)
        cb = complexity_bias(s, t, fmat[by], bins=bins, by=by)
        ob = feature_bias(s, t, {f: fmat[f] for f in ops})
        fb = feature_bias(s, t, {f: fmat[f] for f in others})
        res: dict[str, Any] = {
            "n_archs": len(keys), "n_rows": len(rr), "n_dropped_rows": dropped,
            "n_archs_dropped": len(sums) - len(keys),
            "kendall_tau": kendall_tau(s, t), "spearman": spearman(s, t),
            "complexity_bias": cb, "op_bias": ob, "feature_bias": fb,
            "summary_text": summarize_bias(name, cb, ob, fb),
        }
        variants: "OrderedDict[str, list[ScoreRow]]" = OrderedDict()
        for r in rr:
            variants.setdefault(r.variant, []).append(r)
        var: dict[str, Any] = {}
        for vname, vr in variants.items():
            if len({r.repeat for r in vr}) < 2:
                continue
            _, reps, mat = matrix_from_long([space.key(r.arch) for r in vr], [r.repeat for r in vr],
                                            [r.score for r in vr], what=f"ranker {name!r}, variant {vname!r}")
            var[vname] = repeat_consistency(mat, reps)
        if var:
            res["variance"] = var
        out[name] = res
    if not any("skipped" not in r for r in out.values()):
        counts = ", ".join(f"{k}: {v['n_archs']}" for k, v in out.items())
        raise NasrankError(f"{source}: no ranker has two or more architectures with a finite score ({counts})")
    return out


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    return obj


#: bins with fewer architectures than this get a caution: a rank correlation over so few is mostly noise
MIN_BIN_ARCHS = 10


def small_bin_cautions(rankers: dict[str, Any]) -> list[str]:
    """One line per ranker whose complexity bins hold fewer than :data:`MIN_BIN_ARCHS` architectures."""
    out = []
    for name, r in rankers.items():
        bins = (r.get("complexity_bias") or {}).get("bins") or []
        small = [b for b in bins if b.get("n", 0) < MIN_BIN_ARCHS]
        if small:
            sizes = ", ".join(f"bin {b['bin']}: {b['n']}" for b in small)
            out.append(f"{name}: {len(small)} of {len(bins)} bins hold fewer than {MIN_BIN_ARCHS} architectures "
                       f"({sizes}); their tau and shift are mostly noise (fewer --bins, or more architectures)")
    return out


def run(args: argparse.Namespace) -> int:
    from nasrank.benchmarks import load_benchmark
    from nasrank.commands.common import make_space, write_json

    if args.bins < 1:
        raise NasrankError(f"--bins must be a positive integer, got {args.bins}")
    space = make_space(args)
    rows = read_scores(args.scores, space)  # before the (slower) benchmark: bad input fails fast
    bench = load_benchmark(args.benchmark, space)
    rankers = analyze_rows(rows, space, bench, args.dataset, args.by, args.bins,
                           source=f"scores file {args.scores}")
    from nasrank.evaluation.bias import OVERRATE_RHO, OVERRATE_SHIFT

    result = {
        "scores": str(args.scores), "benchmark": None if bench is None else bench.source,
        "space": space.registry_name, "dataset": args.dataset, "by": args.by, "bins": args.bins,
        "thresholds": {"overrate_rho": OVERRATE_RHO, "overrate_shift": OVERRATE_SHIFT},
        "definitions": {
            "rank_percentile": "(average rank - 1) / (N - 1), ascending, 1 = best; ties share the average rank",
            "rank_error": "predicted minus true rank percentile over the ranker's valid architectures",
            "rank_shift": "mean rank error over a group; > 0 means the group is over-rated",
            "controlled_kendall_tau": "unweighted mean of the within-bin Kendall taus, nan bins ignored",
            "score": "mean over an architecture's finite repeats; NaN/inf/empty rows dropped and counted",
        },
        "rankers": rankers,
    }
    from nasrank.provenance import provenance

    result["cautions"] = small_bin_cautions(rankers)
    result["provenance"] = provenance()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "analysis.json", _nan_to_none(result))
    if not args.no_plots:
        from nasrank.evaluation.analysis_plots import plot_complexity_bias, plot_op_bias, plot_variance
        from nasrank.evaluation.figures import parse_formats

        fmts = parse_formats(args.format)
        done = {k: v for k, v in rankers.items() if "skipped" not in v}
        plot_complexity_bias({k: v["complexity_bias"] for k, v in done.items()}, out / "bias_complexity.png", fmts)
        plot_op_bias({k: v["op_bias"] for k, v in done.items()}, out / "bias_ops.png",
                     {k: v["feature_bias"] for k, v in done.items()}, fmts)
        var = {k: v["variance"] for k, v in rankers.items() if "variance" in v}
        if var:
            plot_variance(var, out / "variance.png", fmts)
    print_table(result)
    return 0


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def print_table(result: dict[str, Any]) -> None:
    """One row per ranker: correlation, controlled tau, lowest/highest-bin shift, over-rated ops, variance."""
    from rich.console import Console
    from rich.table import Table

    from nasrank.evaluation.bias import OVERRATE_RHO, OVERRATE_SHIFT, high_shift

    t = Table(title=f"nasrank analyze: {result['scores']}", caption=f"bin tau: mean Kendall tau inside "
              f"{result['bins']} {result['by']} bins; shift: rank shift in the lowest/highest bin")
    for col in ("ranker", "N", "drop", "tau", "bin tau", "shift lo", "shift hi", "over-rated ops",
                "repeat tau mean/min"):
        t.add_column(col, overflow="fold")
    for name, r in result["rankers"].items():
        if "skipped" in r:
            t.add_row(name, str(r["n_archs"]), str(r["n_dropped_rows"]), "skipped", "-", "-", "-", "-", "-")
            continue
        cb = r["complexity_bias"]
        over = [op[2:].replace("nor_", "") for op, st in r["op_bias"].items()
                if (st["spearman_feature_vs_error"] or 0) > OVERRATE_RHO and (high_shift(st) or 0) > OVERRATE_SHIFT]
        var = r.get("variance") or {}
        vtxt = "; ".join(f"{k}: {_fmt(v['mean_kendall_tau'])}/{_fmt(v['min_kendall_tau'])}" for k, v in var.items())
        t.add_row(name, str(r["n_archs"]), str(r["n_dropped_rows"]), _fmt(r["kendall_tau"]),
                  _fmt(cb["controlled_kendall_tau"]), _fmt(cb["bins"][0]["rank_shift"], "+.3f"),
                  _fmt(cb["bins"][-1]["rank_shift"], "+.3f"), ", ".join(over) or "-", vtxt or "-")
    con = Console()
    con.print(t)
    for name, r in result["rankers"].items():
        con.print(f"- {r.get('summary_text') or name + ' skipped: ' + r['skipped']}", highlight=False)
    for line in result.get("cautions") or []:
        con.print(f"caution: {line}", highlight=False)
