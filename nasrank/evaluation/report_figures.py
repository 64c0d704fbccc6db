"""The figures of ``nasrank report`` besides the search curves: evaluate outputs as ranking criteria
(an evaluate scores a fixed sample, it is no search, so it gets no trajectory), and the caption."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nasrank.evaluation.figures import caption, palette, plt, save_figure, set_suptitle, wrap

#: (row key, legend label) of the criteria drawn per evaluate output
CRITERIA = (("spearman", "Spearman"), ("kendall", "Kendall tau"))


def report_caption(rows: Sequence[Mapping[str, Any]], kinds: Sequence[str] | None = None) -> str:
    """``n = 5 runs · benchmark embedded (cifar10) · scale defaults`` over the rows (of ``kinds``)."""
    rows = [r for r in rows if kinds is None or r.get("kind") in kinds]
    benches = sorted({f"{r.get('benchmark')}" for r in rows if r.get("benchmark")})
    datasets = sorted({str(r["dataset"]) for r in rows if r.get("dataset")})
    scales = sorted({str(r["scale"]) for r in rows if r.get("scale")})
    bench = "; ".join(benches) if benches else None
    return caption(len(rows), "runs" if len(rows) != 1 else "run", bench, ", ".join(datasets) or None,
                   "; ".join(scales) if scales else None)


def _value(row: Mapping[str, Any], key: str) -> float:
    v = row.get(key)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan


def plot_evaluate_rows(rows: Sequence[Mapping[str, Any]], path: str | Path, formats: Sequence[str] = ("png",),
                       caption_line: str | None = None) -> Path | None:
    """One horizontal bar group per evaluate output: its Spearman and Kendall tau against the true
    accuracy over its ``n`` architectures; a missing value is a labelled gap ``n/a``. None without rows."""
    rows = [r for r in rows if r.get("kind") == "evaluate"]
    if not rows:
        return None
    keys = [(k, lab) for k, lab in CRITERIA if any(math.isfinite(_value(r, k)) for r in rows)]
    labels = [f"{r['run']} (n = {r.get('n_evaluations', '?')})" for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 1.6 + 0.45 * len(rows) * max(1, len(keys))))
    height = 0.8 / max(1, len(keys))
    y = np.arange(len(rows))[::-1].astype(float)
    for j, ((key, lab), colour) in enumerate(zip(keys, palette(max(1, len(keys))))):
        vals = np.array([_value(r, key) for r in rows])
        pos = y + ((len(keys) - 1) / 2 - j) * height
        ok = np.isfinite(vals)
        ax.barh(pos[ok], vals[ok], height, color=colour, label=lab, edgecolor="black", linewidth=0.4)
        for p, v in zip(pos[ok], vals[ok]):
            ax.text(v + (0.02 if v >= 0 else -0.02), p, f"{v:.3f}", va="center", ha="left" if v >= 0 else "right",
                    fontsize=7)
        for p in pos[~ok]:
            ax.text(0.02, p, "n/a", va="center", ha="left", fontsize=7, color="0.35")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(min(-0.05, min((_value(r, k) for r in rows for k, _ in keys if math.isfinite(_value(r, k))),
                               default=0.0) - 0.15), 1.15)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("rank correlation of the score with the true accuracy (1 = the true order)")
    ax.grid(axis="x", alpha=0.3)
    if keys:
        ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(keys), frameon=False)
    set_suptitle(fig, "evaluate outputs: ranking quality on their sample", wrap(caption_line, 12 * 7.5))
    fig.tight_layout()
    return save_figure(fig, path, formats)[0]
