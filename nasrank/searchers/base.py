"""The :class:`Searcher` contract: spend a budget through a ranker, fill a history."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.execution.serial import Executor, SerialExecutor
from nasrank.runs.history import History, HistoryRecord
from nasrank.rankers.base import Ranker
from nasrank.spaces.base import Arch, SearchSpace


@dataclass(frozen=True)
class Budget:
    """How much a search may spend: new evaluations (``queries``), ranker cost (``seconds``), or both."""

    queries: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.queries is None and self.seconds is None:
            raise NasrankError("empty budget: give --budget-queries N or --budget-seconds S")
        from nasrank.runs.limits import MAX_QUERIES

        if self.queries is not None and (not isinstance(self.queries, (int, np.integer)) or
                                         isinstance(self.queries, bool) or not 0 < self.queries <= MAX_QUERIES):
            raise NasrankError(f"budget of queries (--budget-queries, --candidates) must be an integer from 1 to "
                               f"{MAX_QUERIES:,}, got {str(self.queries)[:40]}")
        if self.seconds is not None and not (isinstance(self.seconds, (int, float)) and self.seconds > 0 and math.isfinite(self.seconds)):
            raise NasrankError(f"budget of seconds must be a positive number, got {self.seconds!r}")

    def exhausted(self, n_queries: int, seconds: float) -> bool:
        return (self.queries is not None and n_queries >= self.queries) or (
            self.seconds is not None and seconds >= self.seconds)

    def remaining_queries(self, n_queries: int) -> int | None:
        return None if self.queries is None else max(0, self.queries - n_queries)


class BudgetSpent(Exception):
    """Raised inside a search loop when the budget is exhausted."""


class Searcher:
    """Base class: subclasses implement :meth:`search` using :meth:`evaluate`.

    :meth:`evaluate` returns the score of each architecture. An architecture
    already evaluated in this run is answered from the run's cache for free
    (it is not a new query). Invalid (NaN) scores are kept in the history and
    treated as the worst score.
    """

    registry_name: str = "custom"
    #: constructor arguments every searcher gets positionally (not options)
    positional_args: tuple[str, ...] = ("space", "ranker")

    @classmethod
    def parallel_variant(cls, name: str, cfg: dict[str, Any], workers: int) -> tuple[str, dict[str, Any]]:
        """The searcher (registry name, options) to run instead of ``name`` with ``cfg`` on a parallel
        executor with ``workers`` workers; by default the same one."""
        return name, dict(cfg)

    def __init__(self, space: SearchSpace, ranker: Ranker, seed: int = 0,
                 executor: Executor | None = None) -> None:
        self.space = space
        self.ranker = ranker
        self.seed = validate.integer(seed, "seed", f"searcher {getattr(self, 'registry_name', type(self).__name__)!r}",
                                     minimum=0)
        self.rng = np.random.default_rng(seed)
        self.executor = executor or SerialExecutor()
        self.history = History()
        self.budget: Budget | None = None
        self._cache: dict = {}
        self._on_record: Callable[[HistoryRecord], None] | None = None
        self.max_duplicate_proposals = 10_000

    # -- running ------------------------------------------------------------
    def run(self, budget: Budget, history: History | None = None,
            on_record: Callable[[HistoryRecord], None] | None = None) -> History:
        """Search until ``budget`` is spent; return the history."""
        self.budget = budget
        self.history = history if history is not None else History()
        self._on_record = on_record
        self._duplicates = 0
        self.stopped_early: str | None = None
        try:
            self.search()
        except BudgetSpent:
            pass
        return self.history

    def note_stopped_early(self) -> None:
        """Record (in :attr:`stopped_early`) that the search ended before its budget: it proposed
        :attr:`max_duplicate_proposals` known architectures in a row."""
        asked = self.budget.queries if self.budget is not None else None
        self.stopped_early = (f"stopped after {self.n_queries:,} evaluations"
                              f"{f' of the {asked:,} asked' if asked is not None else ''}: the searcher proposed "
                              f"{self.max_duplicate_proposals:,} already-evaluated architectures in a row (the "
                              "space is used up, or the search has converged)")

    def search(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def n_queries(self) -> int:
        return len(self.history)

    def _check_budget(self) -> None:
        assert self.budget is not None
        if self.budget.exhausted(self.n_queries, self.history.total_seconds):
            raise BudgetSpent

    # -- evaluation ---------------------------------------------------------
    @staticmethod
    def fitness(score: float) -> float:
        """Score used for selection: NaN counts as the worst."""
        return score if score is not None and math.isfinite(score) else -math.inf

    def evaluate(self, archs: Sequence[Arch]) -> list[float]:
        """Evaluate ``archs`` (new ones through the executor) and return their scores.

        Raises :class:`BudgetSpent` when the budget runs out; the
        architectures evaluated before that are in the history.
        """
        assert self.budget is not None
        keys = [self.space.key(a) for a in archs]
        pending: set = set()
        todo: list[Arch] = []
        replayed = False
        for arch, k in zip(archs, keys):
            if k in self._cache or k in pending:
                continue
            rec = self.history.replay_next(self.space.to_string(arch)) if self.history.replaying else None
            if rec is not None:
                self._cache[k] = rec.score
                replayed = True
                if self._on_record:
                    self._on_record(rec)
                continue
            pending.add(k)
            todo.append(arch)
        fresh = bool(todo) or replayed
        if not fresh:
            self._duplicates += 1
            if self._duplicates > self.max_duplicate_proposals:
                self.note_stopped_early()
                raise BudgetSpent  # the searcher keeps proposing known architectures
        while todo:
            batch = self.next_batch(todo)
            todo = todo[len(batch):]
            results = self.executor.evaluate(self.ranker, batch)
            for arch, ev in zip(batch, results):
                self._record(arch, ev)
        if fresh:
            self._duplicates = 0
        return [self._cache[k] for k in keys]

    @property
    def executor_is_parallel(self) -> bool:
        return not isinstance(self.executor, SerialExecutor)

    def next_batch(self, todo: list) -> list:
        """The next jobs of ``todo`` that the budget allows (one at a time under a time budget on a serial
        executor, so that the budget is checked after every evaluation); raises ``BudgetSpent`` when spent."""
        self._check_budget()
        left = self.budget.remaining_queries(self.n_queries)
        batch = todo if left is None else todo[:left]
        if self.budget.seconds is not None and not self.executor_is_parallel:
            batch = batch[:1]
        return batch

    def _record(self, arch: Arch, ev) -> None:
        bench = self.ranker.context.benchmark
        true_acc = None
        if bench is not None:
            try:
                true_acc = bench.true_accuracy(arch, self.ranker.context.dataset)
            except NasrankError:
                true_acc = None
        rec = self.history.append(self.space.to_string(arch), ev.score, ev.seconds, ev.device_seconds,
                                  true_acc, self.ranker.name, ev.info, status=ev.status)
        self._cache[self.space.key(arch)] = rec.score
        if self._on_record:
            self._on_record(rec)

    def evaluate_one(self, arch: Arch) -> float:
        return self.evaluate([arch])[0]
