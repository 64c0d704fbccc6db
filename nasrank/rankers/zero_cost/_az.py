"""AZ-NAS's shared pass: block features of a Kaiming-initialised copy, and the three scores read
from them (Lee & Ham, CVPR 2024, ``ZeroShotProxy/compute_az_nas_score.py``)."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from nasrank.rankers.zero_cost._common import block_features
from nasrank.rankers.zero_cost._engine import PassState, SharedPass


def expressivity_of(feat: torch.Tensor) -> float:
    """Entropy of the normalised eigenvalue spectrum of the channel covariance of ``feat`` (B,C,H,W)."""
    b, c, h, w = feat.shape
    f = feat.detach().permute(0, 2, 3, 1).reshape(b * h * w, c)
    f = f - f.mean(dim=0, keepdim=True)
    s = torch.linalg.eigvalsh(f.t() @ f / f.shape[0])
    p = s / s.sum()
    return float(((-p) * torch.log(p + 1e-8)).sum())


def trainability_of(f_in: torch.Tensor, f_out: torch.Tensor, gen: torch.Generator) -> float:
    """−σ_max − 1/σ_max + 2 of the block's sampled Jacobian (Rademacher ∂out, −inf for an identity block)."""
    g_out = (torch.bernoulli(torch.full(f_out.shape, 0.5), generator=gen) - 0.5).mul(2).to(f_out.device)
    (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True)
    if g_out.shape == g_in.shape and bool(torch.all(g_in == g_out)):
        return -math.inf
    if g_out.shape[2:] != g_in.shape[2:]:
        g_in = nn.functional.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
    bo, co, ho, wo = g_out.shape
    go = g_out.permute(0, 2, 3, 1).reshape(bo * ho * wo, co)
    gi = g_in.permute(0, 2, 3, 1).reshape(-1, g_in.shape[1])
    mat = gi.t() @ go / (bo * ho * wo)
    smax = float(torch.linalg.svdvals(mat).max())
    return -smax - 1.0 / (smax + 1e-6) + 2.0


class AzPass(SharedPass):
    """The copy's block features of the batch: expressivity, progressivity and trainability."""

    name = "az_nas"

    def run(self, state: PassState) -> dict[str, tuple[float, str | None]]:
        net = state.model_with_init("kaiming_fan_in")
        feats = block_features(net, state.blocks_in(net), state.x)
        if len(feats) < 2:
            why = "AZ-NAS needs at least two block feature maps"
            return {k: (math.nan, why) for k in ("expressivity", "progressivity", "trainability")}
        ex = np.array([expressivity_of(f) for f in feats])
        out: dict[str, tuple[float, str | None]] = {}
        if not np.all(np.isfinite(ex)):
            why = "a block's features are constant (the covariance spectrum is zero)"
            out["expressivity"] = out["progressivity"] = (math.nan, why)
        else:
            out["expressivity"] = (float(ex.sum()), None)
            out["progressivity"] = (float(np.min(ex[1:] - ex[:-1])), None)
        gen = torch.Generator().manual_seed(int(state.seed))
        tr = []
        for i in reversed(range(1, len(feats))):
            if not feats[i].requires_grad:
                tr.append(-math.inf)
                continue
            try:
                tr.append(trainability_of(feats[i - 1], feats[i], gen))
            except RuntimeError:  # the block's output does not depend on its input
                tr.append(-math.inf)
        t = float(np.mean(tr))
        out["trainability"] = (t, None if math.isfinite(t) else "a block passes its gradient unchanged "
                               "(an identity block) or not at all")
        return out


AZ_PASS = AzPass()
