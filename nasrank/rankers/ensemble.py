"""Rank ensembles: ``ensemble`` combines any rankers by rank, ``az_nas`` is AZ-NAS's four parts.

Ranks are within the candidates seen: with ``per_batch=False`` (the default) the pool is every
candidate this ranker has scored so far, the current batch included; with ``per_batch=True``
only the current batch. A member's rank of a candidate is its average rank in the pool
(``scipy.stats.rankdata``, 1 = lowest score) divided by the pool size, so it lies in (0, 1];
an invalid member score (NaN/inf) ranks below every valid one. ``aggregate="mean"`` scores a
candidate by the mean of its members' ranks, ``aggregate="log"`` by Σ log(rank) (AZ-NAS's
rank aggregation: a candidate must rank well on every member). Because the pool grows, a
candidate's score is fixed when it is scored: with the whole sample in one batch it is the exact
within-sample rank aggregate, in a search it is relative to what came before (as a cascade's
filter is), so the ranker ``depends_on_history`` and bypasses the result store.

Members that are zero-cost measures share one ``zero_shot`` ranker (one set of shared passes,
``measure_cfg`` its options); any other member is its own ranker (``member_cfg``: name → options).
Cost: the sum of the members' costs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from nasrank.errors import NasrankError
from nasrank.options import mapping, option
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

AGGREGATES = ("mean", "log")


def _names(value: Any, owner: str) -> tuple[str, ...]:
    names = [m.strip() for m in value.split(",") if m.strip()] if isinstance(value, str) else list(value or ())
    if not names:
        raise NasrankError(f"{owner}: members must name at least one ranker")
    return tuple(str(n) for n in names)


def members_check(value: Any, name: str, owner: str) -> tuple[str, ...]:
    return _names(value, owner)


def pool_ranks(pool: Sequence[float]) -> np.ndarray:
    """Average ranks / n of ``pool`` (invalid values lowest, tied among themselves), in (0, 1]."""
    from scipy.stats import rankdata

    v = np.asarray([x if math.isfinite(x) else -math.inf for x in pool], dtype=float)
    return rankdata(v) / len(v)


def aggregate_ranks(ranks: np.ndarray, how: str) -> np.ndarray:
    """Members × candidates ranks -> one score per candidate."""
    return np.log(ranks).sum(axis=0) if how == "log" else ranks.mean(axis=0)


@dataclass
class EnsembleOptions:
    """The ``ensemble`` ranker's options."""

    members: Any = option(("params", "synflow"), "the rankers combined (a list or comma-separated names)",
                          check=members_check)
    aggregate: str = option("mean", "mean rank, or sum of log ranks (AZ-NAS)", choices=AGGREGATES)
    per_batch: bool = option(False, "rank within each batch instead of every candidate seen so far")
    measure_cfg: dict[str, Any] = option({}, "options of the shared zero_shot ranker (measure members)",
                                         check=mapping)
    member_cfg: dict[str, Any] = option({}, "options of the other members: name -> options", check=mapping)


@RANKERS.register("ensemble")
class EnsembleRanker(Ranker):
    """Combine any rankers by their ranks among the candidates seen (mean rank or Σ log rank)."""

    deterministic = False
    depends_on_history = True  # ranks are within the candidates seen so far

    Options = EnsembleOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        from nasrank.rankers.zero_shot import MEASURES

        members = _names(self.options.members, f"ranker {self.registry_name!r}")
        for m in members:
            if m in ("ensemble", "az_nas", "cascade"):
                raise NasrankError(f"ranker {self.registry_name!r}: member {m!r} cannot itself be an ensemble or cascade")
            if m not in MEASURES:
                RANKERS.get(m)  # an unknown name: the registry's one clear error ("did you mean")
        self.set_option("members", members)
        self._setup(space, members, self.aggregate, self.member_cfg)

    def _setup(self, space: SearchSpace, members: Sequence[str], how: str, member_cfg: dict[str, Any]) -> None:
        from nasrank.rankers.zero_shot import MEASURES

        self.member_names, self.how = tuple(members), how
        self._measures = tuple(m for m in members if m in MEASURES)
        self._shared = (RANKERS.create("zero_shot", space, self.context, measures=list(self._measures),
                                       primary=self._measures[0], **self.measure_cfg)
                        if self._measures else None)
        self._others = {m: RANKERS.create(m, space, self.context, **dict(member_cfg.get(m, {})))
                        for m in members if m not in MEASURES}
        self._pool: dict[str, list[float]] = {m: [] for m in members}

    def _member_scores(self, archs: Sequence[Arch]) -> tuple[dict[str, list[float]], list[float], list[float]]:
        scores: dict[str, list[float]] = {}
        secs, dev = [0.0] * len(archs), [0.0] * len(archs)

        def add(evs: Sequence[Evaluation]) -> None:
            for i, e in enumerate(evs):
                secs[i] += e.seconds
                dev[i] += e.device_seconds

        if self._shared is not None:
            evs = self._shared.evaluate(list(archs))
            add(evs)
            for m in self._measures:
                scores[m] = [float(e.info.get("measures", {}).get(m, math.nan)) for e in evs]
        for m, r in self._others.items():
            evs = r.evaluate(list(archs))
            add(evs)
            scores[m] = [float(e.score) for e in evs]
        return scores, secs, dev

    def evaluate(self, archs: Sequence[Arch],
                 on_result: Callable[[int, Evaluation], None] | None = None) -> list[Evaluation]:
        if not archs:
            return []
        scores, secs, dev = self._member_scores(archs)
        members = self.member_names
        ranks, size = [], len(archs)
        for m in members:
            pool = list(scores[m]) if self.per_batch else self._pool[m] + list(scores[m])
            if not self.per_batch:
                self._pool[m] = pool
            ranks.append(pool_ranks(pool)[-len(archs):])
            size = len(pool)
        agg = aggregate_ranks(np.vstack(ranks), self.how)
        out = []
        for i in range(len(archs)):
            info = {"members": {m: scores[m][i] for m in members},
                    "ranks": {m: float(r[i]) for m, r in zip(members, ranks)}, "pool_size": size}
            out.append(Evaluation(float(agg[i]), secs[i], dev[i], info))
        if on_result is not None:
            for i, ev in enumerate(out):
                on_result(i, ev)
        return out


AZ_MEMBERS = ("az_expressivity", "az_progressivity", "az_trainability", "az_complexity")


@dataclass
class AzNasOptions:
    """The ``az_nas`` ranker's options (its four parts share one zero_shot pass)."""

    per_batch: bool = option(False, "rank within each batch instead of every candidate seen so far")
    measure_cfg: dict[str, Any] = option({}, "options of the shared zero_shot ranker", check=mapping)


@RANKERS.register("az_nas")
class AzNasRanker(EnsembleRanker):
    """AZ-NAS: Σ log rank of expressivity, progressivity, trainability and complexity (Lee & Ham 2024)."""

    Options = AzNasOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        Ranker.__init__(self, space, context, **options)
        self._setup(space, AZ_MEMBERS, "log", {})
