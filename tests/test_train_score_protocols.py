"""The ``train`` ranker's scoring protocols (``score=``) and FEAR's held-out loss, against hand computations."""
from __future__ import annotations

import csv

import pytest
import torch
import torch.nn.functional as F

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.rankers import RunContext
from nasrank.rankers.fear import stage2_score
from nasrank.rankers.training_scores import PASSES, PROTOCOLS, pass_tensors, score_protocols
from nasrank.registry import RANKERS
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

TINY = dict(channels=4, cells_per_stage=1, image_size=16, train_fraction=0.1, batch_size=64)
GOOD = Nb201Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def ctx(cifar10_dir, tmp_path):
    return RunContext(data_dir=cifar10_dir, seed=0, device="cpu", log_dir=tmp_path / "logs")


def _hand(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        logits = model(x)
    return float((logits.argmax(1) == y).float().mean()), -float(F.cross_entropy(logits, y))


def test_every_protocol_equals_a_hand_computation(ctx):
    r = RANKERS.create("train", Nb201Space(), ctx, epochs=2, train_eval_images=300, **TINY)
    dm = r.datamodule()
    r.seed_run()
    module = r.module(r.build(GOOD), 2)
    trainer = r.trainer(2, name="hand")
    trainer.fit(module, datamodule=dm)
    values, seconds = score_protocols(trainer, module, dm, list(PASSES), train_eval_images=300, seed=0,
                                      batch_size=128)
    assert set(values) == set(PROTOCOLS) and set(seconds) == set(PASSES)
    sizes = {"val": 508, "test": 1017, "heldout_all": 508 + 1017, "train_eval": 300}
    for p in PASSES:
        x, y = pass_tensors(dm, p, 300, 0)
        assert len(y) == sizes[p]
        acc, neg_loss = _hand(module.model, x, y)
        metric = {proto: m for proto, (needs, m) in PROTOCOLS.items() if needs == p}
        for proto, m in metric.items():
            assert values[proto] == pytest.approx(acc if m == "acc" else neg_loss, abs=1e-5), proto
    # the free protocol is what the last epoch logged (CSVLogger's epoch mean of train_acc)
    rows = [row for row in csv.DictReader(open(next((ctx.log_dir).rglob("metrics.csv")))) if row.get("train_acc")]
    assert values["train_acc_last"] == pytest.approx(float(rows[-1]["train_acc"]), abs=1e-6)
    assert values["train_acc_last"] == module.epoch_train_acc[-1]


def test_the_training_subset_is_fixed_and_disjoint_from_held_out(ctx):
    r = RANKERS.create("train", Nb201Space(), ctx, epochs=1, **TINY)
    dm = r.datamodule()
    a, b = pass_tensors(dm, "train_eval", 200, 0), pass_tensors(dm, "train_eval", 200, 0)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], pass_tensors(dm, "train_eval", 200, 1)[0])
    heldout = {tuple(v.flatten()[:16].tolist()) for v in dm.split("val").tensors[0]}
    assert not any(tuple(v.flatten()[:16].tolist()) in heldout for v in a[0])


def test_score_option_picks_the_protocol_and_records_all(ctx):
    space = Nb201Space()
    (ev,) = RANKERS.create("train", space, ctx, epochs=1, score="heldout_all_neg_loss", record_protocols=True,
                           **TINY).evaluate([GOOD])
    assert ev.score == ev.info["protocols"]["heldout_all_neg_loss"] == ev.info["heldout_all_neg_loss"] < 0
    assert set(ev.info["protocol_seconds"]) == set(PASSES) and ev.info["score_protocol"] == "heldout_all_neg_loss"
    (free,) = RANKERS.create("train", space, ctx, epochs=1, score="train_acc_last", **TINY).evaluate([GOOD])
    assert free.score == free.info["train_acc"] and "protocols" not in free.info
    # same seed, same training: the free score is the recorded run's last-epoch accuracy
    assert free.score == ev.info["protocols"]["train_acc_last"]


def test_score_is_part_of_the_config_and_the_legacy_spelling_holds(ctx):
    space = Nb201Space()
    a = RANKERS.create("train", space, ctx, epochs=1, score="val_neg_loss", **TINY)
    b = RANKERS.create("train", space, ctx, epochs=1, **TINY)
    assert a.config()["score"] == "val_neg_loss" and b.config()["score"] == "val_acc"
    assert a.config_hash() != b.config_hash()
    assert RANKERS.create("train", space, ctx, score_split="test", **TINY).config()["score"] == "test_acc"
    assert callable(a.score)  # the option does not hide Ranker.score
    with pytest.raises(NasrankError, match="unknown score protocol 'val_los'"):
        RANKERS.create("train", space, ctx, score="val_los", **TINY)


def test_cli_takes_train_score(tmp_path, cifar10_dir, nb201_csv, capsys):
    out = tmp_path / "ev"
    rc = main(["evaluate", "--space", "nb201", "--benchmark", f"csv:{nb201_csv}", "--data-dir", str(cifar10_dir),
               "--sample", "2", "--rankers", "train", "--ranker-cfg",
               "score=train_eval_acc,epochs=1,channels=4,cells_per_stage=1,image_size=16,train_fraction=0.1",
               "--device", "cpu", "--output", str(out), "--no-logs"])
    assert rc == 0
    rows = list(csv.DictReader(open(out / "scores.csv")))
    assert len(rows) == 2 and all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    rc = main(["evaluate", "--space", "nb201", "--benchmark", f"csv:{nb201_csv}", "--data-dir", str(cifar10_dir),
               "--sample", "2", "--rankers", "train", "--ranker-cfg", "score=bogus", "--output", str(tmp_path / "x")])
    assert rc != 0 and "unknown score protocol 'bogus'" in capsys.readouterr().err


def test_fear_val_loss_score_keeps_the_documented_order():
    reached = {"stage2_train_acc": 0.4, "stage2_val_acc": 0.3, "stage2_val_loss": 5.0}
    s = stage2_score(reached, "val_loss")
    assert s == pytest.approx(2.718281828 ** -5.0) and 0.0 < s <= 1.0
    assert stage2_score(reached, "train") == 0.4 and stage2_score(reached, "val") == 0.3


def test_fear_records_held_out_loss_when_asked(ctx):
    r = RANKERS.create("fear", Nb201Space(), ctx, threshold=0.15, max_stage1_epochs=4, stage2_epochs=1,
                       stage2_batch_size=128, reject_ratio=None, score_split="val_loss", **TINY)
    (ev,) = r.evaluate([GOOD])
    assert ev.info["reached"] and ev.info["stage2_val_loss"] > 0
    import math
    assert ev.score == pytest.approx(math.exp(-ev.info["stage2_val_loss"]))
