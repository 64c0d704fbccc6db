"""DARTS cell space, as benchmarked by NAS-Bench-301 (``darts``).

An architecture is a normal and a reduction cell. Nodes 0 and 1 are the
outputs of the two previous cells; each intermediate node 2..5 takes two
*distinct* earlier nodes through one op each; the cell output concatenates
nodes 2..5.

Text form: the DARTS ``Genotype`` string, printed exactly as ``str()`` of the
DARTS namedtuple::

    Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ...], normal_concat=[2, 3, 4, 5],
             reduce=[...], reduce_concat=[2, 3, 4, 5])

(one line; ``from_string`` also accepts ``normal_concat=range(2, 6)``).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from torch import nn

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.base import SearchSpace, TailCells
from nasrank.spaces.darts_ops import OPS, DartsNetwork, reduction_layers

NUM_NODES = 4
CONCAT: tuple[int, ...] = (2, 3, 4, 5)
Pair = tuple[str, int]
_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


def _cell_error(pairs: Any) -> str | None:
    """Why ``pairs`` is not a valid DARTS cell, or ``None``."""
    if not isinstance(pairs, (tuple, list)) or len(pairs) != 2 * NUM_NODES:
        return f"a cell has {2 * NUM_NODES} (op, input) pairs, got {pairs!r}"
    for k in range(NUM_NODES):
        ins = []
        for e in (2 * k, 2 * k + 1):
            p = pairs[e]
            if not (isinstance(p, (tuple, list)) and len(p) == 2 and isinstance(p[0], str)
                    and isinstance(p[1], (int, np.integer)) and not isinstance(p[1], bool)):
                return f"pair {e} must be (op, input node), got {p!r}"
            op, i = p
            if op not in OPS:
                return f"unknown DARTS op {op!r}; expected one of {', '.join(OPS)}"
            if not 0 <= i < k + 2:
                return f"node {k + 2} takes input {i}, but only nodes 0..{k + 1} precede it"
            ins.append(int(i))
        if ins[0] == ins[1]:
            return f"node {k + 2} takes node {ins[0]} twice (its two inputs must differ)"
    return None


def _fmt(pairs: Sequence[Pair]) -> str:
    return "[" + ", ".join(f"('{op}', {i})" for op, i in pairs) + "]"


@dataclass(frozen=True, order=True)
class DartsArch:
    """A DARTS genotype: 8 (op, input) pairs per cell, two per node, in node order."""

    normal: tuple[Pair, ...]
    reduce: tuple[Pair, ...]

    def __post_init__(self) -> None:
        for name in ("normal", "reduce"):  # lists of lists become tuples (hashable)
            cell = getattr(self, name)
            if isinstance(cell, (list, tuple)) and all(isinstance(p, (list, tuple)) for p in cell):
                object.__setattr__(self, name, tuple(tuple(p) for p in cell))
        for name in ("normal", "reduce"):
            why = _cell_error(getattr(self, name))
            if why:
                raise NasrankError(f"invalid DARTS {name} cell {getattr(self, name)!r}: {why}")

    @classmethod
    def create(cls, normal: Sequence[Sequence[Any]], reduce: Sequence[Sequence[Any]]) -> "DartsArch":
        def norm(pairs: Sequence[Sequence[Any]]) -> tuple:
            try:
                return tuple((p[0], int(p[1]) if isinstance(p[1], (int, np.integer)) else p[1]) for p in pairs)
            except (TypeError, IndexError):
                return tuple(pairs)
        return cls(norm(normal), norm(reduce))

    def __str__(self) -> str:
        return (f"Genotype(normal={_fmt(self.normal)}, normal_concat=[2, 3, 4, 5], "
                f"reduce={_fmt(self.reduce)}, reduce_concat=[2, 3, 4, 5])")

    def canonical(self) -> "DartsArch":
        """The same genotype with each node's two pairs sorted (by input, then op)."""
        def cell(pairs: tuple[Pair, ...]) -> tuple[Pair, ...]:
            return tuple(p for k in range(NUM_NODES) for p in sorted(pairs[2 * k: 2 * k + 2], key=lambda q: (q[1], q[0])))
        return DartsArch(cell(self.normal), cell(self.reduce))

    def count(self, op: str) -> int:
        return sum(o == op for o, _ in self.normal + self.reduce)


#: the longest range() a genotype field may spell (the concat lists have 4 entries)
_MAX_RANGE = 16


def _short(text: str, limit: int = 160) -> str:
    """``text`` for an error message: its repr, cut to ``limit`` characters."""
    r = repr(text)
    return r if len(r) <= limit else r[:limit] + f"... ({len(text)} characters)"


