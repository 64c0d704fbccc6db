"""Seed sweeps of ``compare``: one candidate stream per seed, aggregated with a baseline frontier.

``compare_seeds(..., seeds=[0, 1, 2], family=["train5", "train10", "train20"])``
runs :func:`nasrank.experiments.compare.compare` once per seed into
``OUT/seed<S>/`` (every ranker sees the same stream within a seed) and writes
``OUT/compare.json`` with ``per_seed``, ``aggregate``, ``frontier``, ``matched``
(see :mod:`nasrank.evaluation.sweep_summary`) and ``warnings``; with a family,
``OUT/frontier.png`` and ``OUT/regret_vs_cost.png``. ``OUT/sweep.json`` records
the seeds: resuming keeps every finished seed and candidate (their histories
are replayed, not paid again), and resuming with other seeds is an error.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from nasrank.errors import NasrankError
from nasrank.experiments.build import ranker_label, ranker_spec, write_json
from nasrank.experiments.config import CompareConfig
from nasrank.experiments.threshold_warnings import MISSED_WARN_FRACTION  # noqa: F401  (re-exported)

MANIFEST = "sweep.json"
_SEEDS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> ``[0, 1, 2, 3, 4]``; ``"0,3,7"``; ``"0-2,5"``. Anything else is one clear error."""
    from nasrank.runs.limits import MAX_SEED, MAX_SEEDS, quote

    seeds: list[int] = []
    for part in str(text)[:10_000].split(","):
        m = _SEEDS.match(part)
        if not m:
            raise NasrankError(f"--seeds {quote(text)} does not parse: expected a list like 0-4 or 0,3,7 "
                               "(non-negative integers, ranges A-B with A <= B)")
        lo, hi = int(m.group(1)), int(m.group(2) if m.group(2) is not None else m.group(1))
        if hi > MAX_SEED:
            raise NasrankError(f"--seeds {quote(text)}: seed {quote(hi)} is over {MAX_SEED:,}")
        if hi < lo:
            raise NasrankError(f"--seeds {text!r}: the range {lo}-{hi} runs backwards")
        if len(seeds) + hi - lo + 1 > MAX_SEEDS:
            raise NasrankError(f"--seeds {quote(text)} names more than {MAX_SEEDS:,} seeds (each is a whole "
                               "compare); give fewer")
        seeds.extend(range(lo, hi + 1))
    seen: set[int] = set()
    dup = sorted({s for s in seeds if s in seen or seen.add(s)})
    if dup:
        raise NasrankError(f"--seeds {text!r} names seed(s) {', '.join(map(str, dup))} twice")
    return seeds


def family_labels(frontier: str, items: Sequence[str]) -> list[str]:
    """The labels of the baseline family: every item running ranker ``frontier`` (``--frontier train``),
    or a comma list of labels (``--frontier train5,train10``)."""
    labels = [ranker_label(it) for it in items]
    wanted = [f.strip() for f in str(frontier).split(",") if f.strip()]
    if len(wanted) == 1 and wanted[0] not in labels:
        fam = [ranker_label(it) for it in items if ranker_spec(it) == wanted[0]]
        if not fam:
            raise NasrankError(f"--frontier {frontier!r} is neither a ranker nor a label in --rankers "
                               f"({', '.join(labels)})")
    else:
        unknown = [f for f in wanted if f not in labels]
        if unknown:
            raise NasrankError(f"--frontier names {', '.join(unknown)}, not among --rankers ({', '.join(labels)})")
        fam = wanted
    if len(fam) < 2:
        raise NasrankError(f"--frontier {frontier!r} gives a family of {len(fam)} run(s) ({', '.join(fam)}); "
                           "a frontier needs at least two, e.g. --rankers train5=train,train10=train --frontier train")
    return fam


class Progress:
    """What :func:`compare_seeds` reports as it goes (the default reports nothing)."""

    def start_seed(self, seed: int, labels: Sequence[str], candidates: int) -> None: ...

    def record(self, seed: int, label: str, replayed: bool) -> None: ...

    def finish_seed(self, seed: int) -> None: ...


#: what a sweep writes into its output folder besides seed<S>/ (each a compare's folder)
SWEEP_FILES = tuple([MANIFEST, "compare.json", "config.yaml", ".nasrank.lock"]
                    + [f"{stem}.{ext}" for stem in ("frontier", "regret_vs_cost")
                       for ext in ("png", "pdf", "svg", "figure.json")])


