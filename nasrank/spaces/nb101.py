"""NAS-Bench-101 cell space (``nb101``).

Text form (``to_string``/``from_string``): the adjacency matrix as n² row-major
0/1 characters (``bits[i*n+j] == "1"``: an edge from node i to node j), a
``|``, then the n node labels comma-separated, input and output included::

    0110000001000000010000000100000001000000010000000|input,conv3x3-bn-relu,...,output

This is exactly the ``matrix`` and ``ops`` columns of the shared NB101 table
joined by ``|``. ``from_string`` also accepts the n-2 middle labels only, and a
JSON object ``{"matrix": [[0, 1, ...], ...] or "0110...", "ops": [...]}``
(what :meth:`Nb101Space.to_json` writes).

An arch keeps its spec as given (7 nodes, possibly with dead nodes);
:meth:`Nb101Arch.pruned` removes the nodes on no input→output path, as the
benchmark does before building or hashing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np
from torch import nn

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.base import SearchSpace, TailCells
from nasrank.spaces.nb101_ops import INPUT, OPS, OUTPUT, Nb101Network

MAX_VERTICES = 7
MAX_EDGES = 9


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, list[str]] | None:
    """Drop the nodes on no input→output path (``ModelSpec._prune``); ``None`` if
    the output is unreachable from the input."""
    n = matrix.shape[0]
    fwd, frontier = {0}, [0]
    while frontier:
        top = frontier.pop()
        for v in range(top + 1, n):
            if matrix[top, v] and v not in fwd:
                fwd.add(v)
                frontier.append(v)
    bwd, frontier = {n - 1}, [n - 1]
    while frontier:
        top = frontier.pop()
        for v in range(0, top):
            if matrix[v, top] and v not in bwd:
                bwd.add(v)
                frontier.append(v)
    keep = sorted(fwd & bwd)
    if 0 not in keep or n - 1 not in keep or len(keep) < 2:
        return None
    return matrix[np.ix_(keep, keep)], [ops[i] for i in keep]


def graph_hash(matrix: np.ndarray, ops: Sequence[str]) -> str:
    """The benchmark's ``graph_util.hash_module`` on a (pruned) spec.

    Each node starts from md5 of (out-degree, in-degree, label) with labels
    input=-1, output=-2 and the op's index in :data:`OPS`; then, n times, every
    node's hash becomes md5 of its sorted in-neighbour hashes, its sorted
    out-neighbour hashes and itself. The key is md5 of the sorted node hashes,
    so isomorphic specs share it.
    """
    n = matrix.shape[0]
    labels = [-1 if o == INPUT else -2 if o == OUTPUT else OPS.index(o) for o in ops]
    in_e = matrix.sum(axis=0).tolist()
    out_e = matrix.sum(axis=1).tolist()
    hashes = [hashlib.md5(str(h).encode("utf-8")).hexdigest() for h in zip(out_e, in_e, labels)]
    ins = [[w for w in range(n) if matrix[w, v]] for v in range(n)]
    outs = [[w for w in range(n) if matrix[v, w]] for v in range(n)]
    for _ in range(n):
        hashes = [
            hashlib.md5(("".join(sorted(hashes[w] for w in ins[v])) + "|"
                         + "".join(sorted(hashes[w] for w in outs[v])) + "|" + hashes[v]).encode("utf-8")).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()


def _check(matrix: np.ndarray, ops: Sequence[str]) -> str | None:
    """Why (matrix, ops) is not a valid NB101 spec, or ``None`` if it is."""
    n = matrix.shape[0]
    if matrix.ndim != 2 or matrix.shape != (n, n):
        return f"the matrix must be square, got shape {matrix.shape}"
    if not 2 <= n <= MAX_VERTICES:
        return f"a cell has 2..{MAX_VERTICES} nodes, got {n}"
    if len(ops) != n:
        return f"{n} nodes need {n} labels, got {len(ops)}"
    if not np.isin(matrix, (0, 1)).all():
        return "the matrix must hold only 0 and 1"
    if np.tril(matrix).any():
        return "the matrix must be strictly upper-triangular (a DAG in node order)"
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        return f"the first label must be {INPUT!r} and the last {OUTPUT!r}"
    for op in ops[1:-1]:
        if op not in OPS:
            return f"unknown NB101 op {op!r}; expected one of {', '.join(OPS)}"
    pruned = prune(matrix, ops)
    if pruned is None:
        return "the output is not reachable from the input"
    if int(pruned[0].sum()) > MAX_EDGES:
        return f"the pruned cell has {int(pruned[0].sum())} edges (at most {MAX_EDGES})"
    return None


@dataclass(frozen=True, order=True)
class Nb101Arch:
    """An NB101 spec: the adjacency matrix (tuple of rows of 0/1) and the node
    labels, ``ops[0] == "input"``, ``ops[-1] == "output"``."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        try:
            m = np.array(self.matrix, dtype=np.int64)
        except (TypeError, ValueError):
            raise NasrankError(f"malformed NB101 matrix {self.matrix!r}") from None
        if m.ndim == 2:  # lists / arrays become tuples of ints (hashable)
            object.__setattr__(self, "matrix", tuple(tuple(int(v) for v in row) for row in m.tolist()))
        object.__setattr__(self, "ops", tuple(self.ops))
        why = _check(m, self.ops) if m.ndim == 2 else "the matrix must be 2-D"
        if why:
            raise NasrankError(f"invalid NB101 spec {self.bits()}|{','.join(map(str, self.ops))}: {why}")

    @classmethod
    def create(cls, matrix: Any, ops: Sequence[str]) -> "Nb101Arch":
        """From any 2-D 0/1 array-like and a label list (middle labels only is fine)."""
        m = np.asarray(matrix)
        ops = [str(o) for o in ops]
        if m.ndim == 2 and len(ops) == m.shape[0] - 2:
            ops = [INPUT, *ops, OUTPUT]
        return cls(tuple(tuple(int(v) for v in row) for row in m.tolist()) if m.ndim == 2 else tuple(m.tolist()),
                   tuple(ops))

    @property
    def n(self) -> int:
        return len(self.ops)

    def array(self) -> np.ndarray:
        return np.array(self.matrix, dtype=np.int64)

    def bits(self) -> str:
        try:
            return "".join(str(int(v)) for row in self.matrix for v in row)
        except (TypeError, ValueError):
            return repr(self.matrix)

    def __str__(self) -> str:
        return f"{self.bits()}|{','.join(self.ops)}"

    @cached_property
    def _pruned(self) -> tuple[np.ndarray, list[str]]:
        p = prune(self.array(), self.ops)
        assert p is not None  # checked in __post_init__
        return p

    def pruned(self) -> "Nb101Arch":
        """The same cell without its dead nodes."""
        m, ops = self._pruned
        return Nb101Arch.create(m, ops)

    @cached_property
    def hash(self) -> str:
        """The benchmark's graph hash of the pruned spec."""
        m, ops = self._pruned
        return graph_hash(m, ops)

    def num_edges(self) -> int:
        return int(self._pruned[0].sum())

    def count(self, op: str) -> int:
        """How many live nodes hold ``op``."""
        return sum(o == op for o in self._pruned[1])


