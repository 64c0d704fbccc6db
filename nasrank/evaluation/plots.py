"""Plots built from search histories (matplotlib, headless)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nasrank.history import History  # noqa: E402


def plot_trajectories(runs: Sequence[tuple[str, History]], path: str | Path, optimum: float | None = None,
                      title: str = "best true accuracy found vs cost") -> Path:
    """One line per run: true accuracy of the best-scored architecture against cumulative cost."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    x_min = None
    for label, hist in runs:
        pts = [(c, a) for c, a in hist.trajectory() if a is not None]
        if pts:
            xs, ys = zip(*pts)
            ax.step(xs, ys, where="post", label=label)
            x_min = min(xs) if x_min is None else min(x_min, min(xs))
    if optimum is not None:
        ax.axhline(optimum, color="grey", ls="--", lw=1, label=f"optimum {optimum:.2f}")
    if x_min is not None and x_min > 0:
        ax.set_xscale("log")  # costs span orders of magnitude
    else:
        ax.set_xscale("symlog")
        ax.set_xlim(left=0)
    ax.set_xlabel("cumulative cost (seconds)")
    ax.set_ylabel("true accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
