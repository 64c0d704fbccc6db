"""``nasrank compare --seeds ... --frontier ...``: seed sweeps, resume, schema, table, warnings, bad input.

Cheap rankers only: ``params`` (measured seconds) and ``tabular`` (the benchmark's
accuracy at a modelled training cost) on the shared NB201 CIFAR-10 table.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.experiments.sweep import family_labels, missed_threshold, parse_seeds
from nasrank.runs.history import History, HistoryRecord

RANKERS = "params,t12=tabular,t50=tabular,t200=tabular"
CFG = "t12.epochs=12,t50.epochs=50,t200.epochs=200"


def sweep(out: Path, nb201_csv: Path, seeds: str = "0-1", *extra: str) -> int:
    return main(["compare", "--rankers", RANKERS, "--ranker-cfg", CFG, "--candidates", "5", "--seeds", seeds,
                 "--frontier", "tabular", "--benchmark", f"csv:{nb201_csv}", "--output", str(out), "--no-store",
                 "--n-boot", "40", *extra])


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_sweep_writes_per_seed_results_aggregate_frontier_and_matched(tmp_path, nb201_csv, capsys):
    out = tmp_path / "sw"
    assert sweep(out, nb201_csv) == 0
    rep = json.loads((out / "compare.json").read_text())
    assert rep["seeds"] == [0, 1] and rep["family"] == ["t12", "t50", "t200"]
    assert set(rep["per_seed"]) == {"0", "1"}
    assert set(rep["per_seed"]["0"]) == {"params", "t12", "t50", "t200"}
    # every seed is its own candidate stream, shared by the rankers of that seed
    a0 = [r.arch for r in History.load(out / "seed0" / "params")]
    assert a0 == [r.arch for r in History.load(out / "seed0" / "t200")]
    assert a0 != [r.arch for r in History.load(out / "seed1" / "params")]
    fr = rep["frontier"]
    assert list(fr["members"]) == ["t12", "t50", "t200"] and fr["seeds"] == ["0", "1"]
    for m in fr["members"].values():
        assert set(m["per_seed"]) == {"0", "1"}
        for key in ("cost_per_candidate", "spearman", "kendall", "regret"):
            assert set(m[key]) == {"mean", "ci_low", "ci_high"}
            assert set(m["per_seed"]["0"]) == {"cost_per_candidate", "spearman", "kendall", "regret"}
    assert fr["members"]["t12"]["spearman"]["mean"] == pytest.approx(1.0)  # tabular = the truth
    m = rep["matched"]["params"]
    assert set(m) == {"cost_ratio_at_equal_spearman", "cost_ratio_at_equal_kendall", "cost_ratio_at_equal_regret"}
    for r in m.values():
        assert {"mean", "ci_low", "ci_high", "extrapolated"} <= set(r)
    # params ranks worse than the (perfect) family: at most the cheapest member's cost / its own
    sp = m["cost_ratio_at_equal_spearman"]
    cost = rep["aggregate"]["params"]["cost_per_candidate"]["mean"]
    assert sp["extrapolated"] == "upper_bound"
    assert sp["mean"] == pytest.approx(fr["members"]["t12"]["cost_per_candidate"]["mean"] / cost)
    agg = rep["aggregate"]["params"]
    for key in ("cost_per_candidate", "spearman", "kendall", "winner_true_acc", "regret", "cost_ratio_vs_baseline"):
        assert set(agg[key]) == {"mean", "ci_low", "ci_high"}
    assert (agg["n_not_reached"], agg["n_rejected"], agg["n_filtered"], agg["n_candidates"]) == (0, 0, 0, 10)
    assert rep["aggregate"]["t200"]["cost_ratio_vs_baseline"]["mean"] == pytest.approx(1.0)  # the last listed
    assert (out / "frontier.png").stat().st_size > 0 and (out / "regret_vs_cost.png").stat().st_size > 0
    assert json.loads((out / "sweep.json").read_text())["seeds"] == [0, 1]
    printed = capsys.readouterr().out
    assert "x@rho" in printed and "family" in printed


def test_resume_keeps_finished_seeds_and_candidates(tmp_path, nb201_csv):
    out = tmp_path / "rs"
    assert sweep(out, nb201_csv, "0,1", "--quiet") == 0
    seed0 = (out / "seed0" / "params" / "history.jsonl").read_text()
    seed1 = out / "seed1" / "params" / "history.jsonl"
    kept = seed1.read_text().splitlines()[:2]
    seed1.write_text("\n".join(kept) + "\n")  # an interrupted seed: 2 of 5 candidates
    (out / "compare.json").unlink()
    assert sweep(out, nb201_csv, "0,1", "--quiet", "--resume") == 0
    # params' cost is measured wall time: identical lines prove they were replayed, not recomputed
    assert (out / "seed0" / "params" / "history.jsonl").read_text() == seed0
    again = seed1.read_text().splitlines()
    assert len(again) == 5 and again[:2] == kept
    assert json.loads((out / "compare.json").read_text())["aggregate"]["params"]["n_candidates"] == 10


def test_bad_input_is_one_clear_error(tmp_path, nb201_csv, capsys):
    def err(*args: str) -> str:
        assert sweep(tmp_path / "bad", nb201_csv, *args) == 2
        text = capsys.readouterr().err.strip()
        assert text.startswith("nasrank compare: error:") and "\n" not in text and "Traceback" not in text
        return text

    assert "does not parse" in err("0-x")
    assert "backwards" in err("3-1")
    assert "twice" in err("0,1,0")
    base = ["compare", "--rankers", RANKERS, "--ranker-cfg", CFG, "--candidates", "2", "--seeds", "0",
            "--benchmark", f"csv:{nb201_csv}", "--no-store", "--quiet"]
    assert main(base + ["--frontier", "nosuch", "--output", str(tmp_path / "f")]) == 2
    assert "neither a ranker nor a label" in capsys.readouterr().err
    assert main(base + ["--frontier", "params", "--output", str(tmp_path / "g")]) == 2
    assert "at least two" in capsys.readouterr().err
    out = tmp_path / "done"
    assert sweep(out, nb201_csv, "0", "--quiet") == 0
    assert sweep(out, nb201_csv, "0,1", "--quiet", "--resume") == 2
    assert "differs from the seeds [0]" in capsys.readouterr().err
    assert sweep(out, nb201_csv, "0", "--quiet") == 2
    assert "pass --resume" in capsys.readouterr().err


def test_parse_seeds_and_family():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4] and parse_seeds("0,3,7") == [0, 3, 7]
    assert parse_seeds(" 0-2, 5") == [0, 1, 2, 5]
    for bad in ("", "a", "1-", "-1", "1.5", "2-1", "1,1"):
        with pytest.raises(NasrankError):
            parse_seeds(bad)
    items = ["fear", "t5=train", "t10=train", "c=synflow>fear"]
    assert family_labels("train", items) == ["t5", "t10"]
    assert family_labels("t10,t5", items) == ["t10", "t5"]
    with pytest.raises(NasrankError, match="not among"):
        family_labels("t5,t40", items)


def record(info: dict, score: float = 1.0) -> HistoryRecord:
    return HistoryRecord(0, "a", score, 1.0, 1.0, 1.0, 90.0, "r", info)


def test_missed_threshold_counts_fear_and_cascade_runs_and_warns_loudly():
    from nasrank.experiments.sweep import _seed_warnings

    fear = [record({"reached": True})] * 8 + [record({"reached": False}), record({"rejected": True, "reached": False})]
    assert missed_threshold(fear) == (2, 10)
    cascade = [record({"filtered": True})] * 6 + [record({"second": {"reached": False}})] + \
              [record({"second": {"reached": True}})] * 3
    assert missed_threshold(cascade) == (1, 4)  # of the candidates its FEAR stage trained
    assert missed_threshold([record({})]) is None  # not a threshold ranker
    warned = _seed_warnings(3, {"fear": fear, "c": cascade, "ok": [record({"reached": True})] * 10})
    assert len(warned) == 2 and "seed 3: fear missed its threshold on 2 of 10" in warned[0]
    assert "exactly" not in warned[0] and not _seed_warnings(0, {"f": fear[:9] + [record({"reached": True})] * 2})
    failed = _seed_warnings(1, {"bad": [record({}, float("nan"))] * 3})
    assert failed and "failed on every candidate" in failed[0]


def test_table_fits_80_columns_and_warnings_are_printed(tmp_path, nb201_csv):
    from rich.console import Console

    from nasrank.commands.compare_view import print_sweep

    out = tmp_path / "tb"
    assert sweep(out, nb201_csv, "0", "--quiet") == 0
    rep = json.loads((out / "compare.json").read_text())
    rep["aggregate"]["synflow>fear"] = rep["aggregate"]["params"]
    rep["matched"]["synflow>fear"] = rep["matched"]["params"]
    rep["warnings"] = ["seed 0: fear missed its threshold on 4 of 20 candidates (20%)"]
    con = Console(width=80, record=True)
    print_sweep(rep, con)
    text = con.export_text()
    assert max(len(x) for x in text.splitlines()) <= 80
    assert "…" not in text and "WARNING seed 0: fear missed" in text


def test_progress_counts_resumed_candidates_out_of_the_eta():
    from nasrank.commands.compare_view import SweepProgress

    p = SweepProgress(n_seeds=1, n_rankers=2, candidates=3)
    p.start_seed(0, ["a", "b"], 3)
    p.record(0, "a", replayed=True)
    p.record(0, "a", replayed=False)
    assert p.totals[0, "a"] == 2 and p.overall == 5
    task = p.bars.tasks[p.tasks[0, "a"]]
    assert task.total == 2 and task.completed == 1
    assert p.bars.tasks["all seeds"].total == 5
    p.finish_seed(0)
    p.stop()


def test_single_seed_table_shows_missed_candidates_and_warns(capsys):
    from nasrank.commands.compare import print_table

    run = {"total_cost_seconds": 10.0, "cost_ratio_vs_baseline": 1.0, "best_true_acc": 93.0, "true_rank_of_best": 5,
           "spearman": 0.5, "n_rejected": 1, "n_filtered": 0, "best_arch": "x"}
    result = {"searcher": "random", "candidates": 20, "space": "nb201", "dataset": "cifar10", "baseline": "train",
              "rankers": {"fear": {**run, "n_evaluations": 20, "n_not_reached": 3},
                          "train": {**run, "n_evaluations": 20, "n_not_reached": 0, "n_rejected": 0}}}
    print_table(result)
    out = capsys.readouterr().out
    assert "missed" in out and "WARNING fear missed its threshold on 4 of 20 candidates (20%)" in out
    assert "WARNING train" not in out


def test_a_sweep_that_fails_before_any_candidate_leaves_no_manifest(tmp_path, nb201_csv, capsys):
    out = tmp_path / "nofit"
    assert sweep(out, nb201_csv, "0", "--quiet", "--ranker-cfg", "t12.nosuch=1") == 2
    assert "nosuch" in capsys.readouterr().err and not (out / "sweep.json").exists()
    assert sweep(out, nb201_csv, "0", "--quiet") == 0  # the folder is free for a fresh sweep
