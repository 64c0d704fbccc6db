"""Pictures of a seed sweep: quality against cost per candidate, the baseline family as a frontier.

``frontier.png`` (Spearman) and ``regret_vs_cost.png`` (winner's regret) draw, on
a log cost axis, the family as a line through its members with the 95% CI of
the quality as a band (the band is joined linearly in log cost, the model the
matched ratios interpolate with), and every other ranker as a point with its
95% CIs in both directions. Points that would sit on each other (a tie) are
offset sideways by a few percent of cost and the figure says so; a ranker
without a value is never drawn (no zero stands in for it) and the legend says
it is missing. The legend sits below the axes so that it hides no point.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from nasrank.evaluation.frontier import bound_symbol, pareto_front

#: y metric -> (axis label, matched-ratio key)
PANELS = {
    "spearman": ("Spearman of score vs true accuracy\n(higher is better)", "cost_ratio_at_equal_spearman"),
    "kendall": ("Kendall of score vs true accuracy\n(higher is better)", "cost_ratio_at_equal_kendall"),
    "regret": ("winner's regret, accuracy points\n(lower is better)", "cost_ratio_at_equal_regret"),
}
#: y metric -> its feasible range (CI bands and whiskers are clipped to it)
FEASIBLE = {"spearman": (-1.0, 1.0), "kendall": (-1.0, 1.0), "regret": (0.0, 100.0)}
MARKERS = "osD^vP*Xhp<>"
TIE_LOG_X = 0.03   # points closer than this in log10 cost ...
TIE_Y = 0.02       # ... and this fraction of the y range count as tied
DODGE = 1.06       # multiplicative sideways offset between tied points


def _ok(v: Any) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def _err(iv: Mapping[str, Any]) -> tuple[float, float] | None:
    """(below, above) error bar lengths of an interval, or None where it is unknown."""
    if not (_ok(iv.get("mean")) and _ok(iv.get("ci_low")) and _ok(iv.get("ci_high"))):
        return None
    return max(iv["mean"] - iv["ci_low"], 0.0), max(iv["ci_high"] - iv["mean"], 0.0)


def _clip(v: Any, metric: str) -> Any:
    """``v`` inside the metric's feasible range (None stays None)."""
    lo, hi = FEASIBLE[metric]
    return min(hi, max(lo, v)) if _ok(v) else v


def _dodge(points: list[tuple[str, float, float]], y_span: float) -> tuple[dict[str, float], bool]:
    """Multiplicative x offsets that separate tied points; whether any tie was found."""
    factor: dict[str, float] = {}
    tied = False
    for i, (label, x, y) in enumerate(points):
        k = sum(1 for lj, xj, yj in points[:i]
                if abs(math.log10(xj) - math.log10(x)) < TIE_LOG_X and abs(yj - y) <= TIE_Y * y_span)
        tied |= k > 0
        factor[label] = DODGE ** k
    return factor, tied


def _minor_label(x: float, _pos: int) -> str:
    """Label the 2x and 5x minor ticks of a log axis only (the rest would collide)."""
    lead = round(x / 10 ** math.floor(math.log10(x) + 1e-9), 6) if x > 0 else 0
    return f"{x:g}" if lead in (2, 5) else ""


def _r(v: float) -> str:
    """A ratio: one decimal from 1 up, two significant digits below (0.025, not 0.0)."""
    return f"{v:.1f}" if abs(v) >= 1 else f"{v:.2g}"


def _ratio_text(summary: Mapping[str, Any], label: str, key: str) -> str:
    r = (summary.get("matched") or {}).get(label, {}).get(key)
    if r and r.get("na"):
        return f" ({r['na']})"
    if not r or not _ok(r.get("mean")):
        return ""
    ci = f" [{_r(r['ci_low'])}, {_r(r['ci_high'])}]" if _ok(r.get("ci_low")) and _ok(r.get("ci_high")) else ""
    what = {"cost_ratio_at_equal_spearman": "Spearman", "cost_ratio_at_equal_kendall": "Kendall",
            "cost_ratio_at_equal_regret": "regret"}[key]
    return f": {bound_symbol(r.get('extrapolated'))}{_r(r['mean'])}x{ci} cheaper than the family at equal {what}"


