"""Issue 15, done-when: random bytes and mutated lines fed to every file reader end in success or
one NasrankError (the CLI's one `nasrank CMD: error:` line), never another exception, and never
more than 1 GB of memory.

Readers run in-process (fast); a few inputs also go through ``nasrank.cli.main`` to check the
single error line. Seeds are fixed, so a failure reproduces; each reader has a time budget.
The hostile run folders and inputs of issue 24 (quoted import paths, symlinks, devices, bounded
counts, YAML aliases) are in ``test_reliability_fuzz_hostile.py`` (this file would pass 400 lines).
"""
from __future__ import annotations

import io
import json
import os
import random
import resource
import shutil
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Callable

import pytest

from nasrank.errors import NasrankError

SEED = int(os.environ.get("NASRANK_FUZZ_SEED", "15"))  # another seed / more time explore further
PER_READER_SECONDS = float(os.environ.get("NASRANK_FUZZ_SECONDS", "3"))
MAX_RSS_GROWTH_KB = 1_000_000  # 1 GB


# -- mutations ----------------------------------------------------------------------------
NASTY = ["nan", "NaN", "inf", "-inf", "1e999", "-1", "0", "", "null", "[]", "{}", '"x"', "true", "9" * 30,
         "\x00", "\udcff", "é", "\"", ",", "\n", "[" * 50, "Genotype(", "range(2, 99999999999)", ":", "|"]


JSON_VALUES = ["[1, 2]", '{"a": 1}', '"s"', "-5", "1.5", "null"]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    if kind == 0 or not data:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    if kind == 1:  # truncate
        return data[: rng.randrange(len(data))]
    if kind == 2:  # flip bytes
        b = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if kind == 3:  # delete or duplicate a line
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines.insert(i, lines[i])
    elif kind == 4:  # a field replaced by a nasty value
        sep = b"," if b"," in lines[i] else b" "
        parts = lines[i].split(sep)
        j = rng.randrange(len(parts))
        parts[j] = rng.choice(NASTY).encode("utf-8", "surrogateescape")
        lines[i] = sep.join(parts)
    elif kind == 5:  # a JSON value replaced
        text = lines[i].decode("utf-8", "replace")
        for key in ("score", "step", "seed", "arch", "seconds", "true_acc", "info", "space", "ranker", "matrix",
                    "ops", "rankers", "n_evaluations", "best_true_acc", "budget_queries", "space_cfg"):
            if f'"{key}"' in text and rng.random() < 0.5:
                value = rng.choice(NASTY + JSON_VALUES)
                text = text.replace(f'"{key}":', f'"{key}": {value}, "_x":', 1)
        lines[i] = text.encode("utf-8", "surrogateescape")
    elif kind == 6:  # a very long or deeply nested line
        lines[i] = rng.choice([b"x" * 200_000, b"[" * 5000, b'{"a":' * 3000, b"9" * 5000])
    else:  # random unicode / invalid UTF-8 inserted
        lines[i] = lines[i] + rng.choice([b"\xff\xfe", b"\xc3", "\u2028".encode(), b"\r", b"\x00"])
    return b"\n".join(lines)


def _fuzz(name: str, sample: bytes, read: Callable[[bytes], object], rounds: int = 100_000) -> int:
    """Feed ``rounds`` mutations of ``sample`` to ``read``; return how many ran."""
    rng = random.Random(f"{SEED}-{name}")
    t_end = time.perf_counter() + PER_READER_SECONDS
    n = 0
    for n in range(1, rounds + 1):
        data = _mutate(sample, rng)
        try:
            with redirect_stderr(io.StringIO()), redirect_stdout(io.StringIO()):
                read(data)
        except NasrankError:
            pass
        except Exception as exc:  # noqa: BLE001 - the point of the test
            raise AssertionError(f"{name}: {type(exc).__name__}: {exc!s:.300} on input {data[:300]!r}") from exc
        if time.perf_counter() > t_end:
            break
    return n


@pytest.fixture(scope="module")
def rss0():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.fixture(autouse=True)
def _memory_bound(rss0):
    yield
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < MAX_RSS_GROWTH_KB


def _writer(path: Path) -> Callable[[bytes], Path]:
    def write(data: bytes) -> Path:
        path.write_bytes(data)
        return path
    return write


