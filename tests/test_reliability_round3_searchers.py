"""Issue 32, D1 and the searchers' minor items: a bracket size or ``eta`` typed as a huge number
ends in time (or is one clear error), ``asha`` releases the state of architectures it can no
longer promote, and the multi-fidelity budgets are whole numbers."""
from __future__ import annotations

import json
import resource
from pathlib import Path

import numpy as np
import pytest

from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import SEARCHERS
from nasrank.searchers.base import Budget
from nasrank.spaces.nb201 import Nb201Space
from conftest import shared
from test_reliability_round2_defects import cli_capped
from test_reliability_round2_defects import one_error_line as _one_error_line

NATS = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")


def one_error_line(r, *needles: str) -> None:
    """One error line after the table's coverage warning (1,000 of 15,625 cells)."""
    r.stderr = "".join(x for x in r.stderr.splitlines(keepends=True) if not x.startswith("nasrank: warning: benchmark"))
    _one_error_line(r, *needles)


def _search(tmp_path, searcher: str, cfg: str, budget: str = "5", timeout: float = 90):
    out = tmp_path / "run"
    r = cli_capped("search", "--benchmark", f"csv:{NATS}", "--searcher", searcher, "--searcher-cfg", cfg,
                   "--ranker", "tabular", "--budget-queries", budget, "--quiet", "--no-store",
                   "--output", str(out), cwd=tmp_path, timeout=timeout)
    return r, out


def _lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("cfg", ["n=1e30", "n=100000000000"])
def test_d1_a_huge_bracket_is_capped_at_the_budget(tmp_path, cfg):
    """n=1e30 hung (and grew memory) whatever the budget: the bracket is sampled as it is evaluated."""
    t0 = _child_cpu()
    r, out = _search(tmp_path, "sh", cfg)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(_lines(out)) == 5
    assert _child_cpu() - t0 < 10


def _child_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def test_d1_a_bracket_larger_than_the_space_takes_seconds_not_minutes(tmp_path):
    """n=20000 (more than the 15,625 cells) took 26 CPU seconds (36 s) for a 5-query budget; a search
    with the default n takes about 3."""
    t0 = _child_cpu()
    r, out = _search(tmp_path, "sh", "n=20000")
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(_lines(out)) == 5
    assert _child_cpu() - t0 < 10, _child_cpu() - t0


@pytest.mark.parametrize("searcher", ["sh", "hyperband", "asha"])
@pytest.mark.parametrize("eta", ["1e308", "1e6"])
def test_d1_a_huge_eta_is_one_clear_error(tmp_path, searcher, eta):
    r, _ = _search(tmp_path, searcher, f"eta={eta}", timeout=60)
    one_error_line(r, "eta")


@pytest.mark.parametrize("searcher", ["sh", "hyperband"])
def test_d1_the_largest_eta_still_runs(tmp_path, searcher):
    from nasrank.runs.limits import MAX_ETA

    r, out = _search(tmp_path, searcher, f"eta={MAX_ETA}", budget="7")
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(_lines(out)) == 7


@pytest.mark.parametrize("cfg, needle", [("max_budget=2.5", "max_budget"), ("min_budget=1.5", "min_budget"),
                                         ("max_budget=true", "max_budget")])
def test_minor_budgets_are_whole_numbers(tmp_path, cfg, needle):
    r, _ = _search(tmp_path, "sh", cfg, timeout=60)
    one_error_line(r, needle)


# -- asha releases what it can no longer promote ---------------------------------------------------------
class CountingRanker(Ranker):
    """A fidelity ranker with known answers that records when each state is released."""

    registry_name = "counting"

    def __init__(self, space):
        super().__init__(space, RunContext())
        self.calls: list[tuple[str, int, int]] = []
        self.released: list[tuple[str, int]] = []   # (arch, evaluations made before the release)

    def fidelity_grid(self):
        return None

    def max_fidelity(self):
        return 9

    def evaluate_at(self, arch, budget, start=0):
        self.calls.append((self.space.to_string(arch), budget, start))
        q = float(sum(ord(c) for c in self.space.to_string(arch)) % 97)
        return Evaluation(q + budget / 100, float(budget - start), float(budget - start), {"continued_from": start})

    def release(self, arch):
        self.released.append((self.space.to_string(arch), len(self.calls)))


