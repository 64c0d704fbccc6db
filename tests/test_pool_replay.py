"""A scored pool replays exactly what a live search on the pool-restricted space does (issue 30).

The live rankers here charge deterministic costs (the benchmark's recorded training seconds), so
scores, charged costs, the architectures proposed and the returned cell must all be identical.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import shared

from nasrank.errors import NasrankError
from nasrank.experiments.pool import PoolPlan, PoolRanker, init_pool, read_records, score_shard

NATS = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")


def _plan(cells: int = 40) -> PoolPlan:
    return PoolPlan(space="nb201", benchmark=f"csv:{NATS}", cost="charged", cells=cells, seed=3,
                    rankers=[PoolRanker("tab12", "tabular", {"epochs": 12}),
                             PoolRanker("tab200", "tabular", {"epochs": 200}),
                             PoolRanker("rungs", "tabular", {"epochs": 200}, rungs=[12, 200])])


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pool")
    init_pool(folder, _plan())
    assert score_shard(folder, 0, 2, log=lambda m: None) == 3 * 20
    assert score_shard(folder, 1, 2, log=lambda m: None) == 3 * 20
    return folder


def _search(space_cfg: dict, benchmark: str, ranker: str, options: dict, searcher: str, scfg: dict, out: Path):
    from nasrank.experiments import make_context, make_space, search
    from nasrank.experiments.config import Output, RankerSpec, SearchConfig

    space = make_space("pool", space_cfg)
    ctx = make_context(space, benchmark=benchmark, dataset="cifar10", seed=7)
    cfg = SearchConfig(searcher=searcher, searcher_options=scfg, ranker=RankerSpec(ranker, ranker, options),
                       budget_queries=12, output=Output(str(out), logs=False))
    summary, history = search(space, ctx, cfg)
    return summary, [json.loads(l) for l in (out / "history.jsonl").read_text().splitlines()]


def _same(live: list[dict], replay: list[dict]) -> None:
    assert len(live) == len(replay) > 0
    for a, b in zip(live, replay):
        assert (a["arch"], a["score"], a["seconds"], a.get("fidelity"), a["true_acc"]) == \
               (b["arch"], b["score"], b["seconds"], b.get("fidelity"), b["true_acc"])


def test_pool_manifest_fixes_cells_and_split_before_scoring(pool_dir):
    m = json.loads((pool_dir / "manifest.json").read_text())
    assert len(m["cells"]) == 40 and len({c["arch"] for c in m["cells"]}) == 40
    assert sum(c["split"] == "calibration" for c in m["cells"]) == 10
    assert m["rankers"]["tab12"]["config"]["epochs"] == 12
    rec = read_records(pool_dir / "records" / "shard-0-of-2.jsonl")
    assert {r["cell"] % 2 for r in rec} == {0}
    with pytest.raises(NasrankError, match="another plan"):
        init_pool(pool_dir, _plan(cells=41))


def test_rescoring_a_finished_shard_writes_nothing(pool_dir):
    assert score_shard(pool_dir, 0, 2, log=lambda m: None) == 0


@pytest.mark.parametrize("searcher,scfg", [("random", {}), ("evolution", {"population_size": 5, "sample_size": 2}),
                                           ("local", {})])
def test_replay_equals_live_single_ranker(pool_dir, tmp_path, searcher, scfg):
    cfg = {"pool": str(pool_dir), "split": "all"}
    _, live = _search(cfg, f"csv:{NATS}", "tabular", {"epochs": 12}, searcher, scfg, tmp_path / "live")
    _, replay = _search(cfg, f"pool:{pool_dir}", "recorded", {"ranker": "tab12"}, searcher, scfg, tmp_path / "rep")
    _same(live, replay)


def test_replay_equals_live_cascade(pool_dir, tmp_path):
    cfg = {"pool": str(pool_dir), "split": "all"}
    live_opts = {"first": "tabular", "second": "tabular", "keep_fraction": 0.5,
                 "first_cfg": {"epochs": 12}, "second_cfg": {"epochs": 200}}
    rep_opts = {"first": "recorded", "second": "recorded", "keep_fraction": 0.5,
                "first_cfg": {"ranker": "tab12"}, "second_cfg": {"ranker": "tab200"}}
    _, live = _search(cfg, f"csv:{NATS}", "cascade", live_opts, "random", {}, tmp_path / "live")
    _, replay = _search(cfg, f"pool:{pool_dir}", "cascade", rep_opts, "random", {}, tmp_path / "rep")
    _same(live, replay)
    assert sum(r["status"] == "filtered" for r in replay) > 0


def test_replay_equals_live_successive_halving(pool_dir, tmp_path):
    cfg = {"pool": str(pool_dir), "split": "all"}
    scfg = {"min_budget": 12, "max_budget": 200, "eta": 3}
    _, live = _search(cfg, f"csv:{NATS}", "tabular", {"epochs": 200}, "sh", scfg, tmp_path / "live")
    _, replay = _search(cfg, f"pool:{pool_dir}", "recorded", {"ranker": "rungs"}, "sh", scfg, tmp_path / "rep")
    _same(live, replay)
    assert {r["fidelity"] for r in replay} == {12, 200}


def test_pool_space_samples_and_mutates_within_the_pool(pool_dir):
    from nasrank.experiments import make_space

    space = make_space("pool", {"pool": str(pool_dir)})
    cells = {c["arch"] for c in json.loads((pool_dir / "manifest.json").read_text())["cells"]
             if c["split"] == "report"}
    assert space.size == 30
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = space.sample(rng)
        assert space.to_string(a) in cells
        m = space.mutate(a, rng)
        assert space.to_string(m) in cells and m != a
    nb = space.neighbours(a)
    assert len(nb) == 24 and len(set(nb)) == 24 and a not in nb


def test_recorded_ranker_errors_are_one_line(pool_dir):
    from nasrank.experiments import make_context, make_space
    from nasrank.experiments.build import make_ranker

    space = make_space("nb201")
    with pytest.raises(NasrankError, match="pool:DIR"):
        make_ranker("recorded", space, make_context(space), {"ranker": "tab12"})
    ctx = make_context(space, benchmark=f"pool:{pool_dir}")
    with pytest.raises(NasrankError, match="not in the pool"):
        make_ranker("recorded", space, ctx, {"ranker": "fear"})
    with pytest.raises(NasrankError, match="without rungs"):
        make_ranker("recorded", space, ctx, {"ranker": "tab12"}).fidelity_grid()


def test_scoring_pass_names_follow_the_train_protocols():
    from nasrank.pool.charges import scoring_pass
    from nasrank.rankers.training_scores import PROTOCOLS

    assert {p: scoring_pass(p) for p in PROTOCOLS} == {p: v[0] for p, v in PROTOCOLS.items()}


def test_fear_stage2_score_matches_the_ranker():
    from nasrank.pool.charges import fear_stage2_score
    from nasrank.rankers.fear import stage2_score

    info = {"stage2_train_acc": 0.61, "stage2_val_acc": 0.55, "stage2_val_loss": 1.3}
    for p in ("train", "val", "val_loss"):
        assert fear_stage2_score(info, p) == stage2_score(info, p)


def test_a_partly_scored_pool_serves_only_its_scored_cells(tmp_path):
    from nasrank.benchmarks import load_benchmark
    from nasrank.experiments import make_space

    folder = tmp_path / "half"
    init_pool(folder, _plan(cells=20))
    score_shard(folder, 0, 2, log=lambda m: None)  # cells 0, 2, 4, ... only
    space = make_space("pool", {"pool": str(folder), "split": "all"})
    bench = load_benchmark(f"pool:{folder}", space)
    assert space.size == len(bench) == 10
    assert all(bench.true_accuracy(a) is not None for a in space.all_archs())


def test_a_shard_file_that_is_a_link_is_refused(tmp_path):
    folder = tmp_path / "linked"
    init_pool(folder, _plan(cells=4))
    victim = tmp_path / "victim"
    victim.write_text("")
    (folder / "records" / "shard-0-of-1.jsonl").symlink_to(victim)
    with pytest.raises(NasrankError, match="symbolic link"):
        score_shard(folder, log=lambda m: None)
    assert victim.read_text() == ""