def parse_nb101(text: str) -> Nb101Arch:
    """Parse the text form or the JSON form (see the module docstring)."""
    if not isinstance(text, str):
        raise NasrankError(f"NB101 arch string must be a str, got {type(text).__name__}: {text!r}")
    s = text.strip()
    if s.startswith("{"):
        try:
            obj = json.loads(s)
            matrix, ops = obj["matrix"], obj["ops"]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise NasrankError(f"malformed NB101 JSON {text!r}; expected {{\"matrix\": ..., \"ops\": [...]}}") from None
        if isinstance(matrix, str):
            if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
                raise NasrankError(f"malformed NB101 JSON {text[:160]!r}: 'ops' must be a list of op names")
            s = f"{matrix}|{','.join(ops)}"
        else:
            if not isinstance(ops, list) or not isinstance(matrix, list):
                raise NasrankError(f"malformed NB101 JSON {text!r}: 'matrix' and 'ops' must be lists")
            try:
                m = np.array(matrix, dtype=np.int64)
            except (TypeError, ValueError, OverflowError):
                raise NasrankError(f"malformed NB101 JSON {text!r}: 'matrix' is not a square 0/1 matrix") from None
            if m.ndim != 2:
                raise NasrankError(f"malformed NB101 JSON {text!r}: 'matrix' is not a square 0/1 matrix")
            return Nb101Arch.create(m, ops)
    bits, sep, labels = s.partition("|")
    n = int(round(len(bits) ** 0.5))
    if not sep or n * n != len(bits) or set(bits) - {"0", "1"} or not labels:
        raise NasrankError(f"malformed NB101 arch string {text!r}; expected '<n*n 0/1 characters>|input,op,...,output'")
    ops = [o.strip() for o in labels.split(",")]
    m = np.array([int(c) for c in bits], dtype=np.int64).reshape(n, n)
    if len(ops) not in (n, n - 2):
        raise NasrankError(f"malformed NB101 arch string {text!r}: {n} nodes need {n} labels, got {len(ops)}")
    return Nb101Arch.create(m, ops)