def _range_literal(node: ast.Call, text: str, field: str) -> list[int]:
    """``range(a[, b[, c]])`` with integer literal arguments, checked before the list is built."""
    bad = NasrankError(f"malformed DARTS genotype {_short(text)}: {field} range() takes 1 to 3 integer "
                       f"literals and at most {_MAX_RANGE} values")
    if node.keywords or not 1 <= len(node.args) <= 3:
        raise bad
    args = []
    for a in node.args:
        if not (isinstance(a, ast.Constant) and type(a.value) is int):
            raise bad
        args.append(a.value)
    if len(args) == 3 and args[2] == 0:
        raise bad
    r = range(*args)
    if len(r) > _MAX_RANGE:  # len() of a range is O(1): nothing is materialised
        raise NasrankError(f"DARTS genotype {_short(text)}: {field} must be [2, 3, 4, 5], got a range of {len(r)} values")
    return list(r)


def _literal(node: ast.AST, text: str, field: str) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        return _range_literal(node, text, field)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise NasrankError(f"malformed DARTS genotype {_short(text)}: {field} is not a literal list") from None


#: a genotype string is ~300 characters; anything far longer is not one
_MAX_TEXT = 4096


def parse_genotype(text: str) -> DartsArch:
    """Parse a DARTS ``Genotype(...)`` string (keyword or positional fields)."""
    if not isinstance(text, str):
        raise NasrankError(f"DARTS genotype must be a str, got {type(text).__name__}: {_short(text)}")
    if len(text) > _MAX_TEXT:
        raise NasrankError(f"malformed DARTS genotype {_short(text)}: longer than {_MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise NasrankError(f"malformed DARTS genotype {_short(text)}; expected 'Genotype(normal=[(op, input), ...], "
                           f"normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])'") from None
    call = tree.body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Genotype"):
        raise NasrankError(f"malformed DARTS genotype {_short(text)}; expected 'Genotype(normal=..., normal_concat=..., "
                           f"reduce=..., reduce_concat=...)'")
    fields: dict[str, Any] = {}
    if len(call.args) > len(_FIELDS):
        raise NasrankError(f"malformed DARTS genotype {_short(text)}: too many fields")
    for name, node in zip(_FIELDS, call.args):
        fields[name] = _literal(node, text, name)
    for kw in call.keywords:
        if kw.arg not in _FIELDS or kw.arg in fields:
            raise NasrankError(f"malformed DARTS genotype {_short(text)}: unexpected or repeated field {kw.arg!r}")
        fields[kw.arg] = _literal(kw.value, text, kw.arg)
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise NasrankError(f"malformed DARTS genotype {_short(text)}: missing {', '.join(missing)}")
    for name in ("normal_concat", "reduce_concat"):
        value = fields[name]
        if not isinstance(value, (list, tuple)) or list(value) != list(CONCAT):
            raise NasrankError(f"DARTS genotype {_short(text)}: {name} must be [2, 3, 4, 5], got {value!r}")
    for name in ("normal", "reduce"):
        why = _cell_error(fields[name])
        if why:
            raise NasrankError(f"invalid DARTS genotype {_short(text)}: {name} cell: {why}")
    return DartsArch.create(fields["normal"], fields["reduce"])


#: genotypes of one cell up to the order of each node's two inputs:
#: prod over nodes of C(k, 2) input pairs (k = 2..5) times 7² ops = 180·7⁸
CELLS_PER_TYPE = 180 * 7**8


