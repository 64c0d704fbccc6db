"""Zero-shot Fisher: Σ per channel 0.5·mean_batch(Σ_space a·∂L/∂a)² × fan-in.

a = each Conv/Linear output, ∂L/∂a from the shared loss backward (Turner et al. 2020). The
reference code (zero-cost-nas) broadcasts each channel's value to the channel's weights before
summing: a fan-in factor ``weight.shape[1:].numel()`` per layer (``fisher_mode="weight"``);
``fisher_mode="channel"`` drops it (the literal per-channel sum).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import sum_float, weight_layers
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class Fisher(Measure):
    name = "fisher"
    passes = ("loss_grad",)

    def hooks(self, model: nn.Module, state: PassState) -> list[Any]:
        terms: list[torch.Tensor] = []
        state.scratch["fisher"] = terms
        per_weight = state.opt("fisher_mode", "weight") == "weight"

        def fwd(module: nn.Module, inp: Any, out: torch.Tensor) -> None:
            if not out.requires_grad:
                return
            act = out.detach()
            fan_in = module.weight[0].numel() if per_weight else 1

            def on_grad(g: torch.Tensor) -> None:
                if state.phase != "loss_grad":
                    return
                prod = act * g.detach()
                g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
                terms.append(g_nk.pow(2).mean(0).mul(0.5).sum() * fan_in)

            out.register_hook(on_grad)

        return [m.register_forward_hook(fwd) for m in weight_layers(model)]

    def compute(self, state: PassState) -> Result:
        return sum_float(state.scratch.get("fisher", [])), None


MEASURE = Fisher()
FisherRanker = measure_ranker(MEASURE, __name__, __doc__)
