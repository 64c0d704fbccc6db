"""Every evaluation says what happened to its candidate (``status``); one ``outcome_counts`` counts them
for every report, and histories written before statuses existed still read (the status is inferred)."""
from __future__ import annotations

import json
import math

import pytest

from nasrank.runs.history import History, HistoryRecord
from nasrank.rankers.base import Evaluation
from nasrank.runs.outcomes import STATUSES, Outcomes, infer_status, outcome_counts


def test_evaluation_status_defaults_to_ok_and_a_nan_score_is_invalid():
    assert Evaluation(1.0, 1.0, 1.0).status == "ok"
    assert Evaluation(float("nan"), 1.0, 1.0).status == "invalid"
    assert Evaluation(-2.0, 1.0, 1.0, {}, "rejected").status == "rejected"
    with pytest.raises(ValueError, match="status must be one of"):
        Evaluation(1.0, 1.0, 1.0, {}, "great")


def test_history_keeps_the_status_and_infers_it_for_old_lines(tmp_path):
    h = History(tmp_path)
    h.append("a", -0.5, 1.0, 1.0, None, "fear", {"reached": False}, status="not_reached")
    h.append("b", -1e9, 1.0, 1.0, None, "c", {"filtered": True}, status="filtered")
    h.append("c", 0.9, 1.0, 1.0, None, "fear", {"reached": True}, status="ok")
    h.close()
    lines = [json.loads(x) for x in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [x["status"] for x in lines] == ["not_reached", "filtered", "ok"]
    old = tmp_path / "old"
    old.mkdir()
    for x in lines:
        x.pop("status")
    (old / "history.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert [r.status for r in History.load(old)] == ["not_reached", "filtered", "ok"]


@pytest.mark.parametrize("score, info, status", [
    (0.9, {"reached": True}, "ok"), (-0.4, {"reached": False}, "not_reached"),
    (-2.0, {"reached": False, "rejected": True}, "rejected"), (-1e9, {"filtered": True, "kept": False}, "filtered"),
    (-0.4, {"second": {"reached": False}}, "not_reached"), (-2.0, {"rejected": True, "second": {}}, "rejected"),
    (float("nan"), {}, "invalid"), (None, {"invalid": "nan"}, "invalid"), (3.0, {}, "ok")])
def test_infer_status_reads_the_old_flags(score, info, status):
    assert infer_status(score, info) == status


def test_outcome_counts_over_records_and_dicts():
    recs = [HistoryRecord(i, "a", s, 1.0, 1.0, 1.0, None, "r", {}, st) for i, (s, st) in enumerate(
        [(1.0, "ok"), (-0.5, "not_reached"), (-2.0, "rejected"), (-1e9, "filtered"), (math.nan, "ok")])]
    c = outcome_counts(recs)
    assert c == Outcomes(n=5, not_reached=1, rejected=1, filtered=1, invalid=1)
    assert (c.missed, c.trained) == (2, 4)
    assert c.as_counts() == {"n_not_reached": 1, "n_rejected": 1, "n_filtered": 1, "n_invalid": 1}
    assert Outcomes.from_counts({"n_evaluations": 5, **c.as_counts()}) == c
    assert outcome_counts([{"score": None, "info": {}}, {"score": 1.0, "status": "rejected"}]) == \
        Outcomes(n=2, rejected=1, invalid=1)
    assert set(STATUSES) == {"ok", "not_reached", "rejected", "filtered", "invalid"}
