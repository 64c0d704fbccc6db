"""Statistics and the figure of ``search_multifidelity.py``: regret curves over seeds, the cost to
reach a regret (censored when a seed never reaches it), the winner at each budget.

Intervals are 95% percentile bootstraps over seeds (``numpy.random.default_rng(0)``, 2000
replicates). A censored cost counts as +inf: a median that is +inf means that more than half
the seeds did not reach the target within the budget, and it is written as ``null`` with
``censored_median: true``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

N_BOOT = 2000


def regret_at(traj: Sequence[tuple[float, float | None]], optimum: float, budget: float) -> float | None:
    """Regret (points) of the incumbent after ``budget`` of cost; None when it has no answer yet."""
    acc = None
    for cost, a in traj:
        if cost > budget:
            break
        acc = a
    return None if acc is None else optimum - acc


def cost_to_reach(traj: Sequence[tuple[float, float | None]], optimum: float, target: float) -> float:
    """The cumulative cost at which the incumbent's regret first is <= ``target`` (+inf: never)."""
    for cost, a in traj:
        if a is not None and optimum - a <= target + 1e-9:
            return float(cost)
    return math.inf


def _boot(values: np.ndarray, stat, rng: np.random.Generator) -> tuple[float, float]:
    reps = stat(values[rng.integers(0, len(values), (N_BOOT, len(values)))], axis=1)
    lo, hi = np.percentile(reps, [2.5, 97.5], method="lower"), np.percentile(reps, [97.5], method="higher")[0]
    return float(lo[0]), float(hi)


