"""Asynchronous regularized evolution (Real et al. 2019, their parallel setting).

With ``W`` workers, ``W`` evaluations are in flight; as soon as one finishes
its result is written to the history (so the history is in completion order),
it joins the population (the oldest member dies once the population is full)
and a new child is proposed from the population as it is at that moment. No
worker waits for a whole generation.

``nasrank search --executor ray --searcher evolution`` runs this searcher
(registered as ``evolution_async``; see :func:`nasrank.execution.ray_executor.searcher_for_executor`).
With one worker (or a serial executor) it proposes exactly what
``evolution`` proposes for the same seed.

Budget: a query budget is exact (in-flight evaluations count against it). A
seconds budget is checked when an evaluation finishes; the evaluations still
in flight then are awaited and recorded (their cost was spent), so the total
may exceed the budget by up to ``W - 1`` evaluations, as with any parallel
executor. Resume replays the recorded evaluations into the population (in
their recorded order) and continues with a fresh random stream; completion
order under Ray is not reproducible, so neither is an asynchronous run.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Hashable

import numpy as np

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.registry import SEARCHERS
from nasrank.searchers.base import BudgetSpent, Searcher
from nasrank.spaces.base import Arch


class _InlineAsync:
    """``submit``/``wait_one`` over an executor that only has ``evaluate`` (runs at ``wait_one``, FIFO)."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self._queue: deque = deque()

    def submit(self, ranker: Any, arch: Arch, token: Hashable) -> Hashable:
        self._queue.append((ranker, arch, token))
        return token

    def wait_one(self) -> tuple[Hashable, Any]:
        ranker, arch, token = self._queue.popleft()
        return token, self.executor.evaluate(ranker, [arch])[0]

    def cancel(self) -> None:
        self._queue.clear()


@SEARCHERS.register("evolution_async")
class AsyncRegularizedEvolution(Searcher):
    """Regularized evolution that proposes a child whenever a worker is free.

    ``workers`` (default: the executor's ``workers``, 1 for the serial
    executor) is the number of evaluations kept in flight.
    """

    def __init__(self, space, ranker, seed: int = 0, executor=None, population_size: int = 20,
                 sample_size: int = 5, workers: int | None = None) -> None:
        super().__init__(space, ranker, seed, executor)
        population_size = validate.integer(population_size, "population_size", "searcher 'evolution_async'")
        sample_size = validate.integer(sample_size, "sample_size", "searcher 'evolution_async'")
        if not 1 <= sample_size <= population_size:
            raise NasrankError(f"evolution needs 1 <= sample_size ({sample_size}) <= population_size ({population_size})")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise NasrankError(f"evolution_async workers must be a positive integer, got {workers!r}")
        self.population_size = population_size
        self.sample_size = sample_size
        self.workers = workers if workers is not None else int(getattr(self.executor, "workers", 1) or 1)

    # -- helpers ------------------------------------------------------------
    def _admit(self, population: deque, arch: Arch, score: float) -> None:
        population.append((arch, self.fitness(score)))
        if len(population) > self.population_size:
            population.popleft()

    def _propose(self, population: deque, n_pending: int) -> Arch | None:
        """A random architecture while the population is filling, else a mutated tournament winner."""
        if len(population) + n_pending < self.population_size:
            return self.space.sample(self.rng)
        if not population:
            return None  # wait: the first evaluations are still running
        k = min(self.sample_size, len(population))
        idx = self.rng.choice(len(population), size=k, replace=False)
        parent = max((population[i] for i in idx), key=lambda p: p[1])[0]
        return self.space.mutate(parent, self.rng)

    def _may_submit(self, n_pending: int) -> bool:
        assert self.budget is not None
        return not self.budget.exhausted(self.n_queries + n_pending, self.history.total_seconds)

    def _replay(self, population: deque) -> None:
        """Resume: take every recorded evaluation back into the cache and population."""
        n = 0
        while self.history.replaying:
            rec = self.history.replay_pop()  # in recorded (completion) order
            self._cache[self.space.key(self.space.from_string(rec.arch))] = rec.score
            self._admit(population, self.space.from_string(rec.arch), rec.score)
            if self._on_record:
                self._on_record(rec)
            n += 1
        if n:
            self.rng = np.random.default_rng([self.seed, n])

    # -- the search ---------------------------------------------------------
    def search(self) -> None:
        ex = self.executor if hasattr(self.executor, "submit") and hasattr(self.executor, "wait_one") \
            else _InlineAsync(self.executor)
        population: deque = deque()
        pending: dict[Hashable, Arch] = {}
        self._replay(population)
        stopping = False
        try:
            while True:
                while not stopping and len(pending) < self.workers and self._may_submit(len(pending)):
                    arch = self._propose(population, len(pending))
                    if arch is None:
                        break
                    key = self.space.key(arch)
                    if key in self._cache or key in pending:
                        # a repeat is free: it joins the population like any child, as in `evolution`
                        if key in self._cache:
                            self._admit(population, arch, self._cache[key])
                        self._duplicates += 1
                        if self._duplicates > self.max_duplicate_proposals:
                            stopping = True
                            self.note_stopped_early()
                        continue
                    self._duplicates = 0
                    pending[key] = arch
                    ex.submit(self.ranker, arch, token=key)
                if not pending:
                    break
                key, ev = ex.wait_one()
                arch = pending.pop(key)
                self._record(arch, ev)
                self._admit(population, arch, ev.score)
        except BaseException:
            if pending and hasattr(ex, "cancel"):
                ex.cancel()
            raise
        raise BudgetSpent
