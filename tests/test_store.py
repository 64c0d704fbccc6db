"""The persistent result store (nasrank.store) and `nasrank store ls|export|prune`.

Module-level imports stay light (no torch): the concurrency test's spawned
writers import this module.
"""
from __future__ import annotations

import csv
import json
import math
import multiprocessing as mp
import pickle
import sqlite3
from types import SimpleNamespace

import numpy as np
import pytest

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.store import DEFAULT_STORE, ResultStore, StoreScope, dataset_fingerprint, ranker_scope, space_id
from nasrank.commands.common import add_store_args, make_store


def _counting_class():
    from nasrank.rankers.base import Evaluation, Ranker

    class CountingRanker(Ranker):
        """Score = number of convs + seed/1000 + offset; records its calls; can fail or return NaN on one arch."""

        registry_name = "counting"

        def __init__(self, space, context=None, offset: float = 0.0) -> None:
            super().__init__(space, context)
            self.offset = offset
            self.fail_on: str | None = None  # not options: they do not change the config hash
            self.nan_on: str | None = None
            self.calls: list[str] = []

        def evaluate_one(self, arch) -> Evaluation:
            s = self.space.to_string(arch)
            if s == self.fail_on:
                raise KeyboardInterrupt  # as if the run were interrupted here
            self.calls.append(s)
            if s == self.nan_on:
                return Evaluation(float("nan"), 0.5, 0.25, {"invalid": "diverged"})
            score = arch.count("nor_conv_3x3") + arch.count("nor_conv_1x1") + self.context.seed / 1000 + self.offset
            return Evaluation(float(score), 10.0 + len(self.calls), 1.0, {"seed": self.context.seed})

    return CountingRanker


@pytest.fixture()
def counting(space):
    """``counting(seed=0, offset=0.0, benchmark=None)`` -> a fresh CountingRanker on ``space``."""
    from nasrank.rankers.base import RunContext

    cls = _counting_class()

    def make(seed: int = 0, offset: float = 0.0, benchmark=None):
        return cls(space, RunContext(seed=seed, benchmark=benchmark), offset=offset)

    return make


@pytest.fixture()
def StoredRanker():
    from nasrank.rankers.stored import StoredRanker

    return StoredRanker


def ev(score, seconds=1.0, device_seconds=1.0, info=None):
    """An evaluation record without importing the rankers (``put`` reads these four attributes)."""
    return SimpleNamespace(score=score, seconds=seconds, device_seconds=device_seconds, info=info or {})


@pytest.fixture()
def space():
    from nasrank.spaces.nb201 import Nb201Space

    return Nb201Space()


@pytest.fixture()
def archs(space):
    return space.sample_many(12, np.random.default_rng(0))


@pytest.fixture()
def store(tmp_path):
    return ResultStore(tmp_path / "sub" / "results.sqlite")


