"""NAS-Bench-201 / NATS-Bench topology space (``nb201``)."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.base import SearchSpace, TailCells

if TYPE_CHECKING:  # torch loads only when a network is built
    from torch import nn

#: the op vocabulary (the official names; the networks are in nb201_ops, which imports torch)
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (target node, source node) of the 6 edges, in the order of the official string
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

#: NASLib's op numbering and edge order (nodes 1..4, 1 the input)
NASLIB_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
#: position in the official edge order of each NASLib edge (1,2),(1,3),(1,4),(2,3),(2,4),(3,4)
NASLIB_TO_OFFICIAL: tuple[int, ...] = (0, 1, 3, 2, 4, 5)

_NODE_RE = re.compile(r"^\|(?:[a-z0-9_]+~\d\|)+$")


def cell_string(o: Sequence[str]) -> str:
    """The official string of the 6 ops ``o`` (official edge order): ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


@dataclass(frozen=True, order=True)
class Nb201Arch:
    """An NB201 cell: the op on each of the 6 edges, in the official string order
    (1←0, 2←0, 2←1, 3←0, 3←1, 3←2)."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.ops) != 6:
            raise NasrankError(f"an NB201 cell has 6 edges, got {len(self.ops)} ops: {self.ops!r}")
        for op in self.ops:
            if op not in OPS:
                raise NasrankError(f"unknown NB201 op {op!r} in {self.ops!r}; expected one of {', '.join(OPS)}")

    def __str__(self) -> str:
        return cell_string(self.ops)

    @classmethod
    def from_string(cls, text: str) -> "Nb201Arch":
        """Parse the official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        if not isinstance(text, str):
            raise NasrankError(f"NB201 arch string must be a str, got {type(text).__name__}: {text!r}")
        s = text.strip()
        nodes = s.split("+")
        if len(nodes) != 3 or not all(_NODE_RE.match(n) for n in nodes):
            raise NasrankError(f"malformed NB201 arch string {text!r}; expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'")
        ops: list[str] = []
        for j, node in enumerate(nodes, start=1):
            parts = node.strip("|").split("|")
            if len(parts) != j:
                raise NasrankError(f"malformed NB201 arch string {text!r}: node {j} must have {j} inputs, got {len(parts)}")
            for i, part in enumerate(parts):
                op, _, src = part.partition("~")
                if int(src) != i:
                    raise NasrankError(f"malformed NB201 arch string {text!r}: node {j} input {i} is written '~{src}'")
                if op not in OPS:
                    raise NasrankError(f"unknown NB201 op {op!r} in {text!r}; expected one of {', '.join(OPS)}")
                ops.append(op)
        return cls(tuple(ops))

    @classmethod
    def from_naslib(cls, t: Sequence[int]) -> "Nb201Arch":
        """From NASLib's 6-tuple (ops 0=skip,1=none,2=conv3x3,3=conv1x1,4=avgpool)."""
        t = tuple(t)
        if len(t) != 6 or not all(isinstance(v, (int, np.integer)) and 0 <= v < 5 for v in t):
            raise NasrankError(f"malformed NASLib NB201 tuple {t!r}; expected 6 integers in 0..4")
        ops = [""] * 6
        for k, v in enumerate(t):
            ops[NASLIB_TO_OFFICIAL[k]] = NASLIB_OPS[int(v)]
        return cls(tuple(ops))

    def to_naslib(self) -> tuple[int, ...]:
        return tuple(NASLIB_OPS.index(self.ops[NASLIB_TO_OFFICIAL[k]]) for k in range(6))

    def count(self, op: str) -> int:
        return sum(o == op for o in self.ops)


def unique_string(arch: Nb201Arch) -> str:
    """NATS-Bench's isomorphism string (``to_unique_str(consider_zero=True)``).

    ``none`` and zero inputs become ``#``, a skip makes a node an alias of its
    source and the terms of a sum are sorted. It yields the benchmark's 6,466
    classes over the 15,625 cells.
    """
    nodes = {0: "0"}
    for target in (1, 2, 3):
        terms = []
        for e, (t, s) in enumerate(EDGES):
            if t != target:
                continue
            op = arch.ops[e]
            if op == "none" or nodes[s] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(nodes[s])
            else:
                terms.append(f"({nodes[s]})@{op}")
        nodes[target] = "+".join(sorted(terms))
    return nodes[3]


def live_edges(arch: Nb201Arch) -> list[bool]:
    """Which edges lie on an input→output path through non-``none`` ops."""
    fwd = {0}
    for t in (1, 2, 3):
        if any(arch.ops[e] != "none" and s in fwd for e, (tt, s) in enumerate(EDGES) if tt == t):
            fwd.add(t)
    bwd = {3}
    for s in (2, 1, 0):
        if any(arch.ops[e] != "none" and t in bwd for e, (t, ss) in enumerate(EDGES) if ss == s):
            bwd.add(s)
    return [arch.ops[e] != "none" and s in fwd and t in bwd for e, (t, s) in enumerate(EDGES)]


#: NB201 CIFAR-10 training time (the benchmark's GPU seconds, 200 epochs): a least-squares fit of the
#: recorded times of the 1,000 cells in ``nats_1000_cifar10_12ep_vs_200ep.csv`` on op counts
#: (R² = 0.995, median error 1.2%); time scales linearly with epochs (the 12-epoch records are 12/200
#: of it, to 0.01%)
NB201_COST_200EP = {"const": 1435.67, "nor_conv_3x3": 906.87, "nor_conv_1x1": 690.88,
                    "avg_pool_3x3": 327.10, "skip_connect": -76.89}


