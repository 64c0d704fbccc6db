"""Zero-shot AZ-NAS expressivity: Σ_blocks entropy of the feature-covariance eigenvalue spectrum.

A Kaiming-normal (fan-in) copy of the network, a real batch, the features at each block boundary
(the input of the space's first cell and every cell's output; the cells are
``SearchSpace.fear_cells(model).cells``); per feature map (B·H·W samples × C channels), the
eigenvalues s of the channel covariance, p = s/Σs, entropy Σ −p log(p + 1e-8); summed over
blocks (Lee & Ham, CVPR 2024). One of the four parts of ``az_nas``.
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._az import AZ_PASS
from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class AzExpressivity(Measure):
    name = "az_expressivity"
    needs_pristine = True
    shared = (AZ_PASS,)

    def compute(self, state: PassState) -> Result:
        return state.scratch[AZ_PASS.name]["expressivity"]


MEASURE = AzExpressivity()
AzExpressivityRanker = measure_ranker(MEASURE, __name__, __doc__)
