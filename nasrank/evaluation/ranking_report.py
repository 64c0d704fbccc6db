"""Writing and plotting the results of ``nasrank evaluate``.

``scores.csv`` is the long format of the DEVELOPERS.md contract, one row per
(architecture, ranker, repeat)::

    arch,ranker,repeat,score,seconds,device_seconds,true_acc

An invalid score is written as ``nan``. :func:`read_scores_csv` reads it
back. The per-ranker report (:func:`ranker_report`) ranks the **mean score
over repeats** of each architecture (the mean of its finite repeats; NaN when
none is finite) against the true accuracy, in every isomorphism mode.
"""
from __future__ import annotations

import csv
import math
import os
import warnings
from pathlib import Path
from typing import Any, Hashable, Iterable, Mapping, Sequence

import numpy as np

from nasrank.runs.atomic import atomic_write, strict_json
from nasrank.evaluation.criteria import K_FRACTIONS, criteria_by_mode, spearman

SCORES_COLUMNS = ("arch", "ranker", "repeat", "score", "seconds", "device_seconds", "true_acc")

#: (report key, column title) of the criteria the table and the bar chart show
MAIN_CRITERIA = (("spearman", "Spearman"), ("kendall_tau", "Kendall"), ("p_at_top_0.05", "P@top5%"),
                 ("br_at_0.01", "BR@1%"))


def _num(x: Any) -> str:
    if x is None:
        return "nan"
    return repr(float(x))


def write_scores_csv(path: str | Path, archs: Sequence[str], true_acc: Sequence[float | None],
                     results: Mapping[str, Mapping[str, np.ndarray]]) -> Path:
    """Write ``scores.csv``.

    ``results[ranker]`` holds ``score``, ``seconds`` and ``device_seconds``
    arrays of shape ``(repeats, len(archs))``.
    """
    from nasrank.runs.atomic import atomic_write

    path = Path(path)
    with atomic_write(path, "w", newline="", what="scores file") as fh:
        w = csv.writer(fh)
        w.writerow(SCORES_COLUMNS)
        for name, res in results.items():
            for r in range(res["score"].shape[0]):
                for i, arch in enumerate(archs):
                    w.writerow([arch, name, r, _num(res["score"][r, i]), _num(res["seconds"][r, i]),
                                _num(res["device_seconds"][r, i]), _num(true_acc[i])])
    return path


