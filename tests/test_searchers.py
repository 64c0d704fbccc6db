import json
import subprocess
import sys
import time

import numpy as np
import pytest

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.runs.history import History
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS, SEARCHERS
from nasrank.searchers import Budget


def run(name, bench, seed=0, queries=100, **cfg):
    ranker = RANKERS.create("tabular", bench.space, RunContext(benchmark=bench))
    return SEARCHERS.create(name, bench.space, ranker, seed=seed, **cfg).run(Budget(queries=queries))


@pytest.mark.parametrize("name", SEARCHERS.names())  # every registered searcher, built-in or added
def test_reproducible_and_budgeted(nb201_bench, name):
    h1, h2 = run(name, nb201_bench, seed=3), run(name, nb201_bench, seed=3)
    assert [r.arch for r in h1] == [r.arch for r in h2]
    assert len(h1) == 100 and len({r.arch for r in h1}) == 100  # repeats are free, not new queries
    h3 = run(name, nb201_bench, seed=4)
    assert [r.arch for r in h1] != [r.arch for r in h3]
    cum = np.cumsum([r.seconds for r in h1])
    assert np.allclose(cum, [r.cumulative_seconds for r in h1])
    assert all(r.true_acc == r.score for r in h1)  # tabular ranker scores with the truth


def test_evolution_beats_random_on_average(nb201_bench):
    ev = np.mean([run("evolution", nb201_bench, seed=s, queries=150).best().true_acc for s in range(8)])
    rs = np.mean([run("random", nb201_bench, seed=s, queries=150).best().true_acc for s in range(8)])
    assert ev > rs
    assert 93.0 < rs < 94.38 and 93.5 < ev <= 94.3733


def test_local_search_visits_neighbours(nb201_bench):
    h = run("local", nb201_bench, seed=0, queries=25)
    space = nb201_bench.space
    first = space.from_string(h.records[0].arch)
    nbrs = {str(a) for a in space.neighbours(first)}
    assert {r.arch for r in h.records[1:25]} == nbrs


def test_seconds_budget(nb201_bench):
    ranker = RANKERS.create("tabular", nb201_bench.space, RunContext(benchmark=nb201_bench))
    h = SEARCHERS.create("random", nb201_bench.space, ranker, seed=0).run(Budget(seconds=50_000))
    assert h.total_seconds >= 50_000
    assert h.total_seconds - h.records[-1].seconds < 50_000


class NanRanker(Ranker):
    def evaluate_one(self, arch):
        s = float("nan") if "none~0|+" in str(arch) else float(arch.count("nor_conv_3x3"))
        return Evaluation(s, 1.0, 1.0, {})


def test_nan_scores_are_kept_and_never_best(nb201_bench):
    space = nb201_bench.space
    h = SEARCHERS.create("random", space, NanRanker(space), seed=0).run(Budget(queries=200))
    assert any(not r.valid for r in h) and h.best().valid
    assert all(json.loads(r.to_json())["score"] is None for r in h if not r.valid)


@pytest.mark.parametrize("bad", [dict(), dict(queries=0), dict(queries=-3), dict(seconds=float("nan"))])
def test_bad_budgets(bad):
    with pytest.raises(NasrankError, match="budget"):
        Budget(**bad)


def test_cli_search_outputs_and_resume(tmp_path, nb201_csv):
    out = tmp_path / "run"
    args = ["search", "--space", "nb201", "--searcher", "evolution", "--ranker", "tabular", "--benchmark",
            f"csv:{nb201_csv}", "--seed", "5", "--output", str(out), "--quiet", "--plot"]
    assert main(args + ["--budget-queries", "60"]) == 0
    full = History.load(out)
    summary = json.loads((out / "summary.json").read_text())
    for k in ("best_arch", "best_score", "best_true_acc", "n_evaluations", "total_cost_seconds"):
        assert k in summary
    assert summary["n_evaluations"] == 60 and (out / "trajectory.png").stat().st_size > 1000
    assert summary["optimum_true_acc"] == pytest.approx(94.3733)
    # an interrupted run: keep the first 25 lines plus half a line, then resume
    part = tmp_path / "part"
    part.mkdir()
    lines = (out / "history.jsonl").read_text().splitlines()
    (part / "history.jsonl").write_text("\n".join(lines[:25]) + "\n" + lines[25][:30])
    (part / "config.yaml").write_text((out / "config.yaml").read_text())
    assert main(["search", "--resume", str(part), "--quiet"]) == 0
    resumed = History.load(part)
    assert [r.arch for r in resumed] == [r.arch for r in full]
    assert resumed.total_seconds == pytest.approx(full.total_seconds)
    # an existing run is never overwritten silently
    assert main(args + ["--budget-queries", "5"]) == 2


def test_killed_run_keeps_evaluations(tmp_path, nb201_csv):
    """Kill a real search process mid-run; every line written is intact and resumable."""
    out = tmp_path / "killed"
    code = ("import time, nasrank.rankers.tabular as t\n"
            "orig = t.TabularRanker.evaluate_one\n"
            "def slow(self, a):\n    time.sleep(0.05); return orig(self, a)\n"
            "t.TabularRanker.evaluate_one = slow\n"
            "from nasrank.cli import main\n"
            f"main(['search','--benchmark','csv:{nb201_csv}','--budget-queries','1000','--output','{out}','--quiet'])\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline:
        p = out / "history.jsonl"
        if p.exists() and len(p.read_text().splitlines()) >= 10:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    done = History.load(out)
    assert 10 <= len(done) < 1000
    assert main(["search", "--resume", str(out), "--quiet", "--budget-queries", "1000"]) == 0
    after = History.load(out)
    assert len(after) == 1000
    assert [r.arch for r in after.records[: len(done)]] == [r.arch for r in done.records]


@pytest.mark.parametrize("argv,msg", [
    (["search", "--space", "nb999", "--budget-queries", "3"], "unknown space 'nb999'"),
    (["search", "--ranker", "nope", "--benchmark", "embedded", "--budget-queries", "3"], "unknown ranker 'nope'"),
    (["search", "--searcher", "evolution", "--searcher-cfg", "popsize=3", "--benchmark", "embedded",
      "--budget-queries", "3"], "popsize"),
    (["search", "--benchmark", "embedded"], "empty budget"),
    (["search", "--ranker", "tabular", "--benchmark", "none", "--budget-queries", "3"], "needs a benchmark"),
])
def test_cli_errors_are_one_line(capsys, argv, msg):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_spaces_json(capsys):
    assert main(["spaces", "nb201", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"name": "nb201", "size": 15625, "canonical_classes": 6466}


def test_search_stops_when_the_space_is_exhausted(nb201_bench):
    """A budget larger than the space ends once only known architectures come up."""
    from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

    class TwoOpSpace(Nb201Space):
        def sample(self, rng):
            return Nb201Arch(tuple(("none", "skip_connect")[i] for i in rng.integers(0, 2, size=6)))

    space = TwoOpSpace()
    ranker = RANKERS.create("tabular", space, RunContext(benchmark=nb201_bench))
    searcher = SEARCHERS.create("random", space, ranker, seed=0)
    searcher.max_duplicate_proposals = 500
    h = searcher.run(Budget(queries=1000))
    assert len(h) == 64 == len({r.arch for r in h})
