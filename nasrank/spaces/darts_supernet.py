"""The DARTS one-shot supernet and its side of the supernet contract.

``DartsNetwork``'s skeleton (stem of ``3·C`` channels, ``3·cells_per_stage + 2``
cells with reduction cells at 1/3 and 2/3 of the depth, global pooling, linear
head; ``cells_per_stage=1``: 5 cells, ``2``: the DARTS search network's 8) in
which every cell holds, for each intermediate node ``k`` (2..5) and each
earlier node ``i`` it may take as input, all 7 ops of the derived cells with
shared weights (stride 2 from the cell inputs of a reduction cell; the
``skip_connect`` of a reduction edge is ``FactorizedReduce``). Normal and
reduction cells have their own weights. A genotype runs single-path: each node
sums its two chosen (op, input) edges; the cell output concatenates nodes 2..5.
BN inside the cells is non-affine. Isomorphic genotypes under
``canonical_key`` (a node's two pairs swapped) run the same path.

Samplers: ``uniform`` (``DartsSpace.sample``) and ``fair`` (uniform inputs;
for each of the 16 edges, each block of 7 samples uses each op once). No
``deiso``: the space has no enumerable isomorphism classes beyond the pair
order, which the supernet already ignores. Partition rule: ``hash``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from nasrank.spaces.darts import NUM_NODES, DartsArch
from nasrank.spaces.darts_ops import OPS, FactorizedReduce, ReLUConvBN, make_op, reduction_layers
from nasrank.spaces.supernet_contract import RejectInPart, SupernetProvider


class DartsSupernetCell(nn.Module):
    """Every op on every (node, input) edge of a normal or reduction cell."""

    def __init__(self, c_prev_prev: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(c_prev_prev, c, affine=False) if reduction_prev
                            else ReLUConvBN(c_prev_prev, c, 1, 1, 0, affine=False))
        self.preprocess1 = ReLUConvBN(c_prev, c, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList()
        for k in range(NUM_NODES):
            for i in range(k + 2):
                stride = 2 if reduction and i < 2 else 1
                self.edges.append(nn.ModuleDict({op: make_op(op, c, stride, affine=False) for op in OPS}))
        self.multiplier = NUM_NODES

    @staticmethod
    def edge_index(k: int, i: int) -> int:
        """Position in ``edges`` of node ``k+2``'s edge from node ``i``."""
        return sum(j + 2 for j in range(k)) + i

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, pairs: tuple[tuple[str, int], ...]) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(NUM_NODES):
            total = None
            for op, i in pairs[2 * k: 2 * k + 2]:
                y = self.edges[self.edge_index(k, i)][op](states[i])
                total = y if total is None else total + y
            states.append(total)
        return torch.cat(states[2:], dim=1)


class DartsSupernet(nn.Module):
    """The DARTS CIFAR network with a :class:`DartsSupernetCell` in every position."""

    def __init__(self, channels: int = 16, cells_per_stage: int = 2, num_classes: int = 10,
                 stem_multiplier: int = 3, in_channels: int = 3) -> None:
        super().__init__()
        layers = 3 * cells_per_stage + 2
        self.reductions = reduction_layers(layers)
        c_curr = stem_multiplier * channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, channels
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in self.reductions
            if reduction:
                c_curr *= 2
            cell = DartsSupernetCell(c_pp, c_p, c_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            c_pp, c_p = c_p, cell.multiplier * c_curr
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, num_classes)

    def forward(self, x: torch.Tensor, arch: DartsArch) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, arch.reduce if cell.reduction else arch.normal)
        return self.classifier(self.global_pooling(s1).flatten(1))


class FairDartsSampler:
    """Uniform inputs; for each of the 16 edges, each block of 7 samples uses each op exactly once."""

    def __init__(self, space, rng: np.random.Generator) -> None:  # noqa: ANN001 (DartsSpace)
        self.space, self.rng = space, rng
        self._block: list[DartsArch] = []

    def _fill(self) -> None:
        perms = [self.rng.permutation(len(OPS)) for _ in range(4 * NUM_NODES)]
        for j in range(len(OPS)):
            a = self.space.sample(self.rng)
            cells = [tuple((OPS[int(perms[c * 2 * NUM_NODES + e][j])], i) for e, (_, i) in enumerate(pairs))
                     for c, pairs in enumerate((a.normal, a.reduce))]
            self._block.append(DartsArch(cells[0], cells[1]))

    def __call__(self) -> DartsArch:
        if not self._block:
            self._fill()
        return self._block.pop(0)


class DartsSupernetProvider(SupernetProvider):
    """DARTS's side of the supernet contract (see the module docstring)."""

    samplings = ("uniform", "fair")

    def build(self, channels: int, cells_per_stage: int, num_classes: int) -> nn.Module:
        return DartsSupernet(channels, cells_per_stage, num_classes)

    def sampler(self, mode: str, rng: np.random.Generator, num_parts: int = 1, part: int = 0,
                rule: str | None = None) -> Callable[[], DartsArch]:
        self.check_sampling(mode, num_parts)
        draw: Callable[[], DartsArch] = (FairDartsSampler(self.space, rng) if mode == "fair"
                                         else (lambda: self.space.sample(rng)))
        return draw if num_parts <= 1 else RejectInPart(draw, self, num_parts, part, rule)
