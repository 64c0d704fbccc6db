"""Evaluate rankers on benchmark architectures: how well each ranks them (``nasrank evaluate``).

The architectures are a uniform sample of the benchmark's table (:func:`sample_archs`)
or a list read from a file (:func:`read_archs_file`); :func:`score_all` scores them
with every ranker, and :func:`evaluate` does the whole experiment and writes
``scores.csv``, ``report.json`` and the plots.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from nasrank.errors import NasrankError, existing_file
from nasrank.experiments.build import open_store
from nasrank.experiments.config import EvaluateConfig, build_ranker

REPORT_FILE = "report.json"
SCORES_FILE = "scores.csv"
PARTIAL_SCORES_FILE = "scores.partial.csv"


# --------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------
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
    path = existing_file(path, "--archs file", f"--archs {path} is a folder; give a file with one architecture per line")
    from nasrank.runs.limits import bounded_lines, short

    try:
        with path.open(encoding="utf-8-sig") as fh:  # a byte-order mark is not part of the first line
            text_lines = list(bounded_lines(fh, f"--archs {path}"))
    except UnicodeDecodeError as exc:
        raise NasrankError(f"--archs {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    archs, seen = [], set()
    for line_no, line in enumerate(text_lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            arch = space.from_string(text)
        except (NasrankError, ValueError) as exc:
            raise NasrankError(f"--archs {path}, line {line_no}: {short(exc)}") from None
        if bench.true_accuracy(arch, dataset) is None:
            raise NasrankError(f"--archs {path}, line {line_no}: {short(text)} is not in the benchmark "
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
def _run_ranker(ranker, archs: list, on_result, executor=None) -> list:
    """``ranker.evaluate(archs)`` in this process, or through ``executor`` (results in order either way)."""
    if executor is None:
        return ranker.evaluate(archs, on_result=on_result)
    if hasattr(executor, "evaluate_async"):  # progress as results come back
        evs: list = [None] * len(archs)
        for i, ev in executor.evaluate_async(ranker, archs):
            evs[i] = ev
            on_result(i, ev)
        return evs
    evs = executor.evaluate(ranker, archs)
    for i, ev in enumerate(evs):  # all at once: report them in order
        on_result(i, ev)
    return evs


def score_all(rankers: dict[str, Any], archs: list, repeats: int, seed: int, quiet: bool = False,
              executor=None, on_row: Callable[[str, int, int, Any], None] | None = None) -> dict[str, dict]:
    """Score every architecture ``repeats`` times with every ranker (through ``executor`` when given).

    ``on_row(ranker, repeat, i, evaluation)`` is called as each result arrives. Returns ``{name: {"score", "seconds", "device_seconds": (repeats, n) arrays, "stats": {...}}}``.
    """
    import numpy as np

    from nasrank.runtime.progress import Progress

    n = len(archs)
    results: dict[str, dict] = {}
    with Progress(quiet) as prog:
        for name, ranker in rankers.items():
            task = prog.add(name, total=n * repeats)
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
                    if on_row is not None:
                        on_row(name, r, i, ev)
                    prog.update(task, advance=1, note=f"{cached[0]} from store" if cached[0] else "")

                evs = _run_ranker(ranker, archs, on_result, executor)
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
# the experiment
# --------------------------------------------------------------------------
def check_output_folder(output: str | Path) -> Path:
    """``output`` as a folder that exists (created) and accepts files: checked before any scoring."""
    from nasrank.runs.atomic import check_writable, output_folder

    out = output_folder(output, "scores.csv and report.json")
    check_writable(out / SCORES_FILE, "scores file")
    return out


#: what an evaluate writes into its output folder (config.yaml only if an evaluate wrote it)
OWN_FILES = tuple(["scores.csv", "scores.partial.csv", "report.json", "criteria.csv", "config.yaml", "logs",
                   ".nasrank.lock"] + [f"{stem}.{ext}" for stem in ("scatter", "criteria")
                                       for ext in ("png", "pdf", "svg", "figure.json")])


def _refuse_foreign(out: Path) -> None:
    """Raise if ``out`` holds anything an earlier ``nasrank evaluate`` did not write (an evaluate
    replaces only its own files)."""
    if not out.is_dir():
        return
    foreign = sorted(p.name for p in out.iterdir() if p.name not in OWN_FILES)
    cfg = out / "config.yaml"
    if cfg.is_file() and not cfg.is_symlink():
        with cfg.open("rb") as fh:
            if not fh.readline(200).startswith(b"# nasrank evaluate"):
                foreign.append("config.yaml (of another command)")
    if foreign:
        raise NasrankError(f"--output {out} holds files nasrank evaluate did not write "
                           f"({', '.join(foreign[:5])}); give an empty folder or an earlier evaluate's")


def check_output(output: str | Path) -> Path:
    """``output`` as a path that is no file and holds nothing but an earlier evaluate's files
    (checked before anything is loaded; nothing is created)."""
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise NasrankError(f"--output {out} is a file; give a folder for scores.csv and report.json")
    _refuse_foreign(out)
    return out


def claim_output(output: str | Path):
    """``(folder, lock)``: ``output`` locked for this process (the run-folder lock ``search`` and
    ``compare`` take), after checking it is empty or holds only an earlier evaluate's files."""
    from nasrank.runs.lock import lock_run_folder

    out = Path(output)
    _refuse_foreign(out)  # before the lock: a foreign folder is left untouched
    lock = lock_run_folder(check_output_folder(out))
    _refuse_foreign(out)  # and under it
    return out, lock


