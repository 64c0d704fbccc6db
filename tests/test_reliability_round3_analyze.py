"""Issue 32, D7 and analyze's minor items, through ``nasrank analyze``: a huge ``--bins`` is one
clear error (it hung), ``--output`` naming a file is one error line (it was a traceback), a
scores.csv with a byte-order mark is read (tables accept one), and a true accuracy outside
0..100 or a row repeated for the same architecture, ranker and repeat is refused with its line."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from nasrank.cli import main
from test_reliability_round2_defects import cli_capped, one_error_line


def _scores(tmp_path: Path, nb201_csv: Path, n: int = 24, bom: bool = False, extra: list[str] | None = None,
            acc_of_first: str | None = None) -> Path:
    """A long-format scores.csv: ``n`` NB201 cells scored by ``params`` (score = its test accuracy ranking
    reversed halfway, so the analysis has something to find)."""
    with open(nb201_csv, newline="") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh))]
    lines = ["arch,ranker,repeat,score,seconds,device_seconds,true_acc"]
    for i, r in enumerate(rows):
        acc = acc_of_first if (i == 0 and acc_of_first is not None) else r["test_acc"]
        lines.append(f"{r['arch']},params,0,{float(r['params_m']) * (1 + (i % 3))},0.1,0,{acc}")
    lines += extra or []
    p = tmp_path / "scores.csv"
    p.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return p


def _analyze(scores: Path, out: Path, *extra: str) -> int:
    return main(["analyze", "--scores", str(scores), "--output", str(out), "--no-plots", *extra])


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_d7_huge_bins_is_one_clear_error(tmp_path, nb201_csv):
    scores = _scores(tmp_path, nb201_csv)
    r = cli_capped("analyze", "--scores", str(scores), "--output", str(tmp_path / "out"), "--no-plots",
                   "--bins", "1000000000", cwd=tmp_path, timeout=60)
    one_error_line(r, "--bins")
    assert not (tmp_path / "out" / "analysis.json").exists()


def test_d7_the_largest_bins_still_runs(tmp_path, nb201_csv, capsys):
    from nasrank.runs.limits import MAX_BINS

    scores = _scores(tmp_path, nb201_csv)
    assert _analyze(scores, tmp_path / "out", "--bins", str(MAX_BINS)) == 0
    assert json.loads((tmp_path / "out" / "analysis.json").read_text())["bins"] <= MAX_BINS


@pytest.mark.parametrize("target", ["file", "devnull", "under-a-file"])
def test_d7_output_that_is_not_a_folder_is_one_error_line(tmp_path, nb201_csv, capsys, target):
    scores = _scores(tmp_path, nb201_csv)
    (tmp_path / "afile").write_text("keep me\n")
    out = {"file": tmp_path / "afile", "devnull": Path("/dev/null"), "under-a-file": tmp_path / "afile" / "sub"}[target]
    assert _analyze(scores, out) == 2
    assert "--output" in _error(capsys)
    assert (tmp_path / "afile").read_text() == "keep me\n"


def test_d7_a_byte_order_mark_is_accepted(tmp_path, nb201_csv, capsys):
    plain = _scores(tmp_path, nb201_csv)
    assert _analyze(plain, tmp_path / "plain") == 0
    (tmp_path / "b").mkdir()
    bom = _scores(tmp_path / "b", nb201_csv, bom=True)
    assert bom.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert _analyze(bom, tmp_path / "bom") == 0, capsys.readouterr().err
    a = json.loads((tmp_path / "plain" / "analysis.json").read_text())["rankers"]
    b = json.loads((tmp_path / "bom" / "analysis.json").read_text())["rankers"]
    assert a == b


@pytest.mark.parametrize("acc", ["250", "-1", "inf", "100.5"])
def test_minor_true_acc_outside_0_100_is_refused_with_its_line(tmp_path, nb201_csv, capsys, acc):
    scores = _scores(tmp_path, nb201_csv, acc_of_first=acc)
    assert _analyze(scores, tmp_path / "out") == 2
    err = _error(capsys)
    assert "line 2" in err and "true_acc" in err, err


def test_minor_a_repeated_row_is_refused_with_both_lines(tmp_path, nb201_csv, capsys):
    with open(nb201_csv, newline="") as fh:
        first = next(csv.DictReader(fh))
    scores = _scores(tmp_path, nb201_csv, extra=[f"{first['arch']},params,0,123.0,0.1,0,{first['test_acc']}"])
    assert _analyze(scores, tmp_path / "out") == 2
    err = _error(capsys)
    assert "line 26" in err and "line 2" in err, err


def test_minor_repeats_of_one_architecture_are_still_averaged(tmp_path, nb201_csv, capsys):
    with open(nb201_csv, newline="") as fh:
        first = next(csv.DictReader(fh))
    scores = _scores(tmp_path, nb201_csv, extra=[f"{first['arch']},params,1,123.0,0.1,0,{first['test_acc']}"])
    assert _analyze(scores, tmp_path / "out") == 0, capsys.readouterr().err
