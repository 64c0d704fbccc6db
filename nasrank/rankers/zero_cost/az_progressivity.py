"""Zero-shot AZ-NAS progressivity: the smallest increase of expressivity from one block to the next.

min_i (e_{i+1} − e_i) over the per-block expressivities e of ``az_expressivity`` (the same
Kaiming-initialised copy and pass; Lee & Ham, CVPR 2024). One of the four parts of ``az_nas``.
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._az import AZ_PASS
from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class AzProgressivity(Measure):
    name = "az_progressivity"
    needs_pristine = True
    shared = (AZ_PASS,)

    def compute(self, state: PassState) -> Result:
        return state.scratch[AZ_PASS.name]["progressivity"]


MEASURE = AzProgressivity()
AzProgressivityRanker = measure_ranker(MEASURE, __name__, __doc__)
