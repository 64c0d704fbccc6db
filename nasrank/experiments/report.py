"""Merge several search / evaluate / compare outputs into one table and one figure (``nasrank report``).

Each output folder is recognised by its files:

* a search run: ``history.jsonl`` (with ``summary.json``; an interrupted run
  without it is summarised from its history and ``config.yaml``);
* a compare output: ``compare.json`` and one ``<ranker>/history.jsonl`` per
  ranker (one row each);
* a seed sweep (``compare --seeds``): one row per seed and ranker (its seeds merged);
* an evaluate output: ``report.json`` and/or ``scores.csv`` (one row per
  ranker), drawn as its criteria (``report_evaluate.png``), never as a search curve.

:func:`report` writes ``report.csv``, ``report.json`` and ``report.png`` (any of png, pdf,
svg; what it shows is listed in ``report.figure.json``): per run, the true accuracy of the
best-scored architecture so far and the best true accuracy found so far, against cumulative
ranker cost, one row of panels per kind of cost. Runs that differ only in their seed are
merged into one curve (mean, 95% band) and one ``groups`` entry (mean ± CI).
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Iterable

from nasrank.evaluation.captions import scale_text
from nasrank.runs.atomic import atomic_write, output_folder, write_json_atomic
from nasrank.errors import NasrankError
from nasrank.experiments.report_groups import GROUP_KEYS, group_rows, seed_groups  # noqa: F401
from nasrank.runs.history import History, HistoryRecord

KIND = "nasrank report"
#: columns first in the table and CSV (others follow in alphabetical order)
COLUMNS = ("run", "kind", "space", "searcher", "ranker", "dataset", "benchmark", "n_evaluations",
           "total_cost_seconds", "device_seconds", "best_arch", "best_score", "best_true_acc", "true_rank_of_best",
           "optimum_true_acc", "spearman", "kendall", "source")

# -- reading one output ----------------------------------------------------------------
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise NasrankError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise NasrankError(f"{path} is not valid JSON ({str(exc)[:120]})") from None


def _read_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object (summary.json, config.json, compare.json)."""
    data = _read_json(path)
    if not isinstance(data, dict):
        raise NasrankError(f"{path} holds a {type(data).__name__}, not the JSON object nasrank writes there")
    return data


def _run_config(d: Path) -> dict[str, Any]:
    """A search folder's configuration (config.yaml, or a legacy config.json); {} when it has none."""
    from nasrank.runs.trust import read_run_config, run_config_path

    path = run_config_path(d)
    if path is None:
        return {}
    try:
        return read_run_config(path)
    except NasrankError as exc:
        raise NasrankError(str(exc).replace("cannot resume: ", "cannot report: ", 1)) from None


def _history_row(history: History) -> dict[str, Any]:
    """Summary fields computed from a history alone."""
    best = history.best()
    recs = list(history)
    return {"n_evaluations": len(recs), "total_cost_seconds": history.total_seconds,
            "device_seconds": sum(r.device_seconds for r in recs),
            "best_arch": None if best is None else best.arch, "best_score": None if best is None else best.score,
            "best_true_acc": None if best is None else best.true_acc}


def read_search(d: Path) -> list[tuple[dict[str, Any], History]]:
    history = History.load(d)
    row: dict[str, Any] = {"kind": "search", **_history_row(history)}
    cfg = _run_config(d)
    for k in ("space", "searcher", "ranker", "dataset", "benchmark", "seed"):
        if cfg.get(k) is not None:
            row[k] = cfg[k]
    row["scale"] = scale_text({k.replace("-", "_"): v for k, v in cfg.items()})
    if (d / "summary.json").is_file():
        summary = _read_object(d / "summary.json")
        row.update({k: v for k, v in summary.items() if not isinstance(v, (dict, list))})
        row["device_used"] = (summary.get("provenance") or {}).get("device_used")
    else:
        row["note"] = "no summary.json (interrupted run): summarised from history.jsonl"
    row["kind"] = "search"
    return [(row, history)]


def _ranker_dir(d: Path, spec: str) -> Path | None:
    from nasrank.experiments.compare import ranker_dirname

    for cand in (d / ranker_dirname(spec), d / spec):
        if (cand / History.FILENAME).is_file():
            return cand
    return None


