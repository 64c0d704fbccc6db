"""Zero-shot SNIP: Σ |W ⊙ ∂L/∂W|.

Cross-entropy loss L of the batch, Conv and Linear weights only (Lee et al. 2019).
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import sum_float
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class Snip(Measure):
    name = "snip"
    passes = ("loss_grad",)

    def compute(self, state: PassState) -> Result:
        return sum_float([(w.detach() * g).abs().sum() for w, g in zip(state.weights, state.grads)]), None


MEASURE = Snip()
SnipRanker = measure_ranker(MEASURE, __name__, __doc__)
