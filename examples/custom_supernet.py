"""One-shot estimation (the ``oneshot`` ranker) for your own space: give it a supernet.

nasrank cannot derive a weight-sharing network from ``build()``: which weights two architectures
share (the same layer position? the same op on the same edge? a slice of a wider kernel?) is a
design decision of the space, not something visible in an ``nn.Module``. So a space opts in by
returning a ``SupernetProvider`` from ``supernet()``: a network whose ``forward(x, arch)`` runs any
architecture, and its samplers. Here, for ``examples/custom_space.py``'s TinyCnnSpace, every layer
position holds one 32-channel 5x5 conv; a (width, kernel) layer uses its first ``width`` filters and
the centred ``kernel x kernel`` crop. Then, from the repository root:

    PYTHONPATH=. nasrank supernet train --space examples.custom_supernet:TinyCnnSupernetSpace \\
        --epochs 5 --data-dir DATA/cifar10 --output tiny.ckpt
    PYTHONPATH=. nasrank search --space examples.custom_supernet:TinyCnnSupernetSpace --ranker oneshot \\
        --ranker-cfg supernet=tiny.ckpt --data-dir DATA/cifar10 --budget-queries 20 --output run
"""
import torch.nn.functional as F
from torch import nn

from examples.custom_space import DEPTHS, TinyCnnSpace
from nasrank.spaces.nb101_supernet import SlicedBatchNorm  # a BN that a narrower layer uses the first channels of
from nasrank.spaces.supernet_contract import RejectInPart, SupernetProvider


class TinyCnnSupernet(nn.Module):
    def __init__(self, num_classes, width=32, kernel=5):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(3 if i == 0 else width, width, kernel, bias=False) for i in DEPTHS)
        self.bns = nn.ModuleList(SlicedBatchNorm(width, affine=False) for _ in DEPTHS)
        self.head, self.kernel = nn.Linear(width, num_classes), kernel

    def forward(self, x, arch):
        for (w, k), conv, bn in zip(arch, self.convs, self.bns):
            o = (self.kernel - k) // 2
            x = F.conv2d(x, conv.weight[:w, : x.shape[1], o:o + k, o:o + k], padding=k // 2)
            x = F.max_pool2d(F.relu(bn(x)), 2)
        x = x.mean(dim=(2, 3))
        return F.linear(x, self.head.weight[:, : x.shape[1]], self.head.bias)


class TinyCnnSupernetProvider(SupernetProvider):
    samplings = ("uniform",)  # the space's own sample(); "fair"/"deiso" are optional

    def build(self, channels, cells_per_stage, num_classes):  # the scale knobs are not used here
        return TinyCnnSupernet(num_classes)

    def sampler(self, mode, rng, num_parts=1, part=0, rule=None):
        self.check_sampling(mode, num_parts)
        draw = lambda: self.space.sample(rng)  # noqa: E731
        return draw if num_parts <= 1 else RejectInPart(draw, self, num_parts, part, rule)


class TinyCnnSupernetSpace(TinyCnnSpace):
    def supernet(self):
        return TinyCnnSupernetProvider(self)
