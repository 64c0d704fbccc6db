"""``asha`` (and ``sh``) on the Ray executor: ``nasrank search --executor ray``, fidelities in the
history, and resume of a parallel run."""
import json
from pathlib import Path

import pytest

from nasrank.cli import main
from nasrank.runs.history import History

pytestmark = pytest.mark.ray

CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201" / "nats_1000_cifar10_12ep_vs_200ep.csv"


def _search(out: Path, searcher: str, queries: int, *extra: str) -> int:
    return main(["search", "--space", "nb201", "--searcher", searcher, "--ranker", "tabular", "--benchmark",
                 f"csv:{CSV}", "--budget-queries", str(queries), "--seed", "4", "--executor", "ray", "--workers", "2",
                 "--output", str(out), "--quiet", "--no-store", *extra])


@pytest.mark.parametrize("searcher", ["asha", "sh"])
def test_cli_multifidelity_search_on_ray(tmp_path, searcher):
    out = tmp_path / searcher
    assert _search(out, searcher, 30) == 0
    recs = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    assert len(recs) == 30 and {r["fidelity"] for r in recs} == {12.0, 200.0}
    for r in recs:  # every 200-epoch record continues a 12-epoch one of the same arch made earlier
        if r["fidelity"] == 200.0:
            assert r["info"]["continued_from"] == 12
            assert any(q["arch"] == r["arch"] and q["fidelity"] == 12.0 and q["step"] < r["step"] for q in recs)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["searcher"] == searcher and summary["n_evaluations"] == 30
    top = max(r["score"] for r in recs if r["fidelity"] == 200.0 and r["score"] is not None)
    assert summary["best_score"] == top  # the returned arch is the best at the top fidelity


def test_asha_on_ray_resumes(tmp_path):
    out = tmp_path / "asha"
    assert _search(out, "asha", 20) == 0
    first = History.load(out).records
    assert main(["search", "--resume", str(out), "--budget-queries", "35", "--quiet"]) == 0  # kept options
    h = History.load(out).records
    assert len(h) == 35 and [(r.arch, r.fidelity) for r in h[:20]] == [(r.arch, r.fidelity) for r in first]
    pairs = [(r.arch, r.fidelity) for r in h]
    assert len(set(pairs)) == len(pairs)  # nothing evaluated twice at one fidelity across the resume
