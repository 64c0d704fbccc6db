"""The NB101 one-shot supernet and its side of the supernet contract.

Design (after aw_nas's NB101 weight-sharing network, with NB101's own channel rule):

* node slot ``t`` (1..5, the node's index in the *pruned* spec) holds one
  shared conv3x3-BN-ReLU and one conv1x1-BN-ReLU at the cell's full output
  width; maxpool has no weights;
* a sampled cell runs as ``Nb101Cell`` does: the benchmark's
  ``vertex_channels`` gives each node its width, a node sums its inputs (earlier
  nodes truncated to its width, the cell input through node ``t``'s shared 1x1
  input projection) and applies its op, the output concatenates the nodes that
  feed it (plus the input→output projection when that edge exists);
* channel handling: every shared conv and BN is held at the largest width a
  node can get (the cell's output width) and a cell uses the first ``c``
  output channels (and the first input channels its input has), so every
  sampled cell runs, whatever its node widths;
* BN inside cells is non-affine (as in the NB201 supernet); stem and head as
  ``Nb101Network`` (stem, ``3`` stacks of ``cells_per_stage`` cells with 2x2
  max-pools doubling the width, global pooling, linear head).

Samplers: ``uniform`` (``Nb101Space.sample``: the benchmark's uniform
7-node specs), ``fair`` (uniform matrices; for each node slot each block of 3
samples uses each op once) and ``deiso`` (uniform over isomorphism classes,
:mod:`nasrank.spaces.nb101_classes`). Canonical routing runs a cell through its
class's canonical numbering. Partition rule: ``hash`` of the canonical key.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasrank.spaces.nb101 import Nb101Arch
from nasrank.spaces.nb101_ops import OPS, ConvBnRelu, vertex_channels
from nasrank.spaces.supernet_contract import RejectInPart, SupernetProvider

SLOTS = 5  # internal nodes of a 7-node cell


class SlicedBatchNorm(nn.BatchNorm2d):
    """A BN held at the widest width; a ``c``-channel input uses (and updates) the first ``c`` channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        factor = 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        use_batch = self.training or not self.track_running_stats
        w = self.weight[:c] if self.weight is not None else None
        b = self.bias[:c] if self.bias is not None else None
        return F.batch_norm(x, self.running_mean[:c], self.running_var[:c], w, b, use_batch, factor, self.eps)


class SlicedConvBnRelu(nn.Module):
    """Conv (same padding, no bias) -> sliced BN -> ReLU, run on the first ``c_out`` output channels."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False)
        self.bn = SlicedBatchNorm(c_out, affine=False)

    def forward(self, x: torch.Tensor, c_out: int) -> torch.Tensor:
        w = self.conv.weight[:c_out, : x.shape[1]]
        return F.relu(self.bn(F.conv2d(x, w, padding=self.conv.padding)))


class Nb101SupernetCell(nn.Module):
    """Shared ops per node slot, input projections per slot, the input->output projection."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.c_out = c_out
        self.conv3 = nn.ModuleList(SlicedConvBnRelu(c_out, c_out, 3) for _ in range(SLOTS))
        self.conv1 = nn.ModuleList(SlicedConvBnRelu(c_out, c_out, 1) for _ in range(SLOTS))
        self.proj = nn.ModuleList(SlicedConvBnRelu(c_in, c_out, 1) for _ in range(SLOTS + 1))  # last: output

    def _op(self, slot: int, op: str, x: torch.Tensor, c: int) -> torch.Tensor:
        if op == OPS[0]:
            return self.conv3[slot](x, c)
        if op == OPS[1]:
            return self.conv1[slot](x, c)
        return F.max_pool2d(x, 3, stride=1, padding=1)

    def forward(self, x: torch.Tensor, matrix: np.ndarray, ops: tuple[str, ...]) -> torch.Tensor:
        n = matrix.shape[0]
        ch = vertex_channels(x.shape[1], self.c_out, matrix)
        tensors, concat = [x], []
        for t in range(1, n - 1):
            fan_in = [tensors[s][:, : ch[t]] for s in range(1, t) if matrix[s, t]]
            if matrix[0, t]:
                fan_in.append(self.proj[t - 1](x, ch[t]))
            total = fan_in[0]
            for y in fan_in[1:]:
                total = total + y
            tensors.append(self._op(t - 1, ops[t], total, ch[t]))
            if matrix[t, n - 1]:
                concat.append(tensors[t])
        proj_out = self.proj[SLOTS]
        if not concat:
            return proj_out(x, self.c_out)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if matrix[0, n - 1]:
            out = out + proj_out(x, self.c_out)
        return out


class Nb101Supernet(nn.Module):
    """``Nb101Network``'s skeleton with a :class:`Nb101SupernetCell` in every cell position."""

    def __init__(self, channels: int = 16, cells_per_stage: int = 1, num_classes: int = 10, num_stacks: int = 3,
                 in_channels: int = 3) -> None:
        super().__init__()
        self.stem = ConvBnRelu(in_channels, channels, 3)
        layers: list[nn.Module] = []
        c_in = c_out = channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
                c_out *= 2
            for _ in range(cells_per_stage):
                layers.append(Nb101SupernetCell(c_in, c_out))
                c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.classifier = nn.Linear(c_out, num_classes)

    def forward(self, x: torch.Tensor, arch: Nb101Arch) -> torch.Tensor:
        m, ops = arch._pruned
        m, ops = np.asarray(m), tuple(ops)
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, m, ops) if isinstance(layer, Nb101SupernetCell) else layer(x)
        return self.classifier(x.mean(dim=(2, 3)))


class FairNb101Sampler:
    """Uniform valid matrices; for each node slot, each block of 3 samples uses each op once."""

    def __init__(self, space, rng: np.random.Generator) -> None:  # noqa: ANN001 (Nb101Space)
        self.space, self.rng = space, rng
        self._block: list[Nb101Arch] = []

    def _fill(self) -> None:
        perms = [self.rng.permutation(len(OPS)) for _ in range(SLOTS)]
        for i in range(len(OPS)):
            a = self.space.sample(self.rng)
            labels = ["input", *(OPS[int(perms[v][i])] for v in range(SLOTS)), "output"]
            self._block.append(Nb101Arch.create(a.array(), labels))

    def __call__(self) -> Nb101Arch:
        if not self._block:
            self._fill()
        return self._block.pop(0)


class Nb101SupernetProvider(SupernetProvider):
    """NB101's side of the supernet contract (see the module docstring)."""

    samplings = ("uniform", "fair", "deiso")

    def build(self, channels: int, cells_per_stage: int, num_classes: int) -> nn.Module:
        return Nb101Supernet(channels, cells_per_stage, num_classes)

    def sampler(self, mode: str, rng: np.random.Generator, num_parts: int = 1, part: int = 0,
                rule: str | None = None) -> Callable[[], Nb101Arch]:
        self.check_sampling(mode, num_parts)
        if mode == "deiso":
            from nasrank.spaces.nb101_classes import DeisoSampler

            draw: Callable[[], Nb101Arch] = DeisoSampler(rng)
        elif mode == "fair":
            draw = FairNb101Sampler(self.space, rng)
        else:
            draw = lambda: self.space.sample(rng)  # noqa: E731
        return draw if num_parts <= 1 else RejectInPart(draw, self, num_parts, part, rule)

    def representative(self, arch: Nb101Arch) -> Nb101Arch:
        from nasrank.spaces.nb101_classes import canonical_form

        return canonical_form(arch)
