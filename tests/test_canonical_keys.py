"""The spaces' canonical keys against a networkx oracle: architectures share a key exactly when
their graphs are isomorphic (networkx's VF2 decides; a Weisfeiler-Lehman hash only buckets).

* NB101: the pruned cell as a DAG, nodes labelled by op (input/output included).
* DARTS: both cells as DAGs of numbered nodes (the concatenated outputs fix their identity),
  edges labelled by op: the genotype up to the order of each node's two inputs.
* NB201: the cell's computation as an expression tree (sums unordered, ``none`` a zero leaf,
  ``skip`` an alias); isomorphic computations share a key. The benchmark's key (NATS-Bench's
  ``to_unique_str``) is coarser: it also merges some non-isomorphic trees, so its 6,466 classes
  are unions of the oracle's (6,900 over the whole space), and finer than the trees with nested
  sums flattened (5,755 classes): the test checks both bounds.
"""
from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from typing import Any, Callable, Hashable, Iterable

import networkx as nx
import numpy as np
import pytest

from nasrank.errors import NasrankError
from nasrank.spaces.darts import NUM_NODES, DartsArch, DartsSpace
from nasrank.spaces.nb101 import Nb101Arch, Nb101Space
from nasrank.spaces.nb201 import EDGES, Nb201Space

from conftest import shared


def isomorphism_classes(graphs: list[nx.DiGraph]) -> list[int]:
    """Class id of each graph: VF2 isomorphism (node ``label`` and edge ``op`` must match)."""
    buckets: dict[str, list[tuple[nx.DiGraph, int]]] = defaultdict(list)
    out: list[int] = []
    match_n = lambda a, b: a.get("label") == b.get("label")  # noqa: E731
    match_e = lambda a, b: a.get("op") == b.get("op")  # noqa: E731
    for g in graphs:
        for _, _, d in g.edges(data=True):
            d.setdefault("op", "")
        h = nx.weisfeiler_lehman_graph_hash(g, node_attr="label", edge_attr="op", iterations=4)
        for rep, cid in buckets[h]:
            if nx.is_isomorphic(g, rep, node_match=match_n, edge_match=match_e):
                out.append(cid)
                break
        else:
            cid = sum(len(v) for v in buckets.values())
            buckets[h].append((g, cid))
            out.append(cid)
    return out


def partition(ids: Iterable[Hashable]) -> set[frozenset[int]]:
    groups: dict[Hashable, set[int]] = defaultdict(set)
    for i, k in enumerate(ids):
        groups[k].add(i)
    return {frozenset(v) for v in groups.values()}


# ---------------------------------------------------------------------------- NB101
def nb101_graph(arch: Nb101Arch) -> nx.DiGraph:
    p = arch.pruned()
    g = nx.DiGraph()
    for i, op in enumerate(p.ops):
        g.add_node(i, label=op)
    m = p.array()
    g.add_edges_from((i, j) for i in range(p.n) for j in range(p.n) if m[i, j])
    return g


def relabelled(arch: Nb101Arch, rng: np.random.Generator) -> Nb101Arch | None:
    """The same cell with its intermediate nodes in another topological order (None if that order is not one)."""
    p = arch.pruned()
    perm = [0, *(1 + rng.permutation(p.n - 2)), p.n - 1]
    m = p.array()[np.ix_(perm, perm)]
    try:
        return Nb101Arch.create(m, [p.ops[i] for i in perm])
    except NasrankError:
        return None


def test_nb101_key_is_isomorphism():
    space = Nb101Space()
    with open(shared("nb101", "nb101_cifar10_500.csv")) as fh:
        archs = [space.arch_from_row(r) for r in csv.DictReader(fh)]
    rng = np.random.default_rng(0)
    archs += space.sample_many(200, rng)
    archs += [b for a in archs[:300] for b in [relabelled(a, rng)] if b is not None]
    keys = [space.canonical_key(a) for a in archs]
    classes = isomorphism_classes([nb101_graph(a) for a in archs])
    assert partition(keys) == partition(classes)
    assert len(set(keys)) < len(archs) - 300  # the table's repeats and the relabelled copies were merged


