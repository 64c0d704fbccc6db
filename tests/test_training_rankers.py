"""The training rankers (train, fear) and the cascade on a tiny NB201 network and the shared CIFAR-10 subset."""
from __future__ import annotations

import math

import pytest
import torch

from nasrank.errors import NasrankError
from nasrank.rankers import RunContext
from nasrank.rankers.cascade import FILTERED_SCORE
from nasrank.rankers.fear import REJECTED_SCORE, split_at_tail
from nasrank.registry import RANKERS
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space
from nasrank.rankers.fear_tail import fear_tail

TINY = dict(channels=4, cells_per_stage=1, image_size=16, train_fraction=0.1, batch_size=64)
GOOD = Nb201Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
CONVS = Nb201Arch(("nor_conv_3x3",) * 6)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def space():
    return Nb201Space()


@pytest.fixture
def ctx(cifar10_dir):
    return RunContext(data_dir=cifar10_dir, seed=0)


def test_train_ranker_scores_held_out_accuracy(space, ctx):
    r = RANKERS.create("train", space, ctx, epochs=1, **TINY)
    (ev,) = r.evaluate([GOOD])
    assert 0.0 <= ev.score <= 1.0
    assert ev.seconds > 0 and ev.device_seconds == pytest.approx(ev.seconds * ev.info["devices"])
    assert ev.info["epochs"] == 1 and ev.info["steps"] == r.steps_per_epoch() == math.ceil(458 / 64)
    assert 0.0 <= ev.info["train_acc"] <= 1.0 and ev.info["val_acc"] == ev.score


def test_training_rankers_need_data_and_valid_options(space, cifar10_dir, tmp_path):
    with pytest.raises(NasrankError, match="--data-dir"):
        RANKERS.create("train", space, RunContext(), epochs=1)
    with pytest.raises(NasrankError, match="does not take option"):
        RANKERS.create("fear", space, RunContext(data_dir=cifar10_dir), treshold=0.5)
    with pytest.raises(NasrankError, match="stage2"):
        RANKERS.create("fear", space, RunContext(data_dir=cifar10_dir), stage2="fast")
    assert RANKERS.create("fear", space, RunContext(data_dir=cifar10_dir)).threshold == 0.6
    with pytest.raises(NasrankError, match="cifar-100-python"):  # checked when built, before any training
        RANKERS.create("fear", space, RunContext(data_dir=cifar10_dir, dataset="cifar100"))
    c100 = tmp_path / "cifar-100-python"  # the files a reader opens (checked, not read, when built)
    c100.mkdir()
    for name in ("train", "test"):
        (c100 / name).write_bytes(b"")
    assert RANKERS.create("fear", space, RunContext(data_dir=tmp_path, dataset="cifar100")).threshold == 0.3


def test_fear_reaches_threshold_and_trains_only_the_tail(space, ctx):
    r = RANKERS.create("fear", space, ctx, threshold=0.15, stage2_epochs=2, check_every_steps=2, **TINY)
    model = r.build(GOOD)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    stop, _, info = r.stage1(model, "t")
    assert stop.reached and info["stage1_steps"] == stop.steps > 0
    assert stop.acc_at_stop >= 0.15 and stop.seconds > 0 and 0 < stop.epochs <= r.max_stage1_epochs
    after1 = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert any(not torch.equal(before[k], after1[k]) for k in before)  # stage 1 trains everything
    tail = fear_tail(space, model)
    tail_keys = {f"{n}.{k}" for n, m in model.named_modules() if any(m is t for t in tail) for k in m.state_dict()}
    assert tail_keys and any(k.startswith("classifier") for k in tail_keys)
    out = r.stage2_cached(model, tail, "t")
    after2 = model.state_dict()
    assert 0.0 <= out["stage2_train_acc"] <= 1.0 and out["stage2_steps"] == 2
    for k in before:
        if k in tail_keys:
            continue
        assert torch.equal(after1[k], after2[k]), f"frozen {k} changed in stage 2"
    changed = [k for k in tail_keys if after2[k].is_floating_point() and not torch.equal(after1[k], after2[k])]
    assert any(k.startswith("classifier") for k in changed) and any(k.startswith("cells") for k in changed)


def test_fear_evaluate_cached_and_exact(space, ctx):
    for mode in ("cached", "exact"):
        r = RANKERS.create("fear", space, ctx, threshold=0.15, stage2_epochs=1, stage2=mode, **TINY)
        (ev,) = r.evaluate([GOOD])
        i = ev.info
        assert i["reached"] and not i["rejected"] and i["stage2"] == mode and "stage2_fallback" not in i
        assert 0.0 <= ev.score <= 1.0 and ev.score == i["stage2_train_acc"]
        assert i["time_to_threshold_steps"] > 0 and i["time_to_threshold_epochs"] > 0
        assert 0 < i["time_to_threshold_seconds"] < ev.seconds
        assert r.t_min["steps"] == i["time_to_threshold_steps"]


