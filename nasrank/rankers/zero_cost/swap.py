"""Zero-shot SWAP: distinct sample-wise activation patterns of the ReLUs (Peng et al., ICLR 2024).

The authors' ``src/metrics/swap.py``: the network re-initialised N(0, 1) (Conv/Linear weights;
BN weight 1, bias 0), ``swap_samples`` = 16 real images forward (no grad), the outputs of every
ReLU whose input is a feature map concatenated per sample, signs taken; SWAP is the number of
distinct rows of the (neurons × samples) pattern matrix. The authors average 32
re-initialisations; here ``seeds`` plays that role (the benchmark's choice is stated there).
ReLU outputs are ≥ 0, so the sign pattern is the pattern of ``output > 0``. A network whose
neurons all share one pattern (constant activations) gives NaN with the reason.
"""
from __future__ import annotations

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result
from nasrank.rankers.zero_cost._swap import SWAP_PASS, SwapOptions


class Swap(Measure):
    name = "swap"
    needs_pristine = True
    shared = (SWAP_PASS,)
    Options = SwapOptions

    def compute(self, state: PassState) -> Result:
        return state.scratch[SWAP_PASS.name]


MEASURE = Swap()
SwapRanker = measure_ranker(MEASURE, __name__, __doc__)