@SPACES.register("darts")
class DartsSpace(SearchSpace):
    """The DARTS / NAS-Bench-301 space: (180·7⁸)² ≈ 1.08·10¹⁸ genotypes.

    ``size`` counts genotypes up to the order of a node's two inputs (the
    equivalence ``canonical_key`` uses); other isomorphisms (e.g. swapping two
    intermediate nodes) are not merged.

    * ``key`` is the genotype string as written; ``canonical_key`` sorts each
      node's two (op, input) pairs by input.
    * ``sample``: for every node two distinct inputs uniformly, ops uniformly.
    * ``mutate``/``neighbours``: change one op, or one input to another node
      that the node does not already use.
    * ``build`` scale knobs: ``channels`` (16), ``layers`` (8), ``auxiliary``
      (False). The defaults (0.15–0.37 M parameters over the NB301 table, a
      forward pass on a (2, 3, 32, 32) batch in ~0.05 s on one CPU core) keep
      CPU runs cheap; the DARTS paper evaluates at ``channels=36, layers=20,
      auxiliary=True`` (~3.3 M parameters).
    """

    size = CELLS_PER_TYPE**2
    supernet_provider = "nasrank.spaces.darts_supernet:DartsSupernetProvider"
    ops = OPS
    size_is_estimate = False

    def __init__(self, channels: int = 16, layers: int = 8, auxiliary: bool = False, num_classes: int = 10) -> None:
        self.channels = validate.integer(channels, "channels", "space 'darts'")
        self.layers = validate.integer(layers, "layers", "space 'darts'")
        if not isinstance(auxiliary, bool):
            raise NasrankError(f"space 'darts': auxiliary must be true or false, got {auxiliary!r}")
        self.auxiliary = auxiliary
        self.num_classes = validate.integer(num_classes, "num_classes", "space 'darts'")

    # -- text forms ---------------------------------------------------------
    def to_string(self, arch: DartsArch) -> str:
        return str(arch)

    def from_string(self, text: str) -> DartsArch:
        return parse_genotype(text)

    def arch_from_row(self, row: Mapping[str, str]) -> DartsArch:
        """From the ``genotype`` column (NAS-Bench-301 table) or an ``arch`` column."""
        for col in ("genotype", "arch"):
            if col in row:
                return parse_genotype(row[col])
        raise NasrankError(f"DARTS table row needs a 'genotype' (or 'arch') column; columns: {', '.join(row)}")

    # -- keys ---------------------------------------------------------------
    def canonical_key(self, arch: DartsArch) -> str:
        return str(arch.canonical())

    # -- search moves -------------------------------------------------------
    def _sample_cell(self, rng: np.random.Generator) -> tuple[Pair, ...]:
        pairs: list[Pair] = []
        for k in range(NUM_NODES):
            ins = sorted(int(i) for i in rng.choice(k + 2, size=2, replace=False))
            pairs.extend((OPS[int(rng.integers(0, len(OPS)))], i) for i in ins)
        return tuple(pairs)

    def sample(self, rng: np.random.Generator) -> DartsArch:
        return DartsArch(self._sample_cell(rng), self._sample_cell(rng))

    @staticmethod
    def _replace(arch: DartsArch, cell: str, edge: int, pair: Pair) -> DartsArch:
        pairs = list(getattr(arch, cell))
        pairs[edge] = pair
        return DartsArch(tuple(pairs), arch.reduce) if cell == "normal" else DartsArch(arch.normal, tuple(pairs))

    @staticmethod
    def _free_inputs(pairs: Sequence[Pair], edge: int) -> list[int]:
        k = edge // 2
        used = {pairs[2 * k][1], pairs[2 * k + 1][1]}
        return [i for i in range(k + 2) if i not in used]

    def neighbours(self, arch: DartsArch) -> list[DartsArch]:
        seen = {self.canonical_key(arch)}
        out = []
        for cell in ("normal", "reduce"):
            pairs = getattr(arch, cell)
            for e, (op, i) in enumerate(pairs):
                cands = [(o, i) for o in OPS if o != op] + [(op, j) for j in self._free_inputs(pairs, e)]
                for pair in cands:
                    new = self._replace(arch, cell, e, pair)
                    k = self.canonical_key(new)
                    if k not in seen:
                        seen.add(k)
                        out.append(new)
        return out

    def mutate(self, arch: DartsArch, rng: np.random.Generator) -> DartsArch:
        cell = ("normal", "reduce")[int(rng.integers(0, 2))]
        pairs = getattr(arch, cell)
        e = int(rng.integers(0, len(pairs)))
        op, i = pairs[e]
        free = self._free_inputs(pairs, e)
        if free and rng.random() < 0.5:
            return self._replace(arch, cell, e, (op, free[int(rng.integers(0, len(free)))]))
        others = [o for o in OPS if o != op]
        return self._replace(arch, cell, e, (others[int(rng.integers(0, len(others)))], i))

    # -- networks -----------------------------------------------------------
    def build(self, arch: DartsArch, num_classes: int | None = None, channels: int | None = None,
              layers: int | None = None, auxiliary: bool | None = None, **_: Any) -> nn.Module:
        return DartsNetwork((arch.normal, arch.reduce), (CONCAT, CONCAT), channels=channels or self.channels,
                            layers=layers or self.layers, num_classes=num_classes or self.num_classes,
                            auxiliary=self.auxiliary if auxiliary is None else auxiliary)

    def fear_cells(self, model: nn.Module) -> TailCells:
        """Every cell but the first (default: the normal cells after the last reduction cell,
        at least one), then the classifier."""
        body = list(model.cells)
        start = min(reduction_layers(len(body))[1] + 1, len(body) - 1)
        return TailCells(body[1:], [model.classifier], len(body) - start)

    def features(self, arch: DartsArch) -> dict[str, float]:
        feats = super().features(arch)
        for op in OPS:
            feats[f"n_{op}"] = float(arch.count(op))
        return feats
