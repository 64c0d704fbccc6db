"""The notebook API: ``nasrank.search``, ``nasrank.evaluate`` and ``nasrank.compare``.

Each takes names (or objects) and plain options, runs the same code as the
command of the same name, and returns a result object with a readable ``repr``,
the JSON-ready dict the command writes (``.summary`` / ``.report`` / ``.result``)
and ``.to_pandas()`` (pandas is an optional extra: ``pip install nasrank[pandas]``)::

    import nasrank
    res = nasrank.search("nb201", ranker="tabular", searcher="evolution", benchmark="embedded",
                         budget_queries=300)
    res                 # SearchResult(evolution+tabular on nb201: 300 evaluations, ...)
    df = res.to_pandas()  # one row per evaluation
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasrank.history import History, require_pandas


def _space_and_context(space, space_cfg, benchmark, dataset, data_dir, device, seed):
    from nasrank.experiments.build import make_context, make_space

    sp = make_space(space, space_cfg or {}) if isinstance(space, str) else space
    return sp, make_context(sp, benchmark=benchmark, dataset=dataset, data_dir=data_dir, device=device, seed=seed)


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


def search(space: Any = "nb201", ranker: str = "tabular", searcher: str = "random", *,
           benchmark: str | None = None, dataset: str = "cifar10", data_dir: str | None = None,
           device: str = "auto", seed: int = 0, budget_queries: int | None = None,
           budget_seconds: float | None = None, output: str | Path | None = None,
           ranker_cfg: dict[str, Any] | None = None, searcher_cfg: dict[str, Any] | None = None,
           space_cfg: dict[str, Any] | None = None, scale: dict[str, Any] | None = None, store=None,
           **options: Any) -> SearchResult:
    """Run one search (``nasrank search``); ``space`` is a name or a :class:`~nasrank.spaces.base.SearchSpace`.

    ``options`` go to :func:`nasrank.experiments.search.search` (``plot``, ``executor``, ``workers``...).
    """
    from nasrank.experiments.search import search as run_search

    sp, ctx = _space_and_context(space, space_cfg, benchmark, dataset, data_dir, device, seed)
    summary, history = run_search(sp, ctx, ranker, searcher, ranker_cfg=ranker_cfg, searcher_cfg=searcher_cfg,
                                  budget_queries=budget_queries, budget_seconds=budget_seconds, output=output,
                                  store=store, scale=scale, **options)
    return SearchResult(summary, history, None if output is None else Path(output))


def evaluate(space: Any = "nb201", rankers: list[str] | str = ("params", "flops"), *, benchmark: str,
             output: str | Path, sample: int | str | None = None, archs_file: str | Path | None = None,
             dataset: str = "cifar10", data_dir: str | None = None, device: str = "auto", seed: int = 0,
             ranker_cfgs: dict[str, dict[str, Any]] | None = None, space_cfg: dict[str, Any] | None = None,
             **options: Any) -> EvaluateResult:
    """Score benchmark architectures with ``rankers`` (``nasrank evaluate``); files go to ``output``."""
    from nasrank.experiments.evaluate import evaluate as run_evaluate

    names = [r.strip() for r in rankers.split(",")] if isinstance(rankers, str) else list(rankers)
    sp, ctx = _space_and_context(space, space_cfg, benchmark, dataset, data_dir, device, seed)
    report = run_evaluate(sp, ctx, names, output, sample=sample, archs_file=archs_file, ranker_cfgs=ranker_cfgs,
                          space_cfg=space_cfg, **options)
    return EvaluateResult(report, Path(output))


def compare(space: Any = "nb201", rankers: list[str] | str = ("params", "flops"), *, candidates: int,
            output: str | Path, benchmark: str | None = None, dataset: str = "cifar10",
            data_dir: str | None = None, device: str = "auto", seed: int = 0, searcher: str = "random",
            ranker_cfg: dict[str, Any] | None = None, space_cfg: dict[str, Any] | None = None,
            **options: Any) -> CompareResult:
    """The same search with several rankers (``nasrank compare``); files go to ``output``."""
    from nasrank.experiments.build import parse_ranker_list
    from nasrank.experiments.compare import compare as run_compare

    items = parse_ranker_list(rankers if isinstance(rankers, str) else ",".join(rankers), cascades=True)
    sp, ctx = _space_and_context(space, space_cfg, benchmark, dataset, data_dir, device, seed)
    result = run_compare(sp, ctx, items, candidates, output, searcher=searcher, ranker_cfg_pairs=ranker_cfg,
                         **options)
    from nasrank.experiments.compare import ranker_dirname

    hist = {name: History.load(Path(output) / ranker_dirname(name)) for name in result["rankers"]}
    return CompareResult(result, Path(output), hist)
