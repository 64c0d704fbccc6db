"""Multi-fidelity search: rungs, the promotion rule (against hand-worked brackets), the charged
cost of a continuation, fidelities in the history, and resume after an interrupted write."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from nasrank.benchmarks import load_benchmark
from nasrank.errors import NasrankError
from nasrank.runs.history import History
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.rankers.fidelity import rung_budgets
from nasrank.registry import RANKERS, SEARCHERS
from nasrank.searchers.base import Budget
from nasrank.searchers.multifidelity import promote
from nasrank.spaces.nb201 import Nb201Space

CSV = Path("/work/shared/data/nb201/nats_1000_cifar10_12ep_vs_200ep.csv")


class ListSpace(Nb201Space):
    """NB201, but ``sample`` deals the given architectures in order (a hand-workable search)."""

    def __init__(self, archs):
        super().__init__()
        self.deck = list(archs)
        self.dealt = 0

    def sample(self, rng):
        a = self.deck[self.dealt % len(self.deck)]
        self.dealt += 1
        return a


class EpochRanker(Ranker):
    """A fidelity ranker with known answers: score = quality[arch] + budget / 100, cost = added epochs."""

    registry_name = "epochs"

    def __init__(self, space, quality):
        super().__init__(space, RunContext())
        self.quality = quality
        self.calls = []
        self.released = []

    def fidelity_grid(self):
        return None

    def max_fidelity(self):
        return 9

    def evaluate_at(self, arch, budget, start=0):
        self.calls.append((self.space.to_string(arch), budget, start))
        q = self.quality[self.space.to_string(arch)]
        return Evaluation(q + budget / 100, float(budget - start), float(budget - start), {"continued_from": start})

    def release(self, arch):
        self.released.append(self.space.to_string(arch))


def _archs(n):
    space = Nb201Space()
    rng = np.random.default_rng(0)
    return [space.to_string(a) for a in space.sample_many(n, rng)]


def test_rung_budgets_geometric_and_grid():
    assert rung_budgets(1, 27, 3, None) == [1, 3, 9, 27]
    assert rung_budgets(1, 8, 2, None) == [1, 2, 4, 8]
    assert rung_budgets(2, 10, 3, None) == [3, 10]  # down from max_budget: 10/3 rounds to 3
    assert rung_budgets(12, 200, 3, (12, 200)) == [12, 200]
    with pytest.raises(NasrankError, match="eta"):
        rung_budgets(1, 9, 1, None)
    with pytest.raises(NasrankError, match="none lies"):
        rung_budgets(13, 199, 3, (12, 200))


def test_promote_keeps_the_best_third_nan_worst_ties_to_the_first():
    assert promote([5, 9, 1, 9, float("nan"), 7, 3, 2, 8], 3) == [1, 3, 8]
    assert promote([float("nan"), float("nan")], 3) == [0]  # at least one, ties by order
    assert promote([1, 2, 3, 4], 2) == [3, 2]


def test_sh_runs_the_hand_worked_bracket():
    """9 archs at 1 epoch -> best 3 continue to 3 epochs -> best 1 to 9 epochs; each continuation
    starts from the kept budget and is charged the added epochs."""
    names = _archs(9)
    quality = {a: q for a, q in zip(names, [50, 90, 10, 70, 80, 20, 60, 40, 30])}
    # at 3 epochs the order among the survivors flips: arch 4 (80) beats arch 1 (90)
    space = ListSpace([space_a for space_a in map(Nb201Space().from_string, names)])
    ranker = EpochRanker(space, quality)
    quality_at3 = {names[1]: 0.0, names[4]: 5.0, names[3]: 1.0}

    def evaluate_at(arch, budget, start=0, _orig=ranker.evaluate_at):
        ev = _orig(arch, budget, start)
        s = space.to_string(arch)
        return Evaluation(quality_at3[s] if budget == 3 else ev.score, ev.seconds, ev.device_seconds, ev.info)

    ranker.evaluate_at = evaluate_at
    s = SEARCHERS.create("sh", space, ranker, seed=0, min_budget=1, max_budget=9, eta=3)
    assert s.rungs == [1, 3, 9] and s.n == 9
    h = s.run(Budget(queries=13))
    got = [(r.arch, r.fidelity, r.seconds, r.info["continued_from"]) for r in h]
    want = [(a, 1.0, 1.0, 0) for a in names] + \
           [(names[1], 3.0, 2.0, 1), (names[4], 3.0, 2.0, 1), (names[3], 3.0, 2.0, 1),
            (names[4], 9.0, 6.0, 3)]
    assert got == want
    assert sorted(ranker.released[:6]) == sorted(names[i] for i in (0, 2, 5, 6, 7, 8))  # dropped after rung 1
    assert h.best().arch == names[4] and h.best().fidelity == 9.0  # the returned arch: best at the top rung
    assert h.total_seconds == 9 * 1 + 3 * 2 + 6


def test_hyperband_brackets_and_their_first_rungs():
    names = _archs(30)
    space = ListSpace([Nb201Space().from_string(a) for a in names])
    ranker = EpochRanker(space, {a: i for i, a in enumerate(names)})
    s = SEARCHERS.create("hyperband", space, ranker, seed=0, min_budget=1, max_budget=9, eta=3)
    assert s.brackets() == [(0, 9), (1, 5), (2, 3)]  # Li et al.'s table for R=9, eta=3
    h = s.run(Budget(queries=9 + 3 + 1 + 5 + 1 + 3))
    fids = [r.fidelity for r in h]
    assert fids == [1.0] * 9 + [3.0] * 3 + [9.0] + [3.0] * 5 + [9.0] + [9.0] * 3
    # bracket 2 starts at 3 epochs from scratch: charged 3, not 2
    assert [r.seconds for r in h][13:18] == [3.0] * 5
    assert h.records[18].arch == names[13] and h.records[18].info["continued_from"] == 3


def test_asha_serial_promotes_as_soon_as_a_rung_has_eta_results():
    names = _archs(12)
    space = ListSpace([Nb201Space().from_string(a) for a in names])
    ranker = EpochRanker(space, {a: q for a, q in zip(names, [10, 30, 20, 5, 40, 1, 2, 3, 50, 4, 6, 7])})
    s = SEARCHERS.create("asha", space, ranker, seed=0, min_budget=1, max_budget=9, eta=3)
    h = s.run(Budget(queries=9))
    got = [(r.arch, r.fidelity) for r in h]
    # 3 results at rung 0: the best (names[1], 30) is promoted at once. With 4 results the top
    # floor(4/3) = 1 is still names[1] (done): a new arch. With 5, the top 1 is names[4] (40):
    # promoted. With 6 the top 2 (names[4], names[1]) are both promoted: new archs again; rung 1
    # has only 2 results, too few to promote to rung 2.
    assert got == [(names[0], 1.0), (names[1], 1.0), (names[2], 1.0), (names[1], 3.0),
                   (names[3], 1.0), (names[4], 1.0), (names[4], 3.0), (names[5], 1.0), (names[6], 1.0)]
    assert h.records[6].info["continued_from"] == 1 and h.records[6].seconds == 2.0


def _tabular(tmp_path=None):
    space = Nb201Space()
    bench = load_benchmark(f"csv:{CSV}", space)
    return space, RANKERS.create("tabular", space, RunContext(benchmark=bench))


def test_tabular_fidelities_charge_the_recorded_difference():
    space, ranker = _tabular()
    assert ranker.fidelity_grid() == (12, 200)
    with open(CSV) as fh:
        row = fh.read().splitlines()[1].split(",")  # index 0
    arch = space.from_string(row[1])
    t12, t200 = float(row[4]), float(row[6])
    ev12, ev200 = ranker.evaluate_at(arch, 12), ranker.evaluate_at(arch, 200, start=12)
    assert ev12.score == pytest.approx(float(row[2])) and ev12.seconds == pytest.approx(t12)
    assert ev200.score == pytest.approx(float(row[5]))
    assert ev200.seconds == pytest.approx(t200 - t12) and ev200.info["continued_from"] == 12
    assert ranker.evaluate_at(arch, 200).seconds == pytest.approx(t200)  # from scratch: the whole run
    with pytest.raises(NasrankError, match="fidelities: 12, 200"):
        ranker.evaluate_at(arch, 50)


@pytest.mark.parametrize("name", ["sh", "hyperband", "asha"])
def test_resume_after_an_interrupted_write_gives_the_same_run(tmp_path, name):
    space, ranker = _tabular()
    full = SEARCHERS.create(name, space, ranker, seed=3).run(Budget(queries=40), History(tmp_path / "full"))
    lines = (tmp_path / "full" / "history.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "history.jsonl").write_text("".join(lines[:17]) + lines[17][:25])  # a kill mid-write
    space, ranker = _tabular()
    resumed = SEARCHERS.create(name, space, ranker, seed=3).run(Budget(queries=40),
                                                                History(tmp_path / "cut", resume=True))
    key = [(r.step, r.arch, r.fidelity, r.score if r.valid else None, r.seconds) for r in full]
    assert [(r.step, r.arch, r.fidelity, r.score if r.valid else None, r.seconds) for r in resumed] == key
    again = [json.loads(x) for x in (tmp_path / "cut" / "history.jsonl").read_text().splitlines()]
    assert [d["fidelity"] for d in again] == [r.fidelity for r in full]
    assert {d["fidelity"] for d in again} == {12.0, 200.0}


def test_resume_with_other_options_is_refused(tmp_path):
    space, ranker = _tabular()
    SEARCHERS.create("sh", space, ranker, seed=1, n=6).run(Budget(queries=10), History(tmp_path))
    space, ranker = _tabular()
    with pytest.raises(NasrankError, match="cannot resume"):
        SEARCHERS.create("sh", space, ranker, seed=1, n=4).run(Budget(queries=20), History(tmp_path, resume=True))


def test_searchers_refuse_a_ranker_without_fidelities():
    space = Nb201Space()
    bench = load_benchmark(f"csv:{CSV}", space)
    ranker = RANKERS.create("params", space, RunContext(benchmark=bench))
    with pytest.raises(NasrankError, match="declares fidelities"):
        SEARCHERS.create("sh", space, ranker)


def test_history_best_and_trajectory_compare_only_the_highest_fidelity():
    h = History()
    h.append("a", 95.0, 1, 1, 80.0, "r", fidelity=12)
    h.append("b", 90.0, 1, 1, 93.0, "r", fidelity=200)
    h.append("c", 99.0, 1, 1, 70.0, "r", fidelity=12)
    assert h.best().arch == "b"
    assert [acc for _, acc in h.trajectory()] == [80.0, 93.0, 93.0]
    plain = History()
    plain.append("a", 1.0, 1, 1, 50.0, "r")
    assert "fidelity" not in plain.records[0].to_json()  # single-fidelity lines are unchanged
    assert math.isclose(plain.best().score, 1.0)
