"""Issue 33 item 8: the tabular path imports neither torch, Lightning nor scipy, and the embedded
table loads from arrays (the same numbers, the same fingerprint as the package's pickle)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "lightning", "scipy")
SEARCH = ["search", "--space", "nb201", "--searcher", "evolution", "--ranker", "tabular", "--benchmark", "embedded",
          "--budget-queries", "300", "--seed", "0"]


def _run_cli(argv: list[str], store: Path | str = "none") -> dict:
    """Run ``nasrank ARGV`` in a fresh interpreter; return its exit status and the heavy modules it loaded."""
    code = ("import json, sys; from nasrank.cli import main; rc = main(sys.argv[1:]); "
            f"print(json.dumps({{'rc': rc, 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))")
    env = {**os.environ, "PYTHONPATH": str(REPO), "NASRANK_STORE": str(store)}
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=REPO,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_tabular_search_on_the_embedded_table_imports_no_torch(tmp_path):
    res = _run_cli([*SEARCH, "--output", str(tmp_path / "run")], store=tmp_path / "store.sqlite")
    assert res == {"rc": 0, "heavy": []}
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_evaluations"] == 300 and summary["benchmark_size"] == 15625
    assert summary["best_true_acc"] == pytest.approx(94.0664)
    assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == 300  # every line is there


def test_tabular_evaluate_and_params_from_the_store_import_no_torch(tmp_path):
    store = tmp_path / "store.sqlite"
    evaluate = ["evaluate", "--space", "nb201", "--rankers", "params,tabular", "--benchmark", "embedded",
                "--sample", "30", "--no-plots", "--quiet"]
    first = _run_cli([*evaluate, "--output", str(tmp_path / "e1")], store=store)
    assert first["rc"] == 0 and "torch" in first["heavy"]  # params counted 30 networks
    again = _run_cli([*evaluate, "--output", str(tmp_path / "e2")], store=store)
    assert again == {"rc": 0, "heavy": []}  # served from the store: nothing is built
    a = json.loads((tmp_path / "e1" / "report.json").read_text())
    b = json.loads((tmp_path / "e2" / "report.json").read_text())
    for name in ("params", "tabular"):
        assert a["rankers"][name]["criteria"] == b["rankers"][name]["criteria"]
        assert (a["rankers"][name]["n_fresh"], b["rankers"][name]["n_cached"]) == (30, 30)


def test_embedded_columns_hold_the_packages_numbers_and_fingerprint():
    from nasrank.benchmarks.base import Benchmark, Record
    from nasrank.benchmarks.columns import column_fingerprint
    from nasrank.benchmarks.embedded import DATA_FILE, load_embedded_benchmark, read_table
    from nasrank.benchmarks.embedded_source import read_analog_table
    from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

    naslib, accuracy = read_analog_table()  # the pickle inside analog-nasbench, as nasrank read it before
    table, recorded = read_table()
    assert DATA_FILE.stat().st_size < 300_000
    assert np.array_equal(table["naslib"], naslib) and np.array_equal(table["accuracy"], accuracy)
    space = Nb201Space()
    rowwise = Benchmark(space, "rows")  # the former loader: one Record per row
    for key, acc in zip(naslib.tolist(), accuracy.tolist()):
        rowwise._add(Nb201Arch.from_naslib(key), "cifar10", Record(acc))
    bench = load_embedded_benchmark(space)
    assert recorded == rowwise.fingerprint() == column_fingerprint(bench) == bench.fingerprint()
    assert bench.archs() == rowwise.archs() and bench.best() == rowwise.best()
    rng = np.random.default_rng(0)
    for _ in range(50):
        arch = space.sample(rng)
        assert bench.true_accuracy(arch) == rowwise.true_accuracy(arch)
        assert bench.true_rank(arch) == rowwise.true_rank(arch)
    assert bench.metric_keys() == [] and bench.has_metric("cifar10", "test", 200)


def test_an_edited_table_gets_its_own_fingerprint(tmp_path):
    from nasrank.benchmarks.embedded import DATA_FILE, META_FILE, columns_benchmark, read_table
    from nasrank.spaces.nb201 import Nb201Space

    copy = tmp_path / DATA_FILE.name
    shutil.copy(DATA_FILE, copy)
    shutil.copy(META_FILE, tmp_path / META_FILE.name)
    table, recorded = read_table(copy)
    assert recorded is not None
    table = table.copy()
    table["accuracy"][7] += 0.01
    np.save(copy, table, allow_pickle=False)
    edited, none = read_table(copy)
    assert none is None  # the metadata's checksum no longer matches: computed from the rows
    assert columns_benchmark(Nb201Space(), edited).fingerprint() != recorded


def test_torch_threads_are_set_when_torch_is_imported_later():
    code = ("import sys; from nasrank.runtime.threads import limit_torch_threads; "
            "r = limit_torch_threads(1); assert 'torch' not in sys.modules, 'imported early'; "
            "import torch; print(r['torch_threads'], torch.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]


def test_history_lines_are_written_through_and_fsynced_in_batches(tmp_path, monkeypatch):
    from nasrank.runs.history import History

    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    monkeypatch.setattr(History, "SYNC_SECONDS", 60.0)  # a slow machine must not make this flaky
    h = History(tmp_path / "run")
    for i in range(50):
        h.append(f"arch{i}", float(i), 1.0, 1.0)
        assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == i + 1  # readable at once
    assert len(synced) == 1  # the first line; not one disk flush per line (History.SYNC_SECONDS)
    h.close()
    assert len(synced) == 2  # what was left is fsynced when the run ends
    assert len(History.load(tmp_path / "run")) == 50
