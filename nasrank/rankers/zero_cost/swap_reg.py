"""Zero-shot regularised SWAP: SWAP × exp(−(params − μ)² / σ), params in thousands.

The authors' ``cal_regular_factor`` (``count_parameters`` / 1e3, every parameter). μ and σ are
not fixed by the authors' code; the defaults here (μ = 1000, σ = 10⁶) are this project's choice
for NB201-sized networks (0.07 – 1.5 M parameters): options ``swap_mu`` and ``swap_sigma``.
"""
from __future__ import annotations

import math

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result
from nasrank.rankers.zero_cost._swap import SWAP_PASS, SwapOptions


class SwapReg(Measure):
    name = "swap_reg"
    needs_pristine = True
    shared = (SWAP_PASS,)
    Options = SwapOptions

    def compute(self, state: PassState) -> Result:
        v, why = state.scratch[SWAP_PASS.name]
        k = sum(p.numel() for p in state.model.parameters()) / 1e3
        mu, sigma = float(state.opt("swap_mu", 1000.0)), float(state.opt("swap_sigma", 1e6))
        return v * math.exp(-((k - mu) ** 2) / sigma), why


MEASURE = SwapReg()
SwapRegRanker = measure_ranker(MEASURE, __name__, __doc__)
