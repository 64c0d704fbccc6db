"""Zero-shot MeCo: Σ_modules λ_min of the channel correlation of the first sample's features.

For every module (the authors hook ``net.named_modules()``, the network itself included) the
output of the batch's first sample, C × (H·W), gives a C × C Pearson correlation matrix (NaN
and inf entries set to 0); MeCo is the sum of each matrix's smallest eigenvalue (Jiang et al.,
NeurIPS 2023, ``correlation/foresight/pruners/measures/meco.py``: real images, the build's
initialisation). Choices: ``eigvalsh`` (the matrix is symmetric) where the authors take the real
part of ``eig``; a module whose correlation is undefined everywhere (constant features) is left
out, and a network where every module's is gives NaN with the reason.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result
from nasrank.rankers.zero_cost._meco import meco_hooks, meco_result


class Meco(Measure):
    name = "meco"
    passes = ("forward",)

    def hooks(self, model: nn.Module, state: PassState) -> list[Any]:
        return meco_hooks(model, state, self.name, lambda fea: (fea, 1.0))

    def compute(self, state: PassState) -> Result:
        return meco_result(state, self.name)


MEASURE = Meco()
MecoRanker = measure_ranker(MEASURE, __name__, __doc__)
