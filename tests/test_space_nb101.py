"""NB101 space: validity, pruning, graph hash, moves, text forms and the benchmark network."""
from __future__ import annotations

import csv
import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from nasrank.errors import NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.nb101 import Nb101Arch, Nb101Space, graph_hash
from nasrank.spaces.nb101_ops import Nb101Cell
from nasrank.rankers.fear_tail import fear_tail

SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CSV = SHARED / "nb101" / "nb101_cifar10_500.csv"

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    assert CSV.exists(), f"shared reference data missing: {CSV}"
    with open(CSV) as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def space() -> Nb101Space:
    return Nb101Space()


def test_registered():
    assert SPACES.get("nb101") is Nb101Space
    assert Nb101Space.size == 423_624 and not Nb101Space.size_is_estimate


def test_sample_is_valid_and_varied(space):
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(50)]
    for a in archs:
        assert a.n == 7 and a.num_edges() <= 9
        assert space.from_string(space.to_string(a)) == a
    assert len({space.canonical_key(a) for a in archs}) > 30  # many specs prune to small cells


def test_mutate_and_neighbours(space):
    rng = np.random.default_rng(1)
    for _ in range(10):
        a = space.sample(rng)
        nbrs = space.neighbours(a)
        keys = [space.canonical_key(b) for b in nbrs]
        assert nbrs and len(set(keys)) == len(keys)
        assert space.canonical_key(a) not in keys
        for b in nbrs:  # one edge flip or one op change away
            diff = int((a.array() != b.array()).sum()) + sum(x != y for x, y in zip(a.ops, b.ops))
            assert diff == 1 and b.num_edges() <= 9
        m = space.mutate(a, rng)
        assert isinstance(m, Nb101Arch) and space.canonical_key(m) != space.canonical_key(a)
        assert space.canonical_key(m) in keys


