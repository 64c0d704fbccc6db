"""Compare rankers: the same search with several rankers, side by side (``nasrank compare``).

Each ranker runs the same searcher with the same seed and ``Budget(queries=N)``
(random search then proposes the same candidate stream to every ranker) and
writes ``OUT/<ranker>/history.jsonl``. ``OUT/compare.json`` holds, per ranker:

* ``total_cost_seconds`` (sum of the ranker's charged cost) and ``device_seconds``;
* ``best_arch`` (highest score), its ``best_true_acc`` and ``true_rank_of_best``
  (1 = the benchmark's best architecture);
* ``n_rejected`` (FEAR early rejections), ``n_not_reached`` (FEAR's threshold
  not reached), ``n_filtered`` (dropped by a cascade's cheap stage), ``n_invalid``;
* ``spearman`` / ``kendall``: rank correlation of score with true accuracy over
  the candidates that have both;
* ``cost_ratio_vs_baseline = baseline_cost / this_cost`` where the baseline is
  ``--baseline`` (default: the last ranker listed); above 1 means cheaper than
  the baseline.

Rankers are listed with ``--rankers fear,train``; ``a>b`` is a cascade (``a``
filters, ``b`` scores the top ``keep_fraction``); ``LABEL=NAME`` runs a ranker
under a label, so one ranker can run twice (``--rankers "train10=train,train20=train"``).
``--ranker-cfg NAME.KEY=VALUE`` configures one ranker (``fear.threshold=0.5``,
``cascade.keep_fraction=0.5``, ``train20.epochs=20``; a label's options override
its ranker's); a key without ``NAME.`` applies to every ranker that takes it.
Results, folders and ``--baseline`` use the label. The scale
options (``--channels`` ...) apply to the training rankers (train, fear) that
take them; ``--channels``/``--cells-per-stage`` also reach the networks that
other rankers build (``build_kwargs`` or ``**build_kwargs``).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError
from nasrank.experiments.build import open_store, random_search_warning, write_json
from nasrank.experiments.config import (CompareCallbacks, CompareConfig, build_ranker,  # noqa: F401 (re-exported)
                                        check_common_options)

#: scale options of the command, applied to every ranker that takes them
SCALE_OPTIONS = ("channels", "cells_per_stage", "image_size", "train_fraction", "epochs", "batch_size")


def ranker_dirname(spec: str) -> str:
    """Folder name of a ranker's run: ``synflow>fear`` -> ``synflow_then_fear``."""
    return spec.replace(">", "_then_").replace("/", "_").replace(":", "_")


# -- metrics -----------------------------------------------------------------------------
def summarize_run(spec: str, history, space, context, wall: float, config: dict[str, Any]) -> dict[str, Any]:
    from nasrank.runs.outcomes import outcome_counts

    best = history.best()
    bench = context.benchmark
    recs = list(history)
    out: dict[str, Any] = {
        "ranker": spec, "config": config, "n_evaluations": len(recs), "cost_kind": history.cost_kind(),
        "total_cost_seconds": history.total_seconds, "device_seconds": sum(r.device_seconds for r in recs),
        "wall_seconds": wall,
        "best_arch": None if best is None else best.arch, "best_score": None if best is None else best.score,
        "best_true_acc": None if best is None else best.true_acc, "true_rank_of_best": None,
        **outcome_counts(recs).as_counts(),
        "mean_true_acc_of_candidates": None,
    }
    truth = [r.true_acc for r in recs]
    known = [t for t in truth if t is not None]
    if known:
        out["mean_true_acc_of_candidates"] = sum(known) / len(known)
        out["best_true_acc_among_candidates"] = max(known)
    from nasrank.evaluation.criteria import rank_correlations

    out.update(rank_correlations([r.score for r in recs], truth))
    if bench is not None and best is not None:
        try:
            out["true_rank_of_best"] = bench.true_rank(space.from_string(best.arch), context.dataset)
        except NasrankError:
            pass
    return out


# -- running -----------------------------------------------------------------------------
def _searchers(built: dict[str, Any], space, config: CompareConfig, executor) -> dict[str, Any]:
    """One searcher per ranker, every one made before any runs: a ranker the searcher cannot use
    (``sh`` with ``params``) fails before the first search (and before the output folder exists)."""
    from nasrank.rankers.stored import with_store
    from nasrank.registry import SEARCHERS

    name, cfg = config.searcher, dict(config.searcher_options)
    if executor is not None:
        from nasrank.execution.ray_executor import searcher_for_executor

        name, cfg = searcher_for_executor(name, cfg, getattr(executor, "workers", 1))
    store = open_store(config.output.store)
    return {spec: SEARCHERS.create(name, space, with_store(built[spec], store), seed=config.seed, executor=executor,
                                   **cfg) for spec in config.labels}