# -- readers ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nb201_small(tmp_path_factory, nb201_csv):
    from nasrank.benchmarks.csv_table import load_csv_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    p = tmp_path_factory.mktemp("t") / "nb201.csv"
    p.write_text("\n".join(nb201_csv.read_text().splitlines()[:40]) + "\n")
    return load_csv_benchmark(p, Nb201Space()), p


def test_fuzz_arch_lists(tmp_path, nb201_small):
    from nasrank.experiments.evaluate import read_archs_file

    bench, _ = nb201_small
    sample = "\n".join(bench.space.to_string(a) for a in bench.archs()[:10]).encode() + b"\n# c\n"
    w = _writer(tmp_path / "archs.txt")
    assert _fuzz("archs", sample, lambda d: read_archs_file(w(d), bench.space, bench, "cifar10")) > 20


@pytest.mark.parametrize("space,source,n", [("nb201", ("nb201", "nb201_cifar10.csv"), 30),
                                            ("nb101", ("nb101", "nb101_cifar10_500.csv"), 20),
                                            ("darts", ("nb301", "nb301_cifar10_725.csv"), 10)])
def test_fuzz_csv_tables(tmp_path, space, source, n):
    import nasrank.spaces  # noqa: F401
    from conftest import shared
    from nasrank.benchmarks.csv_table import load_csv_benchmark
    from nasrank.registry import SPACES

    sample = "\n".join(shared(*source).read_text().splitlines()[: n + 1]).encode() + b"\n"
    w = _writer(tmp_path / "t.csv")
    assert _fuzz(f"csv-{space}", sample, lambda d: load_csv_benchmark(w(d), SPACES.create(space))) > 20


def _history_sample(n: int = 12) -> bytes:
    from nasrank.runs.history import HistoryRecord

    return "".join(HistoryRecord(i, f"a{i}", float(i), 1.0, 1.0, i + 1.0, 90.0, "r", {"k": i}).to_json() + "\n"
                   for i in range(n)).encode()


def test_fuzz_histories(tmp_path):
    from nasrank.runs.history import History

    folder = tmp_path / "run"
    folder.mkdir()

    def read(data: bytes) -> None:
        (folder / "history.jsonl").write_bytes(data)
        History.load(folder)
        h = History(folder, resume=True)
        h.close()
        History.load(folder)  # the rewritten file reads back

    assert _fuzz("history", _history_sample(), read) > 20


def test_fuzz_run_configs(tmp_path):
    """A run folder's config.yaml, and the legacy config.json that --resume still reads."""
    import yaml

    from nasrank.runs.trust import code_references, read_run_config

    cfg = {"space": "nb201", "space_cfg": ["channels=8"], "searcher": "evolution", "searcher_cfg": None,
           "ranker": "tabular", "ranker_cfg": ["epochs=12"], "benchmark": "csv:x.csv", "dataset": "cifar10",
           "data_dir": None, "device": "auto", "seed": 5, "budget_queries": 10, "budget_seconds": None,
           "executor": "serial", "workers": 2, "ray_address": None}
    w = _writer(tmp_path / "config.json")
    sample = json.dumps(cfg, indent=2).encode()
    assert _fuzz("config", sample, lambda d: code_references(read_run_config(w(d)))) > 20
    w = _writer(tmp_path / "config.yaml")
    sample = yaml.safe_dump({k.replace("_", "-"): v for k, v in cfg.items() if v is not None}).encode()
    assert _fuzz("config.yaml", sample, lambda d: code_references(read_run_config(w(d)))) > 20


def test_fuzz_scores(tmp_path, nb201_small):
    from nasrank.experiments.analyze import read_scores

    bench, _ = nb201_small
    rows = ["arch,ranker,repeat,score,seconds,device_seconds,true_acc"]
    for i, a in enumerate(bench.archs()[:12]):
        rows.append(f"{bench.space.to_string(a)},params,0,{i * 1.5},0.1,0.1,{bench.true_accuracy(a)}")
    w = _writer(tmp_path / "scores.csv")
    assert _fuzz("scores", ("\n".join(rows) + "\n").encode(), lambda d: read_scores(w(d), bench.space)) > 20


