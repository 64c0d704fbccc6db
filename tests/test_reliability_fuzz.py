"""Issue 15, done-when: random bytes and mutated lines fed to every file reader end in success or
one NasrankError (the CLI's one `nasrank CMD: error:` line), never another exception, and never
more than 1 GB of memory.

Readers run in-process (fast); a few inputs also go through ``nasrank.cli.main`` to check the
single error line. Seeds are fixed, so a failure reproduces; each reader has a time budget.
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
    from nasrank.history import HistoryRecord

    return "".join(HistoryRecord(i, f"a{i}", float(i), 1.0, 1.0, i + 1.0, 90.0, "r", {"k": i}).to_json() + "\n"
                   for i in range(n)).encode()


def test_fuzz_histories(tmp_path):
    from nasrank.history import History

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
    from nasrank.commands.search import RUN_OPTIONS
    from nasrank.trust import code_references, read_run_config

    cfg = {"space": "nb201", "space_cfg": ["channels=8"], "searcher": "evolution", "searcher_cfg": None,
           "ranker": "tabular", "ranker_cfg": ["epochs=12"], "benchmark": "csv:x.csv", "dataset": "cifar10",
           "data_dir": None, "device": "auto", "seed": 5, "budget_queries": 10, "budget_seconds": None,
           "executor": "serial", "workers": 2, "ray_address": None}
    w = _writer(tmp_path / "config.json")
    sample = json.dumps(cfg, indent=2).encode()
    assert _fuzz("config", sample, lambda d: code_references(read_run_config(w(d), RUN_OPTIONS))) > 20


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


# -- issue 24: hostile run folders and inputs, through the command line ----------------------------
# Black-box (the CLI and the files a run writes), so these hold across the configuration redesign.
def _run_config_file(run: Path) -> Path:
    """The saved options a resume reads: config.json, else config.yaml."""
    return run / "config.json" if (run / "config.json").is_file() else run / "config.yaml"


def _set_options(run: Path, **changes) -> Path:
    import yaml

    cfg_path = _run_config_file(run)
    if cfg_path.suffix == ".json":
        cfg = json.loads(cfg_path.read_text())
        cfg.update(changes)
        cfg_path.write_text(json.dumps(cfg))
    else:
        cfg = yaml.safe_load(cfg_path.read_text()) or {}
        cfg.update(changes)
        cfg_path.write_text(yaml.safe_dump(cfg))
    return cfg_path


def _encodings(path: str, rng: random.Random) -> list[str]:
    """``path`` written every way the option parser decodes back to it (quoted, escaped, nested)."""
    q = json.dumps(path)
    escaped = '"' + "".join(f"\\u{ord(c):04x}" if rng.random() < 0.5 else c for c in path) + '"'
    return [path, q, escaped, f"[{q}]", f'{{"k": {q}}}', f"[{path}]", f"{{k: {path}}}", f" {path} ",
            f'[[{q}]]', f'{{"a": [1, {{"b": {escaped}}}]}}', f"[1, {path}]"]


def test_fuzz_quoted_import_paths_in_a_foreign_run(tmp_path, nb201_csv, monkeypatch):
    """Every encoding of an import path, in every option of a run another user made, is stopped
    before its module is imported (the planted module would create MARKER)."""
    from nasrank.cli import main

    monkeypatch.chdir(tmp_path)
    run = tmp_path / "shared"
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--quiet", "--no-store",
                     "--output", str(run)]) == 0
    marker = tmp_path / "MARKER"
    (tmp_path / "fuzzpayload24.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                               "from nasrank.rankers.base import Ranker\nclass Evil(Ranker):\n"
                                               "    pass\n")
    cfg_file = _run_config_file(run)
    pristine = cfg_file.read_bytes()
    rng = random.Random(f"{SEED}-import-paths")
    n = 0
    for enc in _encodings("fuzzpayload24:Evil", rng):
        for key, value in [("ranker_cfg", [f"first=tabular,second={enc}"]), ("ranker_cfg", [f"second={enc}"]),
                           ("space_cfg", [f"weights={enc}"]), ("searcher_cfg", [f"x=1,y={enc}"]),
                           ("ranker", enc)]:
            changes = {key: value, "ranker": "cascade"} if key == "ranker_cfg" else {key: value}
            cfg_file.write_bytes(pristine)  # each case on its own, from the run as it was made
            cfg = _set_options(run, **changes)
            os.chown(cfg, 12345, 12345)
            err = io.StringIO()
            with redirect_stdout(io.StringIO()), redirect_stderr(err):
                rc = main(["search", "--resume", str(run), "--budget-queries", "3", "--quiet", "--no-store"])
            assert not marker.exists(), f"{key}={value!r} imported the planted module"
            assert rc == 2 and err.getvalue().count("\n") == 1, (key, value, rc, err.getvalue()[-500:])
            n += 1
    assert n >= 50


def _victim(tmp_path: Path, name: str) -> Path:
    v = tmp_path / "victims" / name
    v.parent.mkdir(exist_ok=True)
    v.write_text(f"victim {name}\n")
    return v


def _relink_all(folder: Path, tmp_path: Path, skip=()) -> dict[Path, bytes]:
    """Replace every file in ``folder`` (recursively) by a link to a victim outside; return the victims."""
    victims = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink() and p.name not in skip:
            v = _victim(tmp_path, "-".join(p.relative_to(folder).parts))
            p.unlink()
            p.symlink_to(v)
            victims[v] = v.read_bytes()
    for extra in ("history.jsonl.bad", ".nasrank.lock"):  # files a resume may create
        for d in {p.parent for p in folder.rglob("history.jsonl")} | {folder}:
            if not (d / extra).exists() and not (d / extra).is_symlink():
                v = _victim(tmp_path, f"{d.name}-{extra}")
                (d / extra).symlink_to(v)
                victims[v] = v.read_bytes()
    return victims


@pytest.mark.parametrize("command", ["search", "evaluate", "compare"])
def test_fuzz_symlinks_for_every_file_a_run_writes(tmp_path, nb201_csv, command):
    """Each file a run writes, replaced by a link to a file elsewhere: a rerun or resume never
    writes through the link (atomic rewrites replace the link itself; appends refuse it)."""
    from nasrank.cli import main

    out = tmp_path / "out"
    bench = f"csv:{nb201_csv}"
    first = {"search": ["search", "--benchmark", bench, "--budget-queries", "3", "--plot", "--output", str(out)],
             "evaluate": ["evaluate", "--benchmark", bench, "--rankers", "params", "--sample", "4",
                          "--output", str(out)],
             "compare": ["compare", "--benchmark", bench, "--rankers", "params,tabular", "--candidates", "3",
                         "--output", str(out)]}[command]
    again = {"search": ["search", "--resume", str(out), "--budget-queries", "5"],
             "evaluate": first, "compare": [*first[:-2], "--candidates", "5", "--resume", "--output", str(out)]}[command]
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert main([*first, "--quiet", "--no-store"]) == 0
    victims = _relink_all(out, tmp_path)
    assert len(victims) >= 4
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = main([*again, "--quiet", "--no-store"])
    assert rc in (0, 2) and "Traceback" not in err.getvalue()
    changed = [v.name for v, data in victims.items() if v.read_bytes() != data]
    assert not changed, f"{command} wrote through links to {changed}: {err.getvalue()[-300:]}"


def _cli_child(args: list[str], cwd: Path, timeout: float = 90):
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    cap = 6 * 1024 ** 3
    env = dict(os.environ, PYTHONPATH=str(repo), NASRANK_STORE="none", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "nasrank.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))


def _device_copy(path: Path, major: int, minor: int) -> Path:
    """A character device node like /dev/null (1, 3), /dev/zero (1, 5), /dev/full (1, 7) at ``path``
    (root only; else a FIFO): outputs are aimed at these copies, never at the real /dev."""
    import stat

    if os.geteuid() == 0:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    else:
        os.mkfifo(path)
    return path


def _main_one_error(args: list[str]) -> str:
    """``nasrank ARGS`` in this process: it must fail with one error line; return that line."""
    from nasrank.cli import main

    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = main(args)
    text = err.getvalue()
    assert rc == 2 and text.count("\n") == 1 and "Traceback" not in text, (args, rc, text[-500:])
    return text


def test_fuzz_device_paths_as_inputs_and_outputs(tmp_path, nb201_csv):
    """Devices and FIFOs given where a file is read or written: one error line, the device untouched,
    and nothing blocks or eats memory (every input is refused before it is opened)."""
    import stat

    from nasrank.cli import main

    store = tmp_path / "store.db"
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--quiet",
                     "--store", str(store)]) == 0
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    bench = f"csv:{nb201_csv}"
    ev = ["evaluate", "--rankers", "params", "--no-plots", "--quiet", "--no-store", "--output", str(tmp_path / "ev")]
    inputs = [[*ev, "--benchmark", bench, "--archs", d] for d in ("/dev/zero", "/dev/null", str(fifo))]
    inputs += [[*ev, "--sample", "3", "--benchmark", f"csv:{d}"] for d in ("/dev/zero", "/dev/urandom", str(fifo))]
    inputs += [["search", "--config", d, "--budget-queries", "2"] for d in ("/dev/zero", "/dev/urandom", str(fifo))]
    inputs += [["analyze", "--scores", d, "--output", str(tmp_path / "an")] for d in ("/dev/zero", str(fifo))]
    for args in inputs:
        _main_one_error(args)
    for i, (major, minor) in enumerate([(1, 3), (1, 5), (1, 7)]):
        dev = _device_copy(tmp_path / f"dev{i}", major, minor)
        for args in (["store", "export", "--store", str(store), "--output", str(dev)],
                     ["search", "--benchmark", bench, "--budget-queries", "2", "--quiet", "--no-store",
                      "--output", str(dev)],
                     [*ev[:-1], str(dev), "--benchmark", bench, "--sample", "3"]):
            before = os.lstat(dev)
            _main_one_error(args)
            after = os.lstat(dev)
            assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino, args


def _alias_bombs() -> list[str]:
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 8):
        prev = "a" if i == 1 else f"l{i - 1}"
        levels.append(f"l{i}: &l{i} [" + ",".join([f"*{prev}"] * 9) + "]")
    nest = "\n".join(levels)
    return [nest + "\nseed: 1\n", nest.replace("l7: &l7", "ranker-cfg: {x: ") + "}\n",
            "base: &b {seed: 1}\n<<: *b\n", "seed: &s 1\nbudget-queries: *s\n",
            "space-cfg: &c [channels=8]\nranker-cfg: *c\n"]


#: counts that would allocate with their value on a broken build: run in a child with capped memory
GROWING_COUNTS = [
    ["compare", "--rankers", "params,tabular", "--candidates", "3", "--seeds", "0-1000000000"],
    ["compare", "--rankers", "params,tabular", "--candidates", "3", "--seeds", "0-4999,5000-9999,10000-20000"],
    ["compare", "--rankers", "params,tabular", "--candidates", "3", "--seeds", "0," * 20_000 + "1"],
    ["compare", "--rankers", "params,tabular", "--candidates", "3", "--seeds", "0", "--frontier", "params,tabular",
     "--n-boot", str(10 ** 12)],
    ["evaluate", "--rankers", "params", "--sample", "3", "--repeats", str(10 ** 12)],
]
#: counts that are ceilings or values: refused in this process
OTHER_COUNTS = [
    ["compare", "--rankers", "params,tabular", "--candidates", "3", "--seeds", "9" * 40],
    ["compare", "--rankers", "params,tabular", "--candidates", str(10 ** 30)],
    ["search", "--budget-queries", str(10 ** 30)],
    ["search", "--budget-queries", "-1"],
    ["search", "--budget-queries", "5", "--seed", str(10 ** 30)],
    ["search", "--budget-queries", "5", "--workers", str(10 ** 9), "--executor", "ray"],
    ["evaluate", "--rankers", "params", "--sample", str(10 ** 30)],
]


_CHILD = """
import contextlib, io, json, sys
from nasrank.cli import main
for args in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(args)
    print(json.dumps([rc, err.getvalue()[-500:]]), flush=True)