def test_fear_exact_freezes_prefix(space, ctx):
    r = RANKERS.create("fear", space, ctx, threshold=0.15, stage2_epochs=1, stage2="exact", **TINY)
    model = r.build(GOOD)
    tail = fear_tail(space, model)
    stem = model.stem[0].weight.detach().clone()
    bn_mean = model.stem[1].running_mean.clone()
    cls = model.classifier.weight.detach().clone()
    r.stage2_exact(model, tail, "t")
    assert torch.equal(model.stem[0].weight, stem) and torch.equal(model.stem[1].running_mean, bn_mean)
    assert not torch.equal(model.classifier.weight, cls)


def test_cached_split_matches_model(space):
    model = space.build(GOOD, channels=4, cells_per_stage=2).eval()
    prefix, tail_net, n = split_at_tail(model, fear_tail(space, model))
    x = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(tail_net(*prefix(x)), model(x), atol=1e-5)
    assert n >= 1


def test_fear_early_rejection_charges_partial_cost(space, ctx):
    r = RANKERS.create("fear", space, ctx, threshold=0.15, stage2_epochs=1, reject_ratio=0.01, reject_by="steps",
                       **TINY)
    first = r.evaluate([GOOD])[0]
    assert first.info["reached"] and r.t_min["steps"] > 0
    (ev,) = r.evaluate([CONVS])
    assert ev.info["rejected"] and ev.score == REJECTED_SCORE and "stage2" not in ev.info
    assert ev.info["stage1_steps"] == 1 and ev.seconds > 0  # stopped after the first step, still charged
    assert (first.status, ev.status) == ("ok", "rejected")
    r2 = RANKERS.create("fear", space, ctx, threshold=0.99, max_stage1_epochs=1, reject_ratio=None, **TINY)
    (nr,) = r2.evaluate([GOOD])
    assert not nr.info["reached"] and not nr.info["rejected"] and -1.0 <= nr.score < 0.0
    assert nr.status == "not_reached"


def test_cascade_filters_stream(space, cifar10_dir, nb201_bench):
    ctx = RunContext(benchmark=nb201_bench, data_dir=cifar10_dir)
    r = RANKERS.create("cascade", space, ctx, first="params", second="tabular", keep_fraction=0.5)
    assert r.name == "params>tabular"
    small = Nb201Arch(("skip_connect",) * 6)
    evs = r.evaluate([CONVS, small]) + r.evaluate([GOOD])
    assert [e.info["kept"] for e in evs] == [True, False, True]
    assert [e.status for e in evs] == ["ok", "filtered", "ok"]
    assert evs[0].score == nb201_bench.true_accuracy(CONVS)
    assert FILTERED_SCORE <= evs[1].score < FILTERED_SCORE + 1
    assert evs[0].seconds > evs[0].info["first_seconds"]


def test_fear_freeze_point_moves_with_tail_cells(space, ctx):
    """``tail_cells`` is FEAR's freeze point: the tail grows by whole cells; a bad value is one clear error."""
    model = space.build(GOOD, channels=4, cells_per_stage=2)  # 2 + 1 + 2 + 1 + 2 = 8 cells
    cells = list(model.cells)
    assert fear_tail(space, model) == [*cells[-2:], model.lastact, model.classifier]  # default: the last stage
    assert fear_tail(space, model, cells=5) == [*cells[-5:], model.lastact, model.classifier]
    for bad, msg in ((0, "positive"), (8, "only 7 cells"), (2.5, "positive")):
        with pytest.raises(NasrankError, match=msg):
            fear_tail(space, model, cells=bad)
    r = RANKERS.create("fear", space, ctx, threshold=0.15, stage2_epochs=1, tail_cells=1, **TINY)
    net = r.build(GOOD)
    assert r.tail(net)[0] is list(net.cells)[-1] and len(r.tail(net)) == 3
    with pytest.raises(NasrankError, match="tail_cells"):
        RANKERS.create("fear", space, ctx, tail_cells=0, **TINY)
    too_deep = RANKERS.create("fear", space, ctx, threshold=0.15, tail_cells=50, **TINY)
    with pytest.raises(NasrankError, match="tail_cells=50"):
        too_deep.evaluate_one(GOOD)  # fails before training, not after stage 1


@pytest.mark.parametrize("keep_fraction", [0.25, 0.5])
def test_cascade_keep_fraction_is_a_quota_over_the_run(space, cifar10_dir, nb201_bench, keep_fraction):
    """Fed one candidate at a time (as a search does), at most ceil(f × n) candidates ever reach the second ranker.

    The old rule (top fraction of the stream so far, no cap) sent 29 of 60 candidates (48%) to FEAR at 0.25.
    """
    import numpy as np

    ctx = RunContext(benchmark=nb201_bench, data_dir=cifar10_dir)
    r = RANKERS.create("cascade", space, ctx, first="params", second="tabular", keep_fraction=keep_fraction)
    reached: list[int] = []
    second = r.second_ranker.evaluate
    r.second_ranker.evaluate = lambda archs, on_result=None: (reached.append(len(archs)), second(archs))[1]
    rng = np.random.default_rng(3)
    archs = [space.sample(rng) for _ in range(60)]
    kept = [r.evaluate([a])[0].info["kept"] for a in archs]
    for n in range(1, 61):
        assert sum(kept[:n]) <= math.ceil(keep_fraction * n)
    assert sum(reached) == sum(kept) and 0.6 * keep_fraction * 60 <= sum(kept) <= math.ceil(keep_fraction * 60)
    assert kept[0]  # the first candidate is the top of its stream