def test_pruning_drops_dead_nodes(rows, space):
    # rows 0 and 1 reduce to input -> output
    for r in rows[:2]:
        p = space.arch_from_row(r).pruned()
        assert p.n == 2 and p.ops == ("input", "output")
    # a node with no path to the output is removed; so is one unreachable from the input
    a = Nb101Arch.create([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ["input", C3, C1, "output"])
    assert a.pruned() == Nb101Arch.create([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    assert space.canonical_key(a) == space.canonical_key(a.pruned())


def _topological_permutations(a: Nb101Arch):
    """Relabellings of the interior nodes that keep the matrix upper-triangular."""
    m, n = a.array(), a.n
    for perm in itertools.permutations(range(1, n - 1)):
        order = [0, *perm, n - 1]
        pm = m[np.ix_(order, order)]
        if not np.tril(pm).any():
            yield Nb101Arch.create(pm, [a.ops[i] for i in order])


def test_isomorphic_specs_share_a_key(rows, space):
    checked = 0
    for r in rows:
        a = space.arch_from_row(r).pruned()
        key = space.canonical_key(a)
        for b in _topological_permutations(a):
            assert space.canonical_key(b) == key
            checked += b != a
        if checked >= 40:
            break
    assert checked >= 40
    # two parallel branches: swapping their ops is an isomorphism
    diamond = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    x = Nb101Arch.create(diamond, [C3, C1])
    y = Nb101Arch.create(diamond, [C1, C3])
    assert x != y and space.canonical_key(x) == space.canonical_key(y)
    # in a chain the order of the ops matters
    chain = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert space.canonical_key(Nb101Arch.create(chain, [C3, C1])) != space.canonical_key(Nb101Arch.create(chain, [C1, C3]))
    assert space.canonical_key(Nb101Arch.create(chain, [C3, C1])) != space.canonical_key(x)


def test_hash_groups_agree_with_the_table(rows, space):
    """Rows with one hash have at most 3 accuracies (the benchmark's 3 seeds; the table
    repeats isomorphic cells). Parameter counts may differ slightly: the channel split
    gives the remainder to the first output-feeding nodes, which depends on node order."""
    groups: dict[str, set] = {}
    for r in rows:
        groups.setdefault(space.canonical_key(space.arch_from_row(r)), set()).add(r["val_acc"])
    assert all(len(accs) <= 3 for accs in groups.values())
    assert max(len(accs) for accs in groups.values()) == 3
    assert 250 < len(groups) < 500


def test_graph_hash_ignores_node_order_entirely():
    """Like the benchmark's ``hash_module``, the hash needs no particular node order."""
    m = np.array([[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])
    ops = ["input", C3, MP, C1, "output"]
    ref = graph_hash(m, ops)
    for perm in itertools.permutations(range(5)):
        p = list(perm)
        assert graph_hash(m[np.ix_(p, p)], [ops[i] for i in p]) == ref
    assert graph_hash(m, ["input", C3, MP, MP, "output"]) != ref
    assert len(ref) == 32


def test_text_forms_round_trip(rows, space):
    for r in rows:
        a = space.arch_from_row(r)
        s = space.to_string(a)
        assert s == f"{r['matrix']}|{r['ops']}"
        assert space.from_string(s) == a
        assert space.from_string(space.to_json(a)) == a
        assert space.key(a) == s
    # middle labels only, and JSON with a bit string
    a = space.arch_from_row(rows[5])
    assert space.from_string(f"{rows[5]['matrix']}|{','.join(a.ops[1:-1])}") == a
    assert space.from_string(f'{{"matrix": "{rows[5]["matrix"]}", "ops": {list(a.ops)!r}}}'.replace("'", '"')) == a


@pytest.mark.parametrize("text, needle", [
    ("", "''"),
    ("0110|input,output", "0110|input,output"),                     # not upper-triangular
    ("0100|input,conv5x5", "conv5x5"),                                 # unknown / misplaced label
    ("010001000|input,conv5x5-bn-relu,output", "conv5x5-bn-relu"),     # unknown op
    ("01x001000|input,conv3x3-bn-relu,output", "01x001000"),           # bad bits
    ("010001000|input,output", "010001000|input,output"),              # label count
    ("000001000|input,conv3x3-bn-relu,output", "not reachable"),       # disconnected
    ("{\"matrix\": 3}", "matrix"),
    ("{not json", "{not json"),
])
def test_bad_strings_raise(space, text, needle):
    with pytest.raises(NasrankError) as exc:
        space.from_string(text)
    assert needle in str(exc.value)


def test_too_many_edges_raise():
    m = np.triu(np.ones((7, 7), dtype=int), 1)
    with pytest.raises(NasrankError, match="edges"):
        Nb101Arch.create(m, ["input", C3, C3, C3, C3, C3, "output"])
    with pytest.raises(NasrankError, match="matrix"):
        Nb101Space().arch_from_row({"foo": "1"})


def test_params_match_the_benchmark_for_all_rows(rows, space):
    counts: dict[str, int] = {}  # the network depends on the pruned spec only: build each once
    for r in rows:
        a = space.arch_from_row(r)
        pk = str(a.pruned())
        if pk not in counts:
            with torch.device("meta"):
                model = space.build(a)
            counts[pk] = sum(p.numel() for p in model.parameters())
        assert abs(counts[pk] / 1e6 - float(r["params_m"])) <= 1e-6 * max(1.0, float(r["params_m"])), r["index"]
    assert len(counts) > 250


def test_forward_small_scale_and_fear_tail(rows, space):
    torch.manual_seed(0)
    for r in rows[2:5]:
        model = space.build(space.arch_from_row(r), num_classes=7, stem_channels=8, num_stacks=3, cells_per_stack=1)
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    small = space.build(space.arch_from_row(rows[3]), stem_channels=8, cells_per_stack=1)
    assert fear_tail(space, small) == [small.cells[-1], small.classifier]
    model = space.build(space.arch_from_row(rows[3]), stem_channels=8)
    tail = fear_tail(space, model)
    assert tail[-1] is model.classifier and len(tail) == 3
    assert all(isinstance(m, Nb101Cell) for m in tail[:-1]) and tail[-2] is model.cells[-1]
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
