"""AZ-NAS's four parts against hand computations on a tiny two-block network, and their degenerate cases."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from nasrank.rankers.zero_cost._az import trainability_of
from nasrank.rankers.zero_cost._common import reinitialise
from nasrank.rankers.zero_shot import compute_measures
from nasrank.utils.complexity import count_flops


def blocks_net() -> nn.Sequential:
    torch.manual_seed(0)
    b1 = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
    b2 = nn.Sequential(nn.Conv2d(4, 6, 1, bias=False), nn.BatchNorm2d(6), nn.ReLU())
    return nn.Sequential(b1, b2, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 3, 5, 5, generator=g), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])


def entropy(feat: torch.Tensor) -> float:
    f = feat.detach().permute(0, 2, 3, 1).reshape(-1, feat.shape[1]).double().numpy()
    f = f - f.mean(axis=0)
    s = np.linalg.eigvalsh(f.T @ f / f.shape[0])
    p = s / s.sum()
    return float(np.sum(-p * np.log(p + 1e-8)))


def az(net: nn.Sequential, names=("az_expressivity", "az_progressivity", "az_trainability")):
    x, y = batch()
    return compute_measures(net, x, y, list(names), context={"seed": 5, "blocks": [net[0], net[1]]})


def test_expressivity_and_progressivity_by_hand():
    net = blocks_net()
    k = copy.deepcopy(net)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        reinitialise(k, "kaiming_fan_in")
    x, _ = batch()
    f1 = k[0](x)
    f2 = k[1](f1)
    e = [entropy(f1), entropy(f2)]  # each block's output (the first block's input is the image: left out)
    vals, _, why = az(net)
    assert vals["az_expressivity"] == pytest.approx(sum(e), rel=1e-4)
    assert vals["az_progressivity"] == pytest.approx(e[1] - e[0], rel=1e-3, abs=1e-4)
    assert math.isfinite(vals["az_trainability"]) and not why


def test_trainability_of_a_1x1_conv_block_by_hand():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 1, bias=False)
    f_in = torch.randn(2, 4, 3, 3, requires_grad=True)
    f_out = conv(f_in)
    got = trainability_of(f_in, f_out, torch.Generator().manual_seed(9))
    g_out = (torch.bernoulli(torch.full(f_out.shape, 0.5), generator=torch.Generator().manual_seed(9)) - 0.5) * 2
    w = conv.weight.detach().reshape(6, 4).double().numpy()
    go = g_out.permute(0, 2, 3, 1).reshape(-1, 6).double().numpy()
    gi = go @ w  # ∂in = Wᵀ ∂out at each position
    s = np.linalg.svd(gi.T @ go / go.shape[0], compute_uv=False).max()
    assert got == pytest.approx(-s - 1 / (s + 1e-6) + 2, rel=1e-5)
    ident = f_in * 1.0
    assert trainability_of(f_in, ident, torch.Generator().manual_seed(9)) == -math.inf


def test_complexity_is_the_flop_count():
    net = blocks_net()
    vals, _, _ = compute_measures(net, None, None, ["az_complexity"], input_shape=(1, 3, 5, 5))
    assert vals["az_complexity"] == count_flops(net, (1, 3, 5, 5)) == 2 * (3 * 9 * 4 * 25 + 4 * 6 * 25 + 6 * 3)


def test_degenerate_blocks_give_invalid_scores_with_reasons():
    zero = blocks_net()
    zero.insert(0, type("Zero", (nn.Module,), {"forward": lambda self, x: x * 0})())
    x, y = batch()
    vals, _, why = compute_measures(zero, x, y, ["az_expressivity", "az_progressivity", "az_trainability"],
                                    context={"seed": 5, "blocks": [zero[1], zero[2]]})
    for m in ("az_expressivity", "az_progressivity", "az_trainability"):
        assert not math.isfinite(vals[m]) and why[m], m
    ident = blocks_net()
    ident[1], ident[4] = nn.Identity(), nn.Linear(4, 3)
    vals, _, why = compute_measures(ident, x, y, ["az_trainability"], context={"seed": 5, "blocks": [ident[0], ident[1]]})
    assert vals["az_trainability"] == -math.inf and "identity" in why["az_trainability"]
