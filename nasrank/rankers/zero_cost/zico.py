"""Zero-shot ZiCo: Σ_layers log Σ_weights mean|g| / std(g) over mini-batches.

The batch is split into ``zico_splits`` equal mini-batches (the authors' code and NASLib's
port: 2 halves); g is each Conv/Linear weight's gradient of the cross-entropy loss on each
mini-batch (gradients are not accumulated between mini-batches, as in the paper: the MeCo
repository's port accumulates them); std over the mini-batches is the population std. A layer
whose gradients never vary (std 0 everywhere) or sum to 0 is skipped, as in the authors'
code (Li et al., ICLR 2023). No layer left (e.g. no trainable path) gives NaN with the reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from nasrank.options import option, positive_int
from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import weight_layers
from nasrank.rankers.zero_cost._engine import Measure, PassState, Result


@dataclass
class ZicoOptions:
    """ZiCo's option."""

    zico_splits: int = option(2, "ZiCo: mini-batches the batch is split into (at least 2)", check=positive_int)


def zico_from(per_split: list[list[torch.Tensor]]) -> Result:
    """ZiCo of per-mini-batch gradients ``per_split[s][layer]``."""
    total, used = 0.0, 0
    for layer in zip(*per_split):
        g = torch.stack([t.reshape(-1) for t in layer]).double()
        std = g.std(dim=0, unbiased=False)
        nz = std != 0
        tmpsum = float((g.abs().mean(dim=0)[nz] / std[nz]).sum())
        if tmpsum > 0:
            total += math.log(tmpsum)
            used += 1
    if not used:
        return float("nan"), "no layer's gradient varies between the mini-batches (no trainable path?)"
    return total, None


class Zico(Measure):
    name = "zico"
    Options = ZicoOptions

    def compute(self, state: PassState) -> Result:
        k = int(state.opt("zico_splits", 2))
        n = state.x.shape[0]
        if k < 2 or n < k:
            return float("nan"), f"ZiCo needs at least 2 mini-batches (zico_splits={k}, batch of {n})"
        ws = [m.weight for m in weight_layers(state.model)]
        per_split = []
        for sp in range(k):
            st, en = sp * n // k, (sp + 1) * n // k
            loss = F.cross_entropy(state.model(state.x[st:en]), state.y[st:en])
            grads = torch.autograd.grad(loss, ws, allow_unused=True)
            per_split.append([torch.zeros_like(w) if g is None else g.detach() for w, g in zip(ws, grads)])
        return zico_from(per_split)


MEASURE = Zico()
ZicoRanker = measure_ranker(MEASURE, __name__, __doc__)
