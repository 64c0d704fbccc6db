"""Issue 33 item 3: every verb checks what it needs (data folder, benchmark, each ranker built,
each searcher made, output folder) before it evaluates anything; the defaults of `search` work
out of the box; `analyze` takes its input as a positional argument."""
from __future__ import annotations

import json

from nasrank.cli import main


def test_evaluate_without_the_data_folder_fails_before_scoring(tmp_path, capsys):
    out = tmp_path / "e"
    argv = ["evaluate", "--rankers", "params,flops,jacob_cov,relu_logdet", "--sample", "20", "--benchmark",
            "embedded", "--output", str(out), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'jacob_cov' ranker reads the cifar10 images: give --data-dir" in err and len(err.splitlines()) == 1
    assert not out.exists()  # nothing scored, nothing written: params and flops never ran
    assert main([*argv, "--data-dir", str(tmp_path)]) == 2  # a folder without the dataset
    assert "cifar-10-batches-py" in capsys.readouterr().err and not out.exists()


def test_compare_checks_every_ranker_and_searcher_before_the_first_search(tmp_path, capsys):
    out = tmp_path / "c"
    base = ["compare", "--benchmark", "embedded", "--candidates", "12", "--output", str(out)]
    assert main([*base, "--searcher", "sh", "--rankers", "tabular,params"]) == 2
    assert "'params' does not" in capsys.readouterr().err
    assert not out.exists()  # tabular did not run: no folder refuses the next run
    assert main([*base, "--rankers", "tabular,jacob_cov"]) == 2
    assert "--data-dir" in capsys.readouterr().err and not out.exists()
    assert main([*base, "--searcher", "sh", "--rankers", "tabular"]) == 0  # the corrected command runs
    assert (out / "compare.json").is_file()


def test_search_defaults_work_together(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["search", "--budget-queries", "3", "--output", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "using --benchmark embedded" in err and "not the official NB201 table" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["benchmark"].startswith("embedded") and summary["n_evaluations"] == 3
    assert main(["search", "--budget-queries", "3", "--benchmark", "none", "--quiet"]) == 2  # none: no table
    assert "needs a benchmark" in capsys.readouterr().err


def test_analyze_takes_its_input_positionally(tmp_path, capsys):
    ev = tmp_path / "e"
    assert main(["evaluate", "--rankers", "tabular", "--benchmark", "embedded", "--sample", "40", "--no-plots",
                 "--quiet", "--output", str(ev)]) == 0
    for given in ([str(ev)], [str(ev / "scores.csv")], ["--scores", str(ev / "scores.csv")]):
        target = tmp_path / f"a{len(given)}{given[-1].endswith('csv')}"
        assert main(["analyze", *given, "--benchmark", "embedded", "--no-plots", "--output", str(target)]) == 0
        assert json.loads((target / "analysis.json").read_text())["rankers"]["tabular"]
    capsys.readouterr()
    assert main(["analyze", str(ev), "--scores", str(tmp_path / "other.csv"), "--output", str(tmp_path / "x")]) == 2
    assert "not both" in capsys.readouterr().err
