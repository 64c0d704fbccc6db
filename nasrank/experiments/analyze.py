"""Analyze rankers' scores: where their errors go (complexity, op and structure bias) and how
much their ranking varies between repeats (``nasrank analyze``).

Reads the long-format ``scores.csv`` that ``nasrank evaluate`` writes
(``arch,ranker,repeat,score,seconds,device_seconds,true_acc``; an optional
``variant`` column names what differed between repeats, e.g. ``seed``,
``batch`` or ``checkpoint``).

Per ranker, the bias analysis uses each architecture's mean score over its
finite repeats (all variants together); rows whose score is NaN/inf or empty
are dropped and counted (``n_dropped_rows``). ``true_acc`` comes from the
file where given, otherwise from the benchmark. The statistics are defined
in :mod:`nasrank.evaluation.bias` and :mod:`nasrank.evaluation.variance`.
"""
from __future__ import annotations

import csv
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from nasrank.errors import NasrankError, existing_file

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
    path = existing_file(path, "scores file", f"scores file {path} is a folder; give the scores.csv file")
    try:
        return _read_scores(path, space)
    except UnicodeDecodeError as exc:
        raise NasrankError(f"scores file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise NasrankError(f"scores file {path} is not a readable CSV table: {exc}") from None


def _true_acc(text: str | None, where: str) -> float | None:
    """The row's true accuracy (percent, 0..100), or None when empty."""
    acc = _float_or_nan(text, "true_acc", where)
    if math.isnan(acc):
        return None
    if not 0.0 <= acc <= 100.0:
        raise NasrankError(f"{where}: true_acc {text.strip()!r} is not an accuracy in percent (0 to 100)")
    return acc


def _check_repeat(seen: dict[tuple, int], key: tuple, line: int, where: str, text: str) -> None:
    """Each (architecture, ranker, variant, repeat) once: a repeated row would be averaged in silently."""
    if key in seen:
        raise NasrankError(f"{where} repeats line {seen[key]}: architecture {text!r}, ranker {key[1]!r}, "
                           f"repeat {key[3]!r} (give each repeat its own repeat number)")
    seen[key] = line


def _read_scores(path: Path, space) -> list[ScoreRow]:
    with path.open(newline="", encoding="utf-8-sig") as fh:  # a byte-order mark is read as tables read it
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
        seen: dict[tuple, int] = {}
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
            row = ScoreRow(parsed[text], ranker, _repeat(raw.get("repeat")),
                           _float_or_nan(raw.get("score"), "score", where), _true_acc(raw.get("true_acc"), where),
                           (raw.get("variant") or "").strip() or DEFAULT_VARIANT, where)
            _check_repeat(seen, (space.key(row.arch), ranker, row.variant, row.repeat), line, where, text)
            rows.append(row)
    if not rows:
        raise NasrankError(f"scores file {path} has a header but no rows")
    return rows


# --------------------------------------------------------------------------
# analysis
# --------------------------------------------------------------------------
def op_names(space) -> tuple[str, ...]:
    """The space's op vocabulary (:attr:`SearchSpace.ops`), or ()."""
    return tuple(getattr(space, "ops", ()))


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


def nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {k: nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [nan_to_none(v) for v in obj]
    return obj


def analyze(scores: str | Path, output: str | Path, space, benchmark=None, dataset: str = "cifar10",
            by: str = "params", bins: int = 5, formats: Sequence[str] = ("png",)) -> dict[str, Any]:
    """Analyze the scores file ``scores``; write ``OUT/analysis.json`` (and, in each of ``formats``
    (none: no figures),
    ``bias_complexity.png``, ``bias_ops.png`` and ``variance.png``); return the result.

    ``benchmark`` is a spec for :func:`nasrank.benchmarks.load_benchmark` (or None).
    """
    from nasrank.benchmarks import load_benchmark
    from nasrank.evaluation.bias import OVERRATE_RHO, OVERRATE_SHIFT
    from nasrank.experiments.build import write_json

    from nasrank.runs.limits import MAX_BINS, count

    count(bins, "--bins", MAX_BINS)
    out = output_folder(output)
    rows = read_scores(scores, space)  # before the (slower) benchmark: bad input fails fast
    bench = load_benchmark(benchmark, space)
    rankers = analyze_rows(rows, space, bench, dataset, by, bins, source=f"scores file {scores}")
    result = {
        "scores": str(scores), "benchmark": None if bench is None else bench.source,
        "space": space.registry_name, "dataset": dataset, "by": by, "bins": bins,
        "thresholds": {"overrate_rho": OVERRATE_RHO, "overrate_shift": OVERRATE_SHIFT},
        "definitions": {
            "rank_percentile": "(average rank - 1) / (N - 1), ascending, 1 = best; ties share the average rank",
            "rank_error": "predicted minus true rank percentile over the ranker's valid architectures",
            "rank_shift": "mean rank error over a group; > 0 means the group is over-rated",
            "controlled_kendall_tau": "unweighted mean of the within-bin Kendall taus, nan bins ignored",
            "score": "mean over an architecture's finite repeats; NaN/inf/empty rows dropped and counted",
        },
        "rankers": rankers,
        "cautions": small_bin_cautions(rankers),
    }
    from nasrank.runs.provenance import provenance

    result["provenance"] = provenance()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NasrankError(f"--output {out}: cannot create the folder ({exc.strerror or exc})") from None
    write_json(out / "analysis.json", nan_to_none(result))
    if formats:
        _plot(rankers, out, formats, result)
    return result


def output_folder(output: str | Path) -> Path:
    """``--output`` as a folder path: an existing folder, or a path that can be one (not a file, a device,
    or a path under a file); checked before anything is read."""
    out = Path(output)
    for p in (out, *out.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                what = "is not a folder" if p == out else f"is under {p}, which is not a folder"
                raise NasrankError(f"--output {out} {what}; give a folder for analysis.json and the plots")
            break
    return out


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


def _plot(rankers: dict[str, Any], out: Path, formats: Sequence[str] = ("png",), result: Any = None) -> None:
    from nasrank.evaluation.analysis_plots import analysis_caption, plot_complexity_bias, plot_op_bias, plot_variance

    cap = analysis_caption(result or {"rankers": rankers})  # n, benchmark, scores file: every figure's caption
    done = {k: v for k, v in rankers.items() if "skipped" not in v}
    plot_complexity_bias({k: v["complexity_bias"] for k, v in done.items()}, out / "bias_complexity.png", formats,
                         caption=cap)
    plot_op_bias({k: v["op_bias"] for k, v in done.items()}, out / "bias_ops.png",
                 {k: v["feature_bias"] for k, v in done.items()}, formats, caption=cap)
    var = {k: v["variance"] for k, v in rankers.items() if "variance" in v}
    if var:
        plot_variance(var, out / "variance.png", formats, caption=cap)
