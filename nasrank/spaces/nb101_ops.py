"""NAS-Bench-101 operations and network (the benchmark's CIFAR-10 model).

A faithful PyTorch port of the benchmark's TensorFlow ``model_builder`` (the
same structure as the ``nasbench-pytorch`` package): a 3×3 conv-BN-ReLU stem,
``num_stacks`` stacks of ``cells_per_stack`` cells with a 2×2 max-pool that
doubles the channels between stacks, global average pooling and a linear
classifier. At ``stem_channels=128, num_stacks=3, cells_per_stack=3`` the
parameter count equals the benchmark's ``trainable_parameters``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

#: the three operations a non-input/output node can hold (benchmark order)
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT, OUTPUT = "input", "output"


class ConvBnRelu(nn.Module):
    """Conv (no bias, 'same' padding) -> BN -> ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def make_op(name: str, channels: int) -> nn.Module:
    """One NB101 node operation with ``channels`` in and out."""
    if name == "conv3x3-bn-relu":
        return ConvBnRelu(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBnRelu(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown NB101 op {name!r}; expected one of {', '.join(OPS)}")


def vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """The benchmark's ``compute_vertex_channels``.

    The output's channels are split evenly (remainder to the first nodes)
    among the nodes that feed the output; a node that does not feed the output
    gets the largest width among its successors.
    """
    n = matrix.shape[0]
    ch = [0] * n
    ch[0], ch[n - 1] = c_in, c_out
    if n == 2:
        return ch
    in_degree = matrix[1:].sum(axis=0)
    interior, correction = divmod(c_out, int(in_degree[n - 1]))
    for v in range(1, n - 1):
        if matrix[v, n - 1]:
            ch[v] = interior
            if correction:
                ch[v] += 1
                correction -= 1
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v, dst]:
                    ch[v] = max(ch[v], ch[dst])
        if ch[v] <= 0:
            raise ValueError(f"NB101 node {v} gets no channels; was the spec pruned?")
    return ch


class Nb101Cell(nn.Module):
    """One cell of a pruned spec.

    Node ``t`` sums its inputs (earlier nodes truncated to its width, the cell
    input through a 1×1 projection) and applies its op; the output
    concatenates the nodes that feed it, plus a projection of the cell input
    when there is an input→output edge.
    """

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = np.asarray(matrix, dtype=np.int64)
        self.n = self.matrix.shape[0]
        self.channels = vertex_channels(c_in, c_out, self.matrix)
        self.vertex_ops = nn.ModuleList([nn.Identity()])
        for t in range(1, self.n - 1):
            self.vertex_ops.append(make_op(ops[t], self.channels[t]))
        self.input_ops = nn.ModuleList([nn.Identity()])
        for t in range(1, self.n):
            self.input_ops.append(ConvBnRelu(c_in, self.channels[t], 1) if self.matrix[0, t] else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m = self.n, self.matrix
        tensors = [x]
        concat = []
        for t in range(1, n - 1):
            fan_in = [tensors[s][:, : self.channels[t]] for s in range(1, t) if m[s, t]]
            if m[0, t]:
                fan_in.append(self.input_ops[t](x))
            total = fan_in[0]
            for y in fan_in[1:]:
                total = total + y
            tensors.append(self.vertex_ops[t](total))
            if m[t, n - 1]:
                concat.append(tensors[t])
        if not concat:
            return self.input_ops[n - 1](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if m[0, n - 1]:
            out = out + self.input_ops[n - 1](x)
        return out


class Nb101Network(nn.Module):
    """The NB101 network for a pruned spec.

    ``layers`` holds the cells and the max-pools in order; ``cells`` lists
    the cells only (the last stack's cells are ``cells[-cells_per_stack:]``).
    """

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], num_classes: int = 10, stem_channels: int = 128,
                 num_stacks: int = 3, cells_per_stack: int = 3, in_channels: int = 3) -> None:
        super().__init__()
        self.cells_per_stack = cells_per_stack
        self.stem = ConvBnRelu(in_channels, stem_channels, 3)
        layers: list[nn.Module] = []
        c_in = c_out = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
                c_out *= 2
            for _ in range(cells_per_stack):
                layers.append(Nb101Cell(matrix, ops, c_in, c_out))
                c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.classifier = nn.Linear(c_out, num_classes)

    @property
    def cells(self) -> list[Nb101Cell]:
        return [m for m in self.layers if isinstance(m, Nb101Cell)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.classifier(x.mean(dim=(2, 3)))
