import csv

import numpy as np
import pytest
import torch

from nasrank.errors import NasrankError
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space, live_edges
from nasrank.utils.complexity import count_params
from nasrank.rankers.fear_tail import fear_tail


@pytest.fixture(scope="module")
def rows(nb201_csv):
    with open(nb201_csv) as fh:
        return list(csv.DictReader(fh))


def test_canonical_classes_count():
    space = Nb201Space()
    archs = space.all_archs()
    assert len(archs) == 15625 == len(set(archs))
    assert len({space.canonical_key(a) for a in archs}) == 6466


def test_isomorphic_cells_share_a_key():
    space = Nb201Space()
    # a skip edge makes node 1 an alias of the input: conv on 2<-0 equals conv on 2<-1
    a = Nb201Arch(("skip_connect", "nor_conv_3x3", "none", "none", "none", "nor_conv_1x1"))
    b = Nb201Arch(("skip_connect", "none", "nor_conv_3x3", "none", "none", "nor_conv_1x1"))
    assert space.canonical_key(a) == space.canonical_key(b)
    c = Nb201Arch(("skip_connect", "none", "nor_conv_1x1", "none", "none", "nor_conv_1x1"))
    assert space.canonical_key(a) != space.canonical_key(c)


def test_string_and_index_round_trip_all_cells(rows, nb201_bench):
    space = nb201_bench.space
    for r in rows:
        a = space.from_string(r["arch"])
        assert str(a) == r["arch"]
        assert space.to_index(a) == int(r["index"])
        assert space.from_index(int(r["index"])) == a
        assert Nb201Arch.from_naslib(a.to_naslib()) == a


def test_param_formula_on_400_cells(rows):
    space = Nb201Space()
    rng = np.random.default_rng(0)
    for i in rng.choice(len(rows), 400, replace=False):
        a = space.from_string(rows[i]["arch"])
        with torch.device("meta"):
            n = count_params(space.build(a))
        assert n / 1e6 == pytest.approx(space.official_params_m(a), abs=1e-9)
        assert n / 1e6 == pytest.approx(float(rows[i]["params_m"]), abs=1e-9)


def test_forward_shape_and_tail():
    space = Nb201Space(channels=8, cells_per_stage=2)
    a = space.sample(np.random.default_rng(1))
    net = space.build(a, num_classes=7)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    assert len(fear_tail(space, net)) == 2 + 2


def test_mutate_and_neighbours():
    space = Nb201Space()
    rng = np.random.default_rng(0)
    a = space.sample(rng)
    nb = space.neighbours(a)
    assert len(nb) == 24 and len(set(nb)) == 24 and a not in nb
    assert all(sum(x != y for x, y in zip(a.ops, n.ops)) == 1 for n in nb)
    for _ in range(50):
        m = space.mutate(a, rng)
        assert m in nb


def test_live_edges():
    a = Nb201Arch(("nor_conv_3x3", "none", "none", "none", "none", "skip_connect"))
    assert live_edges(a) == [False] * 6  # node 3 only reads node 2, which reads nothing
    b = Nb201Arch(("nor_conv_3x3", "none", "avg_pool_3x3", "none", "none", "skip_connect"))
    assert live_edges(b) == [True, False, True, False, False, True]


@pytest.mark.parametrize("bad", [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|",          # two nodes
    "|conv_7x7~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "nor_conv_3x3",
    "",
])
def test_bad_strings_name_the_input(bad):
    with pytest.raises(NasrankError) as exc:
        Nb201Space().from_string(bad)
    assert repr(bad)[1:-1][:20] in str(exc.value) or "conv_7x7" in str(exc.value)


def test_bad_index_and_tuple(nb201_bench):
    space = nb201_bench.space
    with pytest.raises(NasrankError, match="15625"):
        space.from_index(15625)
    with pytest.raises(NasrankError, match="out of range"):
        space.from_index(-1)
    with pytest.raises(NasrankError, match="NASLib"):
        Nb201Arch.from_naslib((0, 1, 2, 3, 4, 5))
    with pytest.raises(NasrankError, match="index order is unknown"):
        Nb201Space().from_index(3)
