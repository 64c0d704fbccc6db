"""Successive halving (``sh``) and Hyperband (``hyperband``) over a ranker's fidelities.

Both need a ranker that declares fidelities (:mod:`nasrank.rankers.fidelity`: ``train``,
``tabular`` on a benchmark with several schedules). The rungs' budgets come from
``min_budget``, ``max_budget`` and ``eta`` (:func:`~nasrank.rankers.fidelity.rung_budgets`;
with ``tabular`` the recorded schedules, e.g. 12 and 200 epochs).

**Promotion rule** (Jamieson & Talwalkar 2016; Li et al. 2017): a rung of ``n``
architectures, all evaluated at its budget, promotes the best ``max(1, floor(n / eta))`` by
score (NaN counts as the worst; ties go to the one proposed first) to the next rung, where
each continues from the state kept at the lower budget and is charged only the added cost.
The others are released. A bracket ends at ``max_budget``.

* ``sh`` repeats one bracket of ``n`` new architectures (default ``ceil(eta**K)``, K + 1
  rungs) from the lowest rung until the search budget is spent;
* ``hyperband`` cycles through its K + 1 brackets s = K..0: bracket s starts
  ``ceil((K+1)/(s+1) * eta**s)`` architectures at rung K − s (s = 0 is random search at
  ``max_budget``).

A bracket's first rung is drawn as it is evaluated (a slice at a time, at most the queries left),
so memory and time grow with the evaluations made, never with ``n`` (capped at the space's size;
a bracket count over :data:`~nasrank.runs.limits.MAX_QUERIES` is that). ``eta`` is in
(1, :data:`~nasrank.runs.limits.MAX_ETA`]; ``min_budget`` and ``max_budget`` are whole numbers.
Brackets whose architectures are all known add to the run of repeated proposals that ends a
search early (the space is used up).

Every evaluation is one history record with its ``fidelity`` (the budget) and counts as one
query; its cost is what the ranker charged (the added cost). The architecture a run returns
is the best-scored one at the highest fidelity reached (:meth:`History.best`). A resumed run
proposes the same architectures (same seed) and takes the recorded evaluations back
(checking their fidelity), so it continues exactly where the interrupted one stopped; with an
output folder a ranker that keeps state (``train``) keeps it under ``OUT/fidelity_state``.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Iterator, Sequence

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.rankers.fidelity import FidelityJob, FidelityView, require_fidelity, rung_budgets
from nasrank.registry import SEARCHERS
from nasrank.runs.limits import MAX_DRAWN_AHEAD, MAX_ETA, MAX_QUERIES
from nasrank.searchers.base import BudgetSpent, Searcher
from nasrank.spaces.base import Arch, SearchSpace

STATE_FOLDER = "fidelity_state"


def promote(scores: Sequence[float], eta: float) -> list[int]:
    """Indices of the ``max(1, floor(len(scores) / eta))`` best scores (NaN worst; ties: lower index
    first), in rank order. The promotion rule of successive halving."""
    if not scores:
        return []
    k = max(1, int(math.floor(len(scores) / eta + 1e-9)))
    order = sorted(range(len(scores)), key=lambda i: (-Searcher.fitness(scores[i]), i))
    return order[:k]


def geometric_count(coef: float, eta: float, power: int) -> int:
    """``ceil(coef * eta ** power)``, at most :data:`~nasrank.runs.limits.MAX_QUERIES` (no budget
    reaches a larger bracket; the cap keeps ``eta ** power`` from overflowing)."""
    if math.log(coef) + power * math.log(eta) >= math.log(MAX_QUERIES):
        return MAX_QUERIES
    return min(MAX_QUERIES, int(math.ceil(coef * eta ** power - 1e-9)))


class MultiFidelitySearcher(Searcher):
    """Shared by ``sh``, ``hyperband`` and ``asha``: rungs, and evaluation at a budget with replay."""

    def __init__(self, space, ranker, seed: int = 0, executor=None, min_budget: float | None = None,
                 max_budget: float | None = None, eta: float = 3) -> None:
        super().__init__(space, ranker, seed, executor)
        owner = f"searcher {self.registry_name!r}"
        fr = require_fidelity(ranker, self.registry_name)
        grid = fr.fidelity_grid()
        max_budget = fr.max_fidelity() if max_budget is None else max_budget
        min_budget = (grid[0] if grid else 1) if min_budget is None else min_budget
        self.min_budget = validate.integer(min_budget, "min_budget", owner)
        self.max_budget = validate.integer(max_budget, "max_budget", owner)
        self.eta = validate.number(eta, "eta", owner, 1.0, MAX_ETA, low_open=True)
        if self.max_budget > fr.max_fidelity():
            raise NasrankError(f"{owner}: max_budget={self.max_budget:g} exceeds what ranker {ranker.name!r} serves "
                               f"({fr.max_fidelity()}; for 'train' raise its epochs or schedule_epochs)")
        self.rungs = rung_budgets(self.min_budget, self.max_budget, self.eta, grid)
        self._view = FidelityView(ranker)
        self._scores: dict[tuple, float] = {}   # (arch key, budget) -> score
        self._kept: dict[Any, int] = {}         # arch key -> budget of the state the ranker keeps
        self._state_set = False

    # -- state and bookkeeping ------------------------------------------------
    def _use_run_folder(self) -> None:
        """With an output folder, a ranker that keeps state keeps it there (it survives a kill)."""
        if self._state_set:
            return
        self._state_set = True
        use = getattr(self.ranker, "use_state_dir", None)
        if callable(use) and self.history.path is not None:
            use(self.history.path.parent / STATE_FOLDER)

    def job(self, arch: Arch, budget: int) -> FidelityJob:
        """The job that takes ``arch`` to ``budget``: from its kept state if that is lower, else from scratch."""
        kept = self._kept.get(self.space.key(arch), 0)
        return FidelityJob(arch, int(budget), kept if kept < budget else 0)

    def release(self, archs: Sequence[Arch]) -> None:
        """Tell the ranker it may drop the state of ``archs``."""
        for a in archs:
            if self._kept.pop(self.space.key(a), None) is not None:
                self.ranker.release(a)

    def known(self, arch: Arch, budget: int) -> bool:
        return (self.space.key(arch), int(budget)) in self._scores

    def take_replay(self, arch: Arch, budget: int):
        """The recorded evaluation of ``arch`` at ``budget`` if the replay is at it (else None)."""
        if not self.history.replaying:
            return None
        rec = self.history.replay_next(self.space.to_string(arch))
        if rec is None:
            return None
        if rec.fidelity is None or int(rec.fidelity) != int(budget):
            raise NasrankError(f"cannot resume: the search asked {rec.arch} at budget {budget} where the history "
                               f"has it at {rec.fidelity}; resume with the same searcher, ranker, seed and options")
        self._note(arch, budget, rec.score)
        if self._on_record:
            self._on_record(rec)
        return rec

    def _note(self, arch: Arch, budget: int, score: float) -> None:
        key = self.space.key(arch)
        self._scores[key, int(budget)] = score
        self._kept[key] = int(budget)
        self._cache[key] = score

    def record_at(self, job: FidelityJob, ev) -> None:
        """Write the evaluation of ``job`` to the history (with its fidelity)."""
        bench = self.ranker.context.benchmark
        true_acc = None
        if bench is not None:
            try:
                true_acc = bench.true_accuracy(job.arch, self.ranker.context.dataset)
            except NasrankError:
                true_acc = None
        info = {**ev.info, "fidelity": job.budget, "continued_from": ev.info.get("continued_from", job.start)}
        rec = self.history.append(self.space.to_string(job.arch), ev.score, ev.seconds, ev.device_seconds,
                                  true_acc, self.ranker.name, info, status=ev.status, fidelity=job.budget)
        self._note(job.arch, job.budget, rec.score)
        if self._on_record:
            self._on_record(rec)

    # -- synchronous evaluation of a rung -------------------------------------
    def evaluate_at(self, archs: Sequence[Arch], budget: int) -> list[float]:
        """Scores of ``archs`` at ``budget`` (known ones free, recorded ones replayed, the rest evaluated
        through the executor); raises :class:`BudgetSpent` when the search budget runs out."""
        assert self.budget is not None
        self._use_run_folder()
        todo: list[FidelityJob] = []
        pending: set = set()
        for arch in archs:
            key = (self.space.key(arch), int(budget))
            if key in self._scores or key in pending:
                continue
            if self.take_replay(arch, budget) is not None:
                continue
            pending.add(key)
            todo.append(self.job(arch, budget))
        while todo:
            batch = self.next_batch(todo)
            todo = todo[len(batch):]
            for job, ev in zip(batch, self.executor.evaluate(self._view, batch)):
                self.record_at(job, ev)
        return [self._scores[self.space.key(a), int(budget)] for a in archs]

    def draw(self, n: int) -> Iterator[Arch]:
        """Up to ``n`` distinct architectures, drawn as they are asked for, in the order
        ``space.sample_many(n, rng)`` gives them (a space that overrides ``sample_many`` is asked for
        all at once). ``n`` is capped at the space's size."""
        size = getattr(self.space, "size", None)
        if isinstance(size, int) and size > 0 and not getattr(self.space, "size_is_estimate", False):
            n = min(n, size)
        if type(self.space).sample_many is not SearchSpace.sample_many:
            yield from self.space.sample_many(min(n, MAX_QUERIES), self.rng, unique=True)
            return
        seen: set = set()
        tries = 0
        while len(seen) < n:
            arch = self.space.sample(self.rng)
            tries += 1
            key = self.space.key(arch)
            if key in seen:
                if tries > 100 * n + 1000:
                    return
                continue
            seen.add(key)
            yield arch

    def first_rung(self, n: int, budget: int) -> list[Arch]:
        """Draw a bracket's ``n`` architectures and evaluate them at ``budget``, a slice at a time (at most
        the queries left, or :data:`~nasrank.runs.limits.MAX_DRAWN_AHEAD`): memory and time grow with the
        evaluations made, not with ``n``. Repeats of earlier brackets are answered free."""
        archs: list[Arch] = []
        drawn = self.draw(n)
        before = len(self.history)
        while True:
            left = self.budget.remaining_queries(self.n_queries) if self.budget is not None else None
            chunk = list(itertools.islice(drawn, max(1, min(MAX_DRAWN_AHEAD, left or MAX_DRAWN_AHEAD))))
            if not chunk:
                break
            archs.extend(chunk)
            self.evaluate_at(chunk, budget)
        self._count_repeats(len(self.history) == before, len(archs))
        return archs

    def _count_repeats(self, nothing_new: bool, n: int) -> None:
        """A bracket whose architectures were all known adds ``n`` proposals to the run of repeats; past
        :attr:`max_duplicate_proposals` the search stops (the space is used up)."""
        self._duplicates = self._duplicates + n if nothing_new else 0
        if self._duplicates > self.max_duplicate_proposals:
            self.note_stopped_early()
            raise BudgetSpent

    def bracket(self, n: int, first_rung: int) -> None:
        """One successive-halving bracket: ``n`` new architectures from rung ``first_rung`` to the top."""
        archs = self.first_rung(n, self.rungs[first_rung])
        for i in range(first_rung, len(self.rungs)):
            scores = self.evaluate_at(archs, self.rungs[i])
            if i == len(self.rungs) - 1:
                self.release(archs)
                return
            keep = promote(scores, self.eta)
            self.release([a for j, a in enumerate(archs) if j not in set(keep)])
            archs = [archs[j] for j in keep]