def nb201_training_seconds(arch: "Nb201Arch", epochs: int = 200) -> float:
    """Modelled NB201 CIFAR-10 training time (benchmark GPU seconds) for ``epochs``."""
    s = NB201_COST_200EP["const"] + sum(c * arch.count(op) for op, c in NB201_COST_200EP.items() if op != "const")
    return s * epochs / 200.0


@SPACES.register("nb201")
class Nb201Space(SearchSpace):
    """The NB201 cell space: 6 edges × 5 ops = 15,625 cells, 6,466 isomorphism classes.

    ``build`` scale knobs: ``channels`` (16), ``cells_per_stage`` (5).
    The official index needs the benchmark's order: give ``index_order`` (the
    arch strings in index order) or call :meth:`set_index_order`; every
    ground-truth backend provides it.
    """

    size = 5**6
    supernet_provider = "nasrank.spaces.nb201_supernet:Nb201SupernetProvider"
    ops = OPS
    canonical_classes = 6466

    def __init__(self, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10,
                 index_order: Iterable[str] | None = None) -> None:
        self.channels = validate.integer(channels, "channels", "space 'nb201'")
        self.cells_per_stage = validate.integer(cells_per_stage, "cells_per_stage", "space 'nb201'")
        self.num_classes = validate.integer(num_classes, "num_classes", "space 'nb201'")
        self._index_of: dict[Nb201Arch, int] | None = None
        self._order: list[Nb201Arch] | None = None
        if index_order is not None:
            self.set_index_order(index_order)

    # -- text forms ---------------------------------------------------------
    def to_string(self, arch: Nb201Arch) -> str:
        return str(arch)

    def from_string(self, text: str) -> Nb201Arch:
        return Nb201Arch.from_string(text)

    def set_index_order(self, strings: Iterable[str]) -> None:
        """Set the official index order (arch strings, index 0 first)."""
        order = [s if isinstance(s, Nb201Arch) else Nb201Arch.from_string(s) for s in strings]
        self._order = order
        self._index_of = {a: i for i, a in enumerate(order)}

    @property
    def has_index(self) -> bool:
        return self._order is not None

    def from_index(self, index: int) -> Nb201Arch:
        if self._order is None:
            raise NasrankError("the NB201 index order is unknown: load a benchmark (csv/nats/nb201) first")
        if not isinstance(index, (int, np.integer)) or not 0 <= index < len(self._order):
            raise NasrankError(f"NB201 index {index!r} out of range 0..{len(self._order) - 1}")
        return self._order[int(index)]

    def to_index(self, arch: Nb201Arch) -> int:
        if self._index_of is None:
            raise NasrankError("the NB201 index order is unknown: load a benchmark (csv/nats/nb201) first")
        return self._index_of[arch]

    # -- search moves -------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Nb201Arch:
        return Nb201Arch(tuple(OPS[i] for i in rng.integers(0, len(OPS), size=6)))

    def mutate(self, arch: Nb201Arch, rng: np.random.Generator) -> Nb201Arch:
        edge = int(rng.integers(0, 6))
        choices = [o for o in OPS if o != arch.ops[edge]]
        ops = list(arch.ops)
        ops[edge] = choices[int(rng.integers(0, len(choices)))]
        return Nb201Arch(tuple(ops))

    def neighbours(self, arch: Nb201Arch) -> list[Nb201Arch]:
        out = []
        for edge in range(6):
            for op in OPS:
                if op != arch.ops[edge]:
                    ops = list(arch.ops)
                    ops[edge] = op
                    out.append(Nb201Arch(tuple(ops)))
        return out

    def all_archs(self) -> list[Nb201Arch]:
        return [Nb201Arch(ops) for ops in itertools.product(OPS, repeat=6)]

    # -- keys ---------------------------------------------------------------
    def canonical_key(self, arch: Nb201Arch) -> str:
        return unique_string(arch)

    # -- networks -----------------------------------------------------------
    def build(self, arch: Nb201Arch, num_classes: int | None = None, channels: int | None = None,
              cells_per_stage: int | None = None, **_: Any) -> nn.Module:
        from nasrank.spaces.nb201_ops import Nb201Network

        return Nb201Network(arch.ops, channels=channels or self.channels,
                            cells_per_stage=cells_per_stage or self.cells_per_stage,
                            num_classes=num_classes or self.num_classes)

    def fear_cells(self, model: nn.Module) -> TailCells:
        """Every cell but the first (a reduction block counts as a cell; default: the last four,
        or the whole last stage if shorter), then the final BN-ReLU and the classifier."""
        body = list(model.cells)
        per_stage = (len(body) - 2) // 3  # the built network's N (3·N cells + 2 reductions), not the space's
        return TailCells(body[1:], [model.lastact, model.classifier], min(4, per_stage))

    def modelled_training_seconds(self, arch: Nb201Arch, epochs: int = 200) -> float:
        """CIFAR-10 training time on the benchmark's GPU (:func:`nb201_training_seconds`)."""
        return nb201_training_seconds(arch, epochs)

    @staticmethod
    def official_params_m(arch: Nb201Arch) -> float:
        """The benchmark's CIFAR-10 parameter count (M) at C=16, N=5."""
        return 0.073306 + 0.24304 * arch.count("nor_conv_3x3") + 0.028 * arch.count("nor_conv_1x1")

    def features(self, arch: Nb201Arch) -> dict[str, float]:
        """``params``, ``flops``, ``n_<op>`` counts and path features, without building
        the network (see :mod:`nasrank.spaces.nb201_features`)."""
        from nasrank.spaces.nb201_features import nb201_features

        return nb201_features(arch, self.channels, self.cells_per_stage, self.num_classes)
