"""Zero-shot: Σ_layers ‖∂L/∂W‖₂ at initialisation.

Cross-entropy loss L of the batch, Conv and Linear weights only (Abdelfattah et al. 2021).
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import sum_float
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class GradNorm(Measure):
    name = "grad_norm"
    passes = ("loss_grad",)

    def compute(self, state: PassState) -> Result:
        return sum_float([g.norm() for g in state.grads]), None


MEASURE = GradNorm()
GradNormRanker = measure_ranker(MEASURE, __name__, __doc__)
