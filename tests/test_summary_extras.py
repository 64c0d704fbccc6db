"""Issue 33 item 9 (part): summary.json holds the resolved ranker options, an evolution whose budget is
at most its population says it is random search, and the store line says what was served from earlier runs."""
from __future__ import annotations

import json

from nasrank.cli import main


def test_summary_has_resolved_options_and_the_evolution_warning(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["search", "--searcher", "evolution", "--benchmark", "embedded", "--budget-queries", "10",
                 "--ranker-cfg", "seconds_per_query=2", "--output", str(out), "--quiet", "--no-store"]) == 0
    err = capsys.readouterr().err
    assert "population_size (20)" in err and "random search" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ranker_options"] == {"epochs": 200, "seconds_per_query": 2, "metric": "test"}
    assert "random search" in summary["warnings"][0]
    assert main(["search", "--searcher", "evolution", "--benchmark", "embedded", "--budget-queries", "25",
                 "--quiet", "--no-store"]) == 0
    assert "random search" not in capsys.readouterr().err


def test_store_line_counts_results_served_from_earlier_runs(tmp_path, capsys, monkeypatch):
    store = tmp_path / "results.sqlite"
    run = ["search", "--benchmark", "embedded", "--budget-queries", "6", "--quiet"]
    assert main([*run, "--store", str(store)]) == 0
    assert f"0 of 6 results served from earlier runs (store {store})" in capsys.readouterr().out
    monkeypatch.setenv("NASRANK_STORE", str(store))  # the default store: shared with every run
    assert main(run) == 0
    assert f"6 of 6 results served from earlier runs (shared store {store})" in capsys.readouterr().out
    assert main([*run[:-2], "9", "--quiet"]) == 0
    assert "6 of 9 results served from earlier runs, 3 computed now (shared store" in capsys.readouterr().out
