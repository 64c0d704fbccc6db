"""Zero-shot AZ-NAS trainability: mean over blocks of −σ − 1/σ + 2, σ the block Jacobian's top singular value.

For each block (last to first) of ``az_expressivity``'s pass, a Rademacher vector ∂out is pulled
back to ∂in; blocks that halve the resolution are pixel-unshuffled; σ is the largest singular
value of the (C_in × C_out) cross-moment of ∂in and ∂out over B·H·W positions (Lee & Ham,
CVPR 2024). A block that passes the gradient unchanged (an identity cell) scores −inf, as in
the authors' code, so the mean is −inf (invalid, with the reason). One of the four parts of
``az_nas``.
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._az import AZ_PASS
from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class AzTrainability(Measure):
    name = "az_trainability"
    needs_pristine = True
    shared = (AZ_PASS,)

    def compute(self, state: PassState) -> Result:
        return state.scratch[AZ_PASS.name]["trainability"]


MEASURE = AzTrainability()
AzTrainabilityRanker = measure_ranker(MEASURE, __name__, __doc__)
