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
