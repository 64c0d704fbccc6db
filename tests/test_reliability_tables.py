"""Issue 15 item 9: a CSV table with NaN/inf accuracies or a contradictory duplicate is rejected
(with the line number), and summary.json is strict JSON."""
from __future__ import annotations

import json

import pytest

from nasrank.cli import main
from nasrank.errors import NasrankError


def _table(nb201_csv, dest, edit=None, n: int = 30) -> None:
    lines = nb201_csv.read_text().splitlines()[: n + 1]
    if edit:
        edit(lines)
    dest.write_text("\n".join(lines) + "\n")


def _set_acc(lines, i, value) -> None:
    idx, arch, _, params = lines[i].split(",")
    lines[i] = ",".join([idx, arch, value, params])


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_non_finite_accuracy_is_rejected_with_the_line(tmp_path, nb201_csv, value):
    from nasrank.benchmarks.csv_table import load_csv_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    p = tmp_path / "t.csv"
    _table(nb201_csv, p, lambda ls: _set_acc(ls, 7, value))
    with pytest.raises(NasrankError, match=r"t\.csv, line 8: .*accuracy.*not a finite number"):
        load_csv_benchmark(p, Nb201Space())


def test_non_finite_training_seconds_are_rejected(tmp_path):
    from nasrank.benchmarks.csv_table import load_csv_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    p = tmp_path / "t.csv"
    p.write_text(f"arch,test_acc,train_seconds_200ep\n{arch},93.0,-5\n")
    with pytest.raises(NasrankError, match="line 2: train_seconds_200ep"):
        load_csv_benchmark(p, Nb201Space())


def test_contradictory_duplicate_is_rejected(tmp_path, nb201_csv):
    from nasrank.benchmarks.csv_table import load_csv_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    def dup(lines, acc):
        idx, arch, _, params = lines[3].split(",")
        lines.append(",".join(["99", arch, acc, params]))

    p = tmp_path / "t.csv"
    _table(nb201_csv, p, lambda ls: dup(ls, "12.5"))
    with pytest.raises(NasrankError, match=r"line 32: .*listed again with accuracy 12\.5.*line 4"):
        load_csv_benchmark(p, Nb201Space())
    same = nb201_csv.read_text().splitlines()[3].split(",")[2]
    _table(nb201_csv, p, lambda ls: dup(ls, same))  # an exact repeat is harmless
    assert len(load_csv_benchmark(p, Nb201Space())) == 30


def test_summary_json_is_strict(tmp_path, nb201_csv, monkeypatch):
    """A NaN anywhere in the summary is written as null, never as a bare NaN."""
    import importlib

    search = importlib.import_module("nasrank.experiments.search")

    real = search.summarize
    monkeypatch.setattr(search, "summarize", lambda *a: {**real(*a), "best_score": float("nan")})
    out = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--no-store", "--quiet",
                 "--output", str(out)]) == 0
    text = (out / "summary.json").read_text()
    assert "NaN" not in text and json.loads(text)["best_score"] is None