def _remove_sweep(out: Path) -> None:
    """``--overwrite``: delete an earlier sweep in ``out``; refuse if ``out`` holds anything else."""
    import shutil

    from nasrank.experiments.compare import prepare_output

    seed_dirs = [d for d in out.iterdir() if d.is_dir() and not d.is_symlink() and re.fullmatch(r"seed\d+", d.name)]
    foreign = [p.name for p in out.iterdir() if p.name not in SWEEP_FILES and p not in seed_dirs]
    if foreign:
        raise NasrankError(f"--overwrite: {out} holds files a seed sweep did not write "
                           f"({', '.join(sorted(foreign)[:5])}); choose another folder")
    for d in seed_dirs:
        prepare_output(d, resume=False, overwrite=True)  # refuses what compare did not write there
        shutil.rmtree(d)
    for name in SWEEP_FILES:
        if name != ".nasrank.lock":
            (out / name).unlink(missing_ok=True)


def _check_output(out: Path, seeds: list[int], resume: bool, overwrite: bool = False) -> None:
    manifest = out / MANIFEST
    if resume and overwrite:
        raise NasrankError("give --resume or --overwrite, not both")
    if manifest.exists() and overwrite:
        _remove_sweep(out)
    elif manifest.exists():
        import json

        old = json.loads(manifest.read_text()).get("seeds")
        if not resume:
            raise NasrankError(f"{out} already holds a seed sweep (seeds {old}): pass --resume to continue it, "
                               "--overwrite to replace it, or choose a new --output")
        if old != seeds:
            raise NasrankError(f"--seeds {seeds} differs from the seeds {old} that {out} was made with; "
                               "resume with the same --seeds or choose a new --output")
    elif resume and out.exists() and any(out.iterdir()):
        raise NasrankError(f"{out} was not made by a seed sweep (no {MANIFEST}): cannot resume it with --seeds")


def missed_threshold(records: Sequence[Any]) -> tuple[int, int] | None:
    """(candidates that missed a threshold, candidates trained) when any missed one, else None.

    Read from the records' statuses (:func:`~nasrank.runs.outcomes.outcome_counts`): missed = not
    reached or rejected; trained = all but those a cascade filtered.
    """
    from nasrank.runs.outcomes import outcome_counts

    counts = outcome_counts(records)
    return (counts.missed, counts.trained) if counts.missed else None


def _seed_warnings(seed: int, histories: dict[str, list]) -> list[str]:
    out = []
    for label, recs in histories.items():
        if recs and not any(r.valid for r in recs):
            out.append(f"seed {seed}: {label} failed on every candidate ({len(recs)}); it is left out of this "
                       "seed's quality, the other seeds still aggregate")
        missed = missed_threshold(recs)
        if missed and missed[1] and missed[0] / missed[1] > MISSED_WARN_FRACTION:
            out.append(f"seed {seed}: {label} missed its threshold on {missed[0]} of {missed[1]} candidates "
                       f"({100 * missed[0] / missed[1]:.0f}%): their scores come from an unconverged stage 1; "
                       "lower the threshold or raise max_stage1_epochs")
    return out


def _dearer_warnings(summary: dict[str, Any], per_seed: dict[str, Any], baseline: str) -> list[str]:
    """A threshold ranker whose mean cost over the seeds is above the baseline's."""
    from nasrank.experiments.threshold_warnings import is_threshold_ranker, ratio_text

    out = []
    for label, agg in (summary.get("aggregate") or {}).items():
        ratio = (agg.get("cost_ratio_vs_baseline") or {}).get("mean")
        config = next((runs[label].get("config") for runs in per_seed.values() if label in runs), None)
        if label != baseline and ratio is not None and ratio < 1 and is_threshold_ranker(config):
            out.append(f"{label} cost {ratio_text(ratio).replace('dearer', 'more')} than the baseline {baseline} "
                       "(mean over seeds): at this scale its threshold is slow to reach; lower it (or use the "
                       "--preset of this scale)")
    return out


@dataclass(frozen=True)
class Sweep:
    """A seed sweep: ``seeds``, the baseline ``family`` (labels; None: no frontier), ``n_boot``
    bootstrap replicates seeded with ``boot_seed``, and ``cost(record_dict)`` (default: charged seconds)."""

    seeds: Sequence[int]
    family: Sequence[str] | None = None
    n_boot: int = 1000
    boot_seed: int = 0
    cost: Callable[[Any], float] | None = None


