"""``nasrank report`` over real `nasrank search` / `nasrank compare` outputs (tabular ranker, embedded benchmark)."""
import csv
import json
import shutil

import pytest

from nasrank.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, searcher in (("rs", "random"), ("re", "evolution")):
        assert main(["search", "--space", "nb201", "--searcher", searcher, "--ranker", "tabular", "--benchmark",
                     "embedded", "--budget-queries", "40", "--seed", "1", "--output", str(root / name),
                     "--quiet"]) == 0
    # an interrupted run: history and config, no summary.json
    shutil.copytree(root / "rs", root / "cut")
    (root / "cut" / "summary.json").unlink()
    assert main(["compare", "--space", "nb201", "--searcher", "random", "--rankers", "tabular,params",
                 "--candidates", "15", "--seed", "2", "--benchmark", "embedded", "--output", str(root / "cmp"),
                 "--quiet"]) == 0
    assert main(["evaluate", "--space", "nb201", "--rankers", "params,tabular", "--sample", "12", "--benchmark",
                 "embedded", "--modes", "iso", "--no-store", "--no-plots", "--quiet", "--output",
                 str(root / "eval")]) == 0
    # a bare scores.csv (the documented long format, 2 repeats), no report.json
    ev = root / "ev"
    ev.mkdir()
    lines = ["arch,ranker,repeat,score,seconds,device_seconds,true_acc"]
    hist = [json.loads(x) for x in (root / "rs" / "history.jsonl").read_text().splitlines()][:6]
    for i, h in enumerate(hist):
        for rep in (0, 1):
            lines.append(f"{h['arch']},synflow,{rep},{float(i % 3) + rep},0.5,0.5,{h['true_acc']}")
            lines.append(f"{h['arch']},params,{rep},{float(i)},0.1,0.1,{h['true_acc']}")
    (ev / "scores.csv").write_text("\n".join(lines) + "\n")
    return root


def test_report_merges_search_compare_evaluate(runs, tmp_path, capsys):
    out = tmp_path / "rep"
    rc = main(["report", str(runs / "rs"), str(runs / "re"), str(runs / "cut"), str(runs / "cmp"), str(runs / "ev"),
               str(runs / "eval"), "--output", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "nasrank report: 9 runs" in printed and "report.png" in printed
    rep = json.loads((out / "report.json").read_text())
    by_run = {r["run"]: r for r in rep["runs"]}
    assert set(by_run) == {"rs: random+tabular", "re: evolution+tabular", "cut: random+tabular", "cmp/tabular",
                           "cmp/params", "ev/synflow", "ev/params", "eval/params", "eval/tabular"}
    for name in ("rs", "re"):
        summary = json.loads((runs / name / "summary.json").read_text())
        row = by_run[f"{name}: {summary['searcher']}+tabular"]
        assert row["kind"] == "search" and row["n_evaluations"] == 40
        for k in ("best_arch", "best_true_acc", "total_cost_seconds", "true_rank_of_best", "optimum_true_acc"):
            assert row[k] == summary[k]
    cut, rs = by_run["cut: random+tabular"], by_run["rs: random+tabular"]
    assert cut["best_arch"] == rs["best_arch"] and cut["total_cost_seconds"] == pytest.approx(rs["total_cost_seconds"])
    cmp = json.loads((runs / "cmp" / "compare.json").read_text())
    for ranker in ("tabular", "params"):
        row = by_run[f"cmp/{ranker}"]
        assert row["kind"] == "compare" and row["n_evaluations"] == 15
        assert row["best_arch"] == cmp["rankers"][ranker]["best_arch"]
        assert row["spearman"] == cmp["rankers"][ranker]["spearman"]
    assert by_run["cmp/tabular"]["spearman"] == pytest.approx(1.0)
    ev = by_run["ev/params"]
    hist = [json.loads(x) for x in (runs / "rs" / "history.jsonl").read_text().splitlines()][:6]
    assert ev["kind"] == "evaluate" and ev["n_evaluations"] == 6 and ev["best_arch"] == hist[5]["arch"]
    assert ev["total_cost_seconds"] == pytest.approx(6 * 0.2) and "spearman" not in ev
    assert by_run["ev/synflow"]["best_score"] == 2.5  # mean over the repeats (2 and 3)
    evaluate = json.loads((runs / "eval" / "report.json").read_text())
    for ranker in ("params", "tabular"):
        row = by_run[f"eval/{ranker}"]
        crit = evaluate["rankers"][ranker]["criteria"]["iso"]
        assert row["kind"] == "evaluate" and row["n_evaluations"] == 12 and row["criteria_mode"] == "iso"
        assert row["spearman"] == crit["spearman"] and row["kendall"] == crit["kendall_tau"]
        assert row["total_cost_seconds"] == pytest.approx(evaluate["rankers"][ranker]["total_seconds"])
    assert by_run["eval/tabular"]["spearman"] == pytest.approx(1.0)
    assert by_run["eval/tabular"]["best_true_acc"] == max(
        float(line.split(",")[-1]) for line in (runs / "eval" / "scores.csv").read_text().splitlines()[1:])
    with (out / "report.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [r["run"] for r in table] == [r["run"] for r in rep["runs"]]
    assert (out / "report.png").stat().st_size > 10_000
    assert rep["optimum_true_acc"] == by_run["rs: random+tabular"]["optimum_true_acc"]


def test_report_errors(runs, tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing"), "--output", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--output", str(tmp_path / "o")]) == 2
    assert "not a nasrank output" in capsys.readouterr().err
    assert main(["report", str(runs / "rs"), "--output", str(runs / "rs")]) == 2
    assert "one of the inputs" in capsys.readouterr().err
    for other in ("eval", "ev", "cmp"):  # never write into another command's output folder
        assert main(["report", str(runs / "rs"), "--output", str(runs / other)]) == 2
        assert "holds another command's output" in capsys.readouterr().err
    assert main(["report", str(runs / "rs"), "--output", str(tmp_path / "r"), "--quiet"]) == 0
    assert main(["report", str(tmp_path / "r"), "--output", str(tmp_path / "r2")]) == 2  # a report is not an input
    assert "nasrank report" in capsys.readouterr().err
