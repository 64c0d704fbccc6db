"""Issue 33 item 4: --preset sets the network scale and FEAR's threshold together (flags override);
threshold rankers that miss often or cost more than the baseline are warned about; ratios are words."""
from __future__ import annotations

import json

import pytest

from nasrank.cli import build_parser, main
from nasrank.commands.compare import compare_config
from nasrank.experiments.config import resolve_options
from nasrank.experiments.threshold_warnings import compare_warnings, ratio_text


def _compare(*extra: str):
    items = ["fear", "synflow>fear", "train"]
    args = build_parser("compare").parse_args(["compare", "--rankers", ",".join(items), "--candidates", "3",
                                               "--output", "unused", *extra])
    config = compare_config(args, items)
    return {s.label: resolve_options(s, config.scale, config.common)[1] for s in config.rankers}


@pytest.mark.parametrize("preset,scale,threshold", [("tiny", (4, 1, 8), 0.2), ("cpu", (8, 1, 16), 0.3),
                                                     ("full", (16, 5, None), None)])
def test_a_preset_sets_scale_and_fear_threshold_together(preset, scale, threshold):
    opts = _compare("--preset", preset)
    for label in ("fear", "train"):
        got = (opts[label]["channels"], opts[label]["cells_per_stage"], opts[label].get("image_size"))
        assert got == scale
    assert opts["fear"].get("threshold") == threshold
    assert opts["synflow>fear"]["second_cfg"].get("threshold") == threshold  # FEAR inside a cascade too
    assert "threshold" not in opts["train"] and "threshold" not in opts["synflow>fear"]["first_cfg"]


def test_explicit_flags_override_the_preset():
    opts = _compare("--preset", "cpu", "--channels", "12", "--ranker-cfg", "fear.threshold=0.5")
    assert opts["fear"]["channels"] == 12 and opts["fear"]["image_size"] == 16 and opts["fear"]["threshold"] == 0.5
    assert opts["synflow>fear"]["second_cfg"]["threshold"] == 0.5  # fear.KEY reaches every FEAR stage
    common = _compare("--preset", "tiny", "--ranker-cfg", "threshold=0.4")  # one value for every ranker taking it
    assert common["fear"]["threshold"] == 0.4 and common["synflow>fear"]["second_cfg"]["threshold"] == 0.4


def test_search_records_the_preset_scale(tmp_path):
    out = tmp_path / "s"
    assert main(["search", "--ranker", "params", "--preset", "tiny", "--benchmark", "embedded", "--budget-queries",
                 "2", "--output", str(out), "--quiet", "--no-store"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ranker_options"] == {"channels": 4, "cells_per_stage": 1}


def test_ratios_are_words_and_threshold_rankers_are_warned_about():
    assert [ratio_text(r) for r in (7.246, 0.138, 1.0, 25.3, None)] == [
        "7.2× cheaper", "7.2× dearer", "same cost", "25× cheaper", "-"]
    runs = {"fear": {"config": {"threshold": 0.3}, "n_evaluations": 20, "n_not_reached": 5, "total_cost_seconds": 70.0,
                     "cost_ratio_vs_baseline": 10 / 70},
            "train3": {"config": {"epochs": 3}, "n_evaluations": 20, "total_cost_seconds": 10.0,
                       "cost_ratio_vs_baseline": 1.0}}
    warnings = compare_warnings(runs, "train3")
    assert len(warnings) == 2
    assert "missed its threshold on 5 of 20 candidates (25%)" in warnings[0]
    assert "fear cost 7× more than the baseline train3" in warnings[1]
    runs["fear"].update(n_not_reached=2, total_cost_seconds=5.0, cost_ratio_vs_baseline=2.0)  # 10%, cheaper
    assert compare_warnings(runs, "train3") == []


def test_compare_table_prints_words(tmp_path, capsys):
    assert main(["compare", "--rankers", "tabular,params", "--benchmark", "embedded", "--candidates", "4",
                 "--output", str(tmp_path / "c"), "--no-store"]) == 0
    out = capsys.readouterr().out
    assert "× dearer" in out and "same cost" in out and "x base" not in out  # the baseline: params