def _asha(budget: int, **cfg):
    space = Nb201Space()
    ranker = CountingRanker(space)
    s = SEARCHERS.create("asha", space, ranker, seed=0, min_budget=1, max_budget=9, eta=3, **cfg)
    return ranker, s.run(Budget(queries=budget))


def test_asha_releases_every_state_by_the_end_and_each_once():
    ranker, h = _asha(40)
    released = [a for a, _ in ranker.released]
    assert len(released) == len(set(released)), "a state released twice"
    assert set(released) == {r.arch for r in h}, "states of unpromoted architectures were kept"


def test_asha_releases_a_state_as_soon_as_it_can_no_longer_be_promoted():
    ranker, h = _asha(40)
    top = {r.arch for r in h if r.fidelity == 9.0}
    early = [n for a, n in ranker.released if a not in top]
    assert early and min(early) < 30, ranker.released  # not all at the end of the budget
    # and never one that is continued later: every continuation starts from a kept state
    for arch, budget, start in ranker.calls:
        if budget > 1:
            assert start > 0, (arch, budget, start)


def test_asha_release_keeps_the_run_identical():
    """Releasing changes what is kept, never what is evaluated."""
    _, h1 = _asha(40)
    space = Nb201Space()
    ranker = CountingRanker(space)
    s = SEARCHERS.create("asha", space, ranker, seed=0, min_budget=1, max_budget=9, eta=3)
    s.prune_unpromotable = lambda *a, **k: None  # the same search, never releasing early
    h2 = s.run(Budget(queries=40))
    assert [(r.arch, r.fidelity, r.seconds) for r in h1] == [(r.arch, r.fidelity, r.seconds) for r in h2]


def test_sh_bracket_is_sampled_as_it_is_evaluated():
    """The first rung of a bracket is drawn in the same order as ``sample_many`` (so old runs resume)."""
    space = Nb201Space()
    want = [space.to_string(a) for a in space.sample_many(12, np.random.default_rng(4))]
    ranker = CountingRanker(space)
    s = SEARCHERS.create("sh", space, ranker, seed=4, min_budget=1, max_budget=9, eta=3, n=10 ** 12)
    h = s.run(Budget(queries=12))
    assert [r.arch for r in h] == want
    with pytest.raises(NasrankError, match="n"):
        SEARCHERS.create("sh", space, ranker, n=0)


def test_random_batch_size_1e30_is_capped_at_the_budget(tmp_path):
    out = tmp_path / "run"
    r = cli_capped("search", "--benchmark", f"csv:{NATS}", "--searcher", "random", "--searcher-cfg",
                   "batch_size=1e30", "--budget-queries", "5", "--quiet", "--no-store", "--output", str(out),
                   cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(_lines(out)) == 5


@pytest.mark.parametrize("searcher", ["sh", "hyperband", "asha"])
@pytest.mark.parametrize("cfg", [{"max_budget": 2.5}, {"max_budget": 8.5}, {"min_budget": 0.5}])
def test_minor_fractional_budgets_are_refused_for_a_ranker_without_a_grid(searcher, cfg):
    """``max_budget=2.5`` ran rungs of round(2.5 / eta**k) epochs: 2, with no word."""
    space = Nb201Space()
    with pytest.raises(NasrankError, match=next(iter(cfg))):
        SEARCHERS.create(searcher, space, CountingRanker(space), **cfg)


class FiveCells(Nb201Space):
    """NB201 with five cells: a space a search uses up."""

    size = 5

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.deck = Nb201Space().sample_many(5, rng)

    def sample(self, rng):
        return self.deck[int(rng.integers(5))]


@pytest.mark.parametrize("searcher", ["sh", "hyperband"])
def test_a_search_that_uses_up_the_space_stops(searcher):
    """Brackets of known architectures were free and endless: the search hung once the space was used up."""
    space = FiveCells()
    s = SEARCHERS.create(searcher, space, CountingRanker(space), seed=0, min_budget=1, max_budget=9, eta=3)
    h = s.run(Budget(queries=1000))
    assert len(h) < 1000 and s.stopped_early, (len(h), s.stopped_early)
    assert {r.arch for r in h} == {space.to_string(a) for a in space.deck}
