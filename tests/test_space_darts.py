"""DARTS (NAS-Bench-301) space: genotype strings, keys, moves and the network."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from nasrank.errors import NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.darts import CELLS_PER_TYPE, DartsArch, DartsSpace
from nasrank.spaces.darts_ops import OPS, DartsCell
from nasrank.rankers.fear_tail import fear_tail

SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CSV = SHARED / "nb301" / "nb301_cifar10_725.csv"

GOOD = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
        "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
        "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
        "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")  # DARTS_V2


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    assert CSV.exists(), f"shared reference data missing: {CSV}"
    with open(CSV) as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def space() -> DartsSpace:
    return DartsSpace()


def test_registered_and_size():
    assert SPACES.get("darts") is DartsSpace
    assert CELLS_PER_TYPE == 1 * 3 * 6 * 10 * 7**8
    assert 1e18 < DartsSpace.size < 1.1e18 and not DartsSpace.size_is_estimate


def test_genotype_round_trip_all_rows(rows, space):
    keys = set()
    for r in rows:
        a = space.arch_from_row(r)
        assert space.to_string(a) == r["genotype"]
        assert space.from_string(r["genotype"]) == a
        keys.add(space.canonical_key(a))
    assert len(keys) == len(rows)


def test_parse_variants(space):
    a = space.from_string(GOOD)
    assert str(a) == GOOD
    b = space.from_string(GOOD.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)"))
    assert b == a
    # positional fields, as the namedtuple's repr could be written
    pos = GOOD.replace("normal=", "").replace("normal_concat=", "").replace("reduce=", "").replace("reduce_concat=", "")
    assert space.from_string(pos) == a


def test_canonical_key_ignores_input_order(space):
    a = space.from_string(GOOD)
    normal = list(a.normal)
    normal[4], normal[5] = normal[5], normal[4]
    reduce = list(a.reduce)
    reduce[0], reduce[1] = reduce[1], reduce[0]
    b = DartsArch(tuple(normal), tuple(reduce))
    assert b != a and space.key(b) != space.key(a)
    assert space.canonical_key(b) == space.canonical_key(a)
    # moving an op to the other input changes the cell
    normal[4], normal[5] = ("skip_connect", 1), ("sep_conv_3x3", 0)
    assert space.canonical_key(DartsArch(tuple(normal), a.reduce)) != space.canonical_key(a)


def test_sample_mutate_neighbours(space):
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(30)]
    assert len({space.canonical_key(a) for a in archs}) == 30
    for a in archs[:10]:
        assert space.from_string(space.to_string(a)) == a
        nbrs = space.neighbours(a)
        keys = [space.canonical_key(b) for b in nbrs]
        assert len(nbrs) == 120 and len(set(keys)) == 120 and space.canonical_key(a) not in keys
        for _ in range(5):
            m = space.mutate(a, rng)
            assert space.canonical_key(m) in keys
            diff = sum(x != y for x, y in zip(a.normal + a.reduce, m.normal + m.reduce))
            assert diff == 1


@pytest.mark.parametrize("text, needle", [
    ("Genotype(normal=[('sep_conv_3x3', 0)]", "Genotype(normal=[('sep_conv_3x3', 0)]"),  # syntax
    ("genotype(normal=[])", "genotype(normal=[])"),
    (GOOD.replace("'dil_conv_3x3', 2", "'conv_7x1_1x7', 2"), "conv_7x1_1x7"),             # unknown op
    (GOOD.replace("'dil_conv_3x3', 2", "'none', 2"), "'none'"),                            # none is supernet-only
    (GOOD.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 6)"), "input 6"),               # no such node
    (GOOD.replace("('sep_conv_3x3', 1), ('sep_conv_3x3', 0)", "('sep_conv_3x3', 0), ('sep_conv_3x3', 0)", 1),
     "twice"),                                                                              # duplicate input
    (GOOD.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[2, 3]"), "reduce_concat"),
    (GOOD.replace(", reduce_concat=[2, 3, 4, 5]", ""), "missing reduce_concat"),
    (GOOD.replace("normal=[", "normal=[('skip_connect', 0), "), "8 (op, input) pairs"),
    (GOOD.replace("normal=", "normal=__import__('os'), x="), "not a literal"),
])
def test_bad_genotypes_raise(space, text, needle):
    with pytest.raises(NasrankError) as exc:
        space.from_string(text)
    assert needle in str(exc.value)
    assert text[:30] in str(exc.value)


def test_bad_row_and_types(space):
    with pytest.raises(NasrankError, match="genotype"):
        space.arch_from_row({"matrix": "x"})
    with pytest.raises(NasrankError):
        space.from_string(None)  # type: ignore[arg-type]


def test_forward_and_fear_tail(space):
    torch.manual_seed(0)
    a = space.from_string(GOOD)
    model = space.build(a, num_classes=5)
    assert len(model.cells) == 8 and [c.reduction for c in model.cells].count(True) == 2
    assert model.cells[2].reduction and model.cells[5].reduction
    y = model(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 5)
    tail = fear_tail(space, model)
    assert tail == [model.cells[6], model.cells[7], model.classifier]
    assert all(isinstance(c, DartsCell) for c in tail[:-1])
    # every op, strided and not, in a small network with the auxiliary head
    b = DartsArch(tuple((OPS[i % 7], j) for i, j in zip(range(8), (0, 1, 0, 2, 1, 3, 2, 4))),
                  tuple((OPS[(i + 3) % 7], j) for i, j in zip(range(8), (1, 0, 2, 0, 3, 1, 4, 0))))
    model = space.build(b, channels=8, layers=5, auxiliary=True).train()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10) and model.aux_logits.shape == (2, 10)
    model.eval()
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10) and model.aux_logits is None


def test_darts_v2_parameter_count_matches_the_paper_network(space):
    """DARTS_V2 at the paper's scale: the DARTS code reports 3.349342 M (auxiliary head excluded)."""
    with torch.device("meta"):
        model = space.build(space.from_string(GOOD), channels=36, layers=20, auxiliary=True)
    n = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("auxiliary_head"))
    assert n == 3_349_342
