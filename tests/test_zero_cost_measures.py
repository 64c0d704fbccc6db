"""Each new zero-cost measure against a hand computation on a tiny network, and its degenerate case
(a network with no input→output path, or no weights: an invalid score with the reason, never an error)."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from nasrank.rankers.zero_cost._common import reinitialise
from nasrank.rankers.zero_shot import compute_measures


class Zero(nn.Module):
    """Multiplies by zero: the network after it does not see its input (no path)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0


def tiny(channels: int = 4, cut: bool = False) -> nn.Sequential:
    """Conv (no bias, as NB201's) - BN - ReLU - pool - Linear; ``cut``: a zero path in front."""
    torch.manual_seed(0)
    layers = [Zero()] if cut else []
    layers += [nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 3)]
    return nn.Sequential(*layers)


def batch(n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, 5, 5, generator=g), torch.tensor([0, 0, 1, 1, 1, 2, 0, 1][:n])


def one(net: nn.Module, name: str, **opts) -> tuple[float, str | None]:
    x, y = batch()
    vals, _, why = compute_measures(net, x, y, [name], options=opts, context={"seed": 3})
    return vals[name], why.get(name)


def test_l2_norm_is_the_sum_of_weight_norms_and_needs_weights():
    net = tiny()
    want = float(net[0].weight.norm()) + float(net[5].weight.norm())
    assert one(net, "l2_norm")[0] == pytest.approx(want, rel=1e-6)
    v, why = one(nn.Sequential(nn.Flatten()), "l2_norm")
    assert math.isnan(v) and "no Conv or Linear" in why


def _jacobians(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    xin = x.clone().requires_grad_(True)
    net(xin).sum().backward()
    return xin.grad.reshape(x.shape[0], -1).double().numpy()


def test_epe_nas_by_hand_and_without_a_path():
    net = tiny()
    x, y = batch()
    j = _jacobians(copy.deepcopy(net).train(), x)
    want = 0.0
    for c in (0, 1, 2):
        rows = j[y.numpy() == c]
        corr = np.corrcoef(rows) if len(rows) > 1 else np.array(1.0)  # class 2 has one sample
        want += abs(np.sum(np.log(np.abs(corr) + 1e-5)))
    assert one(net, "epe_nas")[0] == pytest.approx(want, rel=1e-6)
    v, why = one(tiny(cut=True), "epe_nas")
    assert math.isnan(v) and "constant Jacobian" in why


def test_zico_by_hand_and_without_a_path():
    net = tiny()
    x, y = batch()
    ref = copy.deepcopy(net).train()
    grads = []
    for half in (slice(0, 4), slice(4, 8)):
        ref.zero_grad()
        nn.functional.cross_entropy(ref(x[half]), y[half]).backward()
        grads.append([ref[0].weight.grad.clone().reshape(-1).double(), ref[5].weight.grad.clone().reshape(-1).double()])
    want = 0.0
    for layer in zip(*grads):
        g = torch.stack(layer).numpy()
        std, mean_abs = g.std(axis=0), np.abs(g).mean(axis=0)
        nz = std != 0
        want += math.log(np.sum(mean_abs[nz] / std[nz]))
    assert one(net, "zico")[0] == pytest.approx(want, rel=1e-6)
    v, why = one(tiny(cut=True), "zico")
    assert math.isnan(v) and "no layer" in why
    v, why = one(net, "zico", zico_splits=1)
    assert math.isnan(v) and "at least 2" in why


def _module_outputs(net: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    outs, h = [], x
    for m in net:
        h = m(h)
        outs.append(h)
    return outs + [h]  # the network itself is hooked too


def _meco_by_hand(outs: list[torch.Tensor]) -> float:
    total = 0.0
    for o in outs:
        f = o[0].detach().reshape(o.shape[1], -1).double().numpy()
        with np.errstate(all="ignore"):
            c = np.corrcoef(f)
        if np.all(~np.isfinite(c)):
            continue
        c[~np.isfinite(c)] = 0
        total += float(np.linalg.eigvalsh(c).min())
    return total


def test_meco_by_hand_and_meco_opt_equals_it_with_eight_channels():
    net = tiny(channels=8)
    x, _ = batch()
    want = _meco_by_hand(_module_outputs(copy.deepcopy(net).train(), x))
    assert one(net, "meco")[0] == pytest.approx(want, rel=1e-4)
    # every feature map has exactly 8 channels: the 8 drawn are all of them (order does not change λ_min)
    assert one(net, "meco_opt")[0] == pytest.approx(want, rel=1e-4)


def test_meco_and_meco_opt_without_a_path():
    for name in ("meco", "meco_opt"):
        v, why = one(tiny(channels=8, cut=True), name)
        assert math.isnan(v) and "constant" in why, name


def _gaussian_copy(net: nn.Module, seed: int) -> nn.Module:
    c = copy.deepcopy(net)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        reinitialise(c, "gaussian")
    return c.train()


def test_swap_and_swap_reg_by_hand():
    net = tiny()
    x, _ = batch()
    g = _gaussian_copy(net, 3)
    with torch.no_grad():
        act = g[2](g[1](g[0](x[:6]))).reshape(6, -1) > 0  # the one ReLU on a feature map
    want = np.unique(act.numpy(), axis=1).shape[1]
    assert one(net, "swap", swap_samples=6)[0] == want
    k = sum(p.numel() for p in net.parameters()) / 1e3
    reg = one(net, "swap_reg", swap_samples=6, swap_mu=0.1, swap_sigma=0.5)[0]
    assert reg == pytest.approx(want * math.exp(-((k - 0.1) ** 2) / 0.5), rel=1e-9)
    v, why = one(tiny(cut=True), "swap")
    assert math.isnan(v) and "same activation pattern" in why


def test_zen_by_hand_and_without_a_path():
    net = tiny()
    g = _gaussian_copy(net, 3)
    gen = torch.Generator().manual_seed(3)
    x1, x2 = torch.randn(5, 3, 5, 5, generator=gen), torch.randn(5, 3, 5, 5, generator=gen)
    with torch.no_grad():
        f1, f2 = g[2](g[1](g[0](x1))), g[2](g[1](g[0](x1 + 0.01 * x2)))
    want = math.log(float((f1 - f2).abs().sum(dim=(1, 2, 3)).mean())) + math.log(float(g[1].running_var.mean().sqrt()))
    vals, _, _ = compute_measures(net, None, None, ["zen"], input_shape=(1, 3, 5, 5), options={"batch_size": 5},
                                  context={"seed": 3})
    assert vals["zen"] == pytest.approx(want, rel=1e-5)
    vals, _, why = compute_measures(tiny(cut=True), None, None, ["zen"], input_shape=(1, 3, 5, 5),
                                    options={"batch_size": 5}, context={"seed": 3})
    assert vals["zen"] == -math.inf and "do not depend on the input" in why["zen"]
