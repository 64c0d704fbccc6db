"""The ``recorded`` ranker: a pool ranker's recorded score and cost, served from a scored pool.

``--benchmark pool:DIR --ranker recorded --ranker-cfg ranker=fear``: every evaluation returns what
the pool recorded for that cell and ranker (score, status, charged seconds, device seconds, info), so
a search over the pool replays, at no training cost, exactly what the live ranker would have done with
the same scores and costs. Options:

* ``protocol``: score the cell by another recorded scoring protocol of the same run
  (``train``: one of its ``info["protocols"]``; ``fear``: ``train``, ``val`` or ``val_loss``). The
  scoring passes that protocol does not need are taken out of the charge (a pass's share of the
  charge is its wall seconds times the record's charge/wall ratio).
* ``reject_ratio`` / ``reject_by`` (``fear`` records only): FEAR's early rejection replayed in stream
  order. ``t_min`` is the fewest steps (or seconds) to threshold seen so far; a candidate whose
  stage 1 needed more than ``reject_ratio × t_min`` is rejected (score −2, status ``rejected``) and
  charged its setup plus the share of its stage-1 cost up to the first check point past the limit
  (pro-rated by steps, ``info["replayed_rejection"]``). ``depends_on_history`` is then true.
* a ranker recorded with rungs, evaluated plainly, is the run of its last rung's length (its last
  rung's score; charged the training of every rung and the scoring of the last one only);
* fidelities: a ranker recorded with rungs serves them (``fidelity_grid`` = the rungs,
  ``evaluate_at`` charges the recorded cumulative cost at ``budget`` minus that at ``start``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nasrank.errors import NasrankError
from nasrank.options import option
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

from nasrank.pool.charges import (REJECTED_SCORE, final_rung, protocol_score, rejected_charge,  # noqa: F401
                                  rung_charge, stage1_used)


def _ratio(value: Any, name: str, owner: str) -> float | None:
    from nasrank import validate

    return validate.optional_number(value, name, owner, low=0.0, low_open=True)


@dataclass
class RecordedOptions:
    """The ``recorded`` ranker's options."""

    ranker: str = option("", "the pool ranker (label) whose records are served")
    protocol: str | None = option(None, "another recorded scoring protocol of that ranker (None: as recorded)")
    reject_ratio: float | None = option(None, "FEAR records: replay early rejection at this ratio (None: off)",
                                        check=_ratio)
    reject_by: str = option("steps", "unit of the replayed rejection", choices=("steps", "seconds"))


@RANKERS.register("recorded")
class RecordedRanker(Ranker):
    """Serve a pool ranker's recorded score and cost (``--benchmark pool:DIR``; see the module docstring)."""

    uses_benchmark = True  # the pool's fingerprint (accuracies, scores, costs) keys the result store
    Options = RecordedOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        pool = getattr(self.context.benchmark, "pool", None)
        if pool is None:
            raise NasrankError("the 'recorded' ranker serves a scored pool: give --benchmark pool:DIR")
        if self.ranker not in pool.labels:
            raise NasrankError(f"recorded: ranker={self.ranker!r} is not in the pool; it has: {', '.join(pool.labels)}")
        self.pool = pool
        self.kind = pool.manifest["rankers"][self.ranker]["name"]
        if self.reject_ratio is not None and self.kind != "fear":
            raise NasrankError(f"recorded: reject_ratio replays FEAR's rejection; {self.ranker!r} is {self.kind!r}")
        self.depends_on_history = self.reject_ratio is not None
        self.check_every = pool.manifest["rankers"][self.ranker]["config"].get("check_every_steps")
        self.t_min: float | None = None

    @property
    def name(self) -> str:
        return f"recorded:{self.ranker}"

    def evaluate_one(self, arch: Arch) -> Evaluation:
        entry = self.pool.entry(self.ranker, self.space.to_string(arch))
        if entry.rungs:
            score, charge = final_rung(entry, self.protocol, self.kind)
        else:
            score, charge = protocol_score(entry, self.protocol, self.kind)
        info = {**entry.info, "recorded": self.ranker}
        if self.reject_ratio is not None:
            rejected = self._replay_rejection(entry, info)
            if rejected is not None:
                return rejected
        status = entry.status if math.isfinite(score) else "invalid"
        return Evaluation(score, charge, entry.device_seconds * (charge / entry.seconds if entry.seconds else 1.0),
                          info, status)

    def _replay_rejection(self, entry: Any, info: dict[str, Any]) -> Evaluation | None:
        """A rejected candidate's evaluation, or None (and ``t_min`` updated when it reached the threshold)."""
        used = stage1_used(entry, self.reject_by)
        limit = None if self.t_min is None else self.reject_ratio * self.t_min
        if limit is not None and used > limit:
            charge = rejected_charge(entry, limit, self.reject_by, self.check_every)
            out = {**info, "rejected": True, "reject_after": limit, "replayed_rejection": True}
            return Evaluation(REJECTED_SCORE, charge, charge, out, "rejected")
        if entry.status == "ok":
            self.t_min = used if self.t_min is None else min(self.t_min, used)
        return None

    # -- fidelities (rankers recorded with rungs) -------------------------------
    def _rungs(self) -> list[int]:
        rungs = self.pool.manifest["rankers"][self.ranker].get("rungs")
        if not rungs:
            raise NasrankError(f"recorded: pool ranker {self.ranker!r} was scored without rungs; it serves no fidelity")
        return [int(b) for b in rungs]

    def fidelity_grid(self) -> tuple[int, ...]:
        return tuple(self._rungs())

    def max_fidelity(self) -> int:
        return self._rungs()[-1]

    def evaluate_at(self, arch: Arch, budget: int, start: int = 0) -> Evaluation:
        """The recorded score at ``budget``, charged its cumulative cost minus that at ``start``."""
        entry = self.pool.entry(self.ranker, self.space.to_string(arch))
        if budget not in (entry.rungs or {}):
            raise NasrankError(f"recorded: {self.ranker!r} has no rung {budget} (rungs: {', '.join(map(str, self._rungs()))})")
        at = entry.rungs[budget]
        score = protocol_score(at, self.protocol, self.kind)[0]
        start = start if 0 < start < budget and start in entry.rungs else 0
        charge = sum(rung_charge(r, self.protocol, self.kind) for b, r in entry.rungs.items() if start < b <= budget)
        info = {**at.info, "recorded": self.ranker, "fidelity": budget, "continued_from": start}
        return Evaluation(score, charge, charge, info, at.status if math.isfinite(score) else "invalid")

    def release(self, arch: Arch) -> None:
        """Nothing to release."""