# ---------------------------------------------------------------------------- DARTS
def darts_graph(arch: DartsArch) -> nx.DiGraph:
    g = nx.DiGraph()
    for cell, pairs in (("normal", arch.normal), ("reduce", arch.reduce)):
        for i in range(NUM_NODES + 2):
            g.add_node((cell, i), label=f"{cell}{i}")
        for e, (op, src) in enumerate(pairs):
            g.add_edge((cell, src), (cell, 2 + e // 2), op=op)
    return g


def swapped(arch: DartsArch, rng: np.random.Generator) -> DartsArch:
    def cell(pairs):
        out = list(pairs)
        for k in range(NUM_NODES):
            if rng.random() < 0.5:
                out[2 * k], out[2 * k + 1] = out[2 * k + 1], out[2 * k]
        return out
    return DartsArch.create(cell(arch.normal), cell(arch.reduce))


def test_darts_key_is_isomorphism():
    space = DartsSpace()
    with open(shared("nb301", "nb301_cifar10_725.csv")) as fh:
        archs = [space.from_string(r["genotype"]) for r in itertools.islice(csv.DictReader(fh), 300)]
    rng = np.random.default_rng(1)
    archs += space.sample_many(100, rng)
    archs += [swapped(a, rng) for a in archs[:200]]
    keys = [space.canonical_key(a) for a in archs]
    assert partition(keys) == partition(isomorphism_classes([darts_graph(a) for a in archs]))
    assert len(set(keys)) <= len(archs) - 150  # most swapped copies differ as strings but share a key


# ---------------------------------------------------------------------------- NB201
def nb201_tree(ops: tuple[str, ...], flatten: bool = False) -> nx.DiGraph:
    """Node 3's value as an expression tree: ``+`` (unordered sum), op nodes, ``in`` and ``#`` (zero) leaves;
    with ``flatten`` a sum passed on by a skip joins the sum it feeds (a + (b + c) = a + b + c)."""
    g = nx.DiGraph()
    ids = itertools.count()

    def node(label: str, children: Iterable[int] = ()) -> int:
        v = next(ids)
        g.add_node(v, label=label)
        g.add_edges_from((v, c) for c in children)
        return v

    def copy(v: int) -> int:
        return node(g.nodes[v]["label"], [copy(c) for c in g.successors(v)])

    value = {0: node("in")}
    for target in (1, 2, 3):
        terms = []
        for e, (t, s) in enumerate(EDGES):
            if t != target:
                continue
            if ops[e] == "none" or g.nodes[value[s]]["label"] == "#":
                terms.append(node("#"))
            elif ops[e] == "skip_connect":
                v = copy(value[s])
                flat = flatten and g.nodes[v]["label"] == "+"
                terms.extend(list(g.successors(v)) if flat else [v])
            else:
                terms.append(node(ops[e], [copy(value[s])]))
        value[target] = terms[0] if len(terms) == 1 else node("+", terms)
    return g.subgraph(nx.descendants(g, value[3]) | {value[3]}).copy()


def test_nb201_isomorphic_computations_share_a_key():
    space = Nb201Space()
    rng = np.random.default_rng(2)
    every = space.all_archs()
    archs = [every[int(i)] for i in rng.choice(len(every), 1500, replace=False)]
    by_class: dict[Any, set[str]] = defaultdict(set)
    classes = isomorphism_classes([nb201_tree(a.ops) for a in archs])
    for a, c in zip(archs, classes):
        by_class[c].add(space.canonical_key(a))
    assert all(len(keys) == 1 for keys in by_class.values())  # one key per isomorphism class
    flat: dict[str, set[int]] = defaultdict(set)
    for a, c in zip(archs, isomorphism_classes([nb201_tree(a.ops, flatten=True) for a in archs])):
        flat[space.canonical_key(a)].add(c)
    assert all(len(cs) == 1 for cs in flat.values())  # and a key never joins sums that differ when flattened
    assert len(set(by_class)) > len({next(iter(cs)) for cs in flat.values()})  # the bounds differ: a real test
    assert len(set(classes)) < len(archs)  # the sample holds isomorphic cells
    # a skip in series and the op in its place are isomorphic computations; a conv and a pool are not
    a = space.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    b = space.from_string("|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|")
    c = space.from_string("|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    assert isomorphism_classes([nb201_tree(x.ops) for x in (a, b, c)]) == [0, 0, 1]
    assert space.canonical_key(a) == space.canonical_key(b) != space.canonical_key(c)