def read_compare(d: Path) -> list[tuple[dict[str, Any], History | None]]:
    data = _read_object(d / "compare.json")
    common = {k: data.get(k) for k in ("space", "searcher", "dataset", "benchmark", "seed", "optimum_true_acc")}
    common["device_used"] = (data.get("provenance") or {}).get("device_used")
    common["scale"] = scale_text(data.get("scale") if isinstance(data.get("scale"), dict) else None)
    out: list[tuple[dict[str, Any], History | None]] = []
    rankers = data.get("rankers") or {}
    if isinstance(rankers, list) and all(isinstance(r, dict) for r in rankers):
        rankers = {str(r.get("ranker", i)): r for i, r in enumerate(rankers)}
    if not isinstance(rankers, dict) or not all(isinstance(v, (dict, type(None))) for v in rankers.values()):
        raise NasrankError(f"{d / 'compare.json'}: 'rankers' must map each ranker to an object of its results")
    for spec, stats in rankers.items():
        spec = str(spec)
        sub = _ranker_dir(d, spec)
        history = History.load(sub) if sub is not None else None
        row: dict[str, Any] = {"kind": "compare", **common, "ranker": spec}
        if history is not None:
            row.update(_history_row(history))
        row.update({k: v for k, v in (stats or {}).items() if not isinstance(v, (dict, list))})
        out.append((row, history))
    # ranker folders that compare.json does not list (e.g. written before a crash)
    listed = {p.resolve() for p in (_ranker_dir(d, s) for s in rankers) if p is not None}
    for sub in sorted(p.parent for p in d.glob(f"*/{History.FILENAME}")):
        if sub.resolve() not in listed:
            h = History.load(sub)
            out.append(({"kind": "compare", **common, "ranker": sub.name, **_history_row(h),
                         "note": "not in compare.json"}, h))
    return out


def _scores_histories(path: Path) -> dict[str, History]:
    """Per ranker, a history over scores.csv's architectures in file order (repeats merged)."""
    try:
        return _read_scores_histories(path)
    except UnicodeDecodeError as exc:
        raise NasrankError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise NasrankError(f"{path} is not a readable CSV table: {exc}") from None


def _read_scores_histories(path: Path) -> dict[str, History]:
    per: dict[str, dict[str, dict[str, Any]]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"arch", "ranker", "score"} - set(reader.fieldnames or ())
        if missing:
            raise NasrankError(f"{path} lacks column(s) {', '.join(sorted(missing))}")
        for n, row in enumerate(reader, start=2):
            try:
                score = float(row["score"]) if row.get("score") not in (None, "") else math.nan
                seconds = float(row.get("seconds") or 0.0)
                dev = float(row.get("device_seconds") or seconds)
                acc = float(row["true_acc"]) if row.get("true_acc") not in (None, "") else None
                acc = acc if acc is not None and math.isfinite(acc) else None
            except (ValueError, TypeError) as exc:
                raise NasrankError(f"{path}, line {n}: {exc}") from None
            a = per.setdefault(row["ranker"], {}).setdefault(row["arch"], {"scores": [], "seconds": 0.0, "dev": 0.0,
                                                                          "acc": acc})
            a["scores"].append(score)
            a["seconds"] += seconds
            a["dev"] += dev
    out: dict[str, History] = {}
    for ranker, archs in per.items():
        h = History()
        for arch, a in archs.items():
            finite = [s for s in a["scores"] if math.isfinite(s)]
            score = sum(finite) / len(finite) if finite else math.nan
            h.records.append(HistoryRecord(len(h.records), arch, score, a["seconds"], a["dev"],
                                           h.total_seconds + a["seconds"], a["acc"], ranker, {}))
        out[ranker] = h
    return out


def _evaluate_stats(data: Any) -> dict[str, dict[str, Any]]:
    """Per-ranker scalar fields of an evaluate ``report.json``.

    ``nasrank evaluate`` writes ``{"modes": [...], "rankers": {name: {..., "criteria": {mode: {...}}}}}``;
    the criteria of the first mode (``criteria_mode``) become columns, ``kendall_tau`` also as ``kendall``.
    """
    if not isinstance(data, dict):
        return {}
    rankers = data.get("rankers") or {}
    if isinstance(rankers, list):
        rankers = {str(r.get("ranker", i)): r for i, r in enumerate(rankers) if isinstance(r, dict)}
    modes = data.get("modes") or []
    out: dict[str, dict[str, Any]] = {}
    for name, stats in rankers.items():
        if not isinstance(stats, dict):
            continue
        flat = {k: v for k, v in stats.items() if not isinstance(v, (dict, list))}
        flat["scale"] = scale_text(stats.get("config") if isinstance(stats.get("config"), dict) else None)
        crit = stats.get("criteria")
        if isinstance(crit, dict) and crit:
            mode = next((m for m in list(modes) + ["iso"] if isinstance(crit.get(m), dict)), next(iter(crit)))
            if isinstance(crit.get(mode), dict):
                flat["criteria_mode"] = mode
                flat.update({k: v for k, v in crit[mode].items() if not isinstance(v, (dict, list))})
                if "kendall" not in flat and "kendall_tau" in flat:
                    flat["kendall"] = flat["kendall_tau"]
        if "total_cost_seconds" not in flat and "total_seconds" in flat:
            flat["total_cost_seconds"] = flat["total_seconds"]
        out[str(name)] = flat
    return out