class PartialScores:
    """``scores.csv`` rows appended as results arrive (flushed), so an interrupted run keeps them.

    The file has the ``scores.csv`` columns (rows in completion order); :func:`write_scores_csv`
    writes the finished, ordered file and :meth:`discard` removes this one.
    """

    def __init__(self, path: str | Path) -> None:
        from nasrank.runs.atomic import check_writable, open_run_file

        self.path = check_writable(path, "scores file")
        self.n_rows = 0
        self._fh = open_run_file(self.path, "w", "scores file")
        self._w = csv.writer(self._fh)
        self._w.writerow(SCORES_COLUMNS)
        self._fh.flush()

    def add(self, arch: str, ranker: str, repeat: int, ev: Any, true_acc: float | None) -> None:
        self._w.writerow([arch, ranker, repeat, _num(ev.score), _num(ev.seconds), _num(ev.device_seconds),
                          _num(true_acc)])
        self._fh.flush()
        self.n_rows += 1

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def read_scores_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``scores.csv`` with numbers parsed (``repeat`` an int, the rest floats)."""
    out = []
    with Path(path).open(newline="") as fh:
        for row in csv.DictReader(fh):
            d: dict[str, Any] = dict(row)
            d["repeat"] = int(row["repeat"])
            for k in ("score", "seconds", "device_seconds", "true_acc"):
                d[k] = float(row[k]) if row.get(k) not in (None, "") else float("nan")
            out.append(d)
    return out


def mean_over_repeats(scores: np.ndarray) -> np.ndarray:
    """Per-architecture mean of the finite repeats (axis 0); NaN where no repeat is finite."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        s = s[None, :]
    s = np.where(np.isfinite(s), s, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        return np.nanmean(s, axis=0)


def ranker_report(scores: np.ndarray, seconds: np.ndarray, device_seconds: np.ndarray, truth: Sequence[float],
                  class_keys: Sequence[Hashable] | None, modes: Iterable[str] = ("iso",),
                  ks: Iterable[float] = K_FRACTIONS) -> dict[str, Any]:
    """Criteria per mode of the mean score over repeats, with validity counts and cost per arch.

    ``scores``/``seconds``/``device_seconds`` have shape ``(repeats, n)``.
    ``seconds_per_arch`` is the mean charged cost of one evaluation (cached
    evaluations count with the cost recorded when they were computed).
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1, len(truth))
    secs = np.asarray(seconds, dtype=np.float64).reshape(s.shape)
    dsecs = np.asarray(device_seconds, dtype=np.float64).reshape(s.shape)
    mean = mean_over_repeats(s)
    n_valid = int(np.isfinite(mean).sum())
    out: dict[str, Any] = {
        "n_valid": n_valid,
        "n_invalid": int(mean.shape[0] - n_valid),
        "n_invalid_evaluations": int((~np.isfinite(s)).sum()),
        "repeats": int(s.shape[0]),
        "seconds_per_arch": float(secs.mean()) if secs.size else float("nan"),
        "device_seconds_per_arch": float(dsecs.mean()) if dsecs.size else float("nan"),
        "total_seconds": float(secs.sum()),
        "total_device_seconds": float(dsecs.sum()),
        "criteria": criteria_by_mode(mean, np.asarray(truth, dtype=np.float64), class_keys, modes, ks),
    }
    if s.shape[0] > 1:  # spread of the score over repeats, relative to its spread over architectures
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            within = float(np.nanmean(np.nanstd(s, axis=0)))
            across = float(np.nanstd(mean))
            rho = [spearman(s[r], truth) for r in range(s.shape[0])]
        out["repeat_std_mean"] = within
        out["repeat_std_over_arch_std"] = within / across if across > 0 else float("nan")
        out["spearman_per_repeat"] = rho
    return out


def criteria_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One flat row per (ranker, mode) of an evaluate report: every scalar criterion, plus cost."""
    rows = []
    for name, rep in report["rankers"].items():
        for mode, crit in rep["criteria"].items():
            row: dict[str, Any] = {"ranker": name, "mode": mode}
            row.update({k: v for k, v in crit.items() if not isinstance(v, (dict, list))})
            row["seconds_per_arch"] = rep.get("seconds_per_arch")
            rows.append(row)
    return rows


def write_criteria_csv(path: str | Path, report: Mapping[str, Any]) -> Path:
    """``criteria.csv``: :func:`criteria_rows` with the union of their columns (empty = missing)."""
    rows = criteria_rows(report)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    path = Path(path)
    with atomic_write(path, "w", newline="", what="criteria file") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if r.get(k) is None else r[k] for k in cols})
    return path


#: ``obj`` with NaN/inf floats as None and numpy scalars made plain (strict JSON)
json_safe = strict_json


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axis(values: np.ndarray, label: str) -> tuple[np.ndarray, str, str, str | None]:
    """How one scatter axis draws ``values``: ``(drawn values, scale, label, note)``.

    Log when every value is positive and they span more than two orders of magnitude (#params);
    percentile ranks when a few outliers would still squash the rest (a 10%-accuracy cell); else linear.
    """
    from nasrank.evaluation.figures import percentile_ranks, short_number, squashed

    ok = values[np.isfinite(values)]
    log = ok.size > 0 and bool((ok > 0).all()) and ok.max() / ok.min() > 100
    if squashed(np.log10(ok) if log else ok):
        note = f"{label} ({short_number(ok.min())} to {short_number(ok.max())})"
        return percentile_ranks(values), "rank", f"{label}, percentile rank", note
    return values, "log" if log else "linear", label, None


