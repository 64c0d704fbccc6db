"""Plots of ``nasrank analyze``: complexity bias, op/feature bias and repeat variance (headless)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nasrank.evaluation.figures import save_figure, short_number  # noqa: E402


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def plot_complexity_bias(results: Mapping[str, Mapping[str, Any]], path: str | Path,
                         formats: Sequence[str] = ("png",)) -> Path:
    """Left: rank shift per complexity bin, one line per ranker; right: Kendall tau inside each bin."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels: list[str] = []
    by = "complexity"
    for name, cb in results.items():
        bins = cb["bins"]
        by = cb.get("by", by)
        x = [b["bin"] for b in bins]
        ax1.plot(x, [_num(b["rank_shift"]) for b in bins], marker="o", label=name)
        ax2.plot(x, [_num(b["kendall_tau"]) for b in bins], marker="o", label=name)
        if len(bins) > len(labels):
            labels = [f"{b['bin']}\n{short_number(b['lo'])}–{short_number(b['hi'])}" for b in bins]
    ticks = list(range(len(labels)))
    for ax in (ax1, ax2):
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks([int(lab.split("\n")[0]) for lab in labels] if labels else ticks)
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_xlabel(f"{by} bin (low → high)")
    ax1.set_ylabel("rank shift (pred − true percentile)")
    ax1.set_title("> 0: over-rated")
    ax2.set_ylabel("Kendall tau inside the bin")
    ax2.set_title("ranking among similar complexity")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    return save_figure(fig, path, formats)[0]


def _heat(ax, table: Mapping[str, Mapping[str, Mapping[str, Any]]], title: str) -> None:
    rankers = list(table)
    feats = list(next(iter(table.values()))) if rankers else []
    mat = np.array([[_num(table[r][f]["spearman_feature_vs_error"]) for f in feats] for r in rankers])
    im = ax.imshow(mat, cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(feats)))
    ax.set_xticklabels(feats, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(rankers)))
    ax.set_yticklabels(rankers, fontsize=8)
    for i in range(len(rankers)):
        for j in range(len(feats)):
            v = mat[i, j]
            ax.text(j, i, "" if np.isnan(v) else f"{v:+.2f}", ha="center", va="center", fontsize=6)
    ax.set_title(title, fontsize=9)
    plt.colorbar(im, ax=ax, fraction=0.04)


def plot_op_bias(op_bias: Mapping[str, Mapping[str, Mapping[str, Any]]], path: str | Path,
                 feature_bias: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
                 formats: Sequence[str] = ("png",)) -> Path:
    """Heatmaps of Spearman(feature, rank error) per ranker: op counts, then the other features."""
    panels = [(op_bias, "op count vs rank error (Spearman; > 0: over-rates that op)")]
    if feature_bias:
        panels.append((feature_bias, "feature vs rank error (Spearman)"))
    n_rank = max(len(op_bias), 1)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 + 5 * (len(panels) - 1), 1.2 + 0.45 * n_rank),
                             squeeze=False, gridspec_kw={"width_ratios": [1] + [2] * (len(panels) - 1)})
    for ax, (table, title) in zip(axes[0], panels):
        _heat(ax, table, title)
    fig.tight_layout()
    path = Path(path)
    return save_figure(fig, path, formats)[0]


def plot_variance(variance: Mapping[str, Mapping[str, Mapping[str, Any]]], path: str | Path,
                  formats: Sequence[str] = ("png",)) -> Path:
    """Per ranker and variant: mean pairwise Kendall tau between repeats (bar, min as whisker)
    and the median relative per-arch std of the rank percentiles."""
    labels, means, mins, rel = [], [], [], []
    for ranker, per in variance.items():
        for variant, st in per.items():
            labels.append(f"{ranker}\n({variant}, R={st['n_repeats']})")
            means.append(_num(st["mean_kendall_tau"]))
            mins.append(_num(st["min_kendall_tau"]))
            rel.append(_num(st.get("median_relative_std_ranks", st["median_relative_std"])))
    x = np.arange(len(labels))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(max(7, 1.0 * len(labels) + 4), 4.6))
    m, lo = np.array(means), np.array(mins)
    ax1.bar(x, m, color="tab:blue")
    ax1.errorbar(x, m, yerr=[np.nan_to_num(m - lo), np.zeros_like(m)], fmt="none", ecolor="k", capsize=3)
    ax1.set_ylim(min(0.0, np.nanmin(lo) - 0.05) if len(lo) and np.isfinite(lo).any() else 0, 1)
    ax1.set_ylabel("Kendall tau between repeats (mean, min)")
    ax2.bar(x, rel, color="tab:orange")
    ax2.set_ylabel("median per-arch std / spread of means\n(rank percentiles)")
    for ax in (ax1, ax2):
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
    fig.tight_layout()
    path = Path(path)
    return save_figure(fig, path, formats)[0]
