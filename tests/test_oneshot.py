"""One-shot ranker: NB201 supernet, samplers, reduced sharing, training via Trainer, scoring."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import torch
from scipy import stats

from nasrank.errors import NasrankError
from nasrank.lightning_modules.supernet import SupernetModule, load_supernet
from nasrank.rankers.base import RunContext
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space, live_edges, unique_string
from nasrank.spaces.nb201_ops import OPS
from nasrank.spaces.nb201_supernet import (ArchSampler, Nb201Supernet, partition_members, partition_of,
                                           representative, representatives)

TINY = dict(channels=4, cells_per_stage=1)
# isomorphic: a skip on 1<-0 makes node 1 an alias of the input
ISO_A = Nb201Arch(("skip_connect", "nor_conv_3x3", "none", "none", "none", "nor_conv_1x1"))
ISO_B = Nb201Arch(("skip_connect", "none", "nor_conv_3x3", "none", "none", "nor_conv_1x1"))
OTHER = Nb201Arch(("nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_3x3", "nor_conv_3x3"))


@pytest.fixture(scope="module")
def space():
    return Nb201Space()


def test_supernet_forward_shapes(space):
    net = Nb201Supernet(num_classes=7, **TINY)
    x = torch.randn(3, 3, 16, 16)
    rng = np.random.default_rng(0)
    for arch in [space.sample(rng) for _ in range(6)] + [Nb201Arch(("none",) * 6), OTHER]:
        assert net(x, arch).shape == (3, 7)
        assert net(x, arch.ops).shape == (3, 7)
    # non-affine BN inside cells, affine BN in the stem
    cell = net.cells[0]
    assert cell.edges[0]["nor_conv_3x3"].op[2].affine is False
    assert net.stem[1].affine is True


def test_params_off_the_live_path_get_no_gradient():
    # edge 1<-0 (conv) is dead: node 1 has only `none` outputs; 3<-0 and 3<-2 are live
    arch = Nb201Arch(("nor_conv_3x3", "nor_conv_1x1", "none", "nor_conv_3x3", "none", "nor_conv_3x3"))
    assert live_edges(arch) == [False, True, False, True, False, True]
    net = Nb201Supernet(**TINY)
    net(torch.randn(4, 3, 16, 16), arch).logsumexp(1).sum().backward()
    on_path = {id(p) for p in net.path_parameters(arch)}
    for name, p in net.named_parameters():
        if id(p) in on_path:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, f"{name} is off the path of {arch} but got a gradient"
    assert any(".0.nor_conv_3x3." in n for n, p in net.named_parameters() if id(p) not in on_path)


def test_deiso_sampler_is_uniform_over_the_6466_classes():
    reps = representatives()
    assert len(reps) == 6466 == len({unique_string(r) for r in reps})
    assert all(representative(r) == r for r in reps)
    assert representative(ISO_A) == representative(ISO_B) != representative(OTHER)
    n = 130_000
    sampler = ArchSampler("deiso", np.random.default_rng(0))
    counts = Counter(unique_string(sampler()) for _ in range(n))
    assert len(counts) == 6466  # every class, nothing else
    assert stats.chisquare(list(counts.values())).pvalue > 1e-3
    # uniform sampling over cells is far from uniform over classes
    uni = ArchSampler("uniform", np.random.default_rng(0))
    ucounts = Counter(unique_string(uni()) for _ in range(20_000))
    zero = unique_string(Nb201Arch(("none",) * 6))  # ~1.5% of all cells, 1/6466 of the classes
    assert ucounts[zero] > 150 and Counter(unique_string(sampler()) for _ in range(20_000))[zero] < 15


def test_fair_sampler_uses_each_op_once_per_edge_per_5_samples():
    sampler = ArchSampler("fair", np.random.default_rng(3))
    seen = set()
    for _ in range(40):
        block = [sampler() for _ in range(5)]
        seen.update(block)
        for e in range(6):
            assert sorted(a.ops[e] for a in block) == sorted(OPS)
    assert len(seen) > 100  # permutations are random, not a fixed cycle
    with pytest.raises(NasrankError, match="fair"):
        ArchSampler("fair", np.random.default_rng(0), num_parts=2)
    with pytest.raises(NasrankError, match="sampling"):
        ArchSampler("bogus", np.random.default_rng(0))


@pytest.mark.parametrize("rule", ["edge", "hash"])
def test_k2_partition_covers_the_space_disjointly(space, rule):
    parts = [set(partition_members(2, rule, p, False)) for p in range(2)]
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    assert parts[0] | parts[1] == set(space.all_archs())
    keys = [{unique_string(a) for a in p} for p in parts]
    assert not keys[0] & keys[1]  # a whole isomorphism class lies in one part
    reps = [set(partition_members(2, rule, p, True)) for p in range(2)]
    assert reps[0] | reps[1] == set(representatives()) and not reps[0] & reps[1]
    sampler = ArchSampler("uniform", np.random.default_rng(0), num_parts=2, part=1, rule=rule)
    assert all(partition_of(sampler(), 2, rule) == 1 for _ in range(200))
    with pytest.raises(NasrankError, match="at most 5"):
        SupernetModule(num_supernets=6, partition="edge", **TINY)


class _GradProbe(SupernetModule):
    """Fixed archs per step; records the gradients Lightning is about to step with."""

    fixed: list = []
    grads: dict = {}

    def draw(self):
        return list(self.fixed)

    def on_before_optimizer_step(self, optimizer):
        type(self).grads = {n: p.grad.clone() for n, p in self.named_parameters() if p.grad is not None}


def test_archs_per_step_averages_the_gradients(cifar10_dir):
    import lightning as L

    from nasrank.lightning_modules.data import ImageDataModule

    dm = ImageDataModule("cifar10", cifar10_dir, batch_size=32, train_fraction=0.007, image_size=16, augment=False)
    archs = [ISO_A, OTHER]
    _GradProbe.fixed = [(0, a) for a in archs]
    torch.manual_seed(0)
    module = _GradProbe(archs_per_step=2, **TINY)
    ref = Nb201Supernet(**TINY)
    ref.load_state_dict(module.supernets[0].state_dict())
    x, y = next(iter(dm.train_dataloader()))
    for a in archs:
        (torch.nn.functional.cross_entropy(ref(x, a), y) / 2).backward()
    trainer = L.Trainer(accelerator="cpu", max_steps=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                        gradient_clip_val=1e6)
    # one batch of 32 is the whole split, so shuffling does not change the batch
    trainer.fit(module, datamodule=dm)
    assert len(dm.split("train")) <= 32
    for n, p in ref.named_parameters():
        if p.grad is None:
            assert f"supernets.0.{n}" not in _GradProbe.grads
            continue
        got = _GradProbe.grads[f"supernets.0.{n}"]
        assert torch.allclose(got, p.grad, atol=1e-5, rtol=1e-4), n


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, cifar10_dir):
    """A K=2, canonically routed, deiso-trained tiny supernet, trained through the CLI."""
    from nasrank.cli import main

    out = tmp_path_factory.mktemp("supernet") / "sn.ckpt"
    rc = main(["supernet", "train", "--space", "nb201", "--sampling", "deiso", "--epochs", "2", "--seed", "1",
               "--dataset", "cifar10", "--data-dir", str(cifar10_dir), "--output", str(out), "--num-supernets", "2",
               "--canonical-routing", "--channels", "4", "--cells-per-stage", "1", "--image-size", "16",
               "--train-fraction", "0.05", "--batch-size", "64", "--archs-per-step", "2", "--save-epochs", "1",
               "--device", "cpu"])
    assert rc == 0
    return out


def test_trained_checkpoint_stores_config_and_cost(ckpt):
    module, info = load_supernet(ckpt)
    hp = module.hparams
    assert (hp.sampling, hp.num_supernets, hp.canonical_routing, hp.epochs, hp.seed) == ("deiso", 2, True, 2, 1)
    assert (hp.channels, hp.cells_per_stage, hp.image_size, hp.train_fraction) == (4, 1, 16, 0.05)
    assert info["epochs_done"] == 2 and info["train_seconds"] > 0 and info["global_step"] == 8
    _, info1 = load_supernet(ckpt.with_name("sn-ep1.ckpt"))
    assert info1["epochs_done"] == 1 and 0 < info1["train_seconds"] < info["train_seconds"]
    # one training record per epoch (mean loss/acc of the sampled paths), the intermediate one included
    assert [h["epoch"] for h in info["train_history"]] == [1, 2]
    assert info1["train_history"] == info["train_history"][:1]
    assert all(0.0 <= h["train_acc"] <= 1.0 and h["train_loss"] > 0 for h in info["train_history"])
    assert len(module.supernets) == 2


def test_ranker_scores_and_canonical_routing(ckpt, space, cifar10_dir):
    from nasrank.experiments.build import make_ranker

    ctx = RunContext(dataset="cifar10", data_dir=str(cifar10_dir), device="cpu", seed=0)
    ranker = make_ranker("oneshot", space, ctx, {"supernet": str(ckpt), "val_images": 96, "batch_size": 48,
                                                "metric": "acc", "bn_recalibrate_batches": 0})
    archs = [ISO_A, ISO_B, OTHER, Nb201Arch(("none",) * 6)]
    evs = ranker.evaluate(archs)
    assert len(evs) == 4 and all(e.valid and 0.0 <= e.score <= 1.0 for e in evs)
    assert evs[0].score == evs[1].score  # isomorphic cells share one path
    train_s = ranker.checkpoint_info["train_seconds"]
    assert sum(e.seconds for e in evs) == pytest.approx(train_s + 4 * evs[0].info["scoring_seconds"], rel=1e-6)
    assert evs[0].info["amortized_train_seconds"] == pytest.approx(train_s / 4)
    more = ranker.evaluate([OTHER])  # later calls pay scoring only
    assert more[0].seconds == pytest.approx(more[0].info["scoring_seconds"]) and more[0].score == evs[2].score
    assert more[0].info["archs_scored"] == 5
    neg = make_ranker("oneshot", space, ctx, {"supernet": str(ckpt), "val_images": 96, "metric": "neg_loss",
                                              "bn_recalibrate_batches": 2, "batch_size": 48})
    nl = neg.score([ISO_A, ISO_B, OTHER])
    assert all(np.isfinite(nl)) and all(s < 0 for s in nl) and nl[0] == nl[1]


def test_only_canonical_routing_makes_isomorphic_cells_share_a_path():
    from nasrank.lightning_modules.supernet_scoring import score_archs

    x, y = torch.randn(32, 3, 16, 16), torch.randint(0, 10, (32,))
    for routing in (False, True):
        torch.manual_seed(0)
        module = SupernetModule(canonical_routing=routing, **TINY)
        a, b, c = score_archs(module, [ISO_A, ISO_B, OTHER], x, y, metrics=("neg_loss",))["neg_loss"]
        assert (a == b) is routing and a != c


def test_missing_checkpoint_is_a_clear_error(space, tmp_path):
    from nasrank.rankers.oneshot import OneShotRanker

    missing = tmp_path / "nope.ckpt"
    with pytest.raises(NasrankError, match="nope.ckpt"):
        OneShotRanker(space, RunContext(), supernet=str(missing))
    with pytest.raises(NasrankError, match="supernet=CKPT"):
        OneShotRanker(space, RunContext())
    bad = tmp_path / "bad.ckpt"
    torch.save({"state_dict": {}}, bad)
    r = OneShotRanker(space, RunContext(), supernet=str(bad))
    with pytest.raises(NasrankError, match="not a supernet checkpoint"):
        r.evaluate([OTHER])
    from nasrank.cli import main

    assert main(["supernet", "info", str(missing)]) == 2


def test_search_with_the_oneshot_ranker(ckpt, cifar10_dir, tmp_path):
    from nasrank.cli import main

    out = tmp_path / "run"
    rc = main(["search", "--space", "nb201", "--searcher", "random", "--ranker", "oneshot", "--ranker-cfg",
               f"supernet={ckpt},val_images=64", "--data-dir", str(cifar10_dir), "--device", "cpu",
               "--budget-queries", "3", "--output", str(out), "--quiet"])
    assert rc == 0
    lines = (out / "history.jsonl").read_text().splitlines()
    assert len(lines) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ranker"] == "oneshot" and summary["n_invalid"] == 0
