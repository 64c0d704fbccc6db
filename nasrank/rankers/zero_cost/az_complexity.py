"""Zero-shot AZ-NAS complexity: forward FLOPs of one input (data-free).

``nasrank.utils.complexity.count_flops`` (multiply-add = 2 FLOPs) of the built network for one
image (Lee & Ham, CVPR 2024, use the network's FLOPs). One of the four parts of ``az_nas``.
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class AzComplexity(Measure):
    name = "az_complexity"
    data_free = True

    def compute(self, state: PassState) -> Result:
        from nasrank.utils.complexity import count_flops

        return float(count_flops(state.model, tuple(state.input_shape))), None


MEASURE = AzComplexity()
AzComplexityRanker = measure_ranker(MEASURE, __name__, __doc__)
