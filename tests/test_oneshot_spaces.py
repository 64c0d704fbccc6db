"""The supernet contract on NB101 and DARTS: networks, samplers, canonical routing, the CLI, the ranker."""
from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import shared
from nasrank.errors import NasrankError
from nasrank.lightning_modules.supernet import CKPT_KEY, SupernetModule, load_supernet
from nasrank.rankers.base import RunContext
from nasrank.spaces.darts import DartsArch, DartsSpace
from nasrank.spaces.nb101 import Nb101Arch, Nb101Space
from nasrank.spaces.nb101_classes import _live_spec, canonical_form, class_counts, representations

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
X = torch.randn(4, 3, 16, 16)
# a chain input -> conv3 -> conv1 -> output, and the same cell with its two middle nodes numbered the other way
CHAIN = Nb101Arch.create([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
                         ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"])
DIAMOND_A = Nb101Arch.create([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                             ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
DIAMOND_B = Nb101Arch.create([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                             ["input", "maxpool3x3", "conv3x3-bn-relu", "output"])


def test_nb101_supernet_runs_every_kind_of_cell_and_only_trains_its_path():
    space = Nb101Space()
    net = space.supernet().build(4, 1, 7)
    rng = np.random.default_rng(0)
    skip = Nb101Arch.create([[0, 1], [0, 0]], ["input", "output"])  # input -> output only
    odd = Nb101Arch.create(np.triu(np.ones((7, 7), dtype=int), 1) * 0 + np.eye(7, k=1, dtype=int)
                           + np.eye(7, k=6, dtype=int), ["input", *["conv3x3-bn-relu"] * 5, "output"])
    for arch in [space.sample(rng) for _ in range(12)] + [skip, odd, CHAIN, DIAMOND_A]:
        assert net(X, arch).shape == (4, 7)
    net.zero_grad()
    net(X, CHAIN).logsumexp(1).sum().backward()
    cell = net.layers[0]
    assert cell.conv3[0].conv.weight.grad is not None and cell.conv1[1].conv.weight.grad is not None
    assert cell.conv1[0].conv.weight.grad is None and cell.conv3[1].conv.weight.grad is None
    assert cell.conv3[2].conv.weight.grad is None  # slot 3 is not in a 4-node cell


def test_nb101_sub_network_is_the_benchmark_network_with_sliced_weights():
    """A sampled path computes exactly ``Nb101Network`` whose convs are slices of the shared weights."""
    from nasrank.spaces.nb101_ops import Nb101Network
    from nasrank.spaces.nb101_supernet import SLOTS

    torch.manual_seed(0)
    net = Nb101Space().supernet().build(6, 1, 10)
    for arch in [DIAMOND_A, *Nb101Space().sample_many(5, np.random.default_rng(3))]:
        m, ops = arch._pruned
        ref = Nb101Network(m, ops, stem_channels=6, num_stacks=3, cells_per_stack=1)
        ref.stem.load_state_dict(net.stem.state_dict())
        ref.classifier.load_state_dict(net.classifier.state_dict())
        n = len(ops)
        with torch.no_grad():
            for cell, sup in zip(ref.cells, [c for c in net.layers if hasattr(c, "proj")]):
                for t in range(1, n):
                    c = cell.channels[t]
                    if m[0, t]:
                        proj = sup.proj[SLOTS if t == n - 1 else t - 1].conv.weight
                        cell.input_ops[t].conv.weight.copy_(proj[:c])
                    if t < n - 1 and ops[t] != "maxpool3x3":
                        shared = (sup.conv3 if ops[t] == "conv3x3-bn-relu" else sup.conv1)[t - 1].conv.weight
                        cell.vertex_ops[t].conv.weight.copy_(shared[:c, :c])
        ref.train()
        net.train()
        assert torch.allclose(ref(X), net(X, arch), atol=1e-5), str(arch)


def test_nb101_canonical_form_merges_isomorphic_numberings_only():
    assert canonical_form(DIAMOND_A) == canonical_form(DIAMOND_B) and DIAMOND_A.hash == DIAMOND_B.hash
    assert canonical_form(CHAIN) != canonical_form(DIAMOND_A)
    assert representations(CHAIN) == 1 and representations(DIAMOND_A) == 2
    # every live 4-node spec: the canonical forms are exactly the benchmark's hash classes
    forms, hashes = set(), set()
    for bits in itertools.product((0, 1), repeat=6):
        m = np.zeros((4, 4), dtype=int)
        m[np.triu_indices(4, 1)] = bits
        if not (m[:, 1:].any(axis=0).all() and m[:-1].any(axis=1).all()):
            continue
        for ops in itertools.product(("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"), repeat=2):
            a = Nb101Arch.create(m, ["input", *ops, "output"])
            forms.add(canonical_form(a))
            hashes.add(a.hash)
    assert len(forms) == len(hashes) == 84
    counts = class_counts()
    assert counts[1] == pytest.approx(6, rel=0.1) and counts[2] == pytest.approx(84, rel=0.1)


def test_nb101_deiso_sampler_is_uniform_over_classes():
    from scipy import stats

    from nasrank.spaces.nb101_classes import DeisoSampler

    provider = Nb101Space().supernet()
    deiso = provider.sampler("deiso", np.random.default_rng(0))
    draws = [deiso() for _ in range(150)]
    assert all(canonical_form(a) == a for a in draws)  # canonical forms
    # most classes have 7 nodes, but the benchmark's uniform 7-node specs prune to small cells
    assert np.mean([a.n for a in draws]) > 6.5
    uniform = provider.sampler("uniform", np.random.default_rng(0))
    assert np.mean([uniform().pruned().n for _ in range(150)]) < 5.0
    sampler = DeisoSampler(np.random.default_rng(1))
    sampler.p = np.array([0, 0, 1.0, 0, 0, 0])  # only 4-node cells: each of the 84 classes equally likely
    got = Counter(sampler() for _ in range(1700))
    assert len(got) == 84 and stats.chisquare(list(got.values())).pvalue > 1e-3
    fair = provider.sampler("fair", np.random.default_rng(2))
    block = [fair() for _ in range(3)]
    for v in range(1, 6):
        assert sorted(a.ops[v] for a in block) == sorted(("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"))


def test_darts_supernet_single_path_and_pair_order():
    space = DartsSpace()
    net = space.supernet().build(4, 1, 10)
    a = space.sample(np.random.default_rng(0))
    swapped = DartsArch(tuple(p for k in range(4) for p in reversed(a.normal[2 * k:2 * k + 2])), a.reduce)
    net.eval()
    assert torch.equal(net(X, a), net(X, swapped))  # a node's two pairs in either order: one path
    assert len(net.cells) == 5 and [c.reduction for c in net.cells] == [False, True, False, True, False]
    fair = space.supernet().sampler("fair", np.random.default_rng(0))
    block = [fair() for _ in range(7)]
    for e in range(8):
        assert len({b.normal[e][0] for b in block}) == 7 and len({b.reduce[e][0] for b in block}) == 7
    with pytest.raises(NasrankError, match="sampling 'deiso' for space 'darts'"):
        SupernetModule(space="darts", sampling="deiso", channels=4, cells_per_stage=1)
    with pytest.raises(NasrankError, match="partition rule 'edge' for space 'darts'"):
        SupernetModule(space="darts", num_supernets=2, partition="edge", channels=4, cells_per_stage=1)


def test_k2_supernets_split_nb101_by_class():
    module = SupernetModule(space="nb101", num_supernets=2, channels=4, cells_per_stage=1)
    for k, sampler in enumerate(module.samplers()):
        for _ in range(10):
            a = sampler()
            assert module.route(a)[0] == k
    assert module.route(DIAMOND_A)[0] == module.route(DIAMOND_B)[0]


@pytest.mark.parametrize("space", ["nb101", "darts"])
def test_cli_trains_and_evaluate_scores_the_truth_table(space, tmp_path, cifar10_dir):
    from nasrank.cli import main

    ckpt = tmp_path / "sn.ckpt"
    assert main(["supernet", "train", "--space", space, "--epochs", "1", "--channels", "4", "--cells-per-stage", "1",
                 "--image-size", "16", "--train-fraction", "0.03", "--batch-size", "64", "--data-dir",
                 str(cifar10_dir), "--device", "cpu", "--quiet", "--no-logs", "--output", str(ckpt)]) == 0
    module, info = load_supernet(ckpt)
    assert module.hparams.space == space and info["epochs_done"] == 1
    assert main(["supernet", "info", str(ckpt)]) == 0
    table = shared("nb101", "nb101_cifar10_500.csv") if space == "nb101" else shared("nb301", "nb301_cifar10_725.csv")
    out = tmp_path / "ev"
    rc = main(["evaluate", "--space", space, "--benchmark", f"csv:{table}", "--rankers", "oneshot", "--ranker-cfg",
               f"oneshot.supernet={ckpt}", "--ranker-cfg", "oneshot.val_images=64", "--ranker-cfg",
               "oneshot.batch_size=64", "--sample", "6", "--data-dir", str(cifar10_dir), "--device", "cpu",
               "--output", str(out), "--quiet", "--no-plots"])
    assert rc == 0
    import csv

    rows = list(csv.DictReader((out / "scores.csv").open()))
    assert len(rows) == 6 and all(-20 < float(r["score"]) < 0 for r in rows)  # negative loss, finite
    assert all(r["ranker"] == "oneshot" and r["true_acc"] for r in rows)
    other = "darts" if space == "nb101" else "nb101"
    other_table = shared("nb301", "nb301_cifar10_725.csv") if space == "nb101" else shared("nb101", "nb101_cifar10_500.csv")
    assert main(["evaluate", "--space", other, "--benchmark", f"csv:{other_table}", "--rankers", "oneshot",
                 "--ranker-cfg", f"oneshot.supernet={ckpt}", "--sample", "2", "--data-dir", str(cifar10_dir), "--device", "cpu", "--output",
                 str(tmp_path / "bad"), "--quiet", "--no-plots"]) == 2  # trained on another space


def test_space_without_a_supernet_is_refused_by_train(tmp_path, cifar10_dir, capsys):
    from nasrank.cli import main

    assert main(["supernet", "train", "--space", "nds_resnet", "--epochs", "1", "--data-dir", str(cifar10_dir),
                 "--output", str(tmp_path / "x.ckpt")]) == 2
    assert "provides no supernet" in capsys.readouterr().err


@pytest.mark.parametrize("space", ["nb101", "darts"])
def test_committed_checkpoint_loads_with_weights_only_and_reproduces_its_scores(space, cifar10_dir):
    from nasrank.rankers.oneshot import OneShotRanker
    from nasrank.registry import SPACES

    path = RESULTS / f"oneshot_{space}_supernet.pt"
    raw = torch.load(path, map_location="cpu", weights_only=True)
    weights = "packed_state_dict" if space == "darts" else "state_dict"  # darts: one flat tensor per dtype
    assert set(raw) == {"hyper_parameters", weights, CKPT_KEY} and raw["hyper_parameters"]["space"] == space
    assert path.stat().st_size < 1_000_000
    meta = json.loads(path.with_suffix(".json").read_text())
    sp = SPACES.create(space)
    check = meta["check_scores"]
    ranker = OneShotRanker(sp, RunContext(data_dir=str(cifar10_dir), device="cpu", seed=0), supernet=str(path),
                           **check["ranker_cfg"])
    got = ranker.score([sp.from_string(a) for a in check["archs"]])
    assert got == pytest.approx(check["scores"], abs=1e-5)


def test_a_users_space_gets_an_ose_from_a_provider(tmp_path, cifar10_dir):
    """examples/custom_supernet.py: a user's space trains a supernet and ranks with `oneshot`."""
    import sys

    repo = str(Path(__file__).resolve().parents[1])
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from examples.custom_space import TinyCnnSpace
    from examples.custom_supernet import TinyCnnSupernetSpace
    from nasrank.cli import main
    from nasrank.rankers.oneshot import OneShotRanker

    name = "examples.custom_supernet:TinyCnnSupernetSpace"
    ckpt = tmp_path / "tiny.ckpt"
    assert main(["supernet", "train", "--space", name, "--epochs", "1", "--image-size", "16", "--train-fraction",
                 "0.03", "--batch-size", "64", "--data-dir", str(cifar10_dir), "--device", "cpu", "--quiet",
                 "--no-logs", "--output", str(ckpt)]) == 0
    space = TinyCnnSupernetSpace()
    ranker = OneShotRanker(space, RunContext(data_dir=str(cifar10_dir), device="cpu"), supernet=str(ckpt),
                           val_images=64, batch_size=64)
    archs = [space.from_string(s) for s in ("8k3", "32k5-16k3", "16k5-8k3-32k3")]
    scores = ranker.score(archs)
    assert all(np.isfinite(scores)) and len(set(scores)) == 3
    with pytest.raises(NasrankError, match="does not support space 'tiny_cnn': it needs a space that provides"):
        OneShotRanker(TinyCnnSpace(), RunContext(), supernet=str(ckpt))


def test_packed_export_round_trips_every_tensor(tmp_path):
    from nasrank.lightning_modules.supernet import pack_state, unpack_state

    state = SupernetModule(space="darts", channels=4, cells_per_stage=1).state_dict()
    back = unpack_state(pack_state(state))
    assert list(back) == list(state) and all(torch.equal(back[k], state[k]) and back[k].dtype == state[k].dtype
                                             for k in state)
