"""One-shot scoring protocols (BN mode, held-out size, metric), the slim export and the committed checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nasrank.lightning_modules.supernet import CKPT_KEY, SupernetModule, export_supernet, load_supernet
from nasrank.lightning_modules.supernet_scoring import score_archs, score_batches, scores_from_batches
from nasrank.rankers.base import RunContext
from nasrank.rankers.oneshot import OneShotRanker
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

TINY = dict(channels=4, cells_per_stage=1)
ARCHS = [Nb201Arch(("nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_3x3", "nor_conv_3x3")),
         Nb201Arch(("nor_conv_1x1", "skip_connect", "none", "nor_conv_3x3", "avg_pool_3x3", "skip_connect"))]
COMMITTED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "oneshot_nb201_supernet.pt"


def _module(seed: int = 0) -> SupernetModule:
    torch.manual_seed(seed)
    return SupernetModule(image_size=16, train_fraction=0.05, **TINY)


def _bn_buffers(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items() if "running_" in k}


def test_recalibration_changes_bn_statistics_only_not_weights():
    module = _module()
    weights = {k: p.detach().clone() for k, p in module.named_parameters()}
    before = _bn_buffers(module)
    x, y = torch.randn(24, 3, 16, 16), torch.randint(0, 10, (24,))
    recal = [torch.randn(16, 3, 16, 16) * 2 + 1 for _ in range(2)]
    score_archs(module, ARCHS, x, y, metrics=("acc", "neg_loss"), recal_batches=recal)
    for k, p in module.named_parameters():
        assert torch.equal(p, weights[k]), f"recalibration changed weight {k}"
    after = _bn_buffers(module)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed, "recalibration did not touch any BN running statistic"
    # the last arch's stem BN statistics are the cumulative average over the recal batches' stem outputs
    stem = module.supernets[0].stem
    with torch.no_grad():
        conv_out = torch.cat([stem[0](b) for b in recal])
    assert torch.allclose(after["supernets.0.stem.1.running_mean"], conv_out.mean((0, 2, 3)), atol=1e-5)
    assert module.training  # left in train mode


def test_recalibrated_scores_do_not_depend_on_the_held_out_batching():
    """Eval-mode BN normalises every image alike; batch statistics depend on the batch."""
    module = _module()
    x, y = torch.randn(40, 3, 16, 16), torch.randint(0, 10, (40,))
    recal = [torch.randn(20, 3, 16, 16)]
    whole = score_archs(module, ARCHS, x, y, batch_size=40, metrics=("neg_loss",), recal_batches=recal)
    split = score_archs(module, ARCHS, x, y, batch_size=20, metrics=("neg_loss",), recal_batches=recal)
    assert np.allclose(whole["neg_loss"], split["neg_loss"], atol=1e-5)
    bw = score_archs(module, ARCHS, x, y, batch_size=40, metrics=("neg_loss",))
    bs = score_archs(module, ARCHS, x, y, batch_size=20, metrics=("neg_loss",))
    assert not np.allclose(bw["neg_loss"], bs["neg_loss"], atol=1e-5)


def test_batch_counts_add_up_to_the_scores():
    module = _module()
    x, y = torch.randn(30, 3, 16, 16), torch.randint(0, 10, (30,))
    counts = score_batches(module, ARCHS, x, y, batch_size=12)
    assert counts.shape == (2, 3, 3) and counts[:, :, 2].tolist() == [[12, 12, 6]] * 2
    acc = scores_from_batches(counts, ("acc",))["acc"]
    assert acc == pytest.approx((counts[:, :, 0].sum(1) / 30).tolist())
    halves = scores_from_batches(counts[:, :1], ("acc", "neg_loss"))
    assert halves["acc"] == pytest.approx((counts[:, 0, 0] / 12).tolist())
    assert all(v < 0 for v in halves["neg_loss"])


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory) -> Path:
    """An untrained tiny supernet written in the trainer's checkpoint layout (plus optimizer junk)."""
    module = _module()
    path = tmp_path_factory.mktemp("sn") / "tiny.ckpt"
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict(),
                "optimizer_states": [{"state": {0: {"momentum_buffer": torch.zeros(1000)}}}],
                CKPT_KEY: {"train_seconds": 1.5, "train_device_seconds": 1.5, "epochs_done": 3, "global_step": 9,
                           "train_history": [{"epoch": 1, "train_loss": 2.3, "train_acc": 0.1}], "format": 1}}, path)
    return path


