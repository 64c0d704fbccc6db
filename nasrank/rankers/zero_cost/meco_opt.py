"""Zero-shot MeCo_opt: MeCo on 8 random channels per module, scaled by C/8.

The MeCo paper's cheaper form (the authors' ``measure == 'meco_opt'``): for every module with at
least 8 output channels, 8 channels drawn at random give an 8 × 8 correlation whose λ_min is
multiplied by C/8; summed over modules. Choices: the channels are drawn by a generator seeded with
the ranker's seed (reproducible); a module with fewer than 8 channels is skipped (the authors'
``random.sample`` fails there).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result
from nasrank.rankers.zero_cost._meco import meco_hooks, meco_result

K = 8


class MecoOpt(Measure):
    name = "meco_opt"
    passes = ("forward",)

    def hooks(self, model: nn.Module, state: PassState) -> list[Any]:
        gen = torch.Generator().manual_seed(int(state.seed))

        def pick(fea: torch.Tensor) -> tuple[torch.Tensor, float] | None:
            c = fea.shape[0]
            if c < K:
                return None
            idx = torch.randperm(c, generator=gen)[:K].to(fea.device)
            return fea[idx], c / K

        return meco_hooks(model, state, self.name, pick)

    def compute(self, state: PassState) -> Result:
        return meco_result(state, self.name)


MEASURE = MecoOpt()
MecoOptRanker = measure_ranker(MEASURE, __name__, __doc__)
