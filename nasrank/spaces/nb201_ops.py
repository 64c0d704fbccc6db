"""NAS-Bench-201 operations and networks (the benchmark's CIFAR form).

Shared by the stand-alone networks and the one-shot supernet.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from nasrank.spaces.nb201 import EDGES, OPS  # noqa: F401  (re-exported: the ops these modules build)


class ReLUConvBN(nn.Module):
    """ReLU -> Conv(no bias) -> BN, the NB201 convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` op: outputs zeros of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int, affine: bool = True, track_running_stats: bool = True) -> nn.Module:
    """One NB201 op at stride 1 with ``channels`` in and out."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, affine=affine, track_running_stats=track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, affine=affine, track_running_stats=track_running_stats)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {name!r}; expected one of {', '.join(OPS)}")


class ResidualReduction(nn.Module):
    """NB201's residual block that halves the resolution and changes the width."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


class Nb201Cell(nn.Module):
    """A cell: node j = sum of op(node i) over its incoming edges."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.ops = tuple(ops)
        self.edges = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            total = None
            for e, (t, s) in enumerate(EDGES):
                if t != target:
                    continue
                y = self.edges[e](nodes[s])
                total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


def build_skeleton(net: nn.Module, make_cell, channels: int, cells_per_stage: int, num_classes: int,
                   in_channels: int = 3) -> None:
    """Give ``net`` the NB201 body: ``stem``, ``cells`` (3 stages of ``make_cell(c)`` with residual
    reductions between them), ``lastact``, ``global_pooling`` and ``classifier``."""
    net.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
    blocks: list[nn.Module] = []
    c = channels
    for stage in range(3):
        if stage > 0:
            blocks.append(ResidualReduction(c, c * 2))
            c *= 2
        blocks.extend(make_cell(c) for _ in range(cells_per_stage))
    net.cells = nn.ModuleList(blocks)
    net.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
    net.global_pooling = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Linear(c, num_classes)


class Nb201Network(nn.Module):
    """The NB201 CIFAR network: stem, 3 stages of cells with 2 residual reductions, head.

    ``cells`` holds all 3·N+2 blocks in order (cells and reductions), as in the
    official code, so ``cells[-4:]`` are the last four cells of the last stage.
    """

    def __init__(self, ops: Sequence[str], channels: int = 16, cells_per_stage: int = 5,
                 num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        build_skeleton(self, lambda c: Nb201Cell(ops, c), channels, cells_per_stage, num_classes, in_channels)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.features(x))
        return self.classifier(self.global_pooling(x).flatten(1))
