"""NB101 isomorphism classes: a canonical numbering of a cell, and sampling uniformly over classes.

* :func:`canonical_form`: the pruned spec renumbered so that isomorphic cells
  get the same matrix and labels: among the numberings of the internal nodes
  that keep the matrix upper-triangular, the one with the smallest
  ``(bits, labels)`` text. Two specs have the same form exactly when they are
  isomorphic (labelled DAG isomorphism fixing input and output), which is
  what the benchmark's graph hash (``canonical_key``) approximates.
* :func:`representations`: how many distinct upper-triangular specs (with no
  dead node) the class of a cell has: the number of distinct numberings.
* :class:`DeisoSampler`: uniform over the classes: pick the number of nodes
  ``n`` in proportion to the number of classes with ``n`` nodes, draw a
  uniform labelled ``n``-node spec with every node live and at most 9 edges
  (rejection), accept it with probability ``1 / representations`` (every
  class of ``n`` nodes is then equally likely), and return its canonical
  form. The class counts per ``n`` are estimated once by Monte Carlo
  (:func:`class_counts`, seeded; their sum estimates the 423,624 classes).
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from nasrank.spaces.nb101 import MAX_EDGES, MAX_VERTICES, Nb101Arch
from nasrank.spaces.nb101_ops import INPUT, OPS, OUTPUT


def _forms(matrix: np.ndarray, ops: tuple[str, ...]) -> set[tuple[str, tuple[str, ...]]]:
    """Every upper-triangular numbering of a pruned spec, as ``(bits, labels)``."""
    n = matrix.shape[0]
    out = set()
    for perm in itertools.permutations(range(1, n - 1)):
        order = (0, *perm, n - 1)  # new position k holds old node order[k]
        m = matrix[np.ix_(order, order)]
        if np.tril(m).any():
            continue
        out.add(("".join(map(str, m.flatten().tolist())), tuple(ops[i] for i in order)))
    return out


@lru_cache(maxsize=200_000)
def _class_info(arch: Nb101Arch) -> tuple[Nb101Arch, int]:
    m, ops = arch._pruned
    forms = _forms(np.asarray(m), tuple(ops))
    bits, labels = min(forms)
    n = len(labels)
    canon = Nb101Arch.create(np.array([int(c) for c in bits]).reshape(n, n), labels)
    return canon, len(forms)


def canonical_form(arch: Nb101Arch) -> Nb101Arch:
    """The pruned cell in its canonical numbering (one per isomorphism class)."""
    return _class_info(arch)[0]


def representations(arch: Nb101Arch) -> int:
    """The number of distinct upper-triangular numberings of ``arch``'s pruned cell."""
    return _class_info(arch)[1]


def _live_spec(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]] | None:
    """A uniform labelled ``n``-node spec, or None unless every node is live and edges <= 9."""
    m = np.triu(rng.integers(0, 2, size=(n, n)), 1)
    if m.sum() > MAX_EDGES:
        return None
    # every internal node needs a predecessor and a successor, and the whole graph must be live
    if n > 2 and (not m[:, 1:].any(axis=0).all() or not m[:-1].any(axis=1).all()):
        return None
    ops = [INPUT, *(OPS[i] for i in rng.integers(0, len(OPS), size=n - 2)), OUTPUT]
    if n == 2:
        return (m, ops) if m[0, 1] else None
    return m, ops  # each node has an in- and an out-edge in a DAG: it lies on an input->output path


@lru_cache(maxsize=4)
def class_counts(draws: int = 4000, seed: int = 0) -> tuple[float, ...]:
    """Estimated number of classes with n = 2..7 nodes: ``2^C(n,2) · 3^(n-2) · E[live / representations]``
    over ``draws`` uniform labelled ``n``-node specs (n = 2 is the single class input -> output)."""
    rng = np.random.default_rng(seed)
    counts = [1.0]
    for n in range(3, MAX_VERTICES + 1):
        total = 0.0
        for _ in range(draws):
            spec = _live_spec(n, rng)
            if spec is not None:
                total += 1.0 / representations(Nb101Arch.create(*spec))
        counts.append(2.0 ** (n * (n - 1) // 2) * 3.0 ** (n - 2) * total / draws)
    return tuple(counts)


class DeisoSampler:
    """Uniform over NB101 isomorphism classes (see the module docstring); returns canonical forms."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        counts = np.array(class_counts())
        self.p = counts / counts.sum()

    def __call__(self) -> Nb101Arch:
        n = 2 + int(self.rng.choice(len(self.p), p=self.p))
        while True:
            spec = _live_spec(n, self.rng)
            if spec is None:
                continue
            arch = Nb101Arch.create(*spec)
            canon, reps = _class_info(arch)
            if self.rng.random() * reps < 1.0:
                return canon