def test_put_get_roundtrip_nan_and_scopes(store):
    scope = StoreScope("nb201", "r", "abc", "cifar10:none", 0)
    store.put(scope, "k1", "c1", "a1", ev(1.5, 2.0, 3.0, {"x": [1, 2]}), {"lr": 0.1})
    store.put(scope, "k2", "c1", "a2", ev(float("inf"), 1.0, 1.0, {}))
    store.put(scope, "k3", "c3", "a3", ev(float("nan"), 1.0, 1.0, {"invalid": "diverged"}))
    got = store.get_many(scope, ["k1", "k2", "k3", "missing"])
    assert set(got) == {"k1", "k2", "k3"}
    k1 = got["k1"]
    assert (k1.score, k1.seconds, k1.device_seconds, k1.info) == (1.5, 2.0, 3.0, {"x": [1, 2]})
    assert math.isnan(got["k2"].score) and got["k2"].info["invalid"] == "inf"
    assert math.isnan(got["k3"].score) and got["k3"].info["invalid"] == "diverged"
    con = sqlite3.connect(store.path)  # NaN is stored as NULL, with the reason
    assert con.execute("SELECT score, invalid FROM evaluations WHERE arch_key='k3'").fetchone() == (None, "diverged")
    for other in (("nb201", "r", "abc", "cifar10:none", 1), ("nb201", "r", "xyz", "cifar10:none", 0),
                  ("nb201", "r", "abc", "cifar100:none", 0), ("nb101", "r", "abc", "cifar10:none", 0)):
        assert store.get(StoreScope(*other), "k1") is None
    store.put(scope, "k1", "c1", "a1", ev(2.5, 2.0, 3.0, {}))  # replace, not duplicate
    assert len(store) == 3 and store.get(scope, "k1").score == 2.5
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_stored_ranker_reuses_and_charges_recorded_cost(store, space, archs, counting, StoredRanker):
    inner = counting(seed=3)
    r = StoredRanker(inner, store)
    assert (r.name, r.config_hash(), r.context, r.space) == ("counting", inner.config_hash(), inner.context, space)
    assert r.offset == 0.0 and r.config() == {"offset": 0.0}  # forwarded to the inner ranker
    first = r.evaluate(archs[:6] + archs[:1])  # a repeat inside one batch is computed once
    assert len(inner.calls) == 6 and r.n_fresh == 6 and len(store) == 6
    assert first[6].score == first[0].score and "cached" not in first[0].info
    second = r.evaluate(archs)
    assert len(inner.calls) == 12  # only the 6 new ones
    for a, b in zip(first[:6], second[:6]):
        assert (b.score, b.seconds, b.device_seconds) == (a.score, a.seconds, a.device_seconds)
        assert b.info == {**a.info, "cached": True}
    assert all("cached" not in e.info for e in second[6:])
    st = r.stats()
    assert (st["n_fresh"], st["n_cached"]) == (12, 6)
    assert st["cached_seconds"] == pytest.approx(sum(e.seconds for e in first[:6]))
    fresh = first[:6] + second[6:]
    assert st["fresh_seconds"] == pytest.approx(sum(e.seconds for e in fresh))
    # another seed, another config: computed again
    inner.context.seed = 4
    assert r.evaluate(archs[:2])[0].score == pytest.approx(first[0].score + 0.001)
    other = StoredRanker(counting(seed=3, offset=1.0), store)
    assert other.evaluate(archs[:1])[0].score == pytest.approx(first[0].score + 1.0)
    assert len(store) == 15
    # a fresh wrapper (a new process) reads the same rows
    again = StoredRanker(counting(seed=3), ResultStore(store.path))
    assert [e.score for e in again.evaluate(archs)] == [e.score for e in second]
    assert again.inner.calls == [] and again.n_cached == 12


def test_store_lookup_uses_plain_key_not_canonical(store, space, counting, StoredRanker):
    a = space.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    iso = space.from_string("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert space.canonical_key(a) == space.canonical_key(iso) and space.key(a) != space.key(iso)
    inner = counting()
    r = StoredRanker(inner, store)
    r.evaluate([a])
    r.evaluate([iso])
    assert len(inner.calls) == 2  # the isomorphic cell is not answered from its class
    row = next(store.rows())
    assert row["canonical_key"] == str(space.canonical_key(a)) and row["arch"] == space.to_string(a)


def test_interrupted_run_keeps_finished_results(store, space, archs, counting, StoredRanker):
    stop = space.to_string(archs[4])
    r = StoredRanker(counting(), store)
    r.inner.fail_on = stop
    with pytest.raises(KeyboardInterrupt):
        r.evaluate(archs)
    assert len(store) == 4
    r2 = StoredRanker(counting(), store)
    r2.evaluate(archs)
    assert len(r2.inner.calls) == 8 and r2.n_cached == 4


def test_invalid_results_are_stored_and_flagged(store, space, archs, counting, StoredRanker):
    bad = space.to_string(archs[1])
    r = StoredRanker(counting(), store)
    r.inner.nan_on = bad
    r.evaluate(archs[:3])
    e = StoredRanker(counting(), store).evaluate(archs[:3])[1]
    assert math.isnan(e.score) and e.info["invalid"] == "diverged" and e.info["cached"] is True
    assert (e.seconds, e.device_seconds) == (0.5, 0.25)


def test_pickles_for_ray_workers(store, space, archs, StoredRanker):
    from nasrank.experiments.build import make_ranker
    from nasrank.rankers.base import RunContext

    r = StoredRanker(make_ranker("params", space, RunContext()), store)
    r.evaluate(archs[:2])
    clone = pickle.loads(pickle.dumps(r))
    assert type(clone) is StoredRanker and clone.name == "params"
    assert [e.info.get("cached") for e in clone.evaluate(archs[:3])] == [True, True, None]
    assert len(store) == 3


def _writer(path: str, worker: int, n: int) -> None:
    store = ResultStore(path, timeout=120.0)
    scope = StoreScope("nb201", "w", "h", "cifar10:none", 0)
    for i in range(n):
        key = f"w{worker}-{i}"
        record = ev(float(worker * 10_000 + i), float(i), float(worker), {"w": worker, "i": i})
        store.put(scope, key, f"c{i}", key, record)
        shared = f"shared-{i % 20}"  # the writers also race on 20 common keys
        store.put(scope, shared, shared, shared, ev(float(i % 20), 1.0, 1.0, {"w": worker}))


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "concurrent.sqlite")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 200)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0, 0]
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = con.execute("SELECT arch_key, score, seconds, device_seconds, info FROM evaluations").fetchall()
    assert len(rows) == 2 * 200 + 20
    for key, score, secs, dsecs, info in rows:
        if key.startswith("shared-"):
            assert score == float(key.split("-")[1]) and json.loads(info)["w"] in (1, 2)
            continue
        w, i = (int(x) for x in key[1:].split("-"))
        assert (score, secs, dsecs, json.loads(info)) == (w * 10_000 + i, i, w, {"w": w, "i": i})