def read_evaluate(d: Path) -> list[tuple[dict[str, Any], History | None]]:
    data = _read_json(d / "report.json") if (d / "report.json").is_file() else {}
    if isinstance(data, dict) and data.get("kind") == KIND:
        raise NasrankError(f"{d} is a `nasrank report` output; pass the runs it merged instead")
    stats = _evaluate_stats(data)
    histories = _scores_histories(d / "scores.csv") if (d / "scores.csv").is_file() else {}
    common = {k: data.get(k) for k in ("space", "dataset", "benchmark")} if isinstance(data, dict) else {}
    out: list[tuple[dict[str, Any], History | None]] = []
    for name in list(stats) + [n for n in histories if n not in stats]:
        h = histories.get(name)
        row: dict[str, Any] = {"kind": "evaluate", **common, "ranker": name}
        row.update({k: v for k, v in stats.get(name, {}).items() if k != "ranker"})
        if h is not None:
            row.update(_history_row(h))
        out.append((row, h))
    if not out:
        raise NasrankError(f"{d}: report.json / scores.csv name no ranker")
    return out


def read_sweep(d: Path) -> list[tuple[dict[str, Any], History | None]]:
    """A seed sweep (``compare --seeds``): one row per seed and ranker, read from each ``seed<S>/``
    compare (the seed groups then merge each ranker's seeds: mean curve, mean ± CI)."""
    import re

    subs = sorted((p for p in d.iterdir() if re.fullmatch(r"seed\d+", p.name) and (p / "compare.json").is_file()),
                  key=lambda p: int(p.name[4:]))
    rows = [({**row, "kind": "sweep"}, h) for sub in subs for row, h in read_compare(sub)]
    if not rows:
        raise NasrankError(f"{d} is a seed sweep without a finished seed (no seed<S>/compare.json)")
    return rows


def read_output(path: str | Path) -> list[tuple[dict[str, Any], History | None]]:
    """Rows (and histories) of one output folder, recognised by its files."""
    d = Path(path)
    if not d.exists():
        raise NasrankError(f"{d} does not exist")
    if not d.is_dir():
        raise NasrankError(f"{d} is not a folder; give the output folder of nasrank search, evaluate or compare")
    if (d / "sweep.json").is_file() and (d / "compare.json").is_file():
        rows = read_sweep(d)
    elif (d / "compare.json").is_file():
        rows = read_compare(d)
    elif (d / History.FILENAME).is_file():
        rows = read_search(d)
    elif (d / "report.json").is_file() or (d / "scores.csv").is_file():
        rows = read_evaluate(d)
    else:
        raise NasrankError(f"{d} is not a nasrank output: expected history.jsonl + summary.json (search), "
                           "compare.json (compare) or report.json / scores.csv (evaluate)")
    for row, _ in rows:
        row["source"] = str(d)
    return rows


# -- merging ------------------------------------------------------------------------------
def _label(row: dict[str, Any], folder: Path) -> str:
    """``run1: evolution+tabular`` for a search run, ``cmp/fear`` for one ranker of compare / evaluate."""
    if row["kind"] == "search":
        what = "+".join(str(row[k]) for k in ("searcher", "ranker") if row.get(k))
        return f"{folder.name}: {what}" if what else folder.name
    if row["kind"] == "sweep":
        return f"{folder.name}/seed{row.get('seed')}/{row.get('ranker')}"
    return f"{folder.name}/{row.get('ranker')}"


def merge(outputs: Iterable[str | Path]) -> tuple[list[dict[str, Any]], list[tuple[str, History]]]:
    """Rows of every output (one per run) and the (label, history) pairs to plot."""
    rows: list[dict[str, Any]] = []
    curves: list[tuple[str, History]] = []
    seen: dict[str, int] = {}
    for out in outputs:
        for row, history in read_output(out):
            label = _label(row, Path(out).resolve())
            if label in seen:  # two folders with the same name
                seen[label] += 1
                label = f"{label} ({seen[label]})"
            else:
                seen[label] = 1
            row["run"] = label
            rows.append(row)
            if history is not None and len(history) and row["kind"] != "evaluate":  # a sample is no search
                curves.append((label, history))
    return rows, curves


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    extra = sorted({k for r in rows for k in r} - set(COLUMNS))
    return [c for c in COLUMNS if any(c in r for r in rows) or c in ("run", "kind")] + extra


