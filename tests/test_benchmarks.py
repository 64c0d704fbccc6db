import numpy as np
import pytest
import scipy.stats as st

from nasrank.benchmarks import load_benchmark
from nasrank.errors import MissingFileError, NasrankError
from nasrank.spaces.nb201 import Nb201Space


def test_csv_table_facts(nb201_bench):
    archs = nb201_bench.archs()
    accs = np.array([nb201_bench.true_accuracy(a) for a in archs])
    assert len(archs) == 15625
    best, acc = nb201_bench.best()
    assert acc == pytest.approx(94.3733)
    assert nb201_bench.space.to_index(best) == 6111
    assert accs.mean() == pytest.approx(87.06, abs=0.01)
    assert nb201_bench.true_rank(best) == 1


def test_nats_fixture(nats_dir, nb201_bench):
    space = Nb201Space()
    bench = load_benchmark(f"nats:{nats_dir}", space)
    assert len(bench) == 3
    assert set(bench.datasets) >= {"cifar10", "cifar100", "ImageNet16-120"}
    a0 = space.from_index(0)
    assert bench.true_accuracy(a0) == pytest.approx(nb201_bench.true_accuracy(a0), abs=0.01)
    assert bench.training_seconds(a0, "cifar10", 200) == pytest.approx(2888.437, abs=0.01)
    assert bench.record(space.from_index(11)).extra["params_m"] == pytest.approx(0.802426)
    assert bench.true_accuracy(space.from_index(1)) is None  # not in the fixture
    assert "nats:" in bench.source


def test_embedded_matches_official_ranking(nb201_bench):
    space = Nb201Space()
    emb = load_benchmark("embedded", space)
    assert len(emb) == 15625
    assert "not the official" in emb.source
    archs = nb201_bench.archs()
    rho = st.spearmanr([emb.true_accuracy(a) for a in archs], [nb201_bench.true_accuracy(a) for a in archs])[0]
    assert rho == pytest.approx(0.991, abs=0.002)


def test_embedded_reads_without_importing_the_package():
    import subprocess
    import sys

    code = ("import sys; from nasrank.benchmarks import load_benchmark; from nasrank.spaces.nb201 import Nb201Space;"
            "b = load_benchmark('embedded', Nb201Space()); assert len(b) == 15625;"
            "assert 'analognasbench' not in sys.modules and 'pkg_resources' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("spec,err,msg", [
    ("csv:/no/such.csv", MissingFileError, "/no/such.csv"),
    ("nats:/no/such/dir", MissingFileError, "/no/such/dir"),
    ("nb201:/no/such.pth", MissingFileError, "/no/such.pth"),
    ("bogus:x", NasrankError, "bogus"),
    ("csv:", NasrankError, "malformed"),
])
def test_bad_specs(spec, err, msg):
    with pytest.raises(err, match=msg):
        load_benchmark(spec, Nb201Space())


def test_malformed_csv(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("index,arch,test_acc\n0,|nor_conv_3x3~0|+|bad,90\n")
    with pytest.raises(NasrankError, match="line 2"):
        load_benchmark(f"csv:{p}", Nb201Space())
    p.write_text("index,arch\n0,x\n")
    with pytest.raises(NasrankError, match="accuracy column"):
        load_benchmark(f"csv:{p}", Nb201Space())


def test_isomorphic_lookup_falls_back_to_class_mean(tmp_path):
    from nasrank.spaces.nb201 import Nb201Arch

    a = Nb201Arch(("skip_connect", "nor_conv_3x3", "none", "none", "none", "nor_conv_1x1"))
    b = Nb201Arch(("skip_connect", "none", "nor_conv_3x3", "none", "none", "nor_conv_1x1"))  # isomorphic to a
    c = Nb201Arch(("skip_connect", "none", "nor_conv_1x1", "none", "none", "nor_conv_1x1"))
    p = tmp_path / "t.csv"
    p.write_text(f"index,arch,test_acc\n0,{a},90.0\n1,{c},80.0\n")
    bench = load_benchmark(f"csv:{p}", Nb201Space())
    assert bench.true_accuracy(b) == 90.0
    assert bench.true_accuracy(Nb201Arch(("none",) * 6)) is None