def _draw_family(ax, summary: Mapping[str, Any], metric: str) -> list[str]:
    """The family's line and band; returns the missing members' notes."""
    members = ((summary.get("frontier") or {}).get("members")) or {}
    pts, missing = [], []
    for label, m in members.items():
        x, y = m["cost_per_candidate"], m[metric]
        if _ok(x["mean"]) and _ok(y["mean"]) and x["mean"] > 0:
            pts.append((label, x, y))
        else:
            missing.append(f"{label} (family): no {metric}, not drawn")
    if not pts:
        return missing
    xs = [p[1]["mean"] for p in pts]
    ys = [p[2]["mean"] for p in pts]
    names = ", ".join(p[0] for p in pts)
    higher = metric != "regret"
    front = pareto_front(xs, ys, higher)
    on_front = {(x, y) for x, y in front}
    ax.plot([c for c, _ in front], [q for _, q in front], "-", color="0.25", lw=1.8, zorder=3,
            label="family's Pareto front (best member at or below each cost)")
    ax.plot([x for x, y in zip(xs, ys) if (x, y) in on_front], [y for x, y in zip(xs, ys) if (x, y) in on_front],
            "s", color="0.25", ms=6, zorder=3, label=f"baseline family ({names})")
    dominated = [(x, y) for x, y in zip(xs, ys) if (x, y) not in on_front]
    if dominated:
        ax.plot([x for x, _ in dominated], [y for _, y in dominated], "s", mfc="white", mec="0.25", ms=6, zorder=3,
                label="family member below the front (a cheaper member does as well)")
    floor, ceil = FEASIBLE[metric]
    lo = [max(floor, p[2]["ci_low"] if _ok(p[2]["ci_low"]) else p[2]["mean"]) for p in pts]
    hi = [min(ceil, p[2]["ci_high"] if _ok(p[2]["ci_high"]) else p[2]["mean"]) for p in pts]
    ax.fill_between(xs, lo, hi, color="0.6", alpha=0.3, lw=0, zorder=1, label="family 95% CI")
    for i, (label, x, y) in enumerate(sorted(pts, key=lambda p: p[1]["mean"])):
        e = _err(x)
        if e:
            ax.errorbar([x["mean"]], [y["mean"]], xerr=[[e[0]], [e[1]]], fmt="none", ecolor="0.25", lw=1, zorder=3)
        above = i % 2 == 1  # neighbours alternate above and below their point: labels never run together
        ax.annotate(label, (x["mean"], y["mean"]), textcoords="offset points", xytext=(0, 9 if above else -9),
                    ha="center", va="bottom" if above else "top", fontsize=8, color="0.2", zorder=5,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
    return missing


def sweep_caption(summary: Mapping[str, Any]) -> str | None:
    """The caption of a sweep's figures from a compare.json of ``nasrank compare --seeds`` (None without
    its ``benchmark`` and ``candidates``): ``n = 3 seeds × 10 candidates · benchmark ... · scale ...``."""
    from nasrank.evaluation.captions import caption

    if "candidates" not in summary or "seeds" not in summary:
        return None
    n = f"{len(summary['seeds'])} seed{'s' if len(summary['seeds']) != 1 else ''} ×"
    return caption(n, f"{summary['candidates']} candidates", summary.get("benchmark"), summary.get("dataset"),
                   summary.get("scale") if isinstance(summary.get("scale"), Mapping) else None)


def plot_sweep(summary: Mapping[str, Any], path: str | Path, metric: str = "spearman",
               title: str | None = None, cost_label: str = "cost per candidate, seconds",
               caption: str | None = None) -> Path:
    """Draw ``metric`` against cost per candidate for a :func:`summarize_sweep` result; write ``path``.

    Whiskers and the family's band are clipped to the metric's feasible range; ``caption`` (n, the
    benchmark, the scale; default :func:`sweep_caption`) is the figure's suptitle."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    ylabel, ratio_key = PANELS[metric]
    agg = summary.get("aggregate") or {}
    members = set(((summary.get("frontier") or {}).get("members")) or {})
    fig, ax = plt.subplots(figsize=(7.4, 6.4), layout="constrained")
    missing = _draw_family(ax, summary, metric)
    others = []
    for label, a in agg.items():
        if label in members:
            continue
        x, y = a["cost_per_candidate"], a[metric]
        if _ok(x["mean"]) and _ok(y["mean"]) and x["mean"] > 0:
            others.append((label, x, y))
        else:
            missing.append(f"{label}: no {metric}, not drawn")
    ys_all = [p[2]["mean"] for p in others] + [m[metric]["mean"] for m in
                                               ((summary.get("frontier") or {}).get("members") or {}).values()
                                               if _ok(m[metric]["mean"])]
    span = (max(ys_all) - min(ys_all)) if len(ys_all) > 1 else 1.0
    factor, tied = _dodge([(lab, x["mean"], y["mean"]) for lab, x, y in others], span or 1.0)
    cmap = plt.get_cmap("tab10")
    for i, (label, x, y) in enumerate(others):
        xm = x["mean"] * factor[label]
        ex, ey = _err(x), _err({**y, "ci_low": _clip(y.get("ci_low"), metric), "ci_high": _clip(y.get("ci_high"), metric)})
        ax.errorbar([xm], [y["mean"]], xerr=None if ex is None else [[ex[0] * factor[label]], [ex[1] * factor[label]]],
                    yerr=None if ey is None else [[ey[0]], [ey[1]]], fmt=MARKERS[i % len(MARKERS)], ms=8,
                    color=cmap(i % 10), capsize=3, lw=1.2, zorder=4,
                    label=label + _ratio_text(summary, label, ratio_key))
    ax.set_xscale("log")
    from matplotlib.ticker import FormatStrFormatter, FuncFormatter

    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(FuncFormatter(_minor_label))
    ax.tick_params(axis="x", which="minor", labelsize=8)
    ax.set_xlabel(f"{cost_label} (log scale)", fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    n_seeds = len(((summary.get("frontier") or {}).get("seeds")) or []) or None
    seeds_text = "the seeds" if not n_seeds else "1 seed" if n_seeds == 1 else f"{n_seeds} seeds"
    what = "ranking quality" if metric != "regret" else "winner's regret"
    n_cand = max((a.get("n_candidates") or 0 for a in agg.values()), default=0)
    per = f" × {n_cand // n_seeds} candidates" if n_seeds and n_cand else ""
    ax.set_title(title or f"{what.capitalize()} against cost per candidate:\nmeans over {seeds_text}{per}, "
                 "with 95% bootstrap CIs.", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    notes = list(missing) + (["tied points offset sideways by 6% of cost per tie"] if tied else [])
    for n in notes:
        handles.append(Line2D([], [], ls="none", marker=""))
        labels.append(n)
    fig.legend(handles, labels, loc="outside lower center", ncol=1, fontsize=8.5, frameon=False)
    from nasrank.evaluation.figures import save_figure, set_suptitle, wrap

    set_suptitle(fig, None, wrap(caption or sweep_caption(summary), 12 * 7.4), fontsize=9)

    out = Path(path)
    save_figure(fig, out.with_suffix(""), (out.suffix.lstrip(".") or "png",), notes=notes)
    return out


def write_sweep_plots(summary: Mapping[str, Any], out_dir: str | Path,
                      cost_label: str = "cost per candidate, seconds", caption: str | None = None) -> list[Path]:
    """``frontier.png`` (Spearman) and ``regret_vs_cost.png`` in ``out_dir``."""
    d = Path(out_dir)
    return [plot_sweep(summary, d / "frontier.png", "spearman", cost_label=cost_label, caption=caption),
            plot_sweep(summary, d / "regret_vs_cost.png", "regret", cost_label=cost_label, caption=caption)]