def _run_all(searchers: dict[str, Any], space, context, config: CompareConfig, budget,
             callbacks: CompareCallbacks) -> tuple[dict[str, Any], dict[str, Any]]:
    """One search per ranker; ``(summaries, histories)`` by label."""
    from nasrank.runs.history import History
    from nasrank.runtime.progress import run_search

    out_dir = Path(config.output.folder)
    runs: dict[str, Any] = {}
    histories = {}
    for spec, s in searchers.items():
        ranker = s.ranker
        history = History(out_dir / ranker_dirname(spec), resume=config.resume)
        if callbacks.on_history_record:
            history.subscribe(lambda rec, replayed, spec=spec: callbacks.on_history_record(spec, rec, replayed))
        t0 = time.perf_counter()
        on_record = callbacks.on_record
        try:
            history = run_search(s, budget, history, config.output.quiet, spec, None if on_record is None else
                                 (lambda rec, spec=spec, h=history: on_record(spec, len(h))))  # runtime.progress
        finally:
            history.sync()
        history.close()  # fsync the rest and release the ranker's folder (the records stay in memory)
        histories[spec] = history
        runs[spec] = summarize_run(spec, history, space, context, time.perf_counter() - t0, ranker.config())
        if callbacks.on_done:
            callbacks.on_done(spec, runs[spec])
    return runs, histories


def _check(space, context, config: CompareConfig) -> CompareConfig:
    """Check the configuration before anything is built; return it with its baseline and seed settled."""
    from nasrank.searchers.base import Budget

    labels = config.labels
    baseline = config.baseline or labels[-1]
    if baseline not in labels:
        raise NasrankError(f"--baseline {baseline!r} is not one of --rankers ({', '.join(labels)})")
    Budget(queries=config.candidates)
    check_common_options(config.common, config.rankers, space)
    out_dir = Path(config.output.folder)
    if out_dir.exists() and not out_dir.is_dir():
        raise NasrankError(f"--output {out_dir} is a file; give a folder for compare.json and the rankers' runs")
    prepare_output(out_dir, config.resume, config.overwrite)
    return dataclasses.replace(config, baseline=baseline, seed=context.seed if config.seed is None else config.seed)


def compare(space, context, config: CompareConfig, callbacks: CompareCallbacks | None = None) -> dict[str, Any]:
    """Run the searcher once per ranker with ``Budget(queries=config.candidates)``; write and return compare.json.

    With a result store (``config.output.store``: a :class:`~nasrank.store.ResultStore` or a path to
    one), architectures already scored by the same ranker configuration are read from it and charged
    their recorded cost. A Ray executor evaluates ``workers`` candidates at a time (the searcher's
    parallel variant, as in ``search``). A non-empty output folder is refused unless ``config.resume``
    (continue it) or ``config.overwrite`` (replace an earlier compare there). With logs each training
    ranker logs under ``OUT/<ranker>/logs``. ``callbacks`` report progress (:class:`CompareCallbacks`).
    """
    from nasrank.registry import SEARCHERS
    from nasrank.searchers.base import Budget

    config = _check(space, context, config)
    callbacks = callbacks or CompareCallbacks()
    out_dir = Path(config.output.folder)
    if context.benchmark is not None:  # a search samples the space, not the table
        context.benchmark.warn_coverage(context.dataset)

    def own_logs(label: str):  # each ranker's training logs in its own run folder
        logs = out_dir / ranker_dirname(label) / "logs" if config.output.logs else None
        return dataclasses.replace(context, log_dir=logs)

    # build every ranker first: a bad option fails before any training
    built = {spec.label: build_ranker(spec, space, own_logs(spec.label), config.scale, config.common)
             for spec in config.rankers}
    SEARCHERS.get(config.searcher)
    ex, owned = config.executor.make()
    ran_as = config.searcher  # the name of what ran: e.g. evolution_async for evolution with an executor
    if ex is not None:
        from nasrank.execution.ray_executor import searcher_for_executor

        ran_as = searcher_for_executor(config.searcher, dict(config.searcher_options), getattr(ex, "workers", 1))[0]
    try:
        searchers = _searchers(built, space, config, ex)
        warning = random_search_warning(next(iter(searchers.values())), config.candidates)
        if warning:
            import sys

            print(f"nasrank: warning: {warning}", file=sys.stderr)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NasrankError(f"cannot create the --output folder {out_dir}: {exc.strerror or exc}") from None
        runs, histories = _run_all(searchers, space, context, config, Budget(queries=config.candidates), callbacks)
    finally:
        if owned:
            ex.close()
    return _write_result(space, context, config, runs, histories, ran_as)