def write_report(rows: list[dict[str, Any]], curves: list[tuple[str, History]], out_dir: str | Path,
                 inputs: list[str], title: str | None = None, formats: Iterable[str] = ("png",),
                 html: bool = False) -> dict[str, Any]:
    """Write report.csv, report.json and the report figure (in each of ``formats``) into ``out_dir``,
    and with ``html`` the self-contained ``report.html`` (figures as inline SVG).

    Runs that differ only in their seed are merged: one mean curve with a 95% band per group, and
    mean ± CI in ``report.json``'s ``groups``.
    """
    formats = list(dict.fromkeys([*formats, *(["svg"] if html else [])]))
    from nasrank.evaluation.plots import plot_trajectories
    from nasrank.evaluation.report_figures import plot_evaluate_rows, report_caption

    d = Path(out_dir)
    theirs = [f for f in (History.FILENAME, "compare.json", "scores.csv") if (d / f).is_file()]
    if (d / "report.json").is_file():
        prev = _read_json(d / "report.json")
        if not (isinstance(prev, dict) and prev.get("kind") == KIND):
            theirs.append("report.json")
    if theirs:
        raise NasrankError(f"--output {d} holds another command's output ({', '.join(theirs)}); choose another folder")
    output_folder(d, "report.csv, report.json and report.png")
    cols = _columns(rows)
    with atomic_write(d / "report.csv", "w", newline="", what="report") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r[k]) for k in cols})
    optima = {r.get("optimum_true_acc") for r in rows if r.get("optimum_true_acc") is not None}
    optimum = optima.pop() if len(optima) == 1 else None
    groups = seed_groups(rows)
    payload = {"kind": KIND, "inputs": inputs, "columns": cols, "runs": rows, "groups": group_rows(rows, groups),
               "figure": "report.png", "figure_manifest": "report.figure.json", "optimum_true_acc": optimum,
               "figure_definition": {
                   "selected": "true accuracy of the best-scored architecture so far (what the search returns)",
                   "found": "best true accuracy among the architectures evaluated so far",
                   "x": "cumulative ranker cost; one row of panels per kind of cost (recorded/modelled "
                        "benchmark time, measured wall time)",
                   "groups": "runs that differ only in their seed: mean with a 95% confidence band"}}
    from nasrank.runs.provenance import provenance

    payload["provenance"] = provenance()
    write_json_atomic(d / "report.json", payload, what="report")
    devices = {r.get("device_used") for r in rows if r.get("device_used")}
    fig = plot_trajectories(curves, d / "report.png", optimum, title=title or "true accuracy vs ranker cost",
                            formats=list(formats), groups=groups, measured_on=devices.pop() if len(devices) == 1
                            else None, caption=report_caption(rows, ("search", "compare", "sweep")))
    figures = [d / f"report.{f}" for f in formats] if fig is not None else []
    if plot_evaluate_rows(rows, d / "report_evaluate.png", list(formats), report_caption(rows, ("evaluate",))):
        figures += [d / f"report_evaluate.{f}" for f in formats]
    written = {"csv": d / "report.csv", "json": d / "report.json", "figures": figures, "groups": payload["groups"]}
    if html:
        from nasrank.experiments.report_html import write_html

        written["html"] = write_html(d, rows, payload["groups"], inputs, figures, title)
    return written


def report(outputs: Iterable[str | Path], output: str | Path, title: str | None = None,
           formats: Iterable[str] = ("png",), html: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Merge ``outputs`` and write the report into ``output``; return ``(rows, what was written)``
    (``csv``, ``json``, ``figures``, the seed ``groups``, and with ``html`` the page ``report.html``)."""
    distinct: dict[Path, str] = {}
    for o in outputs:  # one folder named twice, or by two paths, is one run
        distinct.setdefault(Path(o).resolve(), str(o))
    outputs = list(distinct.values())
    out_dir = Path(output).resolve()
    if any(Path(o).resolve() == out_dir for o in outputs):
        raise NasrankError(f"--output {output} is one of the inputs; choose another folder")
    rows, curves = merge(outputs)
    return rows, write_report(rows, curves, output, outputs, title, formats, html)
