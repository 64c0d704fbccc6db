"""The ``ensemble`` and ``az_nas`` rankers: ranks within the candidates seen, mean or Σ log rank,
measures sharing one zero_shot pass, and an ensemble as a cascade's first stage."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nasrank.errors import NasrankError
from nasrank.rankers.base import RunContext
from nasrank.rankers.ensemble import aggregate_ranks, pool_ranks
from nasrank.registry import RANKERS
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

SMALL = {"channels": 4, "cells_per_stage": 1}
ZS = {"batch_size": 8, "seeds": 1, "build_kwargs": SMALL}
ARCHS = [Nb201Arch.from_string(s) for s in (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")]


@pytest.fixture(scope="module")
def ctx(cifar10_dir) -> RunContext:
    return RunContext(dataset="cifar10", data_dir=str(cifar10_dir), device="cpu", seed=0)


def test_pool_ranks_and_aggregates_by_hand():
    assert list(pool_ranks([3.0, 1.0, 2.0])) == pytest.approx([1.0, 1 / 3, 2 / 3])
    assert list(pool_ranks([1.0, math.nan, 1.0, -math.inf])) == pytest.approx([3.5 / 4, 1.5 / 4, 3.5 / 4, 1.5 / 4])
    r = np.array([[1.0, 0.5], [0.25, 1.0]])
    assert list(aggregate_ranks(r, "mean")) == pytest.approx([0.625, 0.75])
    assert list(aggregate_ranks(r, "log")) == pytest.approx([math.log(0.25), math.log(0.5)])


def test_ensemble_of_params_and_a_measure_ranks_within_the_batch(ctx):
    space = Nb201Space(**SMALL)
    ens = RANKERS.create("ensemble", space, ctx, members="params,l2_norm", aggregate="mean", per_batch=True,
                         measure_cfg=ZS, member_cfg={"params": {"channels": 4, "cells_per_stage": 1}})
    evs = ens.evaluate(ARCHS)
    params = [e.info["members"]["params"] for e in evs]
    l2 = [e.info["members"]["l2_norm"] for e in evs]
    want = (pool_ranks(params) + pool_ranks(l2)) / 2
    assert [e.score for e in evs] == pytest.approx(list(want))
    assert all(e.seconds > 0 for e in evs) and ens.depends_on_history
    # per_batch: a second batch is ranked on its own
    assert ens.evaluate(ARCHS[:1])[0].score == pytest.approx(1.0)


def test_the_stream_pool_grows_with_the_candidates_seen(ctx):
    space = Nb201Space(**SMALL)
    ens = RANKERS.create("ensemble", space, ctx, members=["l2_norm"], measure_cfg=ZS)
    first = ens.evaluate(ARCHS[:2])
    later = ens.evaluate(ARCHS[2:])
    assert later[-1].info["pool_size"] == 4
    alone = RANKERS.create("ensemble", space, ctx, members=["l2_norm"], measure_cfg=ZS).evaluate(ARCHS)
    assert [e.score for e in first + later][2:] == pytest.approx([e.score for e in alone][2:])


def test_az_nas_is_the_sum_of_log_ranks_of_its_four_parts(ctx):
    space = Nb201Space(**SMALL)
    evs = RANKERS.create("az_nas", space, ctx, measure_cfg=ZS).evaluate(ARCHS)
    parts = ("az_expressivity", "az_progressivity", "az_trainability", "az_complexity")
    want = sum(np.log(pool_ranks([e.info["members"][p] for e in evs])) for p in parts)
    assert [e.score for e in evs] == pytest.approx(list(want))


def test_ensemble_as_a_cascade_first_stage(ctx):
    space = Nb201Space(**SMALL)
    c = RANKERS.create("cascade", space, ctx, first="ensemble", second="params", keep_fraction=0.5,
                       first_cfg={"members": "params,l2_norm", "measure_cfg": ZS,
                                  "member_cfg": {"params": {"channels": 4, "cells_per_stage": 1}}})
    evs = c.evaluate(ARCHS)
    kept = [e.info["kept"] for e in evs]
    assert sum(kept) == 2 and c.name == "ensemble>params"
    assert all(e.status == "filtered" for e, k in zip(evs, kept) if not k)


def test_bad_members_are_one_clear_error(ctx):
    space = Nb201Space(**SMALL)
    with pytest.raises(NasrankError, match="did you mean 'synflow'"):
        RANKERS.create("ensemble", space, ctx, members="params,synflw")
    with pytest.raises(NasrankError, match="cannot itself be an ensemble"):
        RANKERS.create("ensemble", space, ctx, members="params,az_nas")
    with pytest.raises(NasrankError, match="at least one ranker"):
        RANKERS.create("ensemble", space, ctx, members="")
