"""Figures of the search-savings benchmark (from its JSON payload; through ``save_figure``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

PANELS = (("Random search: FEAR against training members", lambda lab: lab == "RS+FEAR" or lab.startswith("RS+train")
           or lab.startswith("RS+other FEAR")),
          ("Multi-fidelity over the training rungs", lambda lab: lab in ("RS+FEAR", "SH", "Hyperband")),
          ("Zero-cost rankers and the cascade", lambda lab: lab == "RS+FEAR" or ">" in lab or lab.startswith("RS+")
           and not lab.startswith(("RS+train", "RS+other FEAR"))))


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def plot_regret(payload: dict, path: Path) -> None:
    """Mean regret of the returned cell against search cost, one panel per family, 95% bands."""
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import save_figure

    b = np.array(payload["budgets"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True)
    unit = "CPU s" if payload["cost_unit"] == "process_cpu" else "s"
    for ax, (title, keep) in zip(axes, PANELS):
        for lab in payload["point"]:
            if not keep(lab):
                continue
            mean = _arr(payload["point"][lab]["mean_regret"])
            lo = _arr(payload["bootstrap"]["curves"][lab]["low"])
            hi = _arr(payload["bootstrap"]["curves"][lab]["high"])
            style = {"lw": 2.4, "color": "black"} if lab == "RS+FEAR" else {"lw": 1.4}
            line, = ax.plot(b, mean, label=lab, **style)
            ax.fill_between(b, np.clip(lo, 0, None), hi, color=line.get_color(), alpha=0.15, lw=0)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1.0)  # a few 10%-accuracy cells early on would squash the rest
        ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"search cost ({unit}, cumulative)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("mean regret (points; symlog)")
    fig.suptitle(f"Regret against search cost: mean of {payload['replicates']} replayed searches on "
                 f"{payload['n_report_cells']} report cells (regret of the returned cell; y linear below 1 point, log above); "
                 "bands: 95% bootstrap over cells then searches",
                 fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, notes=["a gap is a budget that buys no evaluation of that method (not a zero)"])


def plot_reach(payload: dict, path: Path) -> None:
    """Median search cost to reach each regret level, with 95% intervals; 'not reached' is written, not drawn."""
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import save_figure

    labs = list(payload["point"])
    levels = payload["levels"]
    fig, axes = plt.subplots(1, len(levels), figsize=(5 * len(levels), 0.32 * len(labs) + 1.8), sharey=True)
    for ax, r in zip(axes, levels):
        for i, lab in enumerate(labs):
            med = payload["point"][lab]["reach"][str(r)]["median_cost"]
            ci = payload["bootstrap"]["reach"][lab][str(r)]
            if med is None:
                ax.text(0.02, i, "not reached by half the searches", va="center", fontsize=7, color="gray",
                        transform=ax.get_yaxis_transform())
                continue
            ax.plot([med], [i], "o", color="black" if lab == "RS+FEAR" else "C0")
            if ci["ci_low"] is not None:
                ax.plot([ci["ci_low"], ci["ci_high"]], [i, i], "-", color="gray")
        ax.set_xscale("log")
        ax.set_yticks(range(len(labs)), labs, fontsize=8)
        ax.set_title(f"regret <= {r} points", fontsize=10)
        ax.set_xlabel("median search cost to reach it (CPU s)")
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"Search cost to reach a regret level ({payload['n_report_cells']} report cells, "
                 f"{payload['replicates']} searches per method; 95% bootstrap intervals)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def plot_criteria(payload: dict, path: Path) -> None:
    """Ranker-level criteria on the report cells with 95% bootstrap intervals."""
    import matplotlib.pyplot as plt

    from nasrank.evaluation.figures import save_figure

    crit = payload["ranker_criteria"]
    labs = list(crit)
    rung = next((m["ranker"] for lab, m in payload["methods"].items() if lab == "RS+train9"), None)
    names = [f"train9 ({lab})" if lab == rung else lab for lab in labs]  # the rung run's last rung is train9
    fig, axes = plt.subplots(1, 3, figsize=(13, 0.3 * len(labs) + 1.8), sharey=True)
    for ax, name in zip(axes, ("spearman", "kendall", "p_at_top5")):
        for i, lab in enumerate(labs):
            c = crit[lab][name]
            ax.errorbar([c["value"]], [i], xerr=[[c["value"] - c["ci_low"]], [c["ci_high"] - c["value"]]],
                        fmt="o", color="C0", capsize=2)
        ax.set_yticks(range(len(labs)), names, fontsize=8)
        ax.axvline(0, color="gray", lw=0.6)
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(f"Ranker-level criteria on {payload['n_report_cells']} report cells (calibrated protocols; "
                 f"95% bootstrap over cells)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def plot_all(payload: dict, stem: Path) -> None:
    """The three figures beside the JSON."""
    plot_regret(payload, stem.with_name(stem.name + "_regret"))
    plot_reach(payload, stem.with_name(stem.name + "_reach"))
    plot_criteria(payload, stem.with_name(stem.name + "_criteria"))
