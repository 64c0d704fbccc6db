"""`nasrank report` on JSON of the wrong type, and compare's output/option rows of issue 15."""
from __future__ import annotations

import pytest

from nasrank.cli import main


@pytest.mark.parametrize("name,text", [
    ("compare.json", '"x"'), ("compare.json", "[1, 2]"), ("compare.json", '{"rankers": 5}'),
    ("compare.json", '{"rankers": {"a": 5}}'), ("compare.json", '{"rankers": [1, "b"]}'),
    ("report.json", '{"rankers": {"a": 5}}'), ("scores.csv", b"arch,ranker,score\n\xff\xfe,x,1\n"),
    ("report.json", "1e999999"),
])
def test_report_on_wrong_json_types(tmp_path, capsys, name, text):
    d = tmp_path / "out"
    d.mkdir()
    (d / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    rc = main(["report", str(d), "--output", str(tmp_path / "rep"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("nasrank report: error:"), err


def test_report_on_search_with_wrong_summary_and_config(tmp_path, nb201_csv, capsys):
    run = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet", "--no-store",
                 "--output", str(run)]) == 0
    assert not (run / "config.json").exists()
    for name in ("summary.json", "config.yaml"):
        good = (run / name).read_text()
        (run / name).write_text("[1, 2, 3]")
        rc = main(["report", str(run), "--output", str(tmp_path / "rep"), "--quiet"])
        err = capsys.readouterr().err
        assert rc == 2 and name in err and err.count("\n") == 1
        (run / name).write_text(good)


@pytest.mark.parametrize("extra,needle", [(["--channels", "0"], "channels"), (["--image-size", "0"], "image_size"),
                                          (["--cells-per-stage", "-1"], "cells_per_stage"),
                                          (["--train-fraction", "0"], "train_fraction"),
                                          (["--ranker-cfg", "chanels=8"], "chanels")])
def test_compare_degenerate_scale_and_unused_options(tmp_path, nb201_csv, capsys, extra, needle):
    rc = main(["compare", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params,flops", "--candidates", "3",
               "--output", str(tmp_path / "c"), "--quiet", "--no-store", *extra])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and err.count("\n") == 1, err


def test_compare_output_that_is_a_file(tmp_path, nb201_csv, capsys):
    (tmp_path / "afile").write_text("keep")
    rc = main(["compare", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params,flops", "--candidates", "3",
               "--output", str(tmp_path / "afile"), "--quiet", "--no-store"])
    err = capsys.readouterr().err
    assert rc == 2 and "afile" in err and "is a file" in err
    assert (tmp_path / "afile").read_text() == "keep"


def test_search_output_that_is_a_file(tmp_path, nb201_csv, capsys):
    (tmp_path / "afile").write_text("keep")
    rc = main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--quiet", "--no-store",
               "--output", str(tmp_path / "afile")])
    err = capsys.readouterr().err
    assert rc == 2 and "is a file" in err and err.count("\n") == 1


def test_nb201_pth_folder_is_not_not_found(tmp_path, capsys):
    rc = main(["search", "--benchmark", f"nb201:{tmp_path}", "--budget-queries", "2", "--quiet", "--no-store"])
    err = capsys.readouterr().err
    assert rc == 2 and "is a folder" in err and "not found" not in err


def test_compare_existing_output_names_the_right_option(tmp_path, nb201_csv, capsys):
    args = ["compare", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params,flops", "--candidates", "3",
            "--output", str(tmp_path / "c"), "--quiet", "--no-store"]
    assert main(args) == 0
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--resume " + str(tmp_path) not in err  # compare's --resume takes no folder
    assert main(args + ["--resume"]) == 0


def test_report_output_that_is_a_file(tmp_path, nb201_csv, capsys):
    run = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet", "--no-store",
                 "--output", str(run)]) == 0
    (tmp_path / "afile").write_text("keep")
    assert main(["report", str(run), "--output", str(tmp_path / "afile"), "--quiet"]) == 2
    assert "is a file" in capsys.readouterr().err and (tmp_path / "afile").read_text() == "keep"