def check_selection(sample: int | str | None, archs_file: str | Path | None, repeats: int) -> int | None:
    """Check what to evaluate (exactly one of ``sample``/``archs_file``) and ``repeats``; the sample size
    (None: every architecture, or the file's)."""
    from nasrank.runs.limits import MAX_REPEATS, count

    count(repeats, "--repeats", MAX_REPEATS)
    if archs_file is not None and sample is not None:
        raise NasrankError("give either --sample N|all or --archs FILE, not both")
    if archs_file is None and sample is None:
        raise NasrankError("nothing to evaluate: give --sample N|all or --archs FILE")
    return parse_sample(sample) if archs_file is None else None


def evaluate(space, context, config: EvaluateConfig, status: dict[str, Any] | None = None) -> dict[str, Any]:
    """Score benchmark architectures with ``config.rankers`` and write ``OUT/scores.csv``, ``OUT/report.json``
    (and ``scatter.png``/``criteria.png`` with ``config.plots``); return the report.

    Give either ``config.sample`` (a number of architectures or ``"all"``) or ``config.archs_file``.
    ``config.seed`` defaults to ``context.seed``; ``config.space_cfg`` is only recorded in the report.
    A Ray executor scores ``workers`` architectures at a time; the scores are the serial run's. The
    output folder is checked before anything is scored; scores are appended to ``OUT/scores.partial.csv``
    as they arrive (replaced by ``scores.csv`` at the end), and ``status`` (if given) is kept up to
    date with ``partial`` (that path) and ``n_rows``, so an interrupted caller can say what was kept.
    Figures are written in each of the output's formats; with logs, training rankers log under ``OUT/logs``.
    """
    import numpy as np

    from nasrank.evaluation.ranking_report import PartialScores, write_scores_csv
    from nasrank.rankers.stored import with_store

    n_sample = check_selection(config.sample, config.archs_file, config.repeats)
    bench = context.benchmark
    if bench is None:
        from nasrank.benchmarks import SPEC_HELP

        raise NasrankError(f"nasrank evaluate needs true accuracies: give --benchmark {SPEC_HELP}")
    seed = context.seed if config.seed is None else config.seed
    out = check_output(config.output.folder)
    if config.archs_file is not None:
        archs = read_archs_file(config.archs_file, space, bench, context.dataset)
    else:
        archs = sample_archs(bench, context.dataset, n_sample, seed)
    logs = context.log_dir if context.log_dir is not None or not config.output.logs else out / "logs"
    logged = dataclasses.replace(context, log_dir=logs)
    # every ranker is built (its options and what it reads, e.g. the dataset's files, checked) before the
    # output folder is made or anything is scored
    built = {spec.label: build_ranker(spec, space, logged, config.scale) for spec in config.rankers}
    out, lock = claim_output(out)  # held until this function returns (or the caller drops ``status``)
    check_output_folder(out)
    store = open_store(config.output.store)  # after the rankers: a bad option creates no store
    built = {label: with_store(r, store) for label, r in built.items()}

    truth = np.array([bench.true_accuracy(a, context.dataset) for a in archs], dtype=np.float64)
    arch_strings = [space.to_string(a) for a in archs]
    partial = PartialScores(out / PARTIAL_SCORES_FILE)
    status = status if status is not None else {}
    status.update(partial=str(partial.path), n_rows=0, lock=lock)

    def on_row(name: str, r: int, i: int, ev) -> None:
        partial.add(arch_strings[i], name, r, ev, truth[i])
        status["n_rows"] = partial.n_rows

    ex, owned = config.executor.make()
    try:
        results = score_all(built, archs, config.repeats, seed, quiet=config.output.quiet, executor=ex, on_row=on_row)
    finally:
        partial.close()
        if owned:
            ex.close()
    write_scores_csv(out / SCORES_FILE, arch_strings, truth, results)
    partial.discard()
    status["partial"] = None
    selection = {"seed": seed, "sample": "all" if (config.archs_file is None and n_sample is None) else n_sample,
                 "n_archs": len(archs), "class_keys": [space.canonical_key(a) for a in archs]}
    report = _report(space, context, config, built, results, truth, selection, store)
    if config.plots:
        _plot(out, report, results, truth, list(built), context.dataset, config.output.formats)
    return report


