"""The ``zero_shot`` ranker: several zero-cost measures at once from shared passes.

The measures live in :mod:`nasrank.rankers.zero_cost`, one module each (each also registers
the ranker of its name); the shared-pass engine is :mod:`nasrank.rankers.zero_cost._engine`.
The protocol (seeds, batches, BN in train mode) is :mod:`nasrank.rankers.zero_cost._base`'s.
Degenerate networks (e.g. an NB201 cell with no input→output path) give NaN/±inf for the
measures that degenerate, with the reason in ``info["reason"]``; :class:`TimedRanker` marks
``info["invalid"]``. This module also re-exports the helpers other code imports from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasrank.errors import NasrankError
from nasrank.options import option
from nasrank.rankers.base import RunContext
from nasrank.rankers.zero_cost._base import (FISHER_MODES, SingleMeasure, ZeroShotBase, ZeroShotOptions,
                                             with_measure_options)
from nasrank.rankers.zero_cost._common import weight_layers
from nasrank.rankers.zero_cost._engine import compute_measures
from nasrank.rankers.zero_cost._registry import MEASURES, measure_options
from nasrank.rankers.zero_cost._weights import WeightsFrom, apply_weights, read_state_dict, resolve_device
from nasrank.rankers.zero_cost.jacob_cov import jacob_cov_from
from nasrank.rankers.zero_cost.synflow import synflow_score
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

__all__ = ["FISHER_MODES", "MEASURES", "SingleMeasure", "WeightsFrom", "ZeroShotBase", "ZeroShotOptions",
           "ZeroShotRanker", "apply_weights", "compute_measures", "jacob_cov_from", "read_state_dict",
           "resolve_device", "synflow_score", "weight_layers"]


def parse_measures(value: Any, owner: str) -> tuple[str, ...]:
    """A list or comma-separated names -> the known measures in :data:`MEASURES` order (else one clear error)."""
    names = [m.strip() for m in value.split(",") if m.strip()] if isinstance(value, str) else list(value or ())
    unknown = [m for m in names if m not in MEASURES]
    if unknown or not names:
        raise NasrankError(f"{owner}: unknown measure(s) {', '.join(map(str, unknown)) or '(none given)'}; "
                           f"choose from {', '.join(MEASURES)}")
    return tuple(m for m in MEASURES if m in names)


@dataclass
class ZeroShotManyOptions(ZeroShotOptions):
    """The ``zero_shot`` ranker's options: which measures, and which is the score."""

    measures: Any = option(MEASURES, "measures computed (a list or comma-separated names)")
    primary: str = option("synflow", "the measure that is the score")


@RANKERS.register("zero_shot")
class ZeroShotRanker(ZeroShotBase):
    """Several zero-shot measures at once from shared passes; the score is ``primary``.

    ``info["measures"]`` holds every measure's value and
    ``info["measure_seconds"]`` its share of the wall time.
    """

    Options = with_measure_options(ZeroShotManyOptions, measure_options(), "ZeroShotAllOptions")

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        measures = parse_measures(self.options.measures, "zero_shot")
        if self.primary not in measures:
            raise NasrankError(f"zero_shot: primary measure {self.primary!r} is not among measures {list(measures)}")
        self.set_option("measures", measures)

    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        means, info = self.safe_compute_all(arch, self.measures)
        return means[self.primary], {"measures": means, **info}
