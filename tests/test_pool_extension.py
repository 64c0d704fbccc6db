"""A pool's plan may grow by appended rankers, and a ranker that ranks within the candidates it saw
(``ensemble``) is scored in one batch over every planned cell, whatever the shard (issues 30, 31)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import rankdata

from conftest import shared

from nasrank.errors import NasrankError
from nasrank.experiments.pool import PoolPlan, PoolRanker, init_pool, read_records, score_shard
from nasrank.pool.table import Pool

NATS = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")
BASE = [PoolRanker("tab12", "tabular", {"epochs": 12}), PoolRanker("tab200", "tabular", {"epochs": 200})]
ENS = PoolRanker("ens", "ensemble", {"members": ["tabular"], "member_cfg": {"tabular": {"epochs": 12}}})


def _plan(rankers: list[PoolRanker], cells: int = 24) -> PoolPlan:
    return PoolPlan(space="nb201", benchmark=f"csv:{NATS}", cost="charged", cells=cells, seed=4, rankers=rankers)


def _quiet(_msg: str) -> None:
    pass


def test_appending_rankers_scores_only_the_new_pairs(tmp_path):
    init_pool(tmp_path, _plan(BASE[:1]))
    assert score_shard(tmp_path, 0, 2, log=_quiet) == 12
    before = (tmp_path / "records" / "shard-0-of-2.jsonl").read_text()
    m = init_pool(tmp_path, _plan(BASE))
    assert list(m["rankers"]) == ["tab12", "tab200"] and m["extensions"][0]["rankers"] == ["tab200"]
    assert m["rankers"]["tab200"]["config"]["epochs"] == 200
    assert score_shard(tmp_path, 0, 2, log=_quiet) == 12  # only tab200 on shard 0's cells
    after = (tmp_path / "records" / "shard-0-of-2.jsonl").read_text()
    assert after.startswith(before)
    assert {r["ranker"] for r in read_records(tmp_path / "records" / "shard-0-of-2.jsonl")} == {"tab12", "tab200"}
    assert init_pool(tmp_path, _plan(BASE)) == json.loads((tmp_path / "manifest.json").read_text())


@pytest.mark.parametrize("changed", [
    [PoolRanker("tab12", "tabular", {"epochs": 200}), BASE[1]],  # an old ranker changed
    [BASE[1], BASE[0]],  # reordered
])
def test_a_plan_that_does_not_only_append_is_refused(tmp_path, changed):
    init_pool(tmp_path, _plan(BASE[:1]))
    with pytest.raises(NasrankError, match="only append rankers"):
        init_pool(tmp_path, _plan(changed))
    with pytest.raises(NasrankError, match="another plan"):
        init_pool(tmp_path, _plan(BASE, cells=25))


def test_a_history_dependent_ranker_is_scored_over_the_whole_plan(tmp_path):
    init_pool(tmp_path, _plan(BASE + [ENS]))
    for k in range(3):
        score_shard(tmp_path, k, 3, log=_quiet)
    pool = Pool.load(tmp_path)
    archs = [c["arch"] for c in pool.cells]
    tab = np.array([pool.entry("tab12", a).score for a in archs])
    ens = np.array([pool.entry("ens", a).score for a in archs])
    np.testing.assert_allclose(ens, rankdata(tab) / len(tab))  # ranks within all 24 planned cells
    info = pool.entry("ens", archs[0]).info
    assert info["scored_in_batch_of"] == 24
    charges = np.array([pool.entry("ens", a).seconds for a in archs])
    own = np.array([pool.entry("tab12", a).seconds for a in archs])
    assert np.all(charges > 0)
    np.testing.assert_allclose(charges / charges.sum(), own / own.sum(), rtol=1e-6)
