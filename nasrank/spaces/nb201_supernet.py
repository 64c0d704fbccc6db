"""The NB201 one-shot supernet, its architecture samplers and the reduced-sharing rules.

* :class:`Nb201Supernet`: the stand-alone network (``Nb201Network``: stem,
  3 stages with 2 residual reductions, head) whose cells hold every op on
  every edge with shared weights. BN inside the cells is non-affine; edges
  that lie on no input→output path (``live_edges``) are skipped, so a
  sub-network only runs (and only trains) the ops on its live edges.
* :func:`representatives`: one fixed member per isomorphism class
  (``unique_string``): the first in :meth:`Nb201Space.all_archs` order, in
  which ``none`` comes first, so a representative puts ``none`` on as many
  edges as its class allows.
* :func:`partition_of`: which of ``K`` supernets owns an architecture (see
  :data:`PARTITION_RULES`). Both rules are functions of the isomorphism class,
  so isomorphic cells always share one supernet.
* Samplers: ``uniform`` (each edge independently), ``fair`` (per edge, a
  permutation of the 5 ops across each 5 consecutive samples) and ``deiso``
  (uniform over the 6,466 classes: their representatives).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch
from torch import nn

from nasrank.errors import NasrankError
from nasrank.spaces.nb201 import Nb201Arch, live_edges, unique_string
from nasrank.spaces.nb201_ops import EDGES, OPS, build_skeleton, make_op
from nasrank.spaces.supernet_contract import SupernetProvider

SAMPLINGS: tuple[str, ...] = ("uniform", "fair", "deiso")

#: How ``num_supernets=K`` splits the space. Both rules read the class
#: representative, so a whole isomorphism class lands in one part.
#:
#: * ``edge``: part = index in ``OPS`` of the representative's op on edge 3←0
#:   (the direct input→output edge), modulo K. With K=5 every supernet owns
#:   the cells with one op on that edge: weights on the other edges are then
#:   shared only among cells that agree on the edge that most shapes the
#:   cell's function (none / identity shortcut / 1x1 / 3x3 / pooling path).
#:   K may be 2..5; with K<5 a part is a union of op groups (op index mod K),
#:   so parts are unequal (K=2: 9,060 / 6,565 cells); K=5 is the natural choice
#:   (2,756..3,477 cells, 1,224..1,408 classes per part).
#: * ``hash``: part = SHA-1 of the canonical string, modulo K: a random,
#:   balanced split that separates "fewer cells per supernet" from "similar
#:   cells per supernet" (the control for ``edge``).
PARTITION_RULES: tuple[str, ...] = ("edge", "hash")


# --------------------------------------------------------------------------
# isomorphism classes, representatives, partitions
# --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _class_table() -> tuple[tuple[Nb201Arch, ...], dict[Nb201Arch, Nb201Arch], tuple[Nb201Arch, ...]]:
    """``(all archs, arch -> its representative, representatives in first-seen order)``."""
    import itertools

    archs = tuple(Nb201Arch(ops) for ops in itertools.product(OPS, repeat=6))
    first: dict[str, Nb201Arch] = {}
    rep_of: dict[Nb201Arch, Nb201Arch] = {}
    for a in archs:
        rep_of[a] = first.setdefault(unique_string(a), a)
    return archs, rep_of, tuple(first.values())


def representatives() -> tuple[Nb201Arch, ...]:
    """One representative per isomorphism class (6,466), in ``all_archs`` order."""
    return _class_table()[2]


def representative(arch: Nb201Arch) -> Nb201Arch:
    """The fixed member of ``arch``'s isomorphism class that stands for the class."""
    return _class_table()[1][arch]


def partition_of(arch: Nb201Arch, num_parts: int, rule: str = "edge") -> int:
    """The part (0..num_parts-1) that owns ``arch`` under ``rule`` (see :data:`PARTITION_RULES`)."""
    if num_parts <= 1:
        return 0
    rep = representative(arch)
    if rule == "edge":
        return OPS.index(rep.ops[3]) % num_parts
    if rule == "hash":
        digest = hashlib.sha1(unique_string(rep).encode()).digest()
        return int.from_bytes(digest[:8], "big") % num_parts
    raise NasrankError(f"unknown partition rule {rule!r}; expected one of {', '.join(PARTITION_RULES)}")


def check_partition(num_parts: int, rule: str) -> None:
    """Raise :class:`NasrankError` for an unusable ``(K, rule)`` pair."""
    if not isinstance(num_parts, (int, np.integer)) or num_parts < 1:
        raise NasrankError(f"num_supernets must be a positive integer, got {num_parts!r}")
    if rule not in PARTITION_RULES:
        raise NasrankError(f"unknown partition rule {rule!r}; expected one of {', '.join(PARTITION_RULES)}")
    if rule == "edge" and num_parts > len(OPS):
        raise NasrankError(f"partition rule 'edge' splits by the op on edge 3<-0: num_supernets must be at most "
                           f"{len(OPS)}, got {num_parts} (use partition='hash' for more)")


@lru_cache(maxsize=None)
def partition_members(num_parts: int, rule: str, part: int, deiso: bool) -> tuple[Nb201Arch, ...]:
    """Archs (or, with ``deiso``, class representatives) owned by ``part``."""
    archs, _, reps = _class_table()
    pool = reps if deiso else archs
    return tuple(a for a in pool if partition_of(a, num_parts, rule) == part)


