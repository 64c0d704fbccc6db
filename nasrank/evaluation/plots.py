"""Search-trajectory figures (matplotlib, headless).

Two curves per run, in two clearly named panels:

* **selected**: the true accuracy of the best-*scored* architecture so far, what
  the search would return if stopped there. It can go down: a new architecture
  that scores higher may be truly worse.
* **found**: the best true accuracy among all architectures evaluated so far
  (what an oracle picking from the evaluated set would get); never decreases.

Runs whose costs are of different kinds (a benchmark's recorded or modelled GPU
training time, a fixed charge, measured wall time on this machine) are never
put on one axis: each kind gets its own row of panels, and every x label says
what the cost is. Runs that share a ``group`` (seeds of one searcher and ranker)
are drawn as one mean curve with a 95% confidence band, in one colour.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from nasrank.evaluation.figures import compact_ticks, palette, plt, save_figure, set_suptitle, wrap
from nasrank.evaluation.seeds import mean_ci_curve
from nasrank.runs.history import History

PANELS = (("selected", "true acc. of the best-scored arch. (%)",
           "selected: true acc. of the best-scored arch. (what the search returns)"),
          ("found", "best true acc. among evaluated (%)",
           "found: best true acc. among all evaluated (oracle pick)"))


def cost_kind(history: History, measured_on: str | None = None) -> str:
    """What a history's cost is, as an axis label (:meth:`History.cost_kind`)."""
    return history.cost_kind(measured_on)


def curves(history: History) -> dict[str, list[tuple[float, float]]]:
    """``{"selected": [(cost, acc)], "found": [(cost, acc)]}``; points without a true accuracy are left out."""
    selected, found = [], []
    best, top = None, None
    for r in history:
        if r.valid and (best is None or r.score > best.score):
            best = r
        if r.true_acc is not None and (top is None or r.true_acc > top):
            top = r.true_acc
        if best is not None and best.true_acc is not None:
            selected.append((r.cumulative_seconds, float(best.true_acc)))
        if top is not None:
            found.append((r.cumulative_seconds, float(top)))
    return {"selected": selected, "found": found}


@dataclass
class Series:
    """One legend entry: a run, or the mean of a group of runs with a band."""

    group: str
    xs: np.ndarray
    ys: np.ndarray
    n_runs: int = 1
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    same_as: str | None = None  # the label of an earlier identical series

    @property
    def label(self) -> str:
        base = self.group if self.n_runs == 1 else f"{self.group} (mean of {self.n_runs}, 95% CI)"
        return base + (f" (identical to {self.same_as})" if self.same_as else "")


def _series(runs: Sequence[tuple[str, History]], groups: Mapping[str, str], panel: str) -> list[Series]:
    """Per group (runs of one group merged as mean ± CI), the panel's series, in first-seen order."""
    members: dict[str, list[list[tuple[float, float]]]] = {}
    for label, hist in runs:
        pts = curves(hist)[panel]
        if pts:
            members.setdefault(groups.get(label, label), []).append(pts)
    out = []
    for name, pts_list in members.items():
        if len(pts_list) == 1:
            xs, ys = map(np.asarray, zip(*pts_list[0]))
            out.append(Series(name, xs, ys))
        else:
            xs, mean, lo, hi = mean_ci_curve(pts_list)
            out.append(Series(name, xs, mean, len(pts_list), lo, hi))
    return out


def _key(s: Series) -> tuple:
    return tuple(np.round(s.xs, 9)), tuple(np.round(s.ys, 9))


