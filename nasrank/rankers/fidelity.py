"""The fidelity contract: a ranker that can evaluate an architecture at a budget and continue later.

A ranker declares fidelities by implementing three methods (see :class:`FidelityRanker`):

* ``fidelity_grid()``: the budgets it can serve, in increasing order (``tabular``: the
  schedules its benchmark records, e.g. ``(12, 200)`` epochs), or ``None`` when any whole
  number of epochs up to ``max_fidelity()`` is allowed (``train``);
* ``max_fidelity()``: the largest budget (``train``: its ``schedule_epochs or epochs``, the
  horizon of its learning-rate schedule);
* ``evaluate_at(arch, budget, start=0)``: the :class:`Evaluation` at ``budget``, continuing
  from the state the ranker kept when it last evaluated ``arch`` at ``start`` (0: from
  scratch). It **charges only the added cost** (``start`` → ``budget``); ``info`` says
  ``fidelity``, ``continued_from`` and, when the kept state was missing and the ranker had
  to start again, ``restarted: true`` (then the whole cost it spent is charged);
* ``release(arch)``: drop the state kept for ``arch`` (the searcher is done with it).

The searcher owns the bookkeeping: it passes ``start`` (the budget at which it last
evaluated ``arch``), so a stateless ranker (``tabular``) charges the difference of its
recorded times, and a resumed search asks exactly what the interrupted one asked.

:class:`FidelityView` adapts a fidelity ranker to the executor contract
(``evaluate(items)``): each item is a :class:`FidelityJob`, so the serial and the Ray
executors run continuations like any other evaluation, and Ray ships the ranker once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker
from nasrank.spaces.base import Arch


@runtime_checkable
class FidelityRanker(Protocol):
    """What a multi-fidelity searcher needs from a ranker (see the module docstring)."""

    def fidelity_grid(self) -> tuple[int, ...] | None: ...

    def max_fidelity(self) -> int: ...

    def evaluate_at(self, arch: Arch, budget: int, start: int = 0) -> Evaluation: ...

    def release(self, arch: Arch) -> None: ...


def require_fidelity(ranker: Ranker, searcher: str) -> FidelityRanker:
    """``ranker`` if it declares fidelities, else one clear error naming it."""
    if not all(callable(getattr(ranker, m, None)) for m in ("fidelity_grid", "max_fidelity", "evaluate_at", "release")):
        raise NasrankError(f"searcher {searcher!r} needs a ranker that declares fidelities (evaluate at a budget, "
                           f"continue later): 'train' or 'tabular'; {getattr(ranker, 'name', ranker)!r} does not")
    return ranker  # type: ignore[return-value]


@dataclass(frozen=True)
class FidelityJob:
    """Evaluate ``arch`` at ``budget``, continuing from the state kept at ``start`` (0: from scratch)."""

    arch: Arch
    budget: int
    start: int = 0


class FidelityView(Ranker):
    """The executor-facing face of a fidelity ranker: ``evaluate(jobs)`` runs ``evaluate_at`` per job.

    It carries the inner ranker's name, context, config and config hash (the Ray executor ships
    it once and keys the shipped copy on them).
    """

    def __init__(self, ranker: Ranker) -> None:  # no Ranker.__init__: the inner one was checked
        self.inner = ranker

    @property
    def space(self):  # type: ignore[override]
        return self.inner.space

    @property
    def context(self):  # type: ignore[override]
        return self.inner.context

    @property
    def name(self) -> str:
        return self.inner.name

    def config(self) -> dict[str, Any]:
        return self.inner.config()

    def config_hash(self) -> str:
        return self.inner.config_hash()

    def evaluate(self, archs: Sequence[FidelityJob],  # type: ignore[override]
                 on_result: Callable[[int, Evaluation], None] | None = None) -> list[Evaluation]:
        out = []
        for i, job in enumerate(archs):
            out.append(self.inner.evaluate_at(job.arch, job.budget, job.start))  # type: ignore[attr-defined]
            if on_result is not None:
                on_result(i, out[-1])
        return out


def rung_budgets(min_budget: float, max_budget: float, eta: float, grid: Sequence[int] | None) -> list[int]:
    """The budgets of successive halving's rungs, increasing.

    With a ``grid`` (the ranker serves only those budgets) the rungs are the grid's budgets in
    ``[min_budget, max_budget]``. Without one they are geometric with ratio ``eta`` down from
    ``max_budget``: ``max_budget / eta**k`` (rounded, at least 1) for k = K..0 with
    K = floor(log_eta(max_budget / min_budget)); e.g. 1, 3, 9, 27 for (1, 27, 3).
    """
    if not (min_budget > 0 and max_budget >= min_budget):
        raise NasrankError(f"multi-fidelity budgets need 0 < min_budget <= max_budget, got {min_budget} and {max_budget}")
    if not eta > 1:
        raise NasrankError(f"eta must be greater than 1, got {eta}")
    if grid is not None:
        rungs = sorted({int(b) for b in grid if min_budget <= b <= max_budget})
        if not rungs:
            raise NasrankError(f"the ranker serves budgets {', '.join(str(b) for b in grid)}; none lies in "
                               f"[min_budget={min_budget:g}, max_budget={max_budget:g}]")
        return rungs
    k, ratio = 0, max_budget / min_budget
    while eta ** (k + 1) <= ratio * (1 + 1e-9):
        k += 1
    rungs = sorted({max(1, int(round(max_budget / eta ** i))) for i in range(k + 1)})
    return rungs
