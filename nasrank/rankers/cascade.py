"""The ``cascade`` ranker: a cheap ranker filters, an expensive one scores the survivors.

``cascade(first="synflow", second="fear", keep_fraction=0.25)`` (on the
command line of ``nasrank compare``: ``--rankers "synflow>fear"``).

The cheap ranker scores every candidate. ``keep_fraction`` is a true quota
over the run: candidates are taken in stream order, and one survives when
its cheap score is in the top ``keep_fraction`` of the stream so far (fewer
than ``ceil(keep_fraction × n_seen)`` seen candidates score strictly higher)
*and* fewer than ``ceil(keep_fraction × n_seen)`` candidates have survived
so far. So after n candidates at most ``ceil(keep_fraction × n)`` reached the
second ranker, whatever their order (a strong candidate that arrives while
the quota is spent is filtered: the price of a bounded cost). With
``per_batch=True`` the comparison and the quota are within each batch only. Survivors
get the expensive ranker's score; the others get
``FILTERED_SCORE + q`` (``q`` in [0, 1): the fraction of seen cheap scores
below theirs), so they rank below every survivor and among themselves by
the cheap score. A candidate whose cheap score is invalid (NaN) is filtered
with ``q = 0``.

Cost: the cheap ranker's cost for every candidate, plus the expensive one's
for survivors. ``info``: ``first_score``, ``kept`` (bool), ``filtered``,
the expensive ranker's info under ``second``, and its ``rejected`` flag
copied to the top level.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

FILTERED_SCORE = -1e9


@RANKERS.register("cascade")
class CascadeRanker(Ranker):
    """``first`` filters (top ``keep_fraction`` of the stream), ``second`` scores the survivors."""

    deterministic = False
    depends_on_history = True  # survival depends on the candidates seen so far

    def __init__(self, space: SearchSpace, context: RunContext | None = None, first: str = "params",
                 second: str = "fear", keep_fraction: float = 0.25, per_batch: bool = False,
                 first_cfg: dict[str, Any] | None = None, second_cfg: dict[str, Any] | None = None) -> None:
        super().__init__(space, context)
        keep_fraction = validate.number(keep_fraction, "keep_fraction", "ranker 'cascade'", 0.0, 1.0, low_open=True)
        if "cascade" in (first, second):
            raise NasrankError("a cascade's stages cannot themselves be 'cascade'")
        self.first = first
        self.second = second
        self.keep_fraction = float(keep_fraction)
        self.per_batch = per_batch
        self.first_cfg = dict(first_cfg or {})
        self.second_cfg = dict(second_cfg or {})
        self.first_ranker = RANKERS.create(first, space, self.context, **self.first_cfg)
        self.second_ranker = RANKERS.create(second, space, self.context, **self.second_cfg)
        self._seen: list[float] = []
        self._kept = 0

    @property
    def name(self) -> str:
        return f"{self.first}>{self.second}"

    def config(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "keep_fraction": self.keep_fraction,
                "per_batch": self.per_batch, "first_cfg": self.first_ranker.config(),
                "second_cfg": self.second_ranker.config()}

    @staticmethod
    def _key(score: float) -> float:
        return score if math.isfinite(score) else -math.inf

    def _survivors(self, cheap: Sequence[Evaluation]) -> tuple[list[bool], list[float]]:
        """Which candidates the second ranker scores, and each one's fraction of the pool scoring below it."""
        keys = [self._key(e.score) for e in cheap]
        pool = list(keys) if self.per_batch else self._seen
        kept = 0 if self.per_batch else self._kept
        keep: list[bool] = []
        below: list[float] = []
        for k in keys:
            if not self.per_batch:
                pool.append(k)
            quota = math.ceil(self.keep_fraction * len(pool))
            ok = math.isfinite(k) and sum(p > k for p in pool) < quota and kept < quota
            kept += ok
            keep.append(ok)
            below.append(sum(p < k for p in pool) / len(pool) if math.isfinite(k) else 0.0)
        if not self.per_batch:
            self._kept = kept
        return keep, below

    def evaluate(self, archs: Sequence[Arch],
                 on_result: Callable[[int, Evaluation], None] | None = None) -> list[Evaluation]:
        cheap = self.first_ranker.evaluate(list(archs))
        keep, below_fraction = self._survivors(cheap)
        survivors = [a for a, k in zip(archs, keep) if k]
        expensive = iter(self.second_ranker.evaluate(survivors) if survivors else [])
        out: list[Evaluation] = []
        for e, k, below in zip(cheap, keep, below_fraction):
            info: dict[str, Any] = {"first_score": e.score if math.isfinite(e.score) else None,
                                    "first_seconds": e.seconds, "kept": k, "filtered": not k}
            if k:
                s = next(expensive)
                info["second"] = s.info
                info["rejected"] = bool(s.info.get("rejected", False))
                if "invalid" in s.info:
                    info["invalid"] = s.info["invalid"]
                out.append(Evaluation(s.score, e.seconds + s.seconds, e.device_seconds + s.device_seconds, info))
            else:
                out.append(Evaluation(FILTERED_SCORE + min(below, 0.999), e.seconds, e.device_seconds, info))
        if on_result is not None:
            for i, ev in enumerate(out):
                on_result(i, ev)
        return out
