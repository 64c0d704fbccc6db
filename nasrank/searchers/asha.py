"""Asynchronous successive halving (``asha``; Li et al. 2020, "A system for massively parallel
hyperparameter tuning"), the parallel variant of ``sh``.

Whenever a worker is free it gets a job: from the highest rung down, the first architecture
that is among the best ``floor(n_k / eta)`` of the ``n_k`` finished at rung k and has not
been promoted yet is continued to rung k + 1 (from its kept state, charged the added cost);
when no rung has one, a new architecture starts at the lowest rung. No rung waits for the
others, so a promotion can be made on fewer results than in ``sh`` (the price of never
idling a worker). Architectures that reach the top rung are released, and so is every
architecture that can no longer be promoted: under a query budget with R >= 1 queries left, one
at place p (0-based, best first) of the n_k finished at rung k needs p < floor((n_k + R - 1) / eta),
and neither place nor bound can improve. Under a time budget the rest is released at the end
when the run has no folder (a run folder keeps it for a resume). A resume with a larger budget
continues a released architecture from scratch.

``workers`` (default: the executor's, 1 for the serial executor) evaluations are kept in
flight; ``nasrank search --executor ray --searcher asha`` runs them as Ray tasks (a ranker
that keeps state, ``train``, keeps it in files under ``OUT/fidelity_state``, so a
continuation may run on any worker).

Budget and resume: as ``evolution_async``. With one worker the run is deterministic and a
resumed run replays the recorded evaluations exactly (checking each one's fidelity), then
continues as the uninterrupted run would. With several workers completion order is not
reproducible: resume takes every recorded evaluation back into the rungs (in recorded
order) and continues with a fresh random stream.
"""
from __future__ import annotations

from typing import Any, Hashable

import numpy as np

from nasrank.errors import NasrankError
from nasrank.rankers.fidelity import FidelityJob
from nasrank.registry import SEARCHERS
from nasrank.searchers.async_evolution import _InlineAsync
from nasrank.searchers.base import BudgetSpent
from nasrank.searchers.multifidelity import MultiFidelitySearcher, promote
from nasrank.spaces.base import Arch


@SEARCHERS.register("asha")
class AsynchronousSuccessiveHalving(MultiFidelitySearcher):
    """Asynchronous successive halving: promote as soon as an architecture is in its rung's top 1/``eta``."""

    @classmethod
    def parallel_variant(cls, name: str, cfg: dict[str, Any], workers: int) -> tuple[str, dict[str, Any]]:
        """``workers`` evaluations in flight (unless given)."""
        return name, {"workers": workers, **cfg}

    def __init__(self, space, ranker, seed: int = 0, executor=None, min_budget: float | None = None,
                 max_budget: float | None = None, eta: float = 3, workers: int | None = None) -> None:
        super().__init__(space, ranker, seed, executor, min_budget, max_budget, eta)
        if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
            raise NasrankError(f"asha workers must be a positive integer, got {workers!r}")
        self.workers = workers if workers is not None else int(getattr(self.executor, "workers", 1) or 1)
        #: per rung: finished (arch, score) in completion order; promoted keys
        self._done: list[list[tuple[Arch, float]]] = [[] for _ in self.rungs]
        self._promoted: list[set] = [set() for _ in self.rungs]

    # -- the rule ---------------------------------------------------------------
    def next_job(self, in_flight: set) -> tuple[Arch, int] | None:
        """``(arch, rung index)`` to run next: a promotion from the highest rung that has one, else a new
        architecture at rung 0 (None when the space keeps giving known ones)."""
        for k in range(len(self.rungs) - 2, -1, -1):
            done = self._done[k]
            for i in promote([s for _, s in done], self.eta) if len(done) >= self.eta else []:
                arch = done[i][0]
                key = self.space.key(arch)
                if key not in self._promoted[k]:
                    self._promoted[k].add(key)
                    return arch, k + 1
        for _ in range(self.max_duplicate_proposals):
            arch = self.space.sample(self.rng)
            key = self.space.key(arch)
            if not self.known(arch, self.rungs[0]) and (key, 0) not in in_flight:
                return arch, 0
        return None

    def _finish(self, arch: Arch, k: int, score: float) -> None:
        self._done[k].append((arch, score))
        if k == len(self.rungs) - 1:
            self.release([arch])

    def prune_unpromotable(self, at_end: bool = False) -> None:
        """Release the kept state of every architecture that no rung can promote any more (see the module
        docstring); ``at_end`` of a run without a folder, of every one not at the top rung."""
        assert self.budget is not None
        left = self.budget.remaining_queries(self.n_queries)
        if left is None and not (at_end and self.history.path is None):
            return
        for k in range(len(self.rungs) - 1):
            done = self._done[k]
            reach = len(done) + left - 1 if left else 0  # a promotion is a query: at most left - 1 before it
            places = int(reach // self.eta) if reach >= self.eta else 0
            order = promote([s for _, s in done], 1.0) if places < len(done) else []
            drop = [done[i][0] for i in order[places:]]
            self.release([a for a in drop if self.space.key(a) not in self._promoted[k]
                          and self._kept.get(self.space.key(a)) == self.rungs[k]])

    # -- resume -----------------------------------------------------------------
    def _replay_all(self) -> None:
        """Several workers: take every recorded evaluation back into the rungs, in recorded order."""
        n = 0
        while self.history.replaying:
            rec = self.history.replay_pop()
            arch = self.space.from_string(rec.arch)
            if rec.fidelity is None or int(rec.fidelity) not in self.rungs:
                raise NasrankError(f"cannot resume: the history has {rec.arch} at fidelity {rec.fidelity}, not one of "
                                   f"this search's rungs {self.rungs}; resume with the same options")
            k = self.rungs.index(int(rec.fidelity))
            if k > 0:
                self._promoted[k - 1].add(self.space.key(arch))
            self._note(arch, self.rungs[k], rec.score)
            self._finish(arch, k, rec.score)
            if self._on_record:
                self._on_record(rec)
            n += 1
        if n:
            self.rng = np.random.default_rng([self.seed, n])
            self.prune_unpromotable()

    def _may_submit(self, n_pending: int) -> bool:
        assert self.budget is not None
        return not self.budget.exhausted(self.n_queries + n_pending, self.history.total_seconds)

    # -- the search ---------------------------------------------------------------
    def search(self) -> None:
        self._use_run_folder()
        ex = self.executor if hasattr(self.executor, "submit") and hasattr(self.executor, "wait_one") \
            else _InlineAsync(self.executor)
        exact_replay = self.workers == 1
        if not exact_replay:
            self._replay_all()
        pending: dict[Hashable, tuple[FidelityJob, int]] = {}
        try:
            while True:
                while len(pending) < self.workers and self._may_submit(len(pending)):
                    nxt = self.next_job(set(pending))
                    if nxt is None:
                        break
                    arch, k = nxt
                    if exact_replay:
                        rec = self.take_replay(arch, self.rungs[k])
                        if rec is not None:
                            self._finish(arch, k, rec.score)
                            self.prune_unpromotable()
                            continue
                    job = self.job(arch, self.rungs[k])
                    token = (self.space.key(arch), k)
                    pending[token] = (job, k)
                    ex.submit(self._view, job, token=token)
                if not pending:
                    break
                token, ev = ex.wait_one()
                job, k = pending.pop(token)
                self.record_at(job, ev)
                self._finish(job.arch, k, ev.score)
                self.prune_unpromotable()
        except BaseException:
            if pending and hasattr(ex, "cancel"):
                ex.cancel()
            raise
        self.prune_unpromotable(at_end=True)
        raise BudgetSpent
