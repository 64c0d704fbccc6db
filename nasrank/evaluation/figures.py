"""Shared figure plumbing: a palette that does not repeat, compact tick labels, saving in several
formats, and a manifest of what each saved figure shows (read back from the figure itself).

Every figure saved with :func:`save_figure` gets a sidecar ``<stem>.figure.json`` listing, per
panel, its title, axis labels and legend entries with the number of finite points each entry
draws, and the groups of lines that draw exactly the same points (``identical``), so that tests
(and readers) can check that no legend entry is without data, no panel is empty and no curve hides
another unannounced.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator  # noqa: E402

from nasrank.runs.atomic import atomic_write, atomic_write_text  # noqa: E402
from nasrank.evaluation.formats import FORMATS, parse_formats, short_number  # noqa: E402,F401  (re-exported)
from nasrank.evaluation.captions import caption, scale_text, set_suptitle, wrap  # noqa: E402,F401  (re-exported)

DPI = 150


def palette(n: int) -> list[Any]:
    """``n`` colours, all different: tab10 up to 10, tab20 up to 20, then evenly spaced hues."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    if n <= 20:
        return [plt.get_cmap("tab20")(i) for i in range(n)]
    return [plt.get_cmap("hsv")(i / n) for i in range(n)]


def compact_ticks(ax: Any, axis: str = "x") -> None:
    """Short tick labels (``120k``, ``1.2M``) and at most 6 major ticks on a linear ``axis``."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(short_number))
    scale = ax.get_xscale() if axis == "x" else ax.get_yscale()
    if scale == "linear":
        target.set_major_locator(MaxNLocator(6))
    else:  # log: 1-2-5 ticks over up to three decades (a short range still has labels), decades beyond
        lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
        wide = lo > 0 and hi / lo > 1e3 or lo <= 0 and hi > 1e3
        target.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0), numticks=8))
        target.set_minor_formatter(FuncFormatter(lambda v, p: ""))


def squashed(values: Any, factor: float = 8.0) -> bool:
    """Whether a few outliers squash the rest: the range exceeds ``factor`` times the interquartile range."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 8:
        return False
    q1, q3 = np.percentile(v, [25, 75])
    return bool(q3 > q1 and (v.max() - v.min()) > factor * (q3 - q1))


def percentile_ranks(values: Any) -> np.ndarray:
    """Each finite value's rank as a percentile (0 = lowest, 100 = highest; ties share their mean rank)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v)
    if ok.sum() == 0:
        return out
    from scipy.stats import rankdata

    r = rankdata(v[ok])
    out[ok] = 100.0 * (r - 1) / max(ok.sum() - 1, 1)
    return out


def _finite_points(artist: Any) -> int:
    """Finite data points an artist draws (a line's points, a collection's offsets, a bar's height)."""
    if hasattr(artist, "get_ydata"):
        y = np.asarray(artist.get_ydata(), dtype=float)
        return int(np.isfinite(y).sum())
    if hasattr(artist, "get_offsets"):
        off = np.asarray(artist.get_offsets(), dtype=float).reshape(-1, 2)
        return int(np.isfinite(off).all(axis=1).sum())
    if hasattr(artist, "patches"):  # a bar container
        return sum(1 for p in artist.patches if math.isfinite(p.get_height()) and p.get_visible())
    if hasattr(artist, "get_height"):
        return int(math.isfinite(artist.get_height()))
    return 0


def identical_series(ax: Any) -> list[list[str]]:
    """Groups (2 or more) of labelled lines in ``ax`` that draw exactly the same points."""
    groups: dict[tuple, list[str]] = {}
    for line in ax.lines:
        label = line.get_label()
        if not label or label.startswith("_"):
            continue
        x = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        if y.size == 0:
            continue
        key = (tuple(np.round(x, 12)), tuple(np.round(y, 12)))
        groups.setdefault(key, []).append(label)
    return [labels for labels in groups.values() if len(labels) > 1]


def figure_manifest(fig: Any) -> dict[str, Any]:
    """What ``fig`` shows, read from its axes: titles, axis labels, legend entries with point counts."""
    panels = []
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison or ax.get_label() == "<colorbar>":
            continue
        handles, labels = ax.get_legend_handles_labels()
        drawn = sum(_finite_points(a) for a in [*ax.lines, *ax.collections, *ax.patches]) + len(ax.images)
        panels.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                       "n_points": int(drawn),
                       "legend": [{"label": lab, "n_points": _finite_points(h)} for h, lab in zip(handles, labels)],
                       "identical": identical_series(ax), "texts": [t.get_text() for t in ax.texts if t.get_text()]})
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    return {"title": title, "panels": panels}


def save_figure(fig: Any, path: str | Path, formats: Sequence[str] = ("png",),
                notes: Sequence[str] = ()) -> list[Path]:
    """Save ``fig`` as ``path`` in each format (temp file, then replace), its manifest beside it, and close it.

    ``notes`` (e.g. runs left out for lack of data) go into the manifest.
    """
    path = Path(path)
    out = []
    for fmt in parse_formats(list(formats)):
        dest = path.with_suffix(f".{fmt}")
        with atomic_write(dest, "wb", what="figure") as fh:
            fig.savefig(fh, dpi=DPI, format=fmt)
        out.append(dest)
    manifest = {**figure_manifest(fig), "files": [p.name for p in out], "notes": list(notes)}
    side = path.with_suffix(".figure.json")
    atomic_write_text(side, json.dumps(manifest, indent=2) + "\n", what="figure manifest")
    plt.close(fig)
    return out
