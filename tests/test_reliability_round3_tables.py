"""Issue 32 part B: CSV ground-truth tables that contradict themselves are refused with their line (S8, and
the minor items: fractions mixed with percentages, rows with extra fields)."""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from conftest import shared
from nasrank.cli import main


@pytest.fixture(scope="module")
def nats_csv() -> Path:
    return shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")


def _refused(table: Path, tmp_path: Path, *extra: str) -> str:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = main(["evaluate", "--benchmark", f"csv:{table}", "--rankers", "tabular", "--sample", "3",
                   "--output", str(tmp_path / "ev"), "--no-plots", "--quiet", "--no-store", *extra])
    text = err.getvalue()
    assert rc == 2 and text.count("\n") == 1 and "Traceback" not in text, (rc, text[-600:])
    return text


def _accepted(table: Path, tmp_path: Path, *extra: str) -> None:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = main(["evaluate", "--benchmark", f"csv:{table}", "--rankers", "tabular", "--sample", "3",
                   "--output", str(tmp_path / "ok"), "--no-plots", "--quiet", "--no-store", *extra])
    assert rc == 0, err.getvalue()


def _lines(src: Path, n: int = 40) -> list[str]:
    return src.read_text().splitlines()[: n + 1]


# -- S8 ---------------------------------------------------------------------------------------------------
def test_s8_repeat_with_other_per_schedule_columns_is_refused(tmp_path, nats_csv):
    lines = _lines(nats_csv)
    cells = lines[1].split(",")
    cells[0] = "1000"
    cells[2], cells[4] = "11.11", "99999"  # test_acc_12ep, train_seconds_12ep; test_acc_200ep (main) unchanged
    table = tmp_path / "t.csv"
    table.write_text("\n".join([*lines, ",".join(cells)]) + "\n")
    err = _refused(table, tmp_path, "--ranker-cfg", "metric=test,epochs=12")
    assert "line 42" in err and "line 2" in err and "test_acc_12ep" in err, err


def test_s8_repeat_with_other_training_seconds_only_is_refused(tmp_path, nats_csv):
    lines = _lines(nats_csv)
    cells = lines[3].split(",")
    cells[6] = "1.5"  # train_seconds_200ep
    table = tmp_path / "t.csv"
    table.write_text("\n".join([*lines, ",".join(cells)]) + "\n")
    assert "train_seconds_200ep" in _refused(table, tmp_path)


def test_s8_an_exact_repeat_is_still_accepted(tmp_path, nats_csv):
    lines = _lines(nats_csv)
    table = tmp_path / "t.csv"
    table.write_text("\n".join([*lines, lines[5]]) + "\n")
    _accepted(table, tmp_path)


# -- minor: fractions mixed with percentages ----------------------------------------------------------------
def test_fraction_rows_in_a_percentage_table_are_refused(tmp_path, nb201_csv):
    lines = _lines(nb201_csv)
    cells = lines[7].split(",")
    cells[2] = f"{float(cells[2]) / 100:.4f}"  # 0.9xxx: a fraction among percentages
    lines[7] = ",".join(cells)
    table = tmp_path / "t.csv"
    table.write_text("\n".join(lines) + "\n")
    err = _refused(table, tmp_path)
    assert "line 8" in err and "fraction" in err and "percentage" in err, err


def test_a_fraction_column_beside_a_percentage_column_is_refused(tmp_path, nats_csv):
    lines = _lines(nats_csv)
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[2] = f"{float(cells[2]) / 100:.4f}"  # test_acc_12ep as fractions, test_acc_200ep as percentages
        out.append(",".join(cells))
    table = tmp_path / "t.csv"
    table.write_text("\n".join(out) + "\n")
    err = _refused(table, tmp_path)
    assert "test_acc_12ep" in err and "test_acc_200ep" in err and "fraction" in err, err


def test_an_all_fraction_table_and_near_chance_percentages_are_accepted(tmp_path, nb201_csv):
    lines = _lines(nb201_csv)
    frac = [lines[0]] + [",".join([*c[:2], f"{float(c[2]) / 100:.6f}", *c[3:]])
                         for c in (x.split(",") for x in lines[1:])]
    (tmp_path / "frac.csv").write_text("\n".join(frac) + "\n")
    _accepted(tmp_path / "frac.csv", tmp_path)
    # a 120-class table: a diverged cell scores about chance (0.83 %), beside cells at 1.2 % and up
    low = [lines[0]] + [",".join([*c[:2], f"{0.83 if i == 3 else 1.2 + i:.2f}", *c[3:]])
                        for i, c in enumerate(x.split(",") for x in lines[1:])]
    (tmp_path / "low.csv").write_text("\n".join(low) + "\n")
    _accepted(tmp_path / "low.csv", tmp_path, "--dataset", "ImageNet16-120")


def test_a_dataset_column_sets_the_chance_level(tmp_path, nb201_csv):
    """0.83 is chance for ImageNet16-120 (accepted) but a fraction among CIFAR-10 percentages (refused)."""
    lines = _lines(nb201_csv)
    for ds, ok in (("ImageNet16-120", True), ("cifar10", False)):
        rows = [lines[0] + ",dataset"] + [",".join([*c[:2], "0.83" if i == 3 else f"{20 + i}", *c[3:], ds])
                                          for i, c in enumerate(x.split(",") for x in lines[1:])]
        table = tmp_path / f"{ds}.csv"
        table.write_text("\n".join(rows) + "\n")
        if ok:
            _accepted(table, tmp_path, "--dataset", ds)
        else:
            assert "line 5" in _refused(table, tmp_path, "--dataset", ds)


# -- minor: extra fields ----------------------------------------------------------------------------------------
def test_a_row_with_extra_fields_is_refused_with_its_line(tmp_path, nb201_csv):
    lines = _lines(nb201_csv)
    lines[4] = lines[4] + ",12.5,junk"
    table = tmp_path / "t.csv"
    table.write_text("\n".join(lines) + "\n")
    err = _refused(table, tmp_path)
    assert "line 5" in err and "6 fields" in err and "4" in err, err
