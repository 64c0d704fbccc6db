"""Zero-shot l2_norm: Σ_layers ‖W‖₂ of the Conv and Linear weights at initialisation.

NASLib's ``l2_norm`` (NAS-Bench-Suite-Zero): ``get_layer_metric_array(net, lambda l:
l.weight.norm())`` summed; data-free, no pass. A network without weight layers scores NaN.
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import sum_float, weight_layers
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class L2Norm(Measure):
    name = "l2_norm"
    data_free = True

    def compute(self, state: PassState) -> Result:
        layers = weight_layers(state.model)
        if not layers:
            return float("nan"), "the network has no Conv or Linear layer"
        return sum_float([m.weight.detach().norm() for m in layers]), None


MEASURE = L2Norm()
L2NormRanker = measure_ranker(MEASURE, __name__, __doc__)
