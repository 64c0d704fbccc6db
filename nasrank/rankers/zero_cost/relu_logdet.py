"""Zero-shot NASWOT: logdet of the ReLU-code kernel.

K = Σ_ReLUs c cᵀ + (1−c)(1−c)ᵀ over the binary codes c (output > 0) of each ReLU's output for
the batch; the score is logdet K (``slogdet``; Mellor et al. 2021). A singular K (samples that
share their codes, e.g. a cell with no input→output path) gives −inf with the reason.
"""
from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


class ReluLogdet(Measure):
    name = "relu_logdet"
    passes = ("forward",)

    def hooks(self, model: nn.Module, state: PassState) -> list[Any]:
        state.hook_seconds.setdefault(self.name, 0.0)

        def fwd(module: nn.Module, inp: Any, out: torch.Tensor) -> None:
            t0 = time.perf_counter()
            c = (out.detach().reshape(out.shape[0], -1) > 0).float()
            n = c.shape[1]
            cc = (c @ c.t()).double()
            r = c.sum(1).double()
            k = 2.0 * cc - r[:, None] - r[None, :] + n  # c cᵀ + (1−c)(1−c)ᵀ
            prev = state.scratch.get(self.name)
            state.scratch[self.name] = k if prev is None else prev + k
            state.hook_seconds[self.name] += time.perf_counter() - t0

        return [m.register_forward_hook(fwd) for m in model.modules() if isinstance(m, nn.ReLU)]

    def compute(self, state: PassState) -> Result:
        k = state.scratch.get(self.name)
        if k is None:
            return float("nan"), "the network has no ReLU"
        sign, logabs = torch.linalg.slogdet(k)
        v = float(logabs) if float(sign) > 0 else (float("-inf") if float(sign) == 0 else float("nan"))
        if v != v or v in (float("inf"), float("-inf")):
            return v, "K is singular: samples share their ReLU codes (no input→output path?)"
        return v, None


MEASURE = ReluLogdet()
ReluLogdetRanker = measure_ranker(MEASURE, __name__, __doc__)
