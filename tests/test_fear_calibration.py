"""The FEAR benchmark's calibration step: protocol choice, rescoring and its cost, on hand-made records."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from fear_calibration import choose, family_wide_choice, protocol_table, rescore, rescore_folder  # noqa: E402

PROTO = {"val_acc": 0.5, "val_neg_loss": -1.0, "test_acc": 0.4, "train_acc_last": 0.6, "train_eval_acc": 0.55,
         "train_eval_neg_loss": -0.9, "heldout_all_acc": 0.45, "heldout_all_neg_loss": -1.1}


def train_record(score_shift: float = 0.0) -> dict:
    info = {"protocols": {k: v + score_shift for k, v in PROTO.items()},
            "protocol_seconds": {"val": 1.0, "test": 2.0, "train_eval": 3.0, "heldout_all": 4.0},
            "process_cpu_seconds": 25.0, "devices": 1}
    return {"score": PROTO["val_acc"], "seconds": 50.0, "device_seconds": 50.0, "true_acc": 90.0, "info": info}


def test_rescore_charges_only_the_pass_the_protocol_needs():
    r = rescore(train_record(), "train_eval_neg_loss")
    assert r["score"] == -0.9 and r["info"]["rescored_protocol"] == "train_eval_neg_loss"
    # wall: 50 - (1 + 2 + 4); CPU: 25 - 7 wall seconds x (25 CPU / 50 wall)
    assert r["seconds"] == pytest.approx(43.0) and r["info"]["process_cpu_seconds"] == pytest.approx(21.5)
    free = rescore(train_record(), "train_acc_last")  # no pass at all
    assert free["score"] == 0.6 and free["info"]["process_cpu_seconds"] == pytest.approx(20.0)


def test_fear_records_keep_their_sentinels():
    reached = {"score": 0.4, "seconds": 5.0, "true_acc": 90.0,
               "info": {"reached": True, "stage2_train_acc": 0.4, "stage2_val_acc": 0.3, "stage2_val_loss": 2.0}}
    missed = {"score": -0.8, "seconds": 5.0, "true_acc": 80.0, "info": {"reached": False}}
    assert rescore(reached, "val_loss")["score"] == pytest.approx(math.exp(-2.0))
    assert rescore(missed, "val_loss")["score"] == -0.8
    cascade_filtered = {"score": -1e9, "seconds": 0.1, "true_acc": 85.0, "info": {"kept": False}}
    assert rescore(cascade_filtered, "val_loss") == cascade_filtered


def test_choice_is_made_on_the_calibration_folder(tmp_path):
    truth = [85.0, 88.0, 90.0, 92.0]
    for seed in (100, 101):
        recs = []
        for i, t in enumerate(truth):
            r = train_record()
            r["true_acc"] = t
            r["info"]["protocols"]["train_acc_last"] = i / 10  # ranks perfectly
            r["info"]["protocols"]["val_acc"] = -i / 10        # ranks backwards
            recs.append(r)
        p = tmp_path / f"seed{seed}" / "train5" / "history.jsonl"
        p.parent.mkdir(parents=True)
        p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    table = protocol_table(tmp_path, [100, 101], ["train5"], 4)
    assert table["train5"]["train_acc_last"]["mean"] == pytest.approx(1.0)
    assert table["train5"]["val_acc"]["mean"] == pytest.approx(-1.0)
    assert table["train5"]["test_acc"]["mean"] is None  # constant scores have no rank correlation
    assert choose(table, {"train5": "val_acc"}) == {"train5": "train_acc_last"}
    assert family_wide_choice(table, ["train5"]) == "train_acc_last"
    rescore_folder(tmp_path, tmp_path / "out", [100], {"train5": "train_acc_last"}, ["train5"])
    out = [json.loads(x) for x in (tmp_path / "out" / "seed100" / "train5" / "history.jsonl").read_text().splitlines()]
    assert [r["score"] for r in out] == [0.0, 0.1, 0.2, 0.3]