"""


def test_fuzz_bounded_counts_that_would_grow(tmp_path, nb201_csv):
    """A count typed by the user is bounded before anything grows with it (one child, capped at 6 GB)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    cap = 6 * 1024 ** 3
    cases = [[*a, "--benchmark", f"csv:{nb201_csv}", "--output", str(tmp_path / "o"), "--quiet"]
             for a in GROWING_COUNTS]
    r = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(cases)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(repo), NASRANK_STORE="none", OMP_NUM_THREADS="1"),
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))
    results = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("[")]
    assert len(results) == len(cases), r.stderr[-1000:]
    for args, (rc, err) in zip(cases, results):
        assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, (args[:8], rc, err)


def test_fuzz_bounded_counts(tmp_path, nb201_csv):
    for args in OTHER_COUNTS:
        _main_one_error([*args, "--benchmark", f"csv:{nb201_csv}", "--output", str(tmp_path / "o"), "--quiet",
                         "--no-store"])


def test_fuzz_yaml_aliases_in_config(tmp_path):
    for i, text in enumerate(_alias_bombs()):
        (tmp_path / f"c{i}.yaml").write_text(text)
        err = _main_one_error(["search", "--config", str(tmp_path / f"c{i}.yaml"), "--budget-queries", "2"])
        assert "alias" in err, err
