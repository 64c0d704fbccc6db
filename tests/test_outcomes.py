"""No silent outcomes: compare refuses a non-empty folder, --resume refreshes the plot, the searcher's real name."""
from __future__ import annotations

import json

from nasrank.cli import main


def test_compare_refuses_a_non_empty_output(tmp_path, nb201_csv, capsys):
    out = tmp_path / "cmp"
    base = ["compare", "--benchmark", f"csv:{nb201_csv}", "--candidates", "3", "--output", str(out), "--quiet"]
    assert main([*base, "--rankers", "params,flops"]) == 0
    assert main([*base, "--rankers", "params"]) == 2
    assert "is not empty; give --resume to continue it, --overwrite to replace it" in capsys.readouterr().err
    assert (out / "flops" / "history.jsonl").is_file()  # nothing was touched
    assert main([*base, "--rankers", "params", "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["params"]  # no stale ranker folder
    assert list(json.loads((out / "compare.json").read_text())["rankers"]) == ["params"]
    assert main([*base, "--rankers", "params", "--resume"]) == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my notes")
    assert main([*base[:-3], "--output", str(tmp_path / "mine"), "--rankers", "params", "--overwrite"]) == 2
    assert "did not write (notes.txt)" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").is_file()


def test_resume_refreshes_the_plot(tmp_path, nb201_csv):
    out = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "4", "--output", str(out),
                 "--plot", "--quiet"]) == 0
    before = json.loads((out / "trajectory.figure.json").read_text())["panels"][0]["legend"][0]["n_points"]
    assert main(["search", "--resume", str(out), "--budget-queries", "9", "--quiet"]) == 0  # no --plot: it had one
    after = json.loads((out / "trajectory.figure.json").read_text())["panels"][0]["legend"][0]["n_points"]
    assert (before, after) == (4, 9)


def test_analyze_cautions_on_tiny_bins(tmp_path, nb201_csv, capsys):
    assert main(["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params", "--sample", "20",
                 "--output", str(tmp_path / "e"), "--no-plots", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", "--scores", str(tmp_path / "e" / "scores.csv"), "--benchmark", f"csv:{nb201_csv}",
                 "--bins", "5", "--output", str(tmp_path / "a"), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    cautions = json.loads((tmp_path / "a" / "analysis.json").read_text())["cautions"]
    assert len(cautions) == 1 and cautions[0].startswith("params: 5 of 5 bins hold fewer than 10")
    assert "caution: params:" in printed
