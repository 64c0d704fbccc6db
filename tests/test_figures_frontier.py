"""The sweep figures (frontier.png, regret_vs_cost.png and the committed FEAR frontier, issue 33):
every label inside the canvas, the family's member labels apart, bands inside the feasible range."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import nasrank.evaluation.figures as figures
from nasrank.evaluation.frontier_plots import plot_sweep

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


@pytest.fixture
def drawn(monkeypatch):
    """The figure plot_sweep saves, kept open for inspection (drawn, then saved as usual)."""
    seen = {}
    real = figures.save_figure

    def keep(fig, path, formats=("png",), notes=()):
        fig.canvas.draw()
        seen["fig"] = fig
        seen["boxes"] = {
            "canvas": fig.bbox,
            "labels": [t.get_window_extent() for ax in fig.axes for t in (ax.xaxis.label, ax.yaxis.label)],
            "titles": [t.get_window_extent() for t in [fig._suptitle] + [ax.title for ax in fig.axes] if t],
            "members": [t.get_window_extent() for ax in fig.axes for t in ax.texts],
            "bands": [c.get_paths()[0].vertices[:, 1] for ax in fig.axes for c in ax.collections
                      if c.get_label() == "family 95% CI"],
        }
        return real(fig, path, formats, notes)

    monkeypatch.setattr(figures, "save_figure", keep)
    return seen


def _inside(box, canvas) -> bool:
    return box.x0 >= canvas.x0 - 0.5 and box.y0 >= canvas.y0 - 0.5 and box.x1 <= canvas.x1 + 0.5 \
        and box.y1 <= canvas.y1 + 0.5


def _apart(boxes) -> bool:
    return all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


@pytest.mark.parametrize("metric", ["spearman", "regret"])
def test_the_fear_frontier_fits_its_canvas_and_member_labels_do_not_overlap(tmp_path, drawn, metric):
    main = json.loads((RESULTS / "fear_vs_training_seeds.json").read_text())["main"]
    plot_sweep(main, tmp_path / "f.png", metric, cost_label="CPU seconds per candidate, one thread",
               caption="n = 3 seeds × 10 candidates · benchmark b · scale C=8")
    b = drawn["boxes"]
    assert all(_inside(x, b["canvas"]) for x in b["labels"] + b["titles"]), "a label is cut off"
    assert len(b["members"]) == 4 and _apart(b["members"]), "member labels overlap"
    assert "n = 3 seeds" in drawn["fig"]._suptitle.get_text()


def test_bands_stay_in_the_feasible_range(tmp_path, drawn):
    main = copy.deepcopy(json.loads((RESULTS / "fear_vs_training_seeds.json").read_text())["main"])
    for m in main["frontier"]["members"].values():  # a bootstrap end past what Spearman can be
        m["spearman"]["ci_high"] = 1.3
    plot_sweep(main, tmp_path / "f.png", "spearman")
    assert max(v.max() for v in drawn["boxes"]["bands"]) <= 1.0


def test_the_committed_figures_are_the_redrawn_ones():
    for stem in ("fear_vs_training_seeds_frontier", "fear_vs_training_seeds_regret"):
        m = json.loads((RESULTS / f"{stem}.figure.json").read_text())
        assert m["title"].startswith("n = 3 seeds × 10 candidates") and "scale C=8" in m["title"], stem
        assert "\n" in m["panels"][0]["ylabel"]  # two lines: the label fits the axes' height