def test_recalibrated_ranker_is_reproducible_under_a_seed(tiny_ckpt, cifar10_dir):
    space = Nb201Space()

    def scores(seed: int) -> list[float]:
        r = OneShotRanker(space, RunContext(data_dir=str(cifar10_dir), device="cpu", seed=seed), supernet=str(tiny_ckpt),
                          val_images=64, batch_size=32, bn_recalibrate_batches=2, metric="neg_loss")
        return r.score(ARCHS)

    a, b, c = scores(0), scores(0), scores(1)
    assert a == b  # same seed: same recalibration batches, same scores
    assert a != c  # another seed draws other recalibration batches


def test_export_is_slim_weights_only_and_scores_alike(tiny_ckpt, tmp_path, cifar10_dir):
    dst = tmp_path / "slim.pt"
    record = export_supernet(tiny_ckpt, dst)
    raw = torch.load(dst, map_location="cpu", weights_only=True)
    assert set(raw) == {"hyper_parameters", "state_dict", CKPT_KEY}
    assert dst.stat().st_size < tiny_ckpt.stat().st_size
    meta = json.loads(dst.with_suffix(".json").read_text())
    assert meta == json.loads(json.dumps(record, default=str)) and meta["hyper_parameters"]["channels"] == 4
    module, info = load_supernet(dst)
    assert info["epochs_done"] == 3 and info["train_history"][0]["train_acc"] == 0.1
    space = Nb201Space()
    ctx = RunContext(data_dir=str(cifar10_dir), device="cpu", seed=0)
    s_src = OneShotRanker(space, ctx, supernet=str(tiny_ckpt), val_images=32).score(ARCHS)
    s_dst = OneShotRanker(space, ctx, supernet=str(dst), val_images=32).score(ARCHS)
    assert s_src == s_dst


def test_committed_checkpoint_loads_with_weights_only_and_reproduces_its_scores(cifar10_dir):
    raw = torch.load(COMMITTED, map_location="cpu", weights_only=True)
    assert set(raw) == {"hyper_parameters", "state_dict", CKPT_KEY}
    assert COMMITTED.stat().st_size < 2_000_000
    meta = json.loads(COMMITTED.with_suffix(".json").read_text())
    hp = raw["hyper_parameters"]
    assert (hp["channels"], hp["cells_per_stage"], hp["image_size"]) == (8, 1, 16)
    assert hp["sampling"] == meta["hyper_parameters"]["sampling"] and hp["epochs"] == meta["epochs_done"]
    space = Nb201Space()
    check = meta["check_scores"]
    ranker = OneShotRanker(space, RunContext(data_dir=str(cifar10_dir), device="cpu", seed=0),
                           supernet=str(COMMITTED), **check["ranker_cfg"])
    got = ranker.score([space.from_string(a) for a in check["archs"]])
    assert got == pytest.approx(check["scores"], abs=1e-6)


def test_ranker_defaults_are_the_protocol_measured_best():
    """The oneshot ranker's defaults are the benchmark's chosen protocol (docs/results.md, one-shot section)."""
    from nasrank.registry import accepted_options

    results = json.loads((COMMITTED.parent / "oneshot_nb201.json").read_text())
    proto, metric = results["default_protocol"].split("/")
    chosen = {"val_images": None, "bn_recalibrate_batches": 0} | results["protocols"][proto] | {"metric": metric}
    defaults = accepted_options(OneShotRanker).defaults  # the ranker's declared options
    assert {k: defaults[k] for k in chosen} == chosen


def test_benchmark_protocols_fix_every_scoring_option():
    """A protocol that leaves an option to the ranker's default silently changes when the default does."""
    from benchmarks.oneshot_nb201 import PROTOCOLS

    for name, opts in PROTOCOLS.items():
        assert {"val_images", "batch_size", "bn_recalibrate_batches"} <= set(opts), name
    assert PROTOCOLS["bs508"]["bn_recalibrate_batches"] == 0 and PROTOCOLS["recal508"]["bn_recalibrate_batches"] > 0
