"""Issue 24, done-when: the fuzz test also feeds hostile run folders and inputs, black-box through the
command line: quoted and JSON-encoded import paths in a foreign run's options, a symbolic link for
every file a run writes, device paths as inputs and outputs, and bounded-count abuse (``--seeds``,
``--budget-queries``, ``--repeats``, ``--n-boot``, ``--workers``, YAML aliases). Seeds are fixed
(``NASRANK_FUZZ_SEED``), so a failure reproduces.
"""
from __future__ import annotations

import io
import json
import os
import random
import resource
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

SEED = int(os.environ.get("NASRANK_FUZZ_SEED", "15"))


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
