"""The ``pool`` space: a scored pool's cells (:mod:`nasrank.pool`) as a search space of their own.

``--space pool --space-cfg pool=DIR[,split=report]``. Sampling is uniform over the pool's cells of
``split`` (``report``, ``calibration`` or ``all``) that every pool ranker has scored; mutation and
neighbours pick pool cells: ``mutate`` draws uniformly among the other pool cells nearest to the
architecture, ``neighbours`` lists the nearest pool cells (as many as the base space's neighbourhood
has, nearest first, ties in pool order). Distance is the Hamming distance between the tokens of the
text forms (NB201: the op on each edge), plus the difference in token count. Everything else
(``build``, keys, text forms, FEAR's freeze point, the supernet) is the base space's, named in the
pool's manifest.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from nasrank.errors import NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.base import Arch, SearchSpace, TailCells

_SPLIT = re.compile(r"[|+,()\[\]\s=~]+")


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in _SPLIT.split(text) if t)


def token_distance(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """Hamming distance of two token sequences, plus their difference in length."""
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


@SPACES.register("pool")
class PoolSpace(SearchSpace):
    """The cells of a scored pool, searched with the base space's networks and keys."""

    def __init__(self, pool: str, split: str = "report") -> None:
        from nasrank.pool.table import Pool

        if not isinstance(pool, str) or not pool:
            raise NasrankError("space 'pool' needs pool=DIR (a scored pool folder)")
        self.pool = Pool.load(pool)
        self.base = SPACES.create(self.pool.manifest["space"])
        self.split = split
        self.cells = [self.base.from_string(c["arch"]) for c in self.pool.complete_cells(split=split)]
        if len(self.cells) < 2:
            raise NasrankError(f"pool {pool}: {len(self.cells)} cell(s) of split {split!r} are scored by every "
                               f"ranker; a search needs at least 2")
        self._tok = [_tokens(self.base.to_string(a)) for a in self.cells]
        self._index = {self.base.key(a): i for i, a in enumerate(self.cells)}
        self.size = len(self.cells)
        self.ops = self.base.ops
        self.num_classes = self.base.num_classes
        self.supernet_provider = self.base.supernet_provider

    # -- the pool's moves ------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Arch:
        return self.cells[int(rng.integers(0, len(self.cells)))]

    def _by_distance(self, arch: Arch) -> list[tuple[int, int]]:
        tok = _tokens(self.base.to_string(arch))
        me = self._index.get(self.base.key(arch))
        return sorted((token_distance(tok, t), i) for i, t in enumerate(self._tok) if i != me)

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        ranked = self._by_distance(arch)
        nearest = [i for d, i in ranked if d == ranked[0][0]]
        return self.cells[nearest[int(rng.integers(0, len(nearest)))]]

    def neighbours(self, arch: Arch) -> list[Arch]:
        k = min(len(self.base.neighbours(arch)) or 1, len(self.cells) - 1)
        return [self.cells[i] for _, i in self._by_distance(arch)[:k]]

    def all_archs(self) -> list[Arch]:
        return list(self.cells)

    # -- the base space's ------------------------------------------------------
    def build(self, arch: Arch, num_classes: int | None = None, **scale: Any):
        return self.base.build(arch, num_classes=num_classes, **scale)

    def to_string(self, arch: Arch) -> str:
        return self.base.to_string(arch)

    def from_string(self, text: str) -> Arch:
        return self.base.from_string(text)

    def key(self, arch: Arch):
        return self.base.key(arch)

    def canonical_key(self, arch: Arch):
        return self.base.canonical_key(arch)

    def arch_from_row(self, row):
        return self.base.arch_from_row(row)

    def features(self, arch: Arch) -> dict[str, float]:
        return self.base.features(arch)

    def input_shape(self, batch: int = 1) -> tuple[int, ...]:
        return self.base.input_shape(batch)

    def fear_cells(self, model) -> TailCells:
        return self.base.fear_cells(model)

    def supernet(self) -> Any:
        return self.base.supernet()

    def modelled_training_seconds(self, arch: Arch, epochs: int = 200) -> float | None:
        return self.base.modelled_training_seconds(arch, epochs)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base": self.base.registry_name, "pool": str(self.pool.folder),
                "split": self.split}
