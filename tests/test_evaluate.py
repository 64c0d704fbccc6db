"""`nasrank evaluate`, run in-process on the official NB201 CIFAR-10 table."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st

from nasrank.cli import main
from nasrank.store import ResultStore

# flops on a small network (8 channels, 1 cell per stage) keeps the test fast; params stays full size
FLOPS_SMALL = ["--ranker-cfg", "flops.channels=8,flops.cells_per_stage=1"]


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def run200(nb201_csv, tmp_path_factory):
    """params + flops on 200 sampled cells, with a fresh store."""
    base = tmp_path_factory.mktemp("evaluate")
    args = ["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params,flops", *FLOPS_SMALL,
            "--sample", "200", "--seed", "3", "--store", str(base / "results.sqlite"), "--quiet"]
    assert main(args + ["--output", str(base / "out200")]) == 0
    return base, args


def test_outputs_and_criteria_match_scipy(run200, nb201_bench):
    base, _ = run200
    out = base / "out200"
    for f in ("scores.csv", "report.json", "scatter.png", "criteria.png"):
        assert (out / f).stat().st_size > 0, f
    rows = _read_csv(out / "scores.csv")
    assert list(rows[0]) == ["arch", "ranker", "repeat", "score", "seconds", "device_seconds", "true_acc"]
    assert len(rows) == 400 and {r["repeat"] for r in rows} == {"0"}
    report = json.loads((out / "report.json").read_text())
    assert (report["space"], report["dataset"], report["n_archs"], report["seed"], report["repeats"]) == (
        "nb201", "cifar10", 200, 3, 1)
    assert report["benchmark"].startswith("csv:") and report["modes"] == ["iso", "deiso", "iso2deiso"]

    space = nb201_bench.space
    for name in ("params", "flops"):
        mine = [r for r in rows if r["ranker"] == name]
        archs = [space.from_string(r["arch"]) for r in mine]
        assert len({r["arch"] for r in mine}) == 200
        scores = np.array([float(r["score"]) for r in mine])
        truth = np.array([float(r["true_acc"]) for r in mine])
        assert truth == pytest.approx([nb201_bench.true_accuracy(a) for a in archs])
        rep = report["rankers"][name]
        iso = rep["criteria"]["iso"]
        assert iso["spearman"] == pytest.approx(st.spearmanr(scores, truth)[0], abs=1e-12)
        assert iso["kendall_tau"] == pytest.approx(st.kendalltau(scores, truth)[0], abs=1e-12)
        assert iso["pearson"] == pytest.approx(st.pearsonr(scores, truth)[0], abs=1e-9)
        assert (rep["n_valid"], rep["n_invalid"], iso["n"]) == (200, 0, 200)
        assert rep["seconds_per_arch"] == pytest.approx(np.mean([float(r["seconds"]) for r in mine]))
        n_classes = len({space.canonical_key(a) for a in archs})
        assert rep["criteria"]["deiso"]["n"] == n_classes < 200
        assert rep["criteria"]["iso2deiso"]["n"] == 200
        assert (rep["n_fresh"], rep["n_cached"]) == (200, 0)
        for key in ("p_at_top_0.05", "br_at_0.01", "wr_at_0.01", "kendall_tau_top_0.1"):
            assert key in iso
    # #params ranks NB201 CIFAR-10 with Spearman ≈ 0.75 over the whole space
    assert 0.65 < report["rankers"]["params"]["criteria"]["iso"]["spearman"] < 0.87
    assert report["rankers"]["params"]["config_hash"] != report["rankers"]["flops"]["config_hash"]


def test_larger_sample_computes_only_new_archs(run200):
    base, args = run200
    assert main(args[:args.index("--sample") + 1] + ["240"] + args[args.index("--sample") + 2:]
                + ["--output", str(base / "out240")]) == 0
    report = json.loads((base / "out240" / "report.json").read_text())
    for name in ("params", "flops"):
        rep = report["rankers"][name]
        assert (rep["n_fresh"], rep["n_cached"]) == (40, 200)  # the 200 are a subset of the 240
    small = {r["arch"]: r for r in _read_csv(base / "out200" / "scores.csv") if r["ranker"] == "params"}
    big = [r for r in _read_csv(base / "out240" / "scores.csv") if r["ranker"] == "params"]
    assert len(big) == 240 and set(small) <= {r["arch"] for r in big}
    for r in big:  # stored results come back unchanged, with their recorded cost
        if r["arch"] in small:
            assert (r["score"], r["seconds"]) == (small[r["arch"]]["score"], small[r["arch"]]["seconds"])
    counts = {c["ranker"]: c["n"] for c in ResultStore(base / "results.sqlite").counts()}
    assert counts == {"params": 240, "flops": 240}


@pytest.fixture()
def small_table(tmp_path, nb201_csv) -> Path:
    """The first 40 rows of the official table as a small benchmark."""
    lines = nb201_csv.read_text().splitlines()[:41]
    path = tmp_path / "small.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_archs_file_repeats_and_tabular(tmp_path, small_table):
    rows = _read_csv(small_table)
    archs_file = tmp_path / "archs.txt"
    archs_file.write_text("# five cells\n\n" + "\n".join(r["arch"] for r in rows[:5]) + "\n" + rows[0]["arch"] + "\n")
    out = tmp_path / "out"
    assert main(["evaluate", "--benchmark", f"csv:{small_table}", "--rankers", "tabular,params", "--archs",
                 str(archs_file), "--repeats", "2", "--seed", "7", "--no-store", "--no-plots", "--quiet",
                 "--modes", "iso", "--output", str(out)]) == 0
    scores = _read_csv(out / "scores.csv")
    assert len(scores) == 2 * 2 * 5  # the repeated line is evaluated once
    assert {(r["ranker"], r["repeat"]) for r in scores} == {(n, str(k)) for n in ("tabular", "params") for k in (0, 1)}
    report = json.loads((out / "report.json").read_text())
    assert report["archs_file"] == str(archs_file) and report["store"] is None and report["repeats"] == 2
    tab = report["rankers"]["tabular"]
    assert tab["criteria"]["iso"]["spearman"] == pytest.approx(1.0) and list(tab["criteria"]) == ["iso"]
    assert tab["repeats"] == 2 and tab["repeat_std_mean"] == 0.0 and tab["spearman_per_repeat"] == [1.0, 1.0]
    assert not (out / "scatter.png").exists()


def _error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasrank evaluate: error: ") and "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_errors_are_one_clear_line(tmp_path, small_table, nb201_csv, capsys):
    base = ["evaluate", "--benchmark", f"csv:{small_table}", "--output", str(tmp_path / "o"), "--quiet",
            "--store", str(tmp_path / "s.sqlite")]
    assert "'nosuch'" in _error(capsys, base + ["--rankers", "params,nosuch", "--sample", "5"])
    assert "--sample" in _error(capsys, base + ["--sample", "0"])
    assert "--sample" in _error(capsys, base + ["--sample", "many"])
    assert "exceeds the 40" in _error(capsys, base + ["--sample", "41"])
    assert "--sample N|all or --archs" in _error(capsys, base)
    assert "not both" in _error(capsys, base + ["--sample", "3", "--archs", "x.txt"])
    assert "--benchmark" in _error(capsys, ["evaluate", "--output", str(tmp_path / "o"), "--sample", "3"])
    assert "'synflow' is not in --rankers" in _error(capsys, base + ["--sample", "3", "--ranker-cfg",
                                                                     "synflow.batch_size=64"])
    assert "does not take option" in _error(capsys, base + ["--sample", "3", "--rankers", "tabular",
                                                            "--ranker-cfg", "epochz=12"])
    assert "--modes" in _error(capsys, base + ["--sample", "3", "--modes", "iso,nope"])
    assert "--repeats" in _error(capsys, base + ["--sample", "3", "--repeats", "0"])

    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n")
    assert f"--archs {empty} lists no architectures" in _error(capsys, base + ["--archs", str(empty)])
    assert "not found" in _error(capsys, base + ["--archs", str(tmp_path / "missing.txt")])
    outside = tmp_path / "outside.txt"
    first = _read_csv(small_table)[0]["arch"]
    not_in_table = _read_csv(nb201_csv)[100]["arch"]  # the small table has rows 0..39
    outside.write_text(f"{first}\n{not_in_table}\n")
    err = _error(capsys, base + ["--archs", str(outside)])
    assert f"line 2: {not_in_table} is not in the benchmark" in err
    bad = tmp_path / "bad.txt"
    bad.write_text("|conv~0|\n")
    assert f"--archs {bad}, line 1" in _error(capsys, base + ["--archs", str(bad)])
    assert not (tmp_path / "o" / "scores.csv").exists() and not (tmp_path / "s.sqlite").exists()


def test_invalid_scores_are_reported_not_raised(tmp_path, small_table):
    """A ranker that returns NaN for some cells: counted as invalid, criteria on the rest."""
    import textwrap

    mod = tmp_path / "nan_ranker_mod.py"
    mod.write_text(textwrap.dedent('''
        from nasrank.rankers.base import TimedRanker

        class HalfNan(TimedRanker):
            def compute_score(self, arch):
                n = arch.count("nor_conv_3x3")
                return (float("nan") if n % 2 else float(n)), {}
    '''))
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        out = tmp_path / "out"
        assert main(["evaluate", "--benchmark", f"csv:{small_table}", "--rankers", "nan_ranker_mod:HalfNan",
                     "--sample", "all", "--no-store", "--quiet", "--output", str(out)]) == 0
    finally:
        sys.path.remove(str(tmp_path))
    rep = json.loads((out / "report.json").read_text())["rankers"]["nan_ranker_mod:HalfNan"]
    rows = _read_csv(out / "scores.csv")
    n_nan = sum(math.isnan(float(r["score"])) for r in rows)
    assert 0 < n_nan < 40 and rep["n_invalid"] == n_nan and rep["n_valid"] == 40 - n_nan
    assert rep["criteria"]["iso"]["n_invalid"] == n_nan


def test_zero_shot_ranker_repeats_vary_by_seed(tmp_path, small_table):
    """synflow on a tiny network: each repeat is a new seed, stored separately; variance is reported."""
    out = tmp_path / "out"
    store = tmp_path / "s.sqlite"
    argv = ["evaluate", "--benchmark", f"csv:{small_table}", "--space-cfg", "channels=8,cells_per_stage=1",
            "--rankers", "synflow", "--ranker-cfg", "seeds=1", "--sample", "8", "--repeats", "2",
            "--store", str(store), "--quiet", "--no-plots", "--output", str(out)]
    assert main(argv) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["space_id"] == "nb201(cells_per_stage=1,channels=8)"
    syn = rep["rankers"]["synflow"]
    assert syn["config"]["seeds"] == 1 and syn["n_valid"] == 8 and syn["repeats"] == 2
    assert 0 < syn["repeat_std_over_arch_std"] < 0.5  # seeds move the score, much less than the archs do
    rows = _read_csv(out / "scores.csv")
    by_repeat = {k: [float(r["score"]) for r in rows if r["repeat"] == k] for k in ("0", "1")}
    assert by_repeat["0"] != by_repeat["1"]
    (count,) = ResultStore(store).counts()
    assert (count["space"], count["n"], count["n_seeds"]) == ("nb201(cells_per_stage=1,channels=8)", 16, 2)
    assert main(argv) == 0  # a rerun is answered from the store
    assert json.loads((out / "report.json").read_text())["rankers"]["synflow"]["n_cached"] == 16
