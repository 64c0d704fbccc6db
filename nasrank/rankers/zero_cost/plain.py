"""Zero-shot plain: Σ W ⊙ ∂L/∂W.

Cross-entropy loss L of the batch, Conv and Linear weights only (Mozer & Smolensky 1989).
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import sum_float
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class Plain(Measure):
    name = "plain"
    passes = ("loss_grad",)

    def compute(self, state: PassState) -> Result:
        return sum_float([(w.detach() * g).sum() for w, g in zip(state.weights, state.grads)]), None


MEASURE = Plain()
PlainRanker = measure_ranker(MEASURE, __name__, __doc__)
