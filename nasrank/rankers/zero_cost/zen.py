"""Zero-shot Zen-score: log E|f(x) − f(x + 0.01·ε)| + Σ_BN log √mean(running_var), no labels.

Lin et al. (ICCV 2021), the authors' ``compute_zen_score`` as the MeCo and NASLib ports run it:
the network re-initialised N(0, 1) (Conv/Linear weights; BN weight 1, bias 0), BN in train
mode, a Gaussian batch x and ε (``batch_size`` × the image shape), f = the feature map
before global pooling (the input of the last adaptive pooling module); the score is
log of the batch mean of Σ|f(x) − f(x+γε)| (γ = 0.01) plus Σ over BN layers of
log √(mean running_var) after the two forwards. Choices: one draw per seed (the authors average
32 re-initialisations: use ``seeds``); the Gaussian inputs come from a generator seeded with the
seed. A network whose features do not move (no path) gives −inf with the reason.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result

GAMMA = 1e-2


def pre_gap_features(net: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """The feature map before global pooling: the input of ``net``'s last adaptive pooling module,
    else the last 4-D output of any module (a network that pools functionally)."""
    pooled: list[torch.Tensor] = []
    last: list[torch.Tensor] = []

    def pre(module: nn.Module, inp: tuple) -> None:
        pooled[:] = [inp[0]]

    def fwd(module: nn.Module, inp: Any, out: Any) -> None:
        if isinstance(out, torch.Tensor) and out.dim() == 4:
            last[:] = [out]

    pools = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    handles = [m.register_forward_pre_hook(pre) for m in net.modules() if isinstance(m, pools)]
    handles += [m.register_forward_hook(fwd) for m in net.modules() if m is not net]
    try:
        net(x)
    finally:
        for h in handles:
            h.remove()
    if pooled:
        return pooled[0]
    return last[0] if last else None


class Zen(Measure):
    name = "zen"
    needs_pristine = True
    data_free = True

    def compute(self, state: PassState) -> Result:
        net = state.model_with_init("gaussian")
        device = next((p.device for p in net.parameters()), torch.device("cpu"))
        gen = torch.Generator().manual_seed(int(state.seed))
        shape = (int(state.opt("batch_size", 64)), *state.input_shape[1:])
        x1 = torch.randn(shape, generator=gen).to(device)
        x2 = torch.randn(shape, generator=gen).to(device)
        with torch.no_grad():
            f1 = pre_gap_features(net, x1)
            f2 = pre_gap_features(net, x1 + GAMMA * x2)
        if f1 is None:
            return float("nan"), "the network has no 4-D feature map"
        d = float(torch.sum(torch.abs(f1 - f2), dim=[1, 2, 3]).mean())
        if d <= 0:
            return float("-inf"), "the features do not depend on the input (no input→output path?)"
        bn = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d) and m.running_var is not None]
        log_bn = sum(float(torch.log(torch.sqrt(torch.mean(m.running_var)))) for m in bn)
        return math.log(d) + log_bn, None


MEASURE = Zen()
ZenRanker = measure_ranker(MEASURE, __name__, __doc__)