def test_fuzz_nb101_and_darts_strings():
    from nasrank.spaces.darts import parse_genotype
    from nasrank.spaces.nb101 import Nb101Space

    nb101 = Nb101Space()
    sample = json.dumps({"matrix": [[0, 1, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0],
                                    [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1],
                                    [0, 0, 0, 0, 0, 0, 0]],
                         "ops": ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "conv3x3-bn-relu",
                                 "conv3x3-bn-relu", "output"]}).encode()
    assert _fuzz("nb101", sample, lambda d: nb101.from_string(d.decode("utf-8", "replace"))) > 20
    geno = (b"Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1),"
            b" ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 2)],\n"
            b"normal_concat=[2, 3, 4, 5],\nreduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2),"
            b" ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
            b"('max_pool_3x3', 1)],\nreduce_concat=range(2, 6))")
    assert _fuzz("darts", geno, lambda d: parse_genotype(d.decode("utf-8", "replace"))) > 20


def test_fuzz_nds_json(tmp_path):
    from nasrank.benchmarks.nds import load_nds_table

    rec = {"net": {"block_type": "res_basic_block", "ds": [1, 1, 2, 4], "ws": [16, 16, 32, 64],
                   "ss": [1, 1, 2, 2], "bot_muls": [0, 0, 0, 0], "num_gs": [1, 1, 1, 1]},
           "min_test_top1": 7.5, "params": 1.0, "flops": 2.0}
    sample = json.dumps([rec, {**rec, "min_test_top1": 9.0}], indent=1).encode()
    w = _writer(tmp_path / "ResNet.json")
    assert _fuzz("nds", sample, lambda d: load_nds_table(w(d), "nds_resnet")) > 20


def test_fuzz_report_inputs(tmp_path, nb201_csv):
    """`nasrank report` over a search folder whose summary.json / history.jsonl are mutated."""
    from nasrank.cli import main

    run = tmp_path / "run"
    with redirect_stdout(io.StringIO()):
        assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "6", "--quiet", "--no-store",
                     "--output", str(run)]) == 0
    summary = (run / "summary.json").read_bytes()
    history = (run / "history.jsonl").read_bytes()

    def read(which: str, data: bytes) -> None:
        (run / "summary.json").write_bytes(data if which == "summary" else summary)
        (run / "history.jsonl").write_bytes(data if which == "history" else history)
        rc = main(["report", str(run), "--output", str(tmp_path / "rep"), "--quiet"])
        assert rc in (0, 2)

    assert _fuzz("report-summary", summary, lambda d: read("summary", d), rounds=150) >= 3
    assert _fuzz("report-history", history, lambda d: read("history", d), rounds=150) >= 3


def test_fuzz_nats_folders(tmp_path, nats_dir):
    """Odd file names, out-of-range indices, truncated or random meta and records."""
    from nasrank.benchmarks.nats import load_nats_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    rng = random.Random(SEED)
    names = ["000000.pickle.pbz2", "000011.pickle.pbz2", "000284.pickle.pbz2"]
    odd = ["abc.pickle.pbz2", "99999999.pickle.pbz2", "0x1.pickle.pbz2", "-1.pickle.pbz2", "7.pickle.pbz2",
           "1.2.pickle.pbz2", "000000.pickle.pbz2.bak"]
    t_end = time.perf_counter() + 3 * PER_READER_SECONDS
    rounds = 0
    while time.perf_counter() < t_end and rounds < 40:
        rounds += 1
        d = tmp_path / f"nats{rounds}"
        shutil.copytree(nats_dir, d)
        for p in d.iterdir():
            p.chmod(0o644)
        what = rng.randrange(4)
        if what == 0:
            shutil.copy(d / rng.choice(names), d / rng.choice(odd))
        elif what == 1:
            meta = (d / "meta.pickle.pbz2").read_bytes()
            (d / "meta.pickle.pbz2").write_bytes(_mutate(meta, rng))
        elif what == 2:
            p = d / rng.choice(names)
            p.write_bytes(_mutate(p.read_bytes(), rng))
        else:
            (d / rng.choice(names)).rename(d / rng.choice(odd))
        try:
            with redirect_stderr(io.StringIO()), redirect_stdout(io.StringIO()):
                load_nats_benchmark(d, Nb201Space())
        except NasrankError:
            pass
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"nats round {rounds} (mutation {what}): {type(exc).__name__}: {exc!s:.300}") from exc
        shutil.rmtree(d)
    assert rounds >= 5