def _json_num(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def summarize_costs(costs: Sequence[float]) -> dict[str, Any]:
    """Median and 95% CI of the cost to reach the target over seeds (censored = +inf -> null)."""
    v = np.array(costs, dtype=float)
    med = float(np.median(v))
    lo, hi = _boot(v, np.median, np.random.default_rng(0))
    return {"median": _json_num(med), "censored_median": not math.isfinite(med), "ci95": [_json_num(lo), _json_num(hi)],
            "n_reached": int(np.isfinite(v).sum()), "n_seeds": len(v), "per_seed": [_json_num(c) for c in v]}


def summarize_regrets(regrets: Sequence[float | None]) -> dict[str, Any]:
    """Mean (95% CI) and median regret over seeds at one budget; a seed without an answer yet is
    left out and counted (``n_no_answer``)."""
    v = np.array([r for r in regrets if r is not None], dtype=float)
    out: dict[str, Any] = {"n_no_answer": sum(r is None for r in regrets), "per_seed": list(regrets)}
    if len(v) == 0:
        return {**out, "mean": None, "ci95": [None, None], "median": None}
    lo, hi = _boot(v, np.mean, np.random.default_rng(0))
    return {**out, "mean": float(v.mean()), "ci95": [lo, hi], "median": float(np.median(v))}


def winner(regrets: dict[str, Sequence[float | None]]) -> dict[str, Any]:
    """The method with the lowest mean regret at one budget and its margin over the runner-up:
    the paired (by seed) difference of mean regrets with its 95% bootstrap CI; ``tie`` when the
    interval holds 0. When a method has a seed without an answer (none yet, or a run that did not get
    that far) there is no winner: ``incomplete`` names those methods."""
    means = {}
    for m, r in regrets.items():
        if r and all(x is not None for x in r):
            means[m] = float(np.mean(r))
    incomplete = sorted(set(regrets) - set(means))
    if incomplete:  # a winner among some of the methods would be no answer to "who wins"
        return {"winner": None, "incomplete": incomplete, "mean_regret_complete": means}
    order = sorted(means, key=lambda m: means[m])
    out: dict[str, Any] = {"winner": order[0], "mean_regret": means[order[0]], "ranking": order}
    if len(order) > 1:
        a, b = np.array(regrets[order[0]], float), np.array(regrets[order[1]], float)
        d = b - a
        lo, hi = _boot(d, np.mean, np.random.default_rng(0))
        out.update({"runner_up": order[1], "margin": float(d.mean()), "margin_ci95": [lo, hi],
                    "tie": lo <= 1e-9 and hi >= -1e-9})  # 1e-9: float residue of equal accuracies
    return out


def plot(sim: dict[str, Any], path, grid_hours: Sequence[float]) -> None:
    """Left: mean regret (95% CI band) against search cost for each method; right: the cost to reach
    the target regret (median, 95% CI; censored medians drawn as a triangle at the budget)."""
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import palette, save_figure

    methods = list(sim["methods"])
    colours = palette(len(methods))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.6))
    budget_h = sim["budget_seconds"] / 3600
    notes = []
    for c, m in zip(colours, methods):
        curve = sim["methods"][m]["curve"]
        xs = [h for h, p in zip(curve["hours"], curve["mean"]) if p is not None]
        mean = [p for p in curve["mean"] if p is not None]
        lo = [p for p, q in zip(curve["lo"], curve["mean"]) if q is not None]
        hi = [p for p, q in zip(curve["hi"], curve["mean"]) if q is not None]
        ax.plot(xs, mean, color=c, label=m)
        ax.fill_between(xs, lo, hi, color=c, alpha=0.15)
    ax.axhline(sim["target_regret"], color="grey", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("search cost: recorded NATS GPU training time (hours)")
    ax.set_ylabel("regret of the returned arch (test-acc points)")
    ax.set_title(f"tabular simulation, {len(sim['seeds'])} seeds: mean regret, 95% bootstrap CI", fontsize=10)
    ax.legend(fontsize=8)
    labels = []
    for i, (c, m) in enumerate(zip(colours, methods)):
        s = sim["methods"][m]["cost_to_target"]
        labels.append(f"{m}\n({s['n_reached']}/{s['n_seeds']} seeds reached)")
        if s["censored_median"]:
            bx.plot([budget_h], [i], marker=">", color=c, ls="none", label=f"{m}: median > budget")
            notes.append(f"{m}: median cost to the target exceeds the budget ({s['n_reached']}/{s['n_seeds']} seeds reached it)")
            continue
        lo, hi = s["ci95"]
        hi_h = budget_h if hi is None else hi / 3600
        bx.errorbar([s["median"] / 3600], [i], xerr=[[s["median"] / 3600 - lo / 3600], [hi_h - s["median"] / 3600]],
                    marker="o", color=c, ls="none", capsize=3, label=m)
    bx.set_yticks(range(len(methods)), labels, fontsize=8)
    bx.set_xscale("log")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for axis in (ax.xaxis, bx.xaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500) if t <= budget_h * 1.01]
    ax.set_xticks(ticks)
    bx.set_xticks(ticks)
    bx.set_xlabel("GPU hours to reach regret <= %.1f (median, 95%% CI)" % sim["target_regret"])
    bx.set_title("cost to the target (an open CI end = censored at the budget)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, ("png",), notes=notes)


def _cpu_curves(cpu: dict[str, Any]) -> dict[str, tuple]:
    """Per method with an answer: ``(xs, mean, lo, hi, runs, n_with_answer)`` of its seeds' regret curves."""
    from nasrank.evaluation.seeds import mean_ci_curve

    out = {}
    for m, data in cpu["methods"].items():
        curves = [[(x, r) for x, r in run["trajectory"] if r is not None] for run in data["runs"]]
        curves = [cv for cv in curves if cv]
        if curves:
            out[m] = (*mean_ci_curve(curves), data["runs"], len(curves))
    return out


def plot_cpu(cpu: dict[str, Any], path) -> None:
    """The CPU pilot, one panel per method: the mean regret over its seeds (a step curve from the cost
    at which every seed has an answer) with the 95% t band over seeds clipped at 0, against CPU
    seconds; the other methods' means in grey for reference."""
    import matplotlib.pyplot as plt

    from nasrank.evaluation.captions import caption, wrap
    from nasrank.evaluation.figures import palette, save_figure, set_suptitle

    curves = _cpu_curves(cpu)
    notes = list(cpu.get("notes", []))
    cols = 2 if len(curves) > 1 else 1
    rows = -(-len(curves) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.4 * rows + 0.8), sharex=True, sharey=True,
                             squeeze=False)
    for ax, (c, (m, (xs, mean, lo, hi, runs, n))) in zip(axes.flat, zip(palette(len(curves)), curves.items())):
        for other, (oxs, omean, *_rest) in curves.items():
            if other != m:
                ax.step(oxs, omean, where="post", color="0.75", lw=1.0, label="_other methods' means")
        evals = sum(run["n_evaluations"] for run in runs) / len(runs)
        unfinished = sum(not run.get("finished") for run in runs)
        ax.step(xs, mean, where="post", color=c, lw=2.0, label=f"mean of {n} seeds")
        if np.isfinite(lo).any():
            ax.fill_between(xs, np.clip(lo, 0, None), np.clip(hi, 0, None), step="post", color=c, alpha=0.25, lw=0,
                            label="95% CI over seeds (t)")
        ax.axvline(cpu["budget_seconds"], color="grey", ls=":", lw=1)
        ax.set_title(f"{m} ({evals:.0f} evaluations per seed" + (f", {unfinished} unfinished" if unfinished else "")
                     + ")", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
        if n < len(runs):
            notes.append(f"{m}: {len(runs) - n} seed(s) without an answer are left out")
    for ax in list(axes.flat)[len(curves):]:
        ax.remove()
    axes[0][0].set_ylim(bottom=0)
    for ax in axes[:, 0]:
        ax.set_ylabel("regret vs NB201 optimum\n(test-acc points)", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("CPU seconds of this process (budget %.0f s, dotted)" % cpu["budget_seconds"], fontsize=9)
    missing = [m for m in cpu["methods"] if m not in curves]
    title = ("CPU pilot: regret of the returned cell against search cost (grey: the other methods' means)"
             + (f"; not run: {', '.join(missing)}" if missing else ""))
    cap = caption(f"{len(cpu['seeds'])} seeds", "per method", "NB201 CIFAR-10 table (nb201_cifar10.csv)", None,
                  cpu.get("scale"))
    set_suptitle(fig, title, wrap(cap, 12 * 5.2 * cols), fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, ("png",), notes=notes)
