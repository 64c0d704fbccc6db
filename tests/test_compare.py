"""``nasrank compare`` on 3 candidates with tiny networks."""
from __future__ import annotations

import json

import pytest
import torch

from nasrank.cli import main
from nasrank.experiments.build import parse_ranker_list
from nasrank.experiments.compare import ranker_dirname
from nasrank.experiments.config import RankerSpec, Scale, assign_options, resolve_options
from nasrank.errors import NasrankError
from nasrank.runs.history import History


pytestmark = pytest.mark.usefixtures("one_thread")


def test_parse_rankers_and_cfg():
    assert parse_ranker_list("fear, train,params > fear", cascades=True) == ["fear", "train", "params>fear"]
    assert parse_ranker_list("t10 = train, t20=train,c=params>fear", cascades=True) == [
        "t10=train", "t20=train", "c=params>fear"]
    for bad in ("", "a>b>c", "fear,fear", ">fear", "t=train,t=fear", "bad label=train", "=train", "t=", "t=a>b>c"):
        with pytest.raises(NasrankError):
            parse_ranker_list(bad, cascades=True)
    specs, common = assign_options({"fear.threshold": 0.5, "seed": 1, "params>fear.keep_fraction": 0.5},
                                   ["fear", "params>fear", "t2=train"], common=True)
    assert common == {"seed": 1}
    assert specs[0] == RankerSpec("fear", "fear", {"threshold": 0.5})
    assert specs[1] == RankerSpec("params>fear", "params>fear", {"keep_fraction": 0.5, "second_cfg": {"threshold": 0.5}})
    assert specs[2] == RankerSpec("t2", "train", {})
    with pytest.raises(NasrankError, match="'flops' is not in --rankers"):
        assign_options({"flops.channels": 4}, ["fear"], common=True)
    with pytest.raises(NasrankError, match="say which ranker"):
        assign_options({"seed": 1}, ["fear", "train"], common=False)
    assert ranker_dirname("params>fear") == "params_then_fear"


def test_one_resolver_gives_every_ranker_its_options():
    """scale, then the common options a ranker takes, then its own; a cascade's stages each get theirs."""
    scale = Scale(channels=4, epochs=2)
    assert resolve_options(RankerSpec("t", "train", {"epochs": 5}), scale, {"seed": 1, "nonsense": 2}) == (
        "train", {"channels": 4, "epochs": 5, "seed": 1})
    assert resolve_options(RankerSpec("p", "params"), scale) == ("params", {"channels": 4})
    assert resolve_options(RankerSpec("s", "synflow", {"build_kwargs": {"cells_per_stage": 1}}), scale) == (
        "synflow", {"build_kwargs": {"channels": 4, "cells_per_stage": 1}})
    name, opts = resolve_options(RankerSpec("c", "params>train", {"keep_fraction": 0.5, "second_cfg": {"epochs": 3}}),
                                 scale)
    assert name == "cascade" and opts == {"first": "params", "second": "train", "keep_fraction": 0.5,
                                          "first_cfg": {"channels": 4}, "second_cfg": {"channels": 4, "epochs": 3}}


def test_compare_writes_report(tmp_path, cifar10_dir, nb201_csv, capsys):
    out = tmp_path / "cmp"
    rc = main(["compare", "--space", "nb201", "--searcher", "random", "--rankers", "fear,train,params>fear",
               "--candidates", "3", "--seed", "1", "--benchmark", f"csv:{nb201_csv}", "--dataset", "cifar10",
               "--data-dir", str(cifar10_dir), "--output", str(out), "--baseline", "train",
               "--ranker-cfg", "fear.threshold=0.12,fear.stage2_epochs=1,fear.max_stage1_epochs=2",
               "--ranker-cfg", "cascade.keep_fraction=0.34",
               "--channels", "4", "--cells-per-stage", "1", "--image-size", "16", "--train-fraction", "0.05",
               "--epochs", "1", "--batch-size", "64"])
    assert rc == 0
    report = json.loads((out / "compare.json").read_text())
    assert report["baseline"] == "train" and report["same_candidates"] is True
    assert set(report["rankers"]) == {"fear", "train", "params>fear"}
    for name, r in report["rankers"].items():
        for key in ("total_cost_seconds", "device_seconds", "best_arch", "best_true_acc", "true_rank_of_best",
                    "n_rejected", "spearman", "cost_ratio_vs_baseline"):
            assert key in r, (name, key)
        assert r["n_evaluations"] == 3 and r["total_cost_seconds"] > 0
        assert r["cost_ratio_vs_baseline"] == pytest.approx(
            report["rankers"]["train"]["total_cost_seconds"] / r["total_cost_seconds"])
    assert report["rankers"]["train"]["cost_ratio_vs_baseline"] == pytest.approx(1.0)
    assert report["rankers"]["params>fear"]["n_filtered"] >= 1
    assert report["rankers"]["fear"]["config"]["threshold"] == 0.12
    archs = {name: [r.arch for r in History.load(out / ranker_dirname(name))] for name in report["rankers"]}
    assert archs["fear"] == archs["train"] == archs["params>fear"] and len(archs["fear"]) == 3
    assert (out / "cost_vs_accuracy.png").stat().st_size > 0
    assert "nasrank compare" in capsys.readouterr().out


def test_compare_errors(tmp_path, cifar10_dir, capsys):
    base = ["compare", "--rankers", "params,flops", "--candidates", "2", "--output", str(tmp_path / "o")]
    assert main(base + ["--baseline", "train"]) == 2
    assert "--baseline" in capsys.readouterr().err
    assert main(base + ["--ranker-cfg", "fear.threshold=0.5"]) == 2
    assert "not in --rankers" in capsys.readouterr().err
    assert main(["compare", "--rankers", "nosuch", "--candidates", "2", "--output", str(tmp_path / "p")]) == 2
    assert "unknown ranker" in capsys.readouterr().err
    assert main(["compare", "--rankers", "train", "--candidates", "2", "--output", str(tmp_path / "q")]) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_compare_runs_one_ranker_twice_under_labels(tmp_path, nb201_csv):
    """``LABEL=NAME`` items: options by label override the ranker's; results, folders and baseline use the label."""
    out = tmp_path / "lab"
    rc = main(["compare", "--rankers", "one=synflow,two=synflow,params", "--candidates", "2", "--seed", "3",
               "--benchmark", f"csv:{nb201_csv}", "--output", str(out), "--quiet", "--baseline", "one",
               "--channels", "4", "--cells-per-stage", "1",
               "--ranker-cfg", "synflow.seeds=1", "--ranker-cfg", "two.seeds=2"])
    assert rc == 0
    report = json.loads((out / "compare.json").read_text())
    assert list(report["rankers"]) == ["one", "two", "params"] and report["baseline"] == "one"
    assert report["rankers"]["one"]["config"]["seeds"] == 1 and report["rankers"]["two"]["config"]["seeds"] == 2
    assert report["rankers"]["one"]["cost_ratio_vs_baseline"] == pytest.approx(1.0)
    hist = {k: [r.arch for r in History.load(out / k)] for k in ("one", "two", "params")}
    assert hist["one"] == hist["two"] == hist["params"] and len(hist["one"]) == 2