def _write_result(space, context, config: CompareConfig, runs: dict[str, Any], histories: dict[str, Any],
                  ran_as: str) -> dict[str, Any]:
    """compare.json (and the cost-vs-accuracy figure) from every ranker's run."""
    out_dir = Path(config.output.folder)
    base_cost = runs[config.baseline]["total_cost_seconds"]
    for r in runs.values():
        r["cost_ratio_vs_baseline"] = base_cost / r["total_cost_seconds"] if r["total_cost_seconds"] > 0 else None
    from nasrank.experiments.threshold_warnings import compare_warnings

    arch_lists = {spec: [r.arch for r in h] for spec, h in histories.items()}
    first = next(iter(arch_lists.values()))
    result: dict[str, Any] = {
        "space": space.registry_name, "searcher": ran_as, "seed": config.seed, "candidates": config.candidates,
        "dataset": context.dataset, "benchmark": None if context.benchmark is None else context.benchmark.source,
        "baseline": config.baseline, "scale": config.scale.given(), "rankers": runs,
        "same_candidates": all(v == first for v in arch_lists.values()),
        "definitions": DEFINITIONS, "warnings": compare_warnings(runs, config.baseline),
    }
    optimum = None
    if context.benchmark is not None:
        try:
            _, optimum = context.benchmark.best(context.dataset)
            result["optimum_true_acc"] = optimum
            bench = context.benchmark
            result["benchmark_size"] = bench.size(context.dataset) if hasattr(bench, "size") else len(
                bench.archs(context.dataset))
        except NasrankError:
            pass
    from nasrank.runs.provenance import provenance

    result["provenance"] = provenance(context.device)
    write_json(out_dir / "compare.json", result)
    from nasrank.evaluation.captions import caption
    from nasrank.evaluation.plots import plot_trajectories

    plot_trajectories([(spec, h) for spec, h in histories.items()], out_dir / "cost_vs_accuracy.png", optimum,
                      formats=config.output.formats, measured_on=result["provenance"]["device_used"],
                      title=f"{ran_as} search, {config.candidates} candidates: true accuracy vs ranker cost",
                      caption=caption(config.candidates, "candidates per ranker", result["benchmark"], context.dataset,
                                      config.scale.given()))
    return result


DEFINITIONS = {
    "total_cost_seconds": "sum of the cost each evaluation charged (measured wall seconds for train/fear)",
    "device_seconds": "accelerator (or CPU) time held: wall seconds x devices",
    "cost_ratio_vs_baseline": "baseline total_cost_seconds / this ranker's (above 1 = cheaper than baseline)",
    "spearman": "Spearman of ranker score vs true accuracy over this run's candidates",
    "true_rank_of_best": "1-based rank of the selected architecture in the benchmark (1 = optimum)",
}


#: what a compare writes into its output folder (besides one folder per ranker)
OWN_FILES = ("compare.json", "config.yaml", "cost_vs_accuracy.png", "cost_vs_accuracy.pdf", "cost_vs_accuracy.svg",
             "cost_vs_accuracy.figure.json")


def prepare_output(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse a non-empty ``out`` unless ``resume`` (continue it) or ``overwrite`` (remove the earlier compare)."""
    import shutil

    if resume and overwrite:
        raise NasrankError("give --resume or --overwrite, not both")
    if resume:  # no link in the folder leads a write (state, logs, histories) elsewhere
        from nasrank.runs.atomic import refuse_links_under

        refuse_links_under(out)
    if not out.is_dir() or not any(out.iterdir()) or resume:
        return
    if not overwrite:
        raise NasrankError(f"--output {out} is not empty; give --resume to continue it, --overwrite to replace it, "
                           "or another folder")
    ranker_dirs = [d for d in out.iterdir() if d.is_dir() and (d / "history.jsonl").is_file()]
    foreign = [p.name for p in out.iterdir() if p.name not in OWN_FILES and p not in ranker_dirs]
    if foreign:
        raise NasrankError(f"--overwrite: {out} holds files nasrank compare did not write "
                           f"({', '.join(sorted(foreign)[:5])}); choose another folder")
    for d in ranker_dirs:
        shutil.rmtree(d)
    for name in OWN_FILES:
        (out / name).unlink(missing_ok=True)