def test_dataset_fingerprint(tmp_path):
    assert dataset_fingerprint("cifar10", None) == "cifar10:none"
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.bin").write_bytes(b"123")
    fp = dataset_fingerprint("cifar10", d)
    assert fp.startswith("cifar10:") and fp != "cifar10:none"
    assert dataset_fingerprint("cifar10", str(d) + "/.") == fp  # resolved path
    assert dataset_fingerprint("cifar100", d) != fp
    (d / "sub").mkdir()
    (d / "sub" / "b.bin").write_bytes(b"x")
    assert dataset_fingerprint("cifar10", d) != fp
    assert dataset_fingerprint("cifar10", None, "benchmark:x") != dataset_fingerprint("cifar10", None, "benchmark:y")


def test_scope_names_space_options_and_benchmark(nb201_csv, counting):
    from nasrank.benchmarks import load_benchmark
    from nasrank.rankers.base import RunContext
    from nasrank.rankers.tabular import TabularRanker
    from nasrank.spaces.nb201 import Nb201Space

    assert space_id(Nb201Space()) == "nb201"
    assert space_id(Nb201Space(channels=8, cells_per_stage=1)) == "nb201(cells_per_stage=1,channels=8)"
    space = Nb201Space()
    bench = load_benchmark(f"csv:{nb201_csv}", space)
    tab = ranker_scope(TabularRanker(space, RunContext(benchmark=bench)))
    assert tab.ranker == "tabular" and tab.dataset != "cifar10:none"  # the table is part of the key
    assert ranker_scope(counting(seed=5, benchmark=bench)) == StoreScope(
        "nb201", "counting", counting().config_hash(), "cifar10:none", 5)


