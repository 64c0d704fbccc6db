"""The Python API: ``nasrank.search``, ``nasrank.evaluate`` and ``nasrank.compare``.

Each takes a space (a name or a SearchSpace), a typed configuration (``SearchConfig``,
``EvaluateConfig``, ``CompareConfig``: the same data the command line builds) and a run
context (a RunContext, or its options: ``benchmark=``, ``dataset=``, ``seed=`` ...), runs the
code of :mod:`nasrank.experiments` that the command of the same name runs, and returns a result
object with a readable ``repr``, the JSON-ready dict the command writes (``.summary`` /
``.report`` / ``.result``) and ``.to_pandas()`` (pandas is an optional extra:
``pip install nasrank[pandas]``)::

    import nasrank
    from nasrank import SearchConfig
    res = nasrank.search("nb201", SearchConfig(ranker="tabular", searcher="evolution", budget_queries=300),
                         benchmark="embedded")
    res                 # SearchResult(evolution+tabular on nb201: 300 evaluations, ...)
    df = res.to_pandas()  # one row per evaluation
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError, did_you_mean
from nasrank.experiments import config_checks as checks
from nasrank.experiments.config import (CompareConfig, EvaluateConfig, ExecutorConfig, Output,  # noqa: F401
                                        RankerSpec, Scale, SearchConfig)
from nasrank.runs.limits import quote
from nasrank.runs.history import History, require_pandas


#: what ``nasrank.search(..., **context_options)`` takes besides ``space``, ``config`` and ``context``
CONTEXT_OPTIONS = ("benchmark", "dataset", "data_dir", "device", "seed", "progress", "space_cfg")


def _config(config: Any, cls: type, verb: str) -> Any:
    """``config`` if it is a ``cls``, else one :class:`NasrankError` naming ``config``."""
    if not isinstance(config, cls):
        raise NasrankError(f"nasrank.{verb}: config must be a nasrank.{cls.__name__}, got {quote(config)}")
    return config


def _check_context_options(options: dict[str, Any], verb: str) -> None:
    unknown = sorted(set(options) - set(CONTEXT_OPTIONS))
    if unknown:
        hint = did_you_mean(unknown[0], CONTEXT_OPTIONS) if len(unknown) == 1 else ""
        raise NasrankError(f"nasrank.{verb}: unknown option(s) {', '.join(unknown)}{hint}; it takes space, config, "
                           f"context and the context options {', '.join(CONTEXT_OPTIONS)}")
    bench = options.get("benchmark")
    if bench is not None and not isinstance(bench, str):
        raise checks.fail("benchmark", "a benchmark spec such as 'embedded' or 'csv:FILE'", bench)
    checks.path(options.get("data_dir"), "data_dir (--data-dir)")
    if "progress" in options:
        checks.boolean(options["progress"], "progress")
    if not isinstance(options.get("device", "auto"), str):
        raise checks.fail("device (--device)", "a device name", options["device"])


def _space_and_context(space: Any, context: Any, context_options: dict[str, Any], verb: str):
    """``space`` (a name or a SearchSpace) and its RunContext (given, or built from ``context_options``:
    benchmark, dataset, data_dir, device, seed, progress; a space name may come with ``space_cfg``)."""
    from nasrank.experiments.build import make_context, make_space
    from nasrank.rankers.base import RunContext
    from nasrank.spaces.base import SearchSpace

    _check_context_options(context_options, verb)
    space_cfg = checks.mapping(context_options.pop("space_cfg", None), "space_cfg (--space-cfg)")
    if isinstance(space, str) and space.strip():
        sp = make_space(space, space_cfg)
    elif isinstance(space, SearchSpace) and not space_cfg:
        sp = space
    else:
        raise checks.fail(f"nasrank.{verb}: space", "a space name such as 'nb201' or a SearchSpace"
                          + (" (space_cfg goes with a name)" if isinstance(space, SearchSpace) else ""), space)
    if context is None:
        context = make_context(sp, **context_options)
    elif not isinstance(context, RunContext):
        raise checks.fail(f"nasrank.{verb}: context", "a RunContext (or None, with benchmark=, seed= ...)", context)
    elif context_options:
        raise NasrankError(f"nasrank.{verb}: give either a context or its options ({', '.join(context_options)}), "
                           "not both")
    return sp, context


def _cost(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds:.3g} s" if seconds < 1e4 else f"{seconds / 3600:.3g} h"


@dataclass
class SearchResult:
    """What :func:`search` returns: the summary (as in ``summary.json``) and the history."""

    summary: dict[str, Any]
    history: History
    output: Path | None = None

    @property
    def best_arch(self) -> str | None:
        return self.summary.get("best_arch")

    @property
    def best_true_acc(self) -> float | None:
        return self.summary.get("best_true_acc")

    def to_pandas(self):
        """The history, one row per evaluation."""
        return self.history.to_pandas()

    def __repr__(self) -> str:
        s = self.summary
        acc = s.get("best_true_acc")
        found = "no true accuracy" if acc is None else f"best true acc {acc:.2f}"
        if s.get("true_rank_of_best") is not None:
            found += f" (rank {s['true_rank_of_best']} of {s.get('benchmark_size', '?')})"
        return (f"SearchResult({s['searcher']}+{s['ranker']} on {s['space']}: {s['n_evaluations']} evaluations, "
                f"{found}, cost {_cost(s.get('total_cost_seconds'))})")


@dataclass
class EvaluateResult:
    """What :func:`evaluate` returns: the report (as in ``report.json``) and where the files are."""

    report: dict[str, Any]
    output: Path

    def to_pandas(self):
        """The criteria, one row per (ranker, mode), as in ``criteria.csv``."""
        from nasrank.evaluation.ranking_report import criteria_rows

        return require_pandas().DataFrame(criteria_rows(self.report))

    def scores(self):
        """``scores.csv`` as a DataFrame (one row per architecture, ranker and repeat)."""
        return require_pandas().read_csv(self.output / "scores.csv")

    def __repr__(self) -> str:
        mode = self.report["modes"][0]
        parts = []
        for name, rep in self.report["rankers"].items():
            k = rep["criteria"][mode].get("kendall_tau")
            parts.append(f"{name} tau {'n/a' if k is None else format(k, '.3f')}")
        return (f"EvaluateResult({self.report['n_archs']} {self.report['space']} architectures on "
                f"{self.report['dataset']}, {mode}: {', '.join(parts)})")


@dataclass
class CompareResult:
    """What :func:`compare` returns: ``compare.json``'s content and where the files are."""

    result: dict[str, Any]
    output: Path
    histories: dict[str, History] = field(default_factory=dict)

    def to_pandas(self):
        """One row per ranker: cost, cost ratio, best true accuracy, rank correlations."""
        rows = [{k: v for k, v in r.items() if not isinstance(v, (dict, list))}
                for r in self.result["rankers"].values()]
        return require_pandas().DataFrame(rows)

    def __repr__(self) -> str:
        parts = []
        for name, r in self.result["rankers"].items():
            acc = r.get("best_true_acc")
            parts.append(f"{name}: {'n/a' if acc is None else format(acc, '.2f')} for "
                         f"{_cost(r.get('total_cost_seconds'))}")
        return (f"CompareResult({self.result['searcher']} search, {self.result['candidates']} candidates on "
                f"{self.result['space']}: {'; '.join(parts)})")