def _draw(ax, series: list[Series], colours: Mapping[str, object], ceiling: float = 100.0) -> None:
    """Step curves; identical curves are drawn dashed over a wider copy so that each stays visible.
    Bands are clipped to the feasible range: 0 up to ``ceiling`` (the benchmark's optimum, else 100)."""
    first: dict[tuple, Series] = {}
    for s in series:
        if _key(s) in first:
            s.same_as = first[_key(s)].label
        else:
            first[_key(s)] = s
    n = len(series)
    for i, s in enumerate(series):
        later_twins = sum(1 for t in series[i + 1:] if _key(t) == _key(s))
        # earlier curves wider underneath: curves that coincide over a stretch (e.g. the same initial
        # samples) stay visible; whole-curve twins are also dashed and named in the legend
        lw = 1.3 + (0.9 * (n - 1 - i) if n <= 6 else 2.2 * later_twins)
        colour = colours[s.group]
        ax.step(s.xs, s.ys, where="post", label=s.label, color=colour, lw=lw,
                ls="--" if s.same_as else "-", zorder=3 + i)
        if s.lo is not None and np.isfinite(s.lo).any():
            ax.fill_between(s.xs, np.clip(s.lo, 0, ceiling), np.clip(s.hi, 0, ceiling), step="post", color=colour,
                            alpha=0.18, lw=0)
    lo = min(float(np.nanmin(s.ys)) for s in series)
    hi = max(float(np.nanmax(s.ys)) for s in series)
    pad = max(0.5, 0.05 * (hi - lo))
    ax.set_ylim(lo - pad, min(100.0, hi + pad) if hi < 100 else hi + pad)  # the lines set the range, not the bands


def _xscale(ax, series: list[Series]) -> None:
    x_min = min(float(s.xs.min()) for s in series)
    if x_min > 0:
        ax.set_xscale("log")  # costs span orders of magnitude
    else:
        ax.set_xscale("symlog")
        ax.set_xlim(left=0)
    compact_ticks(ax, "x")


def plot_trajectories(runs: Sequence[tuple[str, History]], path: str | Path, optimum: float | None = None,
                      title: str = "true accuracy vs cumulative cost", formats: Sequence[str] = ("png",),
                      groups: Mapping[str, str] | None = None, measured_on: str | None = None,
                      caption: str | None = None) -> Path | None:
    """Write the trajectory figure (``path`` in each of ``formats``); ``None`` when no run has a true accuracy.

    ``groups`` maps a run label to its group (seeds of one configuration): a group is drawn as its
    mean with a 95% confidence band, clipped to what is feasible (0 to ``optimum``, else 100).
    ``caption`` (n, the benchmark, the scale: :func:`~nasrank.evaluation.figures.caption`) is the
    suptitle's last line. Returns the first file written.
    """
    groups = dict(groups or {})
    by_kind: dict[str, list[tuple[str, History]]] = {}
    for label, hist in runs:
        by_kind.setdefault(cost_kind(hist, measured_on), []).append((label, hist))
    rows = []
    for kind, kind_runs in by_kind.items():
        panels = [(key, ylab, ttl, _series(kind_runs, groups, key)) for key, ylab, ttl in PANELS]
        if any(p[3] for p in panels):
            rows.append((kind, [p for p in panels if p[3]]))
    names = list(dict.fromkeys(groups.get(label, label) for label, _ in runs))
    drawn = {s.group for _, panels in rows for *_, series in panels for s in series}
    left_out = [n for n in names if n not in drawn]
    notes = [f"no true accuracy to draw: {', '.join(left_out)}"] if left_out else []
    if not rows:
        return None
    colours = dict(zip([n for n in names if n in drawn], palette(len(drawn))))
    ncols = max(len(panels) for _, panels in rows)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(6.0 * ncols, 4.4 * len(rows)), squeeze=False)
    for r, (kind, panels) in enumerate(rows):
        for c in range(ncols):
            ax = axes[r][c]
            if c >= len(panels):
                ax.remove()
                continue
            _, ylabel, ttl, series = panels[c]
            _draw(ax, series, colours, 100.0 if optimum is None else min(100.0, optimum))
            if optimum is not None:
                lo, hi = ax.get_ylim()
                ax.set_ylim(lo, max(hi, optimum + 0.3))
                ax.axhline(optimum, color="grey", ls=":", lw=1, label=f"optimum of the benchmark {optimum:.2f}")
            _xscale(ax, series)
            ax.set_xlabel(f"cumulative cost: {kind}")
            ax.set_ylabel(ylabel)
            ax.set_title(ttl, fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    set_suptitle(fig, title + (f"\n({notes[0]})" if notes else ""), wrap(caption, 12 * 6.0 * ncols))
    fig.tight_layout()
    return save_figure(fig, path, formats, notes)[0]
