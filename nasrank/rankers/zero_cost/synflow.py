"""Zero-shot SynFlow (data-free, float64, |W|, BN removed).

Σ |W ⊙ ∂(Σ output)/∂W| for one all-ones input, float64, |W|, BN replaced by identity
(Tanaka et al. 2020). The model is never modified: |W| is passed as float64 copies through
``torch.func.functional_call`` (the signs are "restored" trivially) and the BN modules are
swapped back.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import bn_removed, weight_layers
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


def synflow_score(model: nn.Module, input_shape: Sequence[int]) -> float:
    """SynFlow of ``model`` (which is left exactly as it was)."""
    layers = weight_layers(model)
    ids = {id(m.weight) for m in layers}
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with bn_removed(model):
        params = {n: p.detach().double().abs().requires_grad_(id(p) in ids) for n, p in model.named_parameters()}
        buffers = {n: (b.detach().double() if b.is_floating_point() else b) for n, b in model.named_buffers()}
        x = torch.ones(tuple(input_shape), dtype=torch.float64, device=device)
        out = torch.func.functional_call(model, {**params, **buffers}, (x,))
        name_of = {id(p): n for n, p in model.named_parameters()}
        ws = [params[name_of[id(m.weight)]] for m in layers]
        grads = torch.autograd.grad(out.sum(), ws, allow_unused=True)
    return float(sum(float((w.detach() * g).abs().sum()) for w, g in zip(ws, grads) if g is not None))


class Synflow(Measure):
    name = "synflow"
    data_free = True

    def compute(self, state: PassState) -> Result:
        return synflow_score(state.model, state.input_shape), None


MEASURE = Synflow()
SynflowRanker = measure_ranker(MEASURE, __name__, __doc__)
