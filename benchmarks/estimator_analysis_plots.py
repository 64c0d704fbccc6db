"""Figures of ``estimator_analysis_nb201.py``, drawn from its results JSON (each with a ``.figure.json``).

``python benchmarks/estimator_analysis_plots.py`` redraws them from
``benchmarks/results/estimator_analysis_nb201.json`` without scoring or training anything. A JSON
written before the zero-shot comparison kept its same-cells complexity bias gets it here first:
#params and #FLOPs are analysed on the cells the zero-shot estimators scored (features only), so
that every line of ``*_sample_complexity.png`` is over the same cells, and the JSON records that
step under ``provenance.updates``.
"""
from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, SHARED  # noqa: E402

from nasrank.evaluation.analysis_plots import plot_complexity_bias, plot_op_bias, plot_variance  # noqa: E402
from nasrank.runs.provenance import script_command_line  # noqa: E402

TITLES = {
    "sample": "Complexity bias of zero-shot estimators and #params/#FLOPs on the same NB201 sample cells.",
    "nats_0_999": "Complexity bias of 12-epoch training and #params/#FLOPs on NATS cells 0-999.",
    "oneshot": "Complexity bias of a reduced-scale one-shot supernet at 3, 8 and 16 epochs (1,000 cells).",
}


def same_cells_complexity(result: dict) -> dict[str, Any]:
    """#params and #FLOPs complexity bias on the first ``n`` sample cells (the zero-shot estimators' cells)."""
    from estimator_analysis_nb201 import rows_for, sample_archs

    from nasrank.benchmarks import load_benchmark
    from nasrank.experiments.analyze import analyze_rows
    from nasrank.spaces.nb201 import Nb201Space

    space = Nb201Space()
    n = result["sample"]["zero_shot"]["n_cells"]
    bench = load_benchmark(f"csv:{SHARED / 'nb201' / 'nb201_cifar10.csv'}", space)  # sets the index order
    cells = sample_archs(space, result["sample"]["n_cells"])[:n]
    feats = {space.key(a): space.features(a) for a in cells}
    rows = [r for m in ("params", "flops") for r in rows_for(m, cells, [feats[space.key(a)][m] for a in cells])]
    got = analyze_rows(rows, space, bench, bins=result["protocol"]["bins"], features=feats)
    return {m: got[m]["complexity_bias"] for m in ("params", "flops")}


def _complexity(result: dict, group: str) -> dict[str, Any]:
    rankers = {k: v for k, v in result[group]["rankers"].items() if "skipped" not in v}
    if group != "sample":
        return {k: v["complexity_bias"] for k, v in rankers.items()}
    same = result["sample"]["zero_shot_same_cells"]["complexity_bias"]
    zs = {k: v["complexity_bias"] for k, v in rankers.items() if k not in ("params", "flops")}
    return {**same, **zs}


def plot_results(result: dict, name: str) -> None:
    """Every figure of the analysis: complexity and op bias per group, and the variance bars."""
    groups = ["sample", "nats_0_999"] + (["oneshot"] if "oneshot" in result else [])
    for g in groups:
        done = {k: v for k, v in result[g]["rankers"].items() if "skipped" not in v}
        plot_complexity_bias(_complexity(result, g), RESULTS / f"{name}_{g}_complexity.png", title=TITLES[g])
        plot_op_bias({k: v["op_bias"] for k, v in done.items()}, RESULTS / f"{name}_{g}_ops.png",
                     {k: v["feature_bias"] for k, v in done.items()})
    var_plot: dict[str, dict] = {k: v for k, v in (result.get("zero_shot_variance") or {}).get("rankers", {}).items()
                                 if v}
    if "oneshot" in result:
        var_plot.update({k: v["variance"] for k, v in result["oneshot"]["rankers"].items() if v.get("variance")})
        if result["oneshot"].get("checkpoint_variance"):
            var_plot["oneshot (last 2 ckpts)"] = {"checkpoint": result["oneshot"]["checkpoint_variance"]}
    if var_plot:
        plot_variance(var_plot, RESULTS / f"{name}_variance.png")


def replot(name: str = "estimator_analysis_nb201") -> None:
    """Complete the JSON's same-cells complexity bias if it lacks it, then redraw every figure."""
    path = RESULTS / f"{name}.json"
    result = json.loads(path.read_text())
    same = result["sample"]["zero_shot_same_cells"]
    if "complexity_bias" not in same:
        same["complexity_bias"] = same_cells_complexity(result)
        result.setdefault("provenance", {}).setdefault("updates", []).append({
            "command": script_command_line(), "what": "sample.zero_shot_same_cells.complexity_bias (#params, "
            "#FLOPs on the zero-shot cells; features only)",
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
        path.write_text(json.dumps(result, indent=2, default=float) + "\n")
    plot_results(result, name)


if __name__ == "__main__":
    replot(*sys.argv[1:2])