def test_make_store_options(tmp_path, monkeypatch, counting):
    import argparse

    p = argparse.ArgumentParser()
    add_store_args(p)
    monkeypatch.delenv("NASRANK_STORE", raising=False)
    from nasrank.store import default_store_path

    assert default_store_path() == DEFAULT_STORE
    monkeypatch.setenv("NASRANK_STORE", str(tmp_path / "env.sqlite"))
    assert make_store(p.parse_args([])).path == tmp_path / "env.sqlite"
    assert make_store(p.parse_args(["--store", str(tmp_path / "x.sqlite")])).path == tmp_path / "x.sqlite"
    assert make_store(p.parse_args(["--no-store"])) is None
    monkeypatch.setenv("NASRANK_STORE", "none")
    assert make_store(p.parse_args([])) is None
    from nasrank.rankers.stored import with_store

    ranker = counting()
    assert with_store(ranker, None) is ranker
    with pytest.raises(NasrankError, match="is a folder"):
        ResultStore(tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database, " * 100)
    with pytest.raises(NasrankError, match="junk.sqlite"):
        ResultStore(junk)


def _fill(path, archs, counting, StoredRanker):
    store = ResultStore(path)
    StoredRanker(counting(seed=0), store).evaluate(archs[:5])
    StoredRanker(counting(seed=1), store).evaluate(archs[:3])
    StoredRanker(counting(offset=2.0), store).evaluate(archs[:4])
    return store


def test_store_cli_ls_export_prune(tmp_path, archs, capsys, counting, StoredRanker):
    path = tmp_path / "cli.sqlite"
    store = _fill(path, archs, counting, StoredRanker)
    assert main(["store", "ls", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert "12 rows in 2 groups" in out and "counting" in out

    export = ["store", "export", "--store", str(path)]
    assert main(export + ["--ranker", "counting", "--output", str(tmp_path / "e.csv")]) == 0
    with open(tmp_path / "e.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and {r["seed"] for r in rows} == {"0", "1"}
    assert json.loads(rows[0]["info"]) and rows[0]["space"] == "nb201"
    assert main(export + ["--space", "nb201", "-o", str(tmp_path / "e.jsonl")]) == 0
    lines = [json.loads(x) for x in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert len(lines) == 12 and isinstance(lines[0]["info"], dict)
    assert main(export + ["--space", "nb101", "-o", str(tmp_path / "none.csv")]) == 0
    assert len((tmp_path / "none.csv").read_text().splitlines()) == 1  # header only
    capsys.readouterr()

    assert main(["store", "prune", "--store", str(path)]) == 2
    assert "needs a filter" in capsys.readouterr().err
    assert main(["store", "prune", "--store", str(path), "--older-than", "1"]) == 0
    assert "deleted 0 rows" in capsys.readouterr().out
    hash_offset = counting(offset=2.0).config_hash()
    assert main(["store", "prune", "--store", str(path), "--config-hash", hash_offset]) == 0
    assert "deleted 4 rows" in capsys.readouterr().out and len(store) == 8
    assert main(["store", "prune", "--store", str(path), "--ranker", "counting", "--older-than", "0"]) == 0
    assert "deleted 8 rows" in capsys.readouterr().out
    _fill(path, archs, counting, StoredRanker)
    assert main(["store", "prune", "--store", str(path), "--all"]) == 0
    assert "deleted 12 rows" in capsys.readouterr().out and len(store) == 0

    assert main(["store", "ls", "--store", str(tmp_path / "missing.sqlite")]) == 2
    assert "no result store at" in capsys.readouterr().err
    assert not (tmp_path / "missing.sqlite").exists()


def test_on_result_once_per_position(store, space, archs, counting, StoredRanker):
    """``evaluate(archs, on_result)``: the callback gets every position once, with the returned result,
    from a plain ranker and from the store (cached positions first)."""
    for make in (lambda: counting(), lambda: StoredRanker(counting(), store)):
        seen: dict[int, object] = {}
        out = make().evaluate(archs[:4], on_result=lambda i, ev: seen.setdefault(i, ev) and None)
        assert sorted(seen) == [0, 1, 2, 3] and [seen[i] for i in range(4)] == out
    again: list[int] = []
    StoredRanker(counting(), store).evaluate(archs[2:6], on_result=lambda i, ev: again.append(i))
    assert again[:2] == [0, 1] and sorted(again) == [0, 1, 2, 3]  # archs[2:4] were stored: reported first


@pytest.mark.parametrize("name", ["params", "flops"])
def test_store_key_covers_build_options_of_params_and_flops(store, space, archs, StoredRanker, name):
    """A ranker taking ``**build_kwargs`` keys its results on them: #params at channels=8 is not
    served from the row of channels=16 (it was: the options were missing from config())."""
    from nasrank.experiments.build import make_context, make_ranker

    ctx = make_context(space)
    wide = StoredRanker(make_ranker(name, space, ctx, {}), store)
    narrow = StoredRanker(make_ranker(name, space, ctx, {"channels": 8}), store)
    first = wide.evaluate(archs[:2])
    second = narrow.evaluate(archs[:2])
    assert not any(e.info.get("cached") for e in second)
    assert all(n.score < w.score for n, w in zip(second, first))
    assert narrow.inner.config() == {"channels": 8}