# --------------------------------------------------------------------------
# samplers
# --------------------------------------------------------------------------
class ArchSampler:
    """A stream of training architectures for one supernet (one part of the space).

    ``uniform``: uniform over the part's cells (over all 15,625 cells when
    K=1: each edge independently). ``deiso``: uniform over the part's
    isomorphism classes (their representatives). ``fair``: for each edge, each
    block of 5 consecutive samples uses each op exactly once (an independent
    random permutation per edge and block); only for the whole space (K=1).
    """

    def __init__(self, mode: str, rng: np.random.Generator, num_parts: int = 1, part: int = 0,
                 rule: str = "edge") -> None:
        if mode not in SAMPLINGS:
            raise NasrankError(f"unknown sampling {mode!r}; expected one of {', '.join(SAMPLINGS)}")
        if mode == "fair" and num_parts > 1:
            raise NasrankError("fair sampling permutes ops over the whole space; it cannot be restricted to "
                               f"one of num_supernets={num_parts} parts: use uniform or deiso")
        self.mode = mode
        self.rng = rng
        self._pool: tuple[Nb201Arch, ...] | None = None
        if mode == "deiso" or num_parts > 1:
            self._pool = partition_members(num_parts, rule, part, mode == "deiso")
            if not self._pool:
                raise NasrankError(f"part {part} of num_supernets={num_parts} (rule {rule!r}) owns no architecture")
        self._block: list[Nb201Arch] = []

    def _fair_block(self) -> list[Nb201Arch]:
        perms = [self.rng.permutation(len(OPS)) for _ in EDGES]  # one per edge
        return [Nb201Arch(tuple(OPS[int(perms[e][i])] for e in range(len(EDGES)))) for i in range(len(OPS))]

    def __call__(self) -> Nb201Arch:
        if self._pool is not None:
            return self._pool[int(self.rng.integers(len(self._pool)))]
        if self.mode == "fair":
            if not self._block:
                self._block = self._fair_block()
            return self._block.pop(0)
        return Nb201Arch(tuple(OPS[int(i)] for i in self.rng.integers(0, len(OPS), size=len(EDGES))))


# --------------------------------------------------------------------------
# the supernet
# --------------------------------------------------------------------------
def _as_ops(arch: Nb201Arch | Sequence[str]) -> tuple[str, ...]:
    return tuple(arch.ops) if isinstance(arch, Nb201Arch) else tuple(arch)


class SupernetCell(nn.Module):
    """Every NB201 op on every edge (``none`` has no module); BN non-affine."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleDict({op: make_op(op, channels, affine=False) for op in OPS if op != "none"}) for _ in EDGES)

    def forward(self, x: torch.Tensor, ops: Sequence[str], live: Sequence[bool]) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x]
        for target in (1, 2, 3):
            total = None
            for e, (t, s) in enumerate(EDGES):
                if t != target or not live[e]:
                    continue
                y = self.edges[e][ops[e]](nodes[s])  # a live edge's source always has a value
                total = y if total is None else total + y
            nodes.append(total)
        out = nodes[3]
        return x.mul(0.0) if out is None else out  # no input->output path: the cell outputs zeros


class Nb201Supernet(nn.Module):
    """The NB201 CIFAR network with a :class:`SupernetCell` in every cell position.

    ``forward(x, arch)`` runs the sub-network of ``arch`` (an ``Nb201Arch`` or
    its 6 op names); stem, reductions and head are those of ``Nb201Network``.
    """

    def __init__(self, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10,
                 in_channels: int = 3) -> None:
        super().__init__()
        build_skeleton(self, SupernetCell, channels, cells_per_stage, num_classes, in_channels)

    def forward(self, x: torch.Tensor, arch: Nb201Arch | Sequence[str]) -> torch.Tensor:
        ops = _as_ops(arch)
        live = live_edges(arch if isinstance(arch, Nb201Arch) else Nb201Arch(ops))
        x = self.stem(x)
        for block in self.cells:
            x = block(x, ops, live) if isinstance(block, SupernetCell) else block(x)
        x = self.lastact(x)
        return self.classifier(self.global_pooling(x).flatten(1))

    def path_parameters(self, arch: Nb201Arch) -> list[nn.Parameter]:
        """Parameters the sub-network of ``arch`` uses (stem, reductions, head, ops on live edges)."""
        live = live_edges(arch)
        out: list[nn.Parameter] = []
        for name, p in self.named_parameters():
            parts = name.split(".")
            if parts[0] == "cells" and isinstance(self.cells[int(parts[1])], SupernetCell):
                e, op = int(parts[3]), parts[4]
                if not (live[e] and arch.ops[e] == op):
                    continue
            out.append(p)
        return out


# --------------------------------------------------------------------------
# the space's supernet contract
# --------------------------------------------------------------------------
class Nb201SupernetProvider(SupernetProvider):
    """NB201's side of the supernet contract: :class:`Nb201Supernet`, the uniform / fair / deiso
    samplers and the ``edge`` / ``hash`` partition rules (:data:`PARTITION_RULES`)."""

    samplings = SAMPLINGS
    partition_rules = PARTITION_RULES

    def build(self, channels: int, cells_per_stage: int, num_classes: int) -> nn.Module:
        return Nb201Supernet(channels, cells_per_stage, num_classes)

    def sampler(self, mode: str, rng: np.random.Generator, num_parts: int = 1, part: int = 0,
                rule: str | None = None) -> ArchSampler:
        return ArchSampler(mode, rng, num_parts, part, rule or "edge")

    def representative(self, arch: Nb201Arch) -> Nb201Arch:
        return representative(arch)

    def partition_of(self, arch: Nb201Arch, num_parts: int, rule: str | None = None) -> int:
        return partition_of(arch, num_parts, rule or "edge")

    def check_partition(self, num_parts: int, rule: str | None) -> None:
        check_partition(num_parts, rule or "edge")
