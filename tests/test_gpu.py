"""GPU path: the same rankers on a CUDA device. Skipped only when no GPU is present (see conftest)."""
import math

import pytest

from nasrank.rankers.base import RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.nb201 import Nb201Space

pytestmark = pytest.mark.gpu

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.mark.parametrize("precision", ["32-true", "16-mixed"])
def test_train_ranker_on_gpu(cifar10_dir, precision):
    space = Nb201Space()
    ctx = RunContext(dataset="cifar10", data_dir=cifar10_dir, device="gpu")
    ranker = RANKERS.create("train", space, ctx, epochs=2, precision=precision)
    ev = ranker.evaluate([space.from_string(ARCH)])[0]
    assert 0.0 <= ev.score <= 1.0 and ev.seconds > 0 and ev.device_seconds > 0


def test_zero_shot_and_fear_on_gpu(cifar10_dir):
    space = Nb201Space()
    ctx = RunContext(dataset="cifar10", data_dir=cifar10_dir, device="gpu")
    arch = space.from_string(ARCH)
    zs = RANKERS.create("zero_shot", space, ctx).evaluate([arch])[0]
    assert math.isfinite(zs.score) and len(zs.info["measures"]) >= 8
    fear = RANKERS.create("fear", space, ctx, threshold=0.2, stage2_epochs=1)
    ev = fear.evaluate([arch])[0]
    assert ev.score > -1 and ev.info


def test_training_steps_never_wait_for_the_gpu(cifar10_dir):
    """From the second step to the epoch's end no operation synchronises with the device."""
    import warnings

    import lightning as L
    import torch

    class SyncWatch(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if batch_idx == 1:
                torch.cuda.set_sync_debug_mode("warn")

        def on_train_epoch_end(self, trainer, module):
            torch.cuda.set_sync_debug_mode("default")

    space = Nb201Space()
    ranker = RANKERS.create("train", space, RunContext(data_dir=cifar10_dir, device="gpu"), epochs=1,
                            train_fraction=0.2, batch_size=64, gradient_clip_val=5.0)
    model = ranker.module(ranker.build(space.from_string(ARCH)), 1)
    trainer = ranker.trainer(1, callbacks=[SyncWatch()])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer.fit(model, datamodule=ranker.datamodule())
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [str(w.message) for w in caught if "synchroniz" in str(w.message)]
    assert not syncs, syncs[:3]
    assert trainer.global_step == ranker.steps_per_epoch() > 2


def test_fear_stage2_features_live_on_the_gpu(cifar10_dir, monkeypatch):
    from nasrank.lightning_modules.cached_tail import CachedTailModule

    space = Nb201Space()
    fear = RANKERS.create("fear", space, RunContext(data_dir=cifar10_dir, device="gpu"), threshold=0.2,
                          stage2_epochs=1, train_fraction=0.2)
    seen = {}
    original = CachedTailModule.cached

    def spy(self, split):
        out = original(self, split)
        seen[split] = {t.device.type for t in out}
        return out

    monkeypatch.setattr(CachedTailModule, "cached", spy)
    ev = fear.evaluate([space.from_string(ARCH)])[0]
    assert ev.info["reached"] and ev.info["stage2"] == "cached" and seen == {"train": {"cuda"}}
