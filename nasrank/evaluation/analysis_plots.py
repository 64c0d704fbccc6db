"""Plots of ``nasrank analyze``: complexity bias, op/feature bias and repeat variance (headless)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nasrank.evaluation.figures import save_figure, set_suptitle, short_number, wrap  # noqa: E402


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


MARKERS = "osD^vP*Xh<>"


def _same_bins(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two complexity-bias results that draw the same points in both panels."""
    key = ("bin", "rank_shift", "kendall_tau")
    return [[b_.get(k) for k in key] for b_ in a["bins"]] == [[b_.get(k) for k in key] for b_ in b["bins"]]


def analysis_caption(result: Mapping[str, Any]) -> str:
    """The caption of analyze's figures: the architectures scored, the benchmark, where the scores come from."""
    from nasrank.evaluation.captions import caption

    n = max((r.get("n_archs") or 0 for r in (result.get("rankers") or {}).values() if isinstance(r, Mapping)),
            default=None)
    return caption(n or None, "architectures", result.get("benchmark") or "true_acc of the scores file",
                   result.get("dataset"), f"as scored in {'/'.join(Path(str(result.get('scores'))).parts[-2:])}")


def plot_complexity_bias(results: Mapping[str, Mapping[str, Any]], path: str | Path,
                         formats: Sequence[str] = ("png",), title: str = "", caption: str | None = None) -> Path:
    """Left: rank shift per complexity bin, one line per ranker; right: Kendall tau inside each bin.

    Each legend entry gives the ranker's n (cells scored); a ranker whose curves are identical to an
    earlier one's is drawn dashed with hollow markers over it, labelled ``(identical to X)``, and
    named in the manifest's notes.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.6), layout="constrained")
    labels: list[str] = []
    notes: list[str] = []
    by = "complexity"
    drawn: dict[str, Mapping[str, Any]] = {}
    for i, (name, cb) in enumerate(results.items()):
        bins = cb["bins"]
        by = cb.get("by", by)
        x = [b["bin"] for b in bins]
        same = next((other for other, ocb in drawn.items() if _same_bins(cb, ocb)), None)
        label = f"{name} (n = {cb['n']})" if cb.get("n") is not None else name
        style: dict[str, Any] = {"marker": MARKERS[i % len(MARKERS)], "label": label}
        if same is not None:
            style.update(ls="--", mfc="none", ms=11, lw=2.5, label=f"{label}, identical to {same}")
            notes.append(f"{name} and {same} draw the same points (identical rankings)")
        for ax, key in ((ax1, "rank_shift"), (ax2, "kendall_tau")):
            ax.plot(x, [_num(b[key]) for b in bins], zorder=3 if same else 2, **style)
        drawn[name] = cb
        if len(bins) > len(labels):
            labels = [f"{b['bin']}\n{short_number(b['lo'])}–{short_number(b['hi'])}" for b in bins]
    ticks = list(range(len(labels)))
    for ax in (ax1, ax2):
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks([int(lab.split("\n")[0]) for lab in labels] if labels else ticks)
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_xlabel(f"{by} bin (low → high)")
    ax1.set_ylabel("rank shift (predicted − true percentile)")
    ax1.set_title("Rank shift per bin (above 0: the bin is over-rated).", fontsize=9)
    ax2.set_ylabel("Kendall tau inside the bin")
    ax2.set_title("Ranking among cells of similar complexity.", fontsize=9)
    ax2.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))  # outside the data
    set_suptitle(fig, title, wrap(caption, 12 * 13))
    path = Path(path)
    return save_figure(fig, path, formats, notes)[0]


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
            ax.text(j, i, "n/a" if np.isnan(v) else f"{v:+.2f}", ha="center", va="center", fontsize=6,
                    color="0.5" if np.isnan(v) else "black")  # a missing value is a labelled gap
    ax.set_title(title, fontsize=9)
    plt.colorbar(im, ax=ax, fraction=0.04)


def plot_op_bias(op_bias: Mapping[str, Mapping[str, Mapping[str, Any]]], path: str | Path,
                 feature_bias: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
                 formats: Sequence[str] = ("png",), caption: str | None = None) -> Path:
    """Heatmaps of Spearman(feature, rank error) per ranker: op counts, then the other features."""
    panels = [(op_bias, "op count vs rank error (Spearman; > 0: over-rates that op)")]
    if feature_bias:
        panels.append((feature_bias, "feature vs rank error (Spearman)"))
    n_rank = max(len(op_bias), 1)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 + 5 * (len(panels) - 1), 1.2 + 0.45 * n_rank
                                                      + (0.6 if caption else 0.0)),
                             squeeze=False, gridspec_kw={"width_ratios": [1] + [2] * (len(panels) - 1)})
    for ax, (table, title) in zip(axes[0], panels):
        _heat(ax, table, title)
    set_suptitle(fig, None, wrap(caption, 12 * fig.get_figwidth()), fontsize=9)
    fig.tight_layout()
    path = Path(path)
    return save_figure(fig, path, formats)[0]


def plot_variance(variance: Mapping[str, Mapping[str, Mapping[str, Any]]], path: str | Path,
                  formats: Sequence[str] = ("png",), caption: str | None = None) -> Path:
    """Per ranker and variant: mean pairwise Kendall tau between repeats (bar, min as whisker)
    and the median relative per-arch std of the rank percentiles."""
    labels, means, mins, rel = [], [], [], []
    for ranker, per in variance.items():
        for variant, st in per.items():
            n = f", n={st['n_archs']}" if st.get("n_archs") is not None else ""
            labels.append(f"{ranker}\n({variant}, R={st['n_repeats']}{n})")
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
    ax1.set_title("Agreement between repeats (R repeats of n cells; higher: more stable).", fontsize=9)
    ax2.set_title("Per-cell spread of the rank across repeats (lower: more stable).", fontsize=9)
    for ax in (ax1, ax2):
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
    set_suptitle(fig, None, wrap(caption, 12 * fig.get_figwidth()), fontsize=9)
    fig.tight_layout()
    path = Path(path)
    return save_figure(fig, path, formats)[0]
