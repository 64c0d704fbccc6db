"""Experiment files: --config FILE.yaml, flags override it, every run folder's config.yaml reproduces the run."""
from __future__ import annotations

import json

import pytest
import yaml

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.experiments.build import parse_cfg


def _history(folder) -> list[tuple]:
    rows = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]
    return [(r["step"], r["arch"], r["score"], r["seconds"], r["true_acc"]) for r in rows]


def test_a_run_from_its_own_config_gives_the_same_history(tmp_path, nb201_csv):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert main(["search", "--searcher", "evolution", "--searcher-cfg", "population_size=5,sample_size=2",
                 "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "15", "--seed", "4", "--output", str(a),
                 "--quiet"]) == 0
    cfg = yaml.safe_load((a / "config.yaml").read_text())
    assert cfg["searcher-cfg"] == {"population_size": 5, "sample_size": 2} and cfg["seed"] == 4
    assert "output" not in cfg
    assert main(["search", "--config", str(a / "config.yaml"), "--output", str(b), "--quiet"]) == 0
    assert _history(b) == _history(a) and len(_history(a)) == 15
    # a flag overrides the file
    assert main(["search", "--config", str(a / "config.yaml"), "--seed", "5", "--output", str(c), "--quiet"]) == 0
    assert yaml.safe_load((c / "config.yaml").read_text())["seed"] == 5
    assert _history(c) != _history(a)


def test_yaml_values_and_required_options_from_the_file(tmp_path, nb201_csv):
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"benchmark: csv:{nb201_csv}\nrankers: params,synflow\ncandidates: 3\n"
                   "ranker-cfg:\n  synflow.build_kwargs: {channels: 4, cells_per_stage: 1}\n  synflow.seeds: 1\n")
    out = tmp_path / "cmp"
    assert main(["compare", "--config", str(exp), "--output", str(out), "--quiet"]) == 0
    got = json.loads((out / "compare.json").read_text())["rankers"]["synflow"]["config"]
    assert got["seeds"] == 1 and "'channels': 4" in str(got["build_kwargs"])
    again = yaml.safe_load((out / "config.yaml").read_text())
    assert again["rankers"] == "params,synflow" and again["candidates"] == 3


def test_key_value_json_with_commas():
    got = parse_cfg(['build_kwargs={"channels":4,"cells_per_stage":1},seeds=1', "ops=[a, b]", "name=x"], "--ranker-cfg")
    assert got == {"build_kwargs": {"channels": 4, "cells_per_stage": 1}, "seeds": 1, "ops": ["a", "b"], "name": "x"}
    assert parse_cfg([{"a": {"b": 1}}, "c=2"], "--x") == {"a": {"b": 1}, "c": 2}


def test_unknown_names_and_devices_are_one_clear_line(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("budget_querys: 3\n")
    assert main(["search", "--config", str(bad)]) == 2
    assert "unknown option 'budget_querys' (did you mean 'budget-queries'?)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["search", "--device", "gpux"])
    assert "(did you mean 'gpu'?)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["search", "--devise", "cpu"])
    assert "(did you mean '--device'?)" in capsys.readouterr().err
    assert main(["search", "--ranker", "synflw", "--budget-queries", "1"]) == 2
    assert "unknown ranker 'synflw' (did you mean 'synflow'?)" in capsys.readouterr().err
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["search", "--ranker", "train", "--device", "gpu", "--budget-queries", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--device gpu: no CUDA GPU is visible" in err


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    text = capsys.readouterr().out
    assert "(default: nb201)" in text and "(default: random)" in text and "--config FILE.yaml" in text


def test_supernet_train_writes_its_config_beside_the_checkpoint(tmp_path, cifar10_dir):
    ckpt = tmp_path / "sn.ckpt"
    assert main(["supernet", "train", "--epochs", "1", "--data-dir", str(cifar10_dir), "--output", str(ckpt),
                 "--channels", "4", "--cells-per-stage", "1", "--image-size", "16", "--train-fraction", "0.02",
                 "--batch-size", "64", "--device", "cpu", "--quiet", "--no-logs"]) == 0
    cfg = yaml.safe_load((tmp_path / "sn.config.yaml").read_text())
    assert cfg["channels"] == 4 and cfg["epochs"] == 1 and cfg["data-dir"] == str(cifar10_dir)


def test_a_list_value_may_be_written_with_bare_commas():
    """Issue 31's own example: ``ens.members=params,synflow,meco`` is one value, not two malformed items."""
    got = parse_cfg(["ens.members=params,synflow,meco,ens.aggregate=log"], "--ranker-cfg")
    assert got == {"ens.members": "params,synflow,meco", "ens.aggregate": "log"}
    with pytest.raises(NasrankError, match="malformed --ranker-cfg option 'synflow'"):
        parse_cfg(["synflow,a=1"], "--ranker-cfg")  # nothing before it to continue


def test_the_issue_ensemble_example_runs_from_the_command_line(tmp_path, nb201_csv):
    out = tmp_path / "cmp"
    assert main(["compare", "--rankers", "ens=ensemble", "--ranker-cfg", "ens.members=params,flops",
                 "--benchmark", f"csv:{nb201_csv}", "--candidates", "4", "--output", str(out), "--quiet"]) == 0
    got = json.loads((out / "compare.json").read_text())["rankers"]["ens"]["config"]
    assert list(got["members"]) == ["params", "flops"]