def _same_ranking(shown: Sequence[str], x_of: Mapping[str, np.ndarray]) -> dict[str, str]:
    """``{ranker: earlier ranker}`` for panels whose scores order the architectures identically."""
    from nasrank.evaluation.figures import percentile_ranks

    out: dict[str, str] = {}
    ranks = {n: np.round(percentile_ranks(x_of[n]), 9) for n in shown}
    for i, n in enumerate(shown):
        twin = next((m for m in shown[:i] if m not in out and np.array_equal(ranks[m], ranks[n], equal_nan=True)), None)
        if twin is not None:
            out[n] = twin
    return out


def plot_scatter(path: str | Path, panels: Mapping[str, tuple[np.ndarray, np.ndarray]],
                 rho: Mapping[str, float] | None = None, truth_label: str = "true accuracy (%)",
                 formats: Sequence[str] = ("png",), caption: str | None = None) -> Path | None:
    """One panel per ranker with a valid score: its score (the mean over repeats, x) against the true accuracy (y).

    Each axis is logarithmic when its values are positive and span more than two orders of magnitude
    (#params, #FLOPs), and percentile ranks when a few outliers would squash the rest (a 10%-accuracy
    cell: the figure says so); tick labels are short (``120k``, ``1.2M``). Panels whose rankers order
    the architectures identically are named ``(same ranking as X)``. Rankers without a valid score
    get no panel and are named in the title; ``caption`` (n, benchmark, scale) is the suptitle's last
    line. ``None`` when no ranker has one.
    """
    from nasrank.evaluation.figures import compact_ticks, save_figure, set_suptitle, wrap

    plt = _plt()
    x_of = {n: np.asarray(s, dtype=np.float64) for n, (s, _) in panels.items()}
    ok_of = {n: np.isfinite(x_of[n]) & np.isfinite(np.asarray(t, dtype=np.float64)) for n, (_, t) in panels.items()}
    shown = [n for n in panels if ok_of[n].any()]
    empty = [n for n in panels if n not in shown]
    if not shown:
        return None
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows + 0.5), squeeze=False)
    twins = _same_ranking(shown, {n: np.where(ok_of[n], x_of[n], np.nan) for n in shown})
    notes: list[str] = []
    for ax, name in zip(axes.flat, shown):
        ok = ok_of[name]
        s, t = x_of[name][ok], np.asarray(panels[name][1], dtype=np.float64)[ok]
        xs, xscale, xlabel, xnote = _axis(s, f"{name} score")
        ys, yscale, ylabel, ynote = _axis(t, truth_label)
        notes += [n for n in (xnote, ynote) if n and n not in notes]
        ax.scatter(xs, ys, s=6, alpha=0.5, linewidths=0)
        if xscale == "log":
            ax.set_xscale("log")
        if xscale != "rank":
            compact_ticks(ax, "x")
        title = name + (f" (same ranking as {twins[name]})" if name in twins else "")
        if rho is not None and rho.get(name) is not None and math.isfinite(rho[name]):
            title += f"\nSpearman {rho[name]:.3f}, n = {int(ok.sum())}"
        else:
            title += f"\nn = {int(ok.sum())}"
        if (~ok).any():
            title += f"  [{int((~ok).sum())} invalid]"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(shown):]:
        ax.remove()
    if empty:
        notes.insert(0, f"no valid score: {', '.join(empty)}")
    ranked = [n for n in notes if not n.startswith("no valid score")]
    head = [n for n in notes if n.startswith("no valid score")]
    if ranked:
        head.append("percentile-rank axes where a few outliers would squash the rest: " + ", ".join(ranked))
    notes += [f"{n} orders the architectures as {m} does (same ranking)" for n, m in twins.items()]
    set_suptitle(fig, "; ".join(head), wrap(caption, 16 * 4.2 * cols), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, formats, notes)[0]


def _bars(ax, pos: np.ndarray, vals: np.ndarray, width: float, label: str, top: float, colour: Any) -> None:
    """One criterion's bars: a value is a bar (a zero one drawn as an outlined stub labelled ``0``),
    a missing one a dotted, labelled gap ``n/a`` (no bar)."""
    ok = np.isfinite(vals)
    ax.bar(pos[ok], vals[ok], width, label=label, color=colour, edgecolor="black", linewidth=0.4)
    stub = 0.025 * top
    for p, v in zip(pos[ok], vals[ok]):
        if v == 0:
            ax.bar([p], [stub], width, color=colour, edgecolor="black", linewidth=1.0, hatch="////")
            ax.text(p, stub, "0", ha="center", va="bottom", fontsize=8, fontweight="bold")
    for p in pos[~ok]:
        ax.bar([p], [top], width, bottom=0, fill=False, edgecolor="0.6", linestyle=":", linewidth=0.8)
        ax.text(p, top / 2, "n/a", ha="center", va="center", fontsize=7, color="0.35", rotation=90)


