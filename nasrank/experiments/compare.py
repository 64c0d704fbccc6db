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
from typing import Any, Sequence

from nasrank.errors import NasrankError
from nasrank.experiments.build import make_executor, make_ranker, open_store, ranker_label, ranker_spec, write_json

#: scale options of the command, applied to every ranker that takes them
SCALE_OPTIONS = ("channels", "cells_per_stage", "image_size", "train_fraction", "epochs", "batch_size")
#: the scale options that only change the built network (safe for rankers taking **build_kwargs)
BUILD_OPTIONS = ("channels", "cells_per_stage")


# -- configuration ---------------------------------------------------------------------
def split_ranker_cfg(cfg: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``{"fear.threshold": .5, "seed": 1}`` -> ``({"fear": {"threshold": .5}}, {"seed": 1})``."""
    per: dict[str, dict[str, Any]] = {}
    common: dict[str, Any] = {}
    for k, v in cfg.items():
        name, dot, key = k.rpartition(".")
        if dot:
            if not key:
                raise NasrankError(f"malformed --ranker-cfg key {k!r}; expected NAME.KEY=VALUE")
            per.setdefault(name, {})[key] = v
        else:
            common[key] = v
    return per, common


def check_scale(scale: dict[str, Any]) -> dict[str, Any]:
    """The scale options (``--channels`` ...), each a positive integer (``train_fraction`` in (0, 1])."""
    from nasrank import validate

    out = {}
    for k, v in scale.items():
        opt = "--" + k.replace("_", "-")
        if k == "train_fraction":
            out[k] = validate.number(v, k, f"compare {opt}", 0.0, 1.0, low_open=True)
        else:
            out[k] = validate.integer(v, k, f"compare {opt}")
    return out


def check_common_options(common: dict[str, Any], specs: list[str], labels: list[str], space=None) -> None:
    """A ``--ranker-cfg KEY=VALUE`` without a ranker prefix must be taken by some listed ranker
    (a ranker keeping ``**kwargs`` for its network takes the space's build options)."""
    from nasrank.registry import RANKERS, accepted_options
    from nasrank.spaces.build_options import build_options

    leaves = {p for s in specs for p in s.split(">")} | ({"cascade"} if any(">" in s for s in specs) else set())
    accepted: set[str] = set()
    for name in leaves:
        opts = accepted_options(RANKERS.get(name))
        if opts.open:
            build = None if space is None else build_options(space)
            if build is None:
                return  # a ranker taking **kwargs it does not declare: any key may be its
            accepted |= build
        accepted |= set(opts.names)
    unused = sorted(set(common) - accepted)
    if unused:
        raise NasrankError(f"--ranker-cfg {', '.join(unused)}: no ranker in --rankers ({', '.join(labels)}) takes "
                           f"{'it' if len(unused) == 1 else 'them'}")


def ranker_cfg(name: str, per: dict[str, dict[str, Any]], common: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
    """Options of one (non-cascade) ranker: scale and common options it takes, then its own.

    A ranker that declares ``takes_training_scale`` gets every scale option it
    accepts; one that keeps ``**kwargs`` for its network (``params``, ``flops``)
    gets the build options; one with a ``build_kwargs`` option (zero-shot) gets
    them there.
    """
    from nasrank.registry import RANKERS, accepted_options

    cls = RANKERS.get(name)
    opts = accepted_options(cls)
    training = bool(getattr(cls, "takes_training_scale", False))
    out: dict[str, Any] = {}
    build = {k: v for k, v in scale.items() if k in BUILD_OPTIONS}
    for k, v in scale.items():
        if (training and k in opts) or (opts.open and k in BUILD_OPTIONS):
            out[k] = v
    if not training and "build_kwargs" in opts and build:  # zero-shot rankers: the network's scale only
        out["build_kwargs"] = {**build, **per.get(name, {}).get("build_kwargs", {})}
    for k, v in common.items():
        if k in opts or (opts.open and not training and k in BUILD_OPTIONS):
            out[k] = v
    out.update(per.get(name, {}))
    return out


def _scale_for(space, scale: dict[str, Any]) -> dict[str, Any]:
    """``scale`` without the build knobs that ``space.build`` does not take (e.g. ``channels`` for nb101)."""
    from nasrank.spaces.build_options import build_options

    opts = build_options(space)
    return {k: v for k, v in scale.items() if k not in BUILD_OPTIONS or opts is None or k in opts}


def make_compare_ranker(item: str, space, context, per: dict[str, dict[str, Any]], common: dict[str, Any],
                        scale: dict[str, Any]):
    """Build the ranker for one ``--rankers`` item (a name, ``cheap>expensive``, either under ``LABEL=``)."""
    label, spec = ranker_label(item), ranker_spec(item)
    if ">" in spec:
        first, second = spec.split(">")
        cas = dict(per.get("cascade", {}))
        cas.update(per.get(spec, {}))
        if label != spec:
            cas.update(per.get(label, {}))
        return make_ranker("cascade", space, context, {
            "first": first, "second": second, **cas,
            "first_cfg": ranker_cfg(first, per, common, _scale_for(space, scale)),
            "second_cfg": ranker_cfg(second, per, common, _scale_for(space, scale))})
    own = {**per, spec: {**per.get(spec, {}), **per.get(label, {})}} if label != spec else per
    return make_ranker(spec, space, context, ranker_cfg(spec, own, common, _scale_for(space, scale)))


def ranker_dirname(spec: str) -> str:
    """Folder name of a ranker's run: ``synflow>fear`` -> ``synflow_then_fear``."""
    return spec.replace(">", "_then_").replace("/", "_").replace(":", "_")


# -- metrics -----------------------------------------------------------------------------
def summarize_run(spec: str, history, space, context, wall: float, config: dict[str, Any]) -> dict[str, Any]:
    from nasrank.rankers.outcomes import outcome_counts

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
def _run_all(built: dict[str, Any], labels: list[str], space, context, searcher: str, searcher_cfg, budget, seed: int,
             out_dir: Path, resume: bool, store, executor, on_done,
             on_record=None, on_history_record=None) -> tuple[dict[str, Any], dict[str, Any]]:
    """One search per ranker (through ``executor`` when given); ``(summaries, histories)`` by label.

    ``on_done(label, summary)`` after each ranker, ``on_record(label, n_done)`` after each evaluation,
    ``on_history_record(label, record, replayed)`` as each record lands in a history (replayed ones too)."""
    from nasrank.history import History
    from nasrank.rankers.stored import with_store
    from nasrank.registry import SEARCHERS

    name, cfg = searcher, dict(searcher_cfg or {})
    if executor is not None:
        from nasrank.parallel import searcher_for_executor

        name, cfg = searcher_for_executor(name, cfg, getattr(executor, "workers", 1))
    runs: dict[str, Any] = {}
    histories = {}
    for spec in labels:
        ranker = with_store(built[spec], store)
        s = SEARCHERS.create(name, space, ranker, seed=seed, executor=executor, **cfg)
        history = History(out_dir / ranker_dirname(spec), resume=resume)
        if on_history_record:
            history.subscribe(lambda rec, replayed, spec=spec: on_history_record(spec, rec, replayed))
        t0 = time.perf_counter()
        history = s.run(budget, history, on_record=None if on_record is None else
                        (lambda rec, spec=spec, h=history: on_record(spec, len(h))))
        histories[spec] = history
        runs[spec] = summarize_run(spec, history, space, context, time.perf_counter() - t0, ranker.config())
        if on_done:
            on_done(spec, runs[spec])
    return runs, histories


def compare(space, context, rankers: Sequence[str], candidates: int, output: str | Path, searcher: str = "random",
            searcher_cfg: dict[str, Any] | None = None, ranker_cfg_pairs: dict[str, Any] | None = None,
            scale: dict[str, Any] | None = None, baseline: str | None = None, seed: int | None = None,
            resume: bool = False, on_done=None, store=None, executor: Any = "serial", workers: int = 2,
            ray_address: str | None = None, gpus_per_task: float = 1.0, formats: Sequence[str] = ("png",),
            on_record=None, overwrite: bool = False, logs: bool = True,
            on_history_record=None) -> dict[str, Any]:
    """Run ``searcher`` once per ranker with ``Budget(queries=candidates)``; write and return compare.json.

    ``on_history_record(label, record, replayed)`` is called as each evaluation lands in a
    ranker's history (``replayed``: read back from a resumed history, not paid again).

    With a result ``store`` (a :class:`~nasrank.store.ResultStore` or a path to one),
    architectures already scored by the same ranker configuration are read from it
    and charged their recorded cost. ``executor="ray"`` evaluates ``workers`` candidates at a time
    (the searcher's parallel variant, as in ``search``; each task asks for ``gpus_per_task`` GPUs
    where the cluster has them). A non-empty ``output`` is refused unless ``resume`` (continue it)
    or ``overwrite`` (replace an earlier compare there). ``on_record(label, n_done)`` is called after
    every evaluation; with ``logs`` each training ranker logs under ``OUT/<ranker>/logs``.
    """
    from nasrank.registry import SEARCHERS
    from nasrank.searchers.base import Budget

    items = list(rankers)
    rankers = [ranker_label(it) for it in items]
    baseline = baseline or rankers[-1]
    if baseline not in rankers:
        raise NasrankError(f"--baseline {baseline!r} is not one of --rankers ({', '.join(rankers)})")
    budget = Budget(queries=candidates)
    seed = context.seed if seed is None else seed
    per, common = split_ranker_cfg(ranker_cfg_pairs or {})
    scale = check_scale({k: v for k, v in (scale or {}).items() if v is not None})
    specs = [ranker_spec(it) for it in items]
    check_common_options(common, specs, rankers, space)
    known = (set(rankers) | set(specs) | {p for r in specs for p in r.split(">")}
             | ({"cascade"} if any(">" in r for r in specs) else set()))
    unknown = sorted(set(per) - known)
    if unknown:
        raise NasrankError(f"--ranker-cfg names ranker(s) {', '.join(unknown)} that are not in --rankers ({', '.join(rankers)})")
    store = open_store(store)
    out_dir = Path(output)
    if out_dir.exists() and not out_dir.is_dir():
        raise NasrankError(f"--output {out_dir} is a file; give a folder for compare.json and the rankers' runs")
    prepare_output(out_dir, resume, overwrite)
    if context.benchmark is not None:  # a search samples the space, not the table
        context.benchmark.warn_coverage(context.dataset)

    def own_logs(label: str):  # each ranker's training logs in its own run folder
        return dataclasses.replace(context, log_dir=out_dir / ranker_dirname(label) / "logs" if logs else None)

    # build every ranker first: a bad option fails before any training
    built = {ranker_label(it): make_compare_ranker(it, space, own_logs(ranker_label(it)), per, common, scale)
             for it in items}
    SEARCHERS.get(searcher)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NasrankError(f"cannot create the --output folder {out_dir}: {exc.strerror or exc}") from None
    ex, owned = make_executor(executor, workers, ray_address, gpus_per_task)
    ran_as = searcher  # the name of what ran: e.g. evolution_async for evolution with an executor
    if ex is not None:
        from nasrank.parallel import searcher_for_executor

        ran_as = searcher_for_executor(searcher, dict(searcher_cfg or {}), getattr(ex, "workers", 1))[0]
    try:
        runs, histories = _run_all(built, rankers, space, context, searcher, searcher_cfg, budget, seed, out_dir,
                                   resume, store, ex, on_done, on_record, on_history_record)
    finally:
        if owned:
            ex.close()
    base_cost = runs[baseline]["total_cost_seconds"]
    for r in runs.values():
        r["cost_ratio_vs_baseline"] = base_cost / r["total_cost_seconds"] if r["total_cost_seconds"] > 0 else None
    arch_lists = {spec: [r.arch for r in h] for spec, h in histories.items()}
    first = next(iter(arch_lists.values()))
    result: dict[str, Any] = {
        "space": space.registry_name, "searcher": ran_as, "seed": seed, "candidates": candidates,
        "dataset": context.dataset, "benchmark": None if context.benchmark is None else context.benchmark.source,
        "baseline": baseline, "scale": scale, "rankers": runs,
        "same_candidates": all(v == first for v in arch_lists.values()),
        "definitions": {
            "total_cost_seconds": "sum of the cost each evaluation charged (measured wall seconds for train/fear)",
            "device_seconds": "accelerator (or CPU) time held: wall seconds x devices",
            "cost_ratio_vs_baseline": "baseline total_cost_seconds / this ranker's (above 1 = cheaper than baseline)",
            "spearman": "Spearman of ranker score vs true accuracy over this run's candidates",
            "true_rank_of_best": "1-based rank of the selected architecture in the benchmark (1 = optimum)",
        },
    }
    optimum = None
    if context.benchmark is not None:
        try:
            _, optimum = context.benchmark.best(context.dataset)
            result["optimum_true_acc"] = optimum
            result["benchmark_size"] = len(context.benchmark.archs(context.dataset))
        except NasrankError:
            pass
    from nasrank.provenance import provenance

    result["provenance"] = provenance(context.device)
    write_json(out_dir / "compare.json", result)
    from nasrank.evaluation.plots import plot_trajectories

    plot_trajectories([(spec, h) for spec, h in histories.items()], out_dir / "cost_vs_accuracy.png", optimum,
                      formats=formats, measured_on=result["provenance"]["device_used"],
                      title=f"{ran_as} search, {candidates} candidates: true accuracy vs ranker cost")
    return result


#: what a compare writes into its output folder (besides one folder per ranker)
OWN_FILES = ("compare.json", "config.yaml", "cost_vs_accuracy.png", "cost_vs_accuracy.pdf", "cost_vs_accuracy.svg",
             "cost_vs_accuracy.figure.json")


def prepare_output(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse a non-empty ``out`` unless ``resume`` (continue it) or ``overwrite`` (remove the earlier compare)."""
    import shutil

    if resume and overwrite:
        raise NasrankError("give --resume or --overwrite, not both")
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
