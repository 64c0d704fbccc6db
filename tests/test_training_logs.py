"""Training logs: per-epoch CSV logs in the run folder by default (train, FEAR stage 1 and 2, supernet),
none with --no-logs."""
from __future__ import annotations

import csv
import json

import pytest

from nasrank.cli import main

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = "channels=4,cells_per_stage=1,image_size=16,train_fraction=0.1,batch_size=64"


def _epochs(metrics_csv) -> list[dict]:
    rows = list(csv.DictReader(metrics_csv.open()))
    return [r for r in rows if r.get("train_acc")]


def test_fear_search_logs_both_stages_per_epoch(tmp_path, cifar10_dir):
    out = tmp_path / "run"
    assert main(["search", "--ranker", "fear", "--ranker-cfg", TINY, "--ranker-cfg",
                 "threshold=0.15,stage2_epochs=2,check_every_steps=2", "--budget-queries", "1",
                 "--data-dir", str(cifar10_dir), "--device", "cpu", "--output", str(out), "--quiet"]) == 0
    rec = json.loads((out / "history.jsonl").read_text().splitlines()[0])
    stage1 = sorted((out / "logs" / "fear").glob("*-stage1/metrics.csv"))
    assert len(stage1) == 1 and _epochs(stage1[0])
    assert rec["info"]["reached"]  # threshold 0.15 is reached on this data: stage 2 runs
    stage2 = list((out / "logs" / "fear").glob("*-stage2/metrics.csv"))
    assert len(stage2) == 1
    rows = _epochs(stage2[0])
    assert len(rows) == 2 and {"train_loss", "train_acc", "epoch"} <= set(rows[0])


def test_train_logs_and_no_logs(tmp_path, cifar10_dir):
    args = ["search", "--ranker", "train", "--ranker-cfg", TINY, "--ranker-cfg", "epochs=2", "--budget-queries", "1",
            "--data-dir", str(cifar10_dir), "--device", "cpu", "--quiet"]
    assert main([*args, "--output", str(tmp_path / "a")]) == 0
    (metrics,) = (tmp_path / "a" / "logs" / "train").glob("*/metrics.csv")
    rows = _epochs(metrics)
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert all(0.0 <= float(r["train_acc"]) <= 1.0 and float(r["train_loss"]) > 0 for r in rows)
    assert main([*args, "--output", str(tmp_path / "b"), "--no-logs"]) == 0
    assert not (tmp_path / "b" / "logs").exists()


def test_supernet_train_logs(tmp_path, cifar10_dir):
    ckpt = tmp_path / "sn.ckpt"
    assert main(["supernet", "train", "--epochs", "2", "--data-dir", str(cifar10_dir), "--output", str(ckpt),
                 "--channels", "4", "--cells-per-stage", "1", "--image-size", "16", "--train-fraction", "0.05",
                 "--batch-size", "64", "--device", "cpu", "--quiet"]) == 0
    rows = _epochs(tmp_path / "logs" / "supernet" / "sn" / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [0, 1]