@SPACES.register("nb101")
class Nb101Space(SearchSpace):
    """The NB101 cell space: DAGs of at most 7 nodes and 9 edges, 3 ops,
    423,624 unique cells up to isomorphism.

    * ``canonical_key`` is the benchmark's graph hash of the pruned spec
      (isomorphic specs share it); ``key`` is the text form.
    * ``sample`` draws a 7-node spec as the benchmark's examples do (each of
      the 21 upper-triangular edges with probability 1/2, ops uniform) and
      rejects invalid ones.
    * ``neighbours`` flips one edge or changes one node's op, keeps the valid
      results and drops those isomorphic to ``arch`` or to an earlier one;
      ``mutate`` draws one of them uniformly.
    * ``build`` scale knobs: ``stem_channels`` (128), ``num_stacks`` (3),
      ``cells_per_stack`` (3), the benchmark's network; use smaller values
      (e.g. 16, 3, 1) for cheap CPU runs.
    """

    size = 423_624
    supernet_provider = "nasrank.spaces.nb101_supernet:Nb101SupernetProvider"
    ops = OPS
    size_is_estimate = False

    def __init__(self, stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
                 num_classes: int = 10) -> None:
        self.stem_channels = validate.integer(stem_channels, "stem_channels", "space 'nb101'")
        self.num_stacks = validate.integer(num_stacks, "num_stacks", "space 'nb101'")
        self.cells_per_stack = validate.integer(cells_per_stack, "cells_per_stack", "space 'nb101'")
        self.num_classes = validate.integer(num_classes, "num_classes", "space 'nb101'")

    # -- text forms ---------------------------------------------------------
    def to_string(self, arch: Nb101Arch) -> str:
        return str(arch)

    def from_string(self, text: str) -> Nb101Arch:
        return parse_nb101(text)

    def to_json(self, arch: Nb101Arch) -> str:
        """``{"matrix": [[...], ...], "ops": [...]}`` (``from_string`` reads it back)."""
        return json.dumps({"matrix": [list(r) for r in arch.matrix], "ops": list(arch.ops)})

    def arch_from_row(self, row: Mapping[str, str]) -> Nb101Arch:
        """From the shared table's ``matrix`` (49 bits) and ``ops`` columns, or an ``arch`` column."""
        if "matrix" in row and "ops" in row:
            return parse_nb101(f"{row['matrix']}|{row['ops']}")
        if "arch" in row:
            return parse_nb101(row["arch"])
        raise NasrankError(f"NB101 table row needs 'matrix' and 'ops' columns (or 'arch'); columns: {', '.join(row)}")

    # -- keys ---------------------------------------------------------------
    def canonical_key(self, arch: Nb101Arch) -> str:
        return arch.hash

    # -- search moves -------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Nb101Arch:
        n = MAX_VERTICES
        while True:
            m = np.triu(rng.integers(0, 2, size=(n, n)), 1)
            ops = [INPUT, *(OPS[i] for i in rng.integers(0, len(OPS), size=n - 2)), OUTPUT]
            if _check(m, ops) is None:
                return Nb101Arch.create(m, ops)

    def _moves(self, arch: Nb101Arch) -> list[tuple[np.ndarray, list[str]]]:
        m0, n = arch.array(), arch.n
        out = []
        for i in range(n):
            for j in range(i + 1, n):
                m = m0.copy()
                m[i, j] = 1 - m[i, j]
                out.append((m, list(arch.ops)))
        for v in range(1, n - 1):
            for op in OPS:
                if op != arch.ops[v]:
                    ops = list(arch.ops)
                    ops[v] = op
                    out.append((m0, ops))
        return out

    def neighbours(self, arch: Nb101Arch) -> list[Nb101Arch]:
        seen = {arch.hash}
        out = []
        for m, ops in self._moves(arch):
            if _check(m, ops) is not None:
                continue
            cand = Nb101Arch.create(m, ops)
            if cand.hash not in seen:
                seen.add(cand.hash)
                out.append(cand)
        return out

    def mutate(self, arch: Nb101Arch, rng: np.random.Generator) -> Nb101Arch:
        nbrs = self.neighbours(arch)
        if not nbrs:  # cannot happen for a valid spec with >= 3 nodes; stay safe
            return self.sample(rng)
        return nbrs[int(rng.integers(0, len(nbrs)))]

    # -- networks -----------------------------------------------------------
    def build(self, arch: Nb101Arch, num_classes: int | None = None, stem_channels: int | None = None,
              num_stacks: int | None = None, cells_per_stack: int | None = None, **_: Any) -> nn.Module:
        m, ops = arch._pruned
        return Nb101Network(m, ops, num_classes=num_classes or self.num_classes,
                            stem_channels=stem_channels or self.stem_channels,
                            num_stacks=num_stacks or self.num_stacks,
                            cells_per_stack=cells_per_stack or self.cells_per_stack)

    def fear_cells(self, model: nn.Module) -> TailCells:
        """Every cell but the first (default: two of the last stack, its only cell if it has one),
        then the classifier."""
        return TailCells(list(model.cells)[1:], [model.classifier], min(2, model.cells_per_stack))

    def features(self, arch: Nb101Arch) -> dict[str, float]:
        feats = super().features(arch)
        feats["n_nodes"] = float(arch.pruned().n)
        feats["n_edges"] = float(arch.num_edges())
        for op in OPS:
            feats[f"n_{op}"] = float(arch.count(op))
        return feats
