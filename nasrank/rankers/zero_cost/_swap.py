"""SWAP's sample-wise activation patterns (shared by ``swap`` and ``swap_reg``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasrank.options import number_in, option, positive_int
from nasrank.rankers.zero_cost._engine import PassState, Result, SharedPass


@dataclass
class SwapOptions:
    """SWAP's options."""

    swap_samples: int = option(16, "SWAP: images of the batch used (the authors' 16)", check=positive_int)
    swap_mu: float = option(1000.0, "regularised SWAP: μ, in thousands of parameters", check=number_in())
    swap_sigma: float = option(1.0e6, "regularised SWAP: σ, in (thousands of parameters)²",
                               check=number_in(0.0, None, low_open=True))


def distinct_patterns(signs: torch.Tensor) -> int:
    """Number of distinct columns of the 0/1 matrix ``signs`` (samples × neurons): the SWAP count
    (each neuron's pattern over the samples; packed into integers when there are ≤ 62 samples)."""
    s = signs.shape[0]
    if s <= 62:
        weights = (2 ** torch.arange(s, dtype=torch.int64, device=signs.device))[:, None]
        return int(torch.unique((signs.long() * weights).sum(0)).numel())
    return int(torch.unique(signs.t(), dim=0).shape[0])


class SwapPass(SharedPass):
    """One forward of ``swap_samples`` images through a Gaussian-initialised copy (no grad): the
    count of distinct sign patterns over the outputs of the ReLUs that take 4-D inputs."""

    name = "swap"

    def run(self, state: PassState) -> Result:
        net = state.model_with_init("gaussian")
        x = state.x[: int(state.opt("swap_samples", 16))]
        feats: list[torch.Tensor] = []

        def fwd(module: nn.Module, inp: Any, out: torch.Tensor) -> None:
            if isinstance(inp, tuple) and inp[0].dim() == 4:
                feats.append((out.detach().reshape(x.shape[0], -1) > 0))

        handles = [m.register_forward_hook(fwd) for m in net.modules() if isinstance(m, nn.ReLU)]
        try:
            with torch.no_grad():
                net(x)
        finally:
            for h in handles:
                h.remove()
        if not feats:
            return float("nan"), "the network has no ReLU on a feature map"
        count = distinct_patterns(torch.cat(feats, dim=1))
        if count <= 1:
            return float("nan"), "every neuron has the same activation pattern (constant activations)"
        return float(count), None


SWAP_PASS = SwapPass()