@SEARCHERS.register("sh")
class SuccessiveHalving(MultiFidelitySearcher):
    """Successive halving: ``n`` architectures at ``min_budget``, the best 1/``eta`` continue to the next rung."""

    def __init__(self, space, ranker, seed: int = 0, executor=None, min_budget: float | None = None,
                 max_budget: float | None = None, eta: float = 3, n: int | None = None) -> None:
        super().__init__(space, ranker, seed, executor, min_budget, max_budget, eta)
        k = len(self.rungs) - 1
        self.n = validate.integer(n, "n", "searcher 'sh'") if n is not None else geometric_count(1, self.eta, k)

    def search(self) -> None:
        while True:
            self._check_budget()
            self.bracket(self.n, 0)


@SEARCHERS.register("hyperband")
class Hyperband(MultiFidelitySearcher):
    """Hyperband: cycle through successive-halving brackets that start at each rung (Li et al. 2017)."""

    def brackets(self) -> list[tuple[int, int]]:
        """``(first rung, number of architectures)`` of each bracket, most exploratory first."""
        k = len(self.rungs) - 1
        return [(k - s, geometric_count((k + 1) / (s + 1), self.eta, s)) for s in range(k, -1, -1)]

    def search(self) -> None:
        while True:
            for first, n in self.brackets():
                self._check_budget()
                self.bracket(n, first)
