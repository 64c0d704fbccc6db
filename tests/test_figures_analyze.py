"""analyze's figures carry the caption of every command figure: n, the benchmark, the scale (issue 33)."""
from __future__ import annotations

import json

from nasrank import EvaluateConfig, evaluate
from nasrank.experiments.analyze import analyze
from nasrank.experiments.build import make_space


def test_every_analyze_figure_names_n_the_benchmark_and_the_scores(tmp_path):
    evaluate("nb201", EvaluateConfig(["params", "tabular"], sample=40, output=str(tmp_path / "ev"), plots=False),
             benchmark="embedded", quiet=True)
    out = tmp_path / "an"
    analyze(tmp_path / "ev" / "scores.csv", out, make_space("nb201", {}), benchmark="embedded", bins=3)
    for stem in ("bias_complexity", "bias_ops"):
        title = json.loads((out / f"{stem}.figure.json").read_text())["title"]
        assert "n = 40 architectures" in title and "benchmark embedded" in title, (stem, title)
        assert "scores.csv" in title
