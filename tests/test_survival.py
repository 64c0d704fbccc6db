"""Kaplan-Meier queries-to-reach: censored runs count, a median past the budget says so."""
import json
from pathlib import Path

import pytest

from nasrank.evaluation.survival import kaplan_meier, km_median

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def test_no_censoring_is_the_lower_median():
    assert km_median([5, 1, 3, 2, 4], budget=10)["median"] == 3
    assert km_median([1, 2, 3, 4], budget=10)["median"] == 2  # S(2) = 0.5


def test_censored_runs_push_the_median_up():
    naive = 20  # the median of the runs that got there
    res = km_median([10, 20, 30, None, None, None, None], budget=100)
    assert res["median"] is None and res["text"] == "> 100" and res["censored_above"] == 100
    assert km_median([10, 20, 30, None, None, None], budget=100)["median"] == 30 > naive  # S(30) = 0.5


def test_survival_curve_steps():
    assert kaplan_meier([1, 1, 2, None], budget=5) == [(1.0, 0.5), (2.0, 0.25)]
    with pytest.raises(ValueError):
        kaplan_meier([7], budget=5)


def test_search_tabular_json_uses_the_censored_median():
    d = json.loads((RESULTS / "search_tabular.json").read_text())
    for name, s in d["searchers"].items():
        q = s["queries_to_reach"]
        assert q["km"] == km_median(q["per_seed"], budget=d["queries"]), name