def plot_criteria(path: str | Path, criteria: Mapping[str, Mapping[str, float]], mode: str = "iso",
                  formats: Sequence[str] = ("png",), caption: str | None = None) -> Path | None:
    """Bar chart of the main criteria per ranker (``criteria[ranker]`` = that ranker's criteria in ``mode``).

    Left: Spearman, Kendall tau and P@top5% (higher is better); right: BR@1% and BR@5% as fractions
    of N (lower is better). A zero is a visible outlined stub labelled "0"; a missing value is a
    dotted, labelled gap "n/a", never a bar; a criterion no ranker has gets no legend entry.
    ``caption`` (n, benchmark, scale) is the suptitle's second line.
    """
    from nasrank.evaluation.figures import palette, save_figure, set_suptitle, wrap

    plt = _plt()
    names = list(criteria)
    groups = ((("spearman", "Spearman"), ("kendall_tau", "Kendall"), ("p_at_top_0.05", "P@top5%")),
              (("br_at_0.01", "BR@1%"), ("br_at_0.05", "BR@5%")))

    def value(n: str, key: str) -> float:
        v = criteria[n].get(key)
        return np.nan if v is None or not math.isfinite(float(v)) else float(v)

    groups = tuple(tuple(k for k in g if any(np.isfinite(value(n, k[0])) for n in names)) for g in groups)
    groups = tuple(g for g in groups if g)
    if not groups:
        return None
    fig, axes = plt.subplots(1, len(groups), figsize=(max(6.0, 1.6 * len(names) + 4.0), 4.2), squeeze=False,
                             gridspec_kw={"width_ratios": [len(g) for g in groups]})
    x = np.arange(len(names))
    higher = ("spearman", "kendall_tau", "p_at_top_0.05")
    colours = {key: c for g in groups for (key, _), c in zip(g, palette(len(g)))}
    missing = [f"{n}: {lab}" for g in groups for key, lab in g for n in names if not np.isfinite(value(n, key))]
    for ax, group in zip(axes[0], groups):
        width = 0.8 / len(group)
        vals_all = np.array([[value(n, k) for n in names] for k, _ in group])
        fin = vals_all[np.isfinite(vals_all)]
        top = max(1.0 if group[0][0] in higher else float(fin.max()) if fin.size else 1.0, 1e-9)
        for j, (key, label) in enumerate(group):
            _bars(ax, x + (j - (len(group) - 1) / 2) * width, vals_all[j], width, label, top, colours[key])
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=30 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
        ax.set_ylabel("higher is better" if group[0][0] in higher else "lower is better (fraction of N)")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    set_suptitle(fig, f"ranking criteria ({mode})" + ("; dotted n/a: no value" if missing else ""),
                 wrap(caption, 12 * fig.get_figwidth()))
    fig.tight_layout()
    return save_figure(fig, path, formats, [f"n/a (no value): {', '.join(missing)}"] if missing else [])[0]


def evaluate_caption(report: Mapping[str, Any]) -> str:
    """The caption of an evaluate's figures: n architectures, the benchmark, the rankers' scale."""
    from nasrank.evaluation.figures import caption, scale_text

    by_text: dict[str, list[str]] = {}
    for name, rep in (report.get("rankers") or {}).items():
        by_text.setdefault(scale_text(rep.get("config") or {}), []).append(name)
    if len(by_text) == 1:
        scale = next(iter(by_text))
    else:
        scale = "; ".join(f"{', '.join(names)}: {text}" for text, names in by_text.items())
    return caption(report.get("n_archs"), "architectures", report.get("benchmark"), report.get("dataset"), scale)
