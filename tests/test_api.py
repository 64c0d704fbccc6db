"""The Python API: nasrank.search / evaluate / compare take a space, a typed configuration and a context,
and return result objects with .to_pandas()."""
from __future__ import annotations

import csv
import json

import pytest

import nasrank
from nasrank import CompareConfig, EvaluateConfig, SearchConfig
from nasrank.runs.history import History


def test_search_result(tmp_path, nb201_csv):
    config = SearchConfig(searcher="evolution", budget_queries=12, output=tmp_path / "s",
                          searcher_options={"population_size": 4, "sample_size": 2})
    res = nasrank.search("nb201", config, benchmark=f"csv:{nb201_csv}")
    assert repr(res).startswith("SearchResult(evolution+tabular on nb201: 12 evaluations, best true acc ")
    df = res.to_pandas()
    assert len(df) == 12 and list(df["step"]) == list(range(12))
    assert df["score"].max() == res.summary["best_score"] and (df["info.metric"] == "test@200").all()
    loaded = History.load(tmp_path / "s")
    assert repr(loaded).startswith("History(12 evaluations, cost ") and "best score" in repr(loaded)
    assert loaded.to_pandas().equals(History.load(tmp_path / "s").to_pandas())


def test_evaluate_result_and_criteria_csv(tmp_path, nb201_csv):
    res = nasrank.evaluate("nb201", EvaluateConfig("params,flops", sample=25, output=tmp_path / "e", plots=False),
                           benchmark=f"csv:{nb201_csv}")
    assert repr(res).startswith("EvaluateResult(25 nb201 architectures on cifar10, iso: params tau ")
    df = res.to_pandas()
    assert set(df["ranker"]) == {"params", "flops"} and set(df["mode"]) == {"iso", "deiso", "iso2deiso"}
    rows = list(csv.DictReader((tmp_path / "e" / "criteria.csv").open()))
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    got = {(r["ranker"], r["mode"]): float(r["kendall_tau"]) for r in rows}
    assert got[("params", "iso")] == pytest.approx(report["rankers"]["params"]["criteria"]["iso"]["kendall_tau"])
    assert len(res.scores()) == 50


def test_compare_result(tmp_path, nb201_csv):
    res = nasrank.compare("nb201", CompareConfig(["params", "tabular"], candidates=4, output=tmp_path / "c"),
                          benchmark=f"csv:{nb201_csv}")
    assert repr(res).startswith("CompareResult(random search, 4 candidates on nb201: params: ")
    df = res.to_pandas()
    assert list(df["ranker"]) == ["params", "tabular"] and len(res.histories["tabular"]) == 4


def test_pandas_missing_is_one_clear_error(monkeypatch):
    import builtins

    from nasrank.errors import NasrankError

    real = builtins.__import__

    def no_pandas(name, *a, **k):
        if name == "pandas":
            raise ImportError("no pandas")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(NasrankError, match=r"pip install 'nasrank\[pandas\]'"):
        History().to_pandas()
