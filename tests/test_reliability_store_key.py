"""Issue 15 item 1: the result store keys a benchmark-reading ranker on the table's CONTENT.

An edited table at the same path, or two tables at the same relative path in two
folders, must never serve each other's cached scores.
"""
from __future__ import annotations

import json

import pytest

from nasrank.cli import main


def _small_table(src, dest, n: int | None = None, bump: float = 0.0) -> None:
    lines = src.read_text().splitlines()[: None if n is None else n + 1]
    out = [lines[0]]
    for line in lines[1:]:
        idx, arch, acc, params = line.split(",")
        out.append(",".join([idx, arch, f"{float(acc) + bump:.4f}", params]))
    dest.write_text("\n".join(out) + "\n")


def _search(bench: str, store, out) -> list[dict]:
    rc = main(["search", "--space", "nb201", "--ranker", "tabular", "--benchmark", bench, "--store", str(store),
               "--budget-queries", "15", "--seed", "3", "--output", str(out), "--quiet"])
    assert rc == 0
    return [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]


def test_edited_table_at_same_path_is_a_new_key(tmp_path, nb201_csv, capsys):
    table = tmp_path / "bench.csv"
    store = tmp_path / "store.sqlite"
    _small_table(nb201_csv, table)
    first = _search(f"csv:{table}", store, tmp_path / "run1")
    _small_table(nb201_csv, table, bump=5.0)  # same path, different accuracies (still in [0, 100])
    second = _search(f"csv:{table}", store, tmp_path / "run2")
    scored = [r for r in second if r["true_acc"] is not None]
    assert len(scored) == 15 and all(r["score"] == pytest.approx(r["true_acc"]) for r in scored)
    assert not any(r["info"].get("cached") for r in second)
    # the unchanged table is still served from the store
    _small_table(nb201_csv, table)
    third = _search(f"csv:{table}", store, tmp_path / "run3")
    assert all(r["info"].get("cached") for r in third) and [r["score"] for r in third] == [r["score"] for r in first]


def test_same_relative_path_in_two_folders(tmp_path, nb201_csv, monkeypatch, capsys):
    store = tmp_path / "store.sqlite"
    for name, bump in (("a", 0.0), ("b", 3.0)):
        (tmp_path / name).mkdir()
        _small_table(nb201_csv, tmp_path / name / "bench.csv", bump=bump)
    monkeypatch.chdir(tmp_path / "a")
    _search("csv:bench.csv", store, tmp_path / "a" / "run")
    monkeypatch.chdir(tmp_path / "b")
    hist = _search("csv:bench.csv", store, tmp_path / "b" / "run")
    assert all(r["score"] == pytest.approx(r["true_acc"]) for r in hist if r["true_acc"] is not None)
    assert not any(r["info"].get("cached") for r in hist)


def test_fingerprint_follows_content_not_source(tmp_path, nb201_csv):
    from nasrank.benchmarks import load_benchmark
    from nasrank.rankers.base import RunContext
    from nasrank.rankers.tabular import TabularRanker
    from nasrank.spaces.nb201 import Nb201Space
    from nasrank.store import ranker_scope

    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    _small_table(nb201_csv, a)
    _small_table(nb201_csv, b)  # same rows, another path
    _small_table(nb201_csv, c, bump=0.0001)  # every row changed a little
    space = Nb201Space()
    benches = [load_benchmark(f"csv:{p}", space) for p in (a, b, c)]
    fps = [bench.fingerprint() for bench in benches]
    assert fps[0] == fps[1] != fps[2] and len(fps[0]) >= 16
    scopes = [ranker_scope(TabularRanker(space, RunContext(benchmark=bench))) for bench in benches]
    assert scopes[0] == scopes[1] != scopes[2]


def test_uses_benchmark_is_a_declared_attribute():
    from nasrank.rankers.base import Ranker
    from nasrank.rankers.tabular import TabularRanker

    assert Ranker.uses_benchmark is False and TabularRanker.uses_benchmark is True


def test_nats_key_is_content_not_path(tmp_path, nats_dir, monkeypatch):
    """A NATS folder reached by a relative or an absolute path, or copied, keys the same rows."""
    import shutil

    from nasrank.benchmarks import load_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    copy = tmp_path / "copy"
    shutil.copytree(nats_dir, copy)
    monkeypatch.chdir(tmp_path)
    fps = {load_benchmark(spec, Nb201Space()).fingerprint() for spec in (f"nats:{nats_dir}", "nats:copy")}
    assert len(fps) == 1
