"""Issue 15 item 10: typos in options that reach space.build fail loudly."""
from __future__ import annotations

import pytest

from nasrank.cli import main


@pytest.mark.parametrize("ranker,cfg", [("params", "chanels=8"), ("flops", "cells=1"),
                                        ("synflow", 'build_kwargs={"chanels":8}')])
def test_build_option_typos(nb201_csv, capsys, ranker, cfg):
    rc = main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--quiet", "--no-store",
               "--ranker", ranker, "--ranker-cfg", cfg])
    err = capsys.readouterr().err
    assert rc == 2 and "does not take" in err and err.count("\n") == 1, err


def test_real_build_options_still_work(nb201_csv, capsys):
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--quiet", "--no-store",
                 "--ranker", "params", "--ranker-cfg", "channels=8,cells_per_stage=1"]) == 0


def test_compare_build_options_reach_params_and_skip_other_spaces(tmp_path, capsys):
    from conftest import shared

    nb101 = shared("nb101", "nb101_cifar10_500.csv")
    rc = main(["compare", "--space", "nb101", "--benchmark", f"csv:{nb101}", "--rankers", "params,flops",
               "--candidates", "2", "--output", str(tmp_path / "c"), "--quiet", "--no-store", "--channels", "4"])
    assert rc == 0, capsys.readouterr().err