def _report(space, context, config: EvaluateConfig, built: dict[str, Any], results: dict[str, dict], truth,
            selection: dict[str, Any], store) -> dict[str, Any]:
    """Write and return ``report.json`` (and ``criteria.csv``): every criterion per ranker and mode."""
    from nasrank.runs.atomic import write_json_atomic
    from nasrank.evaluation.ranking_report import json_safe, ranker_report, write_criteria_csv
    from nasrank.runs.provenance import provenance
    from nasrank.store import space_id

    out = Path(config.output.folder)
    modes = list(config.modes)
    report: dict[str, Any] = {
        "space": space.registry_name, "space_id": space_id(space), "space_cfg": dict(config.space_cfg or {}),
        "benchmark": context.benchmark.source, "dataset": context.dataset, "n_archs": selection["n_archs"],
        "seed": selection["seed"], "sample": selection["sample"],
        "archs_file": None if config.archs_file is None else str(config.archs_file),
        "repeats": config.repeats, "modes": modes, "store": None if store is None else str(store.path),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rankers": {},
    }
    report["provenance"] = provenance(context.device)
    for name, ranker in built.items():
        res = results[name]
        rep = ranker_report(res["score"], res["seconds"], res["device_seconds"], truth, selection["class_keys"], modes)
        report["rankers"][name] = {"config": ranker.config(), "config_hash": ranker.config_hash(), **rep,
                                   **res["stats"]}
    write_json_atomic(out / REPORT_FILE, json_safe(report), what="report")
    write_criteria_csv(out / "criteria.csv", json_safe(report))  # one flat row per (ranker, mode)
    return report


def _plot(out: Path, report: dict[str, Any], results: dict[str, dict], truth, names: list[str], dataset: str,
          formats: Sequence[str] = ("png",)) -> None:
    import numpy as np

    from nasrank.evaluation.criteria import spearman
    from nasrank.evaluation.ranking_report import evaluate_caption, mean_over_repeats, plot_criteria, plot_scatter

    modes = report["modes"]
    means = {n: mean_over_repeats(results[n]["score"]) for n in names}
    plot_scatter(out / "scatter.png", {n: (means[n], truth) for n in names},
                 {n: spearman(means[n], truth) if np.isfinite(means[n]).sum() > 1 else None for n in names},
                 truth_label=f"true accuracy ({dataset})", formats=formats, caption=evaluate_caption(report))
    plot_criteria(out / "criteria.png", {n: report["rankers"][n]["criteria"][modes[0]] for n in names}, modes[0],
                  formats=formats, caption=evaluate_caption(report))
