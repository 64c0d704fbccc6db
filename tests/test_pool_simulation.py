"""The array replay (statistics path) makes the searchers' decisions: on the pool as scored, each
simulated replicate equals the contract-based search (pool space + recorded ranker) with its seed."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import shared

from nasrank.evaluation import pool_simulation as sim
from nasrank.evaluation.search_savings import Method, all_arrays, replicate, trace
from nasrank.experiments.pool import PoolPlan, PoolRanker, init_pool, score_shard
from nasrank.pool.table import Pool

NATS = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")
CIFAR = shared("cifar10")


@pytest.fixture(scope="module")
def tab_pool(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tabpool")
    init_pool(folder, PoolPlan(space="nb201", benchmark=f"csv:{NATS}", cost="charged", cells=60, seed=5,
                               rankers=[PoolRanker("tab12", "tabular", {"epochs": 12}),
                                        PoolRanker("tab200", "tabular", {"epochs": 200}),
                                        PoolRanker("rungs", "tabular", {"epochs": 200}, rungs=[12, 200])]))
    score_shard(folder, log=lambda m: None)
    return folder


def _live(folder, ranker_opts: dict, searcher: str, scfg: dict, queries: int, seed: int, name: str = "recorded"):
    from nasrank.experiments import make_context, make_space, search
    from nasrank.experiments.config import Output, RankerSpec, SearchConfig

    space = make_space("pool", {"pool": str(folder), "split": "all"})
    ctx = make_context(space, benchmark=f"pool:{folder}", seed=seed)
    cfg = SearchConfig(searcher=searcher, searcher_options=scfg, ranker=RankerSpec(name, name, ranker_opts),
                       budget_queries=queries, output=Output(None, logs=False))
    _, history = search(space, ctx, cfg)
    return history.trajectory()


def _check(tr: sim.Trace, live: list) -> None:
    assert len(live) == len(tr.cost) > 0
    np.testing.assert_allclose(tr.cost, [c for c, _ in live], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(tr.returned_true, [t for _, t in live])


def _arrays(folder, m: Method):
    pool = Pool.load(folder)
    return all_arrays(pool, pool.complete_cells(split="all"), [m])[m.label]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_search_replay_equals_the_searcher(tab_pool, seed):
    m = Method("rs", "random", "tab12")
    tr = trace(m, _arrays(tab_pool, m), np.random.default_rng(seed), 25)
    _check(tr, _live(tab_pool, {"ranker": "tab12"}, "random", {}, 25, seed))


def test_cascade_replay_equals_the_cascade_ranker(tab_pool):
    m = Method("c", "random", "tab200", first="tab12", keep_fraction=0.3)
    tr = trace(m, _arrays(tab_pool, m), np.random.default_rng(4), 30)
    opts = {"first": "recorded", "second": "recorded", "keep_fraction": 0.3,
            "first_cfg": {"ranker": "tab12"}, "second_cfg": {"ranker": "tab200"}}
    _check(tr, _live(tab_pool, opts, "random", {}, 30, 4, name="cascade"))


@pytest.mark.parametrize("searcher", ["sh", "hyperband"])
def test_multi_fidelity_replay_equals_the_searcher(tab_pool, searcher):
    m = Method("mf", searcher, "rungs", eta=3)
    tr = trace(m, _arrays(tab_pool, m), np.random.default_rng(3), 40)
    _check(tr, _live(tab_pool, {"ranker": "rungs"}, searcher, {"min_budget": 12, "max_budget": 200, "eta": 3}, 40, 3))


def test_fear_rejection_replay_equals_the_recorded_ranker(tmp_path):
    """A tiny real FEAR pool (8 cells), replayed with rejection at 1.2 × the fastest: same rejections, charges."""
    folder = tmp_path / "fear"
    scale = {"channels": 4, "cells_per_stage": 1, "image_size": 8, "train_fraction": 0.1, "batch_size": 64}
    fear = {**scale, "threshold": 0.15, "check_every_steps": 2, "tail_cells": 1, "stage2_epochs": 1,
            "stage2_batch_size": 64, "max_stage1_epochs": 3, "reject_ratio": None, "reject_by": "steps"}
    init_pool(folder, PoolPlan(space="nb201", benchmark=f"csv:{NATS}", cells=8, seed=1, data_dir=str(CIFAR),
                               rankers=[PoolRanker("fear", "fear", fear)]))
    score_shard(folder, log=lambda m: None)
    m = Method("f", "random", "fear", reject_ratio=1.2)
    arrays = _arrays(folder, m)
    assert len(set(arrays[0].steps)) > 1  # the cells differ in steps to threshold
    for seed in range(4):
        tr = trace(m, arrays, np.random.default_rng(seed), 8)
        _check(tr, _live(folder, {"ranker": "fear", "reject_ratio": 1.2}, "random", {}, 8, seed))


def test_replicates_give_regret_curves_and_costs_to_reach(tab_pool):
    pool = Pool.load(tab_pool)
    cells = pool.complete_cells(split="all")
    methods = [Method("rs12", "random", "tab12"), Method("rs200", "random", "tab200"), Method("sh", "sh", "rungs")]
    arrays = all_arrays(pool, cells, methods)
    budgets = np.geomspace(100, 1e5, 12)
    rep = replicate(arrays, methods, budgets, [0.5, 2.0], reps=50, seed=0)
    reg = rep.regret["rs200"]
    assert reg.shape == (50, 12)
    assert np.isnan(reg[:, 0]).all()  # 100 s buys no 200-epoch evaluation: missing, not 0
    mean = np.nanmean(reg[:, 7:], axis=0)  # budgets >= 1e4 s: every replicate has evaluations
    assert np.isfinite(mean).all() and 0 <= mean[-1] < mean[0]  # regret falls with budget
    # the whole pool searched by the true 200-epoch accuracy (the score) returns the optimum
    full = replicate(arrays, methods, np.array([1e9]), [0.0], reps=3, seed=0)
    assert (full.regret["rs200"][:, -1] == 0).all()
    idx = np.random.default_rng(0).integers(0, len(cells), len(cells))
    boot = replicate(arrays, methods, budgets, [0.5], reps=5, seed=0, idx=idx)
    assert boot.regret["rs12"].shape == (5, 12)