def _run_seeds(space, context, config: CompareConfig, sweep: Sweep, progress: Progress):
    """``compare`` once per seed into ``OUT/seed<S>`` (resuming what is there).

    Returns (per-seed compare results, per-seed RunTables, warnings, the run's space/searcher/data/scale)."""
    from nasrank.evaluation.seed_stats import RunTable
    from nasrank.experiments.compare import CompareCallbacks, compare, ranker_dirname
    from nasrank.runs.history import History

    out = Path(config.output.folder)
    labels = config.labels
    per_seed, tables, warnings = {}, {}, []
    for seed in sweep.seeds:
        progress.start_seed(seed, labels, config.candidates)
        seed_config = dataclasses.replace(config, seed=seed, resume=True, overwrite=False,
                                          output=dataclasses.replace(config.output, folder=out / f"seed{seed}",
                                                                     quiet=True))  # the sweep's own progress
        calls = CompareCallbacks(on_history_record=lambda label, rec, replayed, seed=seed: progress.record(
            seed, label, replayed))
        res = compare(space, dataclasses.replace(context, seed=seed), seed_config, calls)
        progress.finish_seed(seed)
        hists = {lab: list(History.load(out / f"seed{seed}" / ranker_dirname(lab))) for lab in labels}
        tables[seed] = {lab: RunTable.from_records(recs, cost=sweep.cost) for lab, recs in hists.items()}
        per_seed[str(seed)] = res["rankers"]
        warnings += _seed_warnings(seed, hists)
    meta = {k: res[k] for k in ("space", "searcher", "dataset", "benchmark", "scale")}
    return per_seed, tables, warnings, meta


def compare_seeds(space, context, config: CompareConfig, sweep: Sweep,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Run ``compare`` for every seed of ``sweep``; write and return the sweep's compare.json
    (``config.resume`` continues a sweep already in ``config.output.folder``; ``config.overwrite``:
    an earlier sweep there is deleted first)."""
    from nasrank.evaluation.frontier_plots import write_sweep_plots
    from nasrank.evaluation.sweep_summary import summarize_sweep

    items, seeds, family = [s.item for s in config.rankers], list(sweep.seeds), sweep.family
    labels = config.labels
    if not seeds:
        raise NasrankError("--seeds names no seed")
    if family:
        unknown = [f for f in family if f not in labels]
        if unknown or len(family) < 2:
            raise NasrankError(f"the frontier family {list(family)} must be at least two of --rankers ({', '.join(labels)})")
    baseline = config.baseline or labels[-1]
    if baseline not in labels:
        raise NasrankError(f"--baseline {baseline!r} is not one of --rankers ({', '.join(labels)})")
    config = dataclasses.replace(config, baseline=baseline)
    out = Path(config.output.folder)
    _check_output(out, seeds, config.resume, config.overwrite)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / MANIFEST, {"seeds": seeds, "rankers": items, "candidates": config.candidates})
    try:
        per_seed, tables, warnings, meta = _run_seeds(space, context, config, dataclasses.replace(sweep, seeds=seeds),
                                                      progress or Progress())
    except BaseException:
        if not config.resume and not any(out.glob("seed*/*/history.jsonl")):
            (out / MANIFEST).unlink(missing_ok=True)  # nothing ran: the folder is not a sweep yet
        raise
    summary = summarize_sweep(tables, family=family, n_boot=sweep.n_boot, seed=sweep.boot_seed, baseline=baseline)
    warnings += _dearer_warnings(summary, per_seed, baseline)
    cost, candidates = sweep.cost, config.candidates
    result: dict[str, Any] = {
        "kind": "seed_sweep", "seeds": seeds, "rankers": labels, "items": items, "family": list(family or []),
        "baseline": baseline, "candidates": candidates, **meta, **summary, "warnings": warnings, "per_seed": per_seed,
        "definitions": {
            "cost_per_candidate": "mean charged seconds per candidate" if cost is None else "mean cost per candidate",
            "regret": "best true accuracy among the seed's candidates minus the winner's (0 = picked the best)",
            "cost_ratio_vs_baseline": "baseline cost / this ranker's, per candidate, seed means",
            "matched": "family cost interpolated (linear in log cost) at this ranker's quality / its cost; "
                       "extrapolated 'lower_bound' = better than every family member (ratio >= mean)",
            "ci": summary["bootstrap"]["method"],
        },
    }
    write_json(out / "compare.json", result)
    if family:
        write_sweep_plots(result, out)
    return result