def _quieted(config: Any, quiet: bool | None) -> Any:
    """``config`` with its output's ``quiet`` set (None: as it is; progress is on by default)."""
    import dataclasses

    if quiet is None:
        return config
    return dataclasses.replace(config, output=dataclasses.replace(config.output, quiet=bool(quiet)))


def search(space: Any = "nb201", config: SearchConfig | None = None, context: Any = None, quiet: bool | None = None,
           **context_options: Any) -> SearchResult:
    """Run one search (``nasrank search``): ``config`` (a :class:`~nasrank.experiments.config.SearchConfig`)
    on ``space`` (a name or a :class:`~nasrank.spaces.base.SearchSpace`), in ``context`` (a
    :class:`~nasrank.rankers.base.RunContext`, or built from ``benchmark=``, ``dataset=``, ``seed=`` ...).
    Progress goes to stderr (bars on a terminal, a timestamped line every 30 s elsewhere); ``quiet=True``
    silences it."""
    from nasrank.experiments.search import search as run_search

    config = _quieted(_config(SearchConfig() if config is None else config, SearchConfig, "search"), quiet)
    sp, ctx = _space_and_context(space, context, context_options, "search")
    summary, history = run_search(sp, ctx, config)
    folder = config.output.folder
    return SearchResult(summary, history, None if folder is None else Path(folder))


def evaluate(space: Any = "nb201", config: EvaluateConfig | None = None, context: Any = None,
             quiet: bool | None = None, **context_options: Any) -> EvaluateResult:
    """Score benchmark architectures (``nasrank evaluate``) as ``config`` (an
    :class:`~nasrank.experiments.config.EvaluateConfig`) says; files go to its output folder
    (``quiet=True``: no progress)."""
    from nasrank.experiments.evaluate import evaluate as run_evaluate

    if config is None:
        raise NasrankError("nasrank.evaluate needs a config: nasrank.EvaluateConfig(rankers, sample=N, output='DIR')")
    config = _quieted(_config(config, EvaluateConfig, "evaluate"), quiet)
    sp, ctx = _space_and_context(space, context, context_options, "evaluate")
    report = run_evaluate(sp, ctx, config)
    return EvaluateResult(report, Path(config.output.folder))


def compare(space: Any = "nb201", config: CompareConfig | None = None, context: Any = None,
            quiet: bool | None = None, **context_options: Any) -> CompareResult:
    """The same search with several rankers (``nasrank compare``), as ``config`` (a
    :class:`~nasrank.experiments.config.CompareConfig`) says; files go to its output folder
    (``quiet=True``: no progress)."""
    from nasrank.experiments.compare import compare as run_compare
    from nasrank.experiments.compare import ranker_dirname

    if config is None:
        raise NasrankError("nasrank.compare needs a config: nasrank.CompareConfig(rankers, candidates=N, output='DIR')")
    config = _quieted(_config(config, CompareConfig, "compare"), quiet)
    sp, ctx = _space_and_context(space, context, context_options, "compare")
    result = run_compare(sp, ctx, config)
    out = Path(config.output.folder)
    hist = {name: History.load(out / ranker_dirname(name)) for name in result["rankers"]}
    return CompareResult(result, out, hist)
