"""Issue 32 part B: the result store keys on content, not on names and paths (S6, S7), checks that it
can write before any work (D5), reads a store in a read-only folder (D5) and survives hostile rows (D6)."""
from __future__ import annotations

import importlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import torch

from nasrank.cli import main

REPO = Path(__file__).resolve().parents[1]

RANKER_SRC = """
from nasrank.rankers.base import Evaluation, Ranker


class {name}(Ranker):
    {extra}
    def evaluate_one(self, arch):
        return Evaluation({score}, 0.5, 0.5, {{}})
"""


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture()
def user_modules(tmp_path, monkeypatch):
    """``write(module, {class: score}, extra="")``: a user module of Ranker classes, importable now
    (no bytecode cache, so an edit is seen by the next import)."""
    folder = tmp_path / "user"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    written: list[str] = []

    def write(module: str, classes: dict[str, float], extra: str = "") -> None:
        src = "".join(RANKER_SRC.format(name=n, score=s, extra=extra or "pass") for n, s in classes.items())
        (folder / f"{module}.py").write_text(src)
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
        written.append(module)

    yield write
    for m in written:
        sys.modules.pop(m, None)


def _search(ranker: str, store: Path, out: Path, bench: Path) -> dict:
    rc, _, err = run_cli(["search", "--benchmark", f"csv:{bench}", "--ranker", ranker, "--budget-queries", "4",
                          "--store", str(store), "--output", str(out), "--quiet", "--seed", "1"])
    assert rc == 0, err
    hist = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    return {"best": json.loads((out / "summary.json").read_text())["best_score"],
            "cached": [bool(r["info"].get("cached")) for r in hist]}


# -- S7: custom components are keyed on their import path and code ---------------------------------
def test_s7_two_unnamed_classes_in_one_module_do_not_share_results(tmp_path, user_modules, nb201_csv):
    user_modules("always", {"AlwaysOne": 1.0, "AlwaysTwo": 2.0})
    store = tmp_path / "s.db"
    one = _search("always:AlwaysOne", store, tmp_path / "r1", nb201_csv)
    two = _search("always:AlwaysTwo", store, tmp_path / "r2", nb201_csv)
    assert one["best"] == 1.0 and two["best"] == 2.0 and not any(two["cached"])
    again = _search("always:AlwaysOne", store, tmp_path / "r3", nb201_csv)
    assert again["best"] == 1.0 and all(again["cached"])  # the same code is still served from the store


def test_s7_one_class_name_in_two_modules(tmp_path, user_modules, nb201_csv):
    user_modules("moda", {"Always": 1.0})
    user_modules("modb", {"Always": 2.0})
    store = tmp_path / "s.db"
    assert _search("moda:Always", store, tmp_path / "a", nb201_csv)["best"] == 1.0
    b = _search("modb:Always", store, tmp_path / "b", nb201_csv)
    assert b["best"] == 2.0 and not any(b["cached"])


def test_s7_an_edited_component_is_a_new_key(tmp_path, user_modules, nb201_csv):
    store = tmp_path / "s.db"
    user_modules("edited", {"Scorer": 1.0})
    assert _search("edited:Scorer", store, tmp_path / "v1", nb201_csv)["best"] == 1.0
    user_modules("edited", {"Scorer": 3.0})
    v2 = _search("edited:Scorer", store, tmp_path / "v2", nb201_csv)
    assert v2["best"] == 3.0 and not any(v2["cached"])


def test_s7_a_declared_version_keys_instead_of_the_code(tmp_path, user_modules, nb201_csv):
    """``version = "1"``: the author vouches that the scores did not change (e.g. a comment was edited)."""
    store = tmp_path / "s.db"
    user_modules("versioned", {"Scorer": 1.0}, extra='version = "1"')
    _search("versioned:Scorer", store, tmp_path / "v1", nb201_csv)
    user_modules("versioned", {"Scorer": 1.0}, extra='version = "1"  # a comment')
    assert all(_search("versioned:Scorer", store, tmp_path / "v2", nb201_csv)["cached"])
    user_modules("versioned", {"Scorer": 4.0}, extra='version = "2"')
    v3 = _search("versioned:Scorer", store, tmp_path / "v3", nb201_csv)
    assert v3["best"] == 4.0 and not any(v3["cached"])


def test_s7_user_spaces_of_one_class_name_are_two_spaces(tmp_path, monkeypatch):
    from nasrank.store import space_id

    src = (REPO / "examples" / "custom_space.py").read_text()
    for m in ("spacea", "spaceb"):
        (tmp_path / f"{m}.py").write_text(src)
    monkeypatch.syspath_prepend(str(tmp_path))
    ids = {space_id(importlib.import_module(m).TinyCnnSpace()) for m in ("spacea", "spaceb")}
    assert len(ids) == 2 and all(i.startswith("tiny_cnn(") and "component=" in i for i in ids), ids


BUILTIN_HASHES = [  # computed on the commit before issue 32: built-in keys must not move
    ("params", {}, "9e3e6bcc3dd4"), ("flops", {}, "8b110b103131"), ("synflow", {}, "07a92c8eec61"),
    ("synflow", {"seeds": 1}, "7c1adbf03242"), ("zero_shot", {}, "a150eeb01563"), ("train", {}, "599b9eb47364"),
    ("train", {"epochs": 3}, "0dd5ea00f6d2"), ("fear", {}, "729a2e8cdcc8"), ("tabular", {}, "74b290896244"),
]


@pytest.mark.parametrize("name,cfg,expected", BUILTIN_HASHES)
def test_s7_builtin_keys_are_unchanged(name, cfg, expected, cifar10_dir):
    from nasrank.benchmarks import load_benchmark
    from nasrank.rankers.base import RunContext
    from nasrank.registry import RANKERS, SPACES
    from nasrank.store import space_id

    space = SPACES.create("nb201")
    ctx = RunContext(data_dir=str(cifar10_dir), benchmark=load_benchmark("embedded", space))
    assert RANKERS.create(name, space, ctx, **cfg).config_hash() == expected
    assert (space_id(space), space_id(SPACES.create("nb201", channels=8))) == ("nb201", "nb201(channels=8)")


# -- S6: weights behind a path are keyed by their content -------------------------------------------
def _weights(path: Path, value: float) -> None:
    from nasrank.spaces.nb201 import Nb201Space

    space = Nb201Space()
    model = space.build(space.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
                                          "nor_conv_3x3~1|nor_conv_3x3~2|"), num_classes=10)
    torch.save({k: torch.full_like(v, value) if v.is_floating_point() else v  # the parts every cell has
                for k, v in model.state_dict().items() if ".edges." not in k}, path)


def _synflow(weights: Path, out: Path, bench: Path, store: Path | None) -> list[float]:
    rc, _, err = run_cli(["evaluate", "--benchmark", f"csv:{bench}", "--rankers", "synflow", "--ranker-cfg",
                          f"weights_from={weights},seeds=1", "--sample", "3", "--seed", "2", "--output", str(out),
                          "--no-plots", "--quiet", *(["--store", str(store)] if store else ["--no-store"])])
    assert rc == 0, err
    lines = (out / "scores.csv").read_text().splitlines()
    col = lines[0].split(",").index("score")
    return [float(x.split(",")[col]) for x in lines[1:]]


def test_s6_new_weights_at_one_path_are_a_new_key(tmp_path, nb201_csv):
    w, store = tmp_path / "w.pt", tmp_path / "s.db"
    _weights(w, 0.01)
    first = _synflow(w, tmp_path / "e1", nb201_csv, store)
    st = w.stat()
    _weights(w, 0.02)
    os.utime(w, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime
    second = _synflow(w, tmp_path / "e2", nb201_csv, store)
    truth = _synflow(w, tmp_path / "e3", nb201_csv, None)
    assert second == pytest.approx(truth) and second != pytest.approx(first)


def test_s6_oneshot_checkpoint_is_keyed_by_content(tmp_path, cifar10_dir):
    """A retrained checkpoint of the same size and mtime at one path is a new key."""
    from nasrank.lightning_modules.supernet import CKPT_KEY, SupernetModule

    ckpt, store = tmp_path / "sn.ckpt", tmp_path / "s.db"

    def write(seed: int) -> None:
        torch.manual_seed(seed)
        m = SupernetModule(space="nb201", channels=4, cells_per_stage=1, image_size=8)
        torch.save({"hyper_parameters": dict(m.hparams), "state_dict": m.state_dict(),
                    CKPT_KEY: {"train_seconds": 1.0, "epochs_done": 1}}, ckpt)

    def search(out: str) -> list[float]:
        rc, _, err = run_cli(["search", "--ranker", "oneshot", "--ranker-cfg",
                              f"supernet={ckpt},val_images=32,batch_size=32,bn_recalibrate_batches=0",
                              "--data-dir", str(cifar10_dir), "--budget-queries", "3", "--device", "cpu",
                              "--store", str(store), "--output", str(tmp_path / out), "--quiet"])
        assert rc == 0, err
        return [json.loads(x)["score"] for x in (tmp_path / out / "history.jsonl").read_text().splitlines()]

    write(0)
    first = search("r1")
    st = ckpt.stat()
    write(1)
    assert ckpt.stat().st_size == st.st_size
    os.utime(ckpt, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert search("r2") != pytest.approx(first)


# -- D5: a read-only store -----------------------------------------------------------------------------
def _read_only(paths: list[Path], on: bool) -> None:
    """Make ``paths`` read-only (or writable again). Permissions do not bind root, the immutable attribute
    does: as root, ``chattr +i``."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], check=True)
    else:
        for p in paths:
            os.chmod(p, (0o555 if p.is_dir() else 0o444) if on else 0o755)


@pytest.fixture(params=["file", "file_and_folder"])
def readonly_store(request, tmp_path, nb201_csv):
    """A read-only store of 3 rows (WAL mode, no -wal/-shm files beside it), in a writable or read-only folder."""
    import gc

    ro = tmp_path / "ro"
    ro.mkdir()
    rc, _, err = run_cli(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet",
                          "--store", str(ro / "s.db"), "--output", str(tmp_path / "first")])
    assert rc == 0, err
    gc.collect()  # close the search's connections: the last one checkpoints and removes the WAL files
    db = sqlite3.connect(ro / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert sorted(p.name for p in ro.iterdir()) == ["s.db"]
    locked = [ro / "s.db", ro] if request.param == "file_and_folder" else [ro / "s.db"]
    _read_only(locked, True)
    yield ro / "s.db"
    _read_only(locked, False)


def test_d5_store_ls_reads_a_store_in_a_read_only_folder(readonly_store):
    rc, out, err = run_cli(["store", "ls", "--store", str(readonly_store), "--wide"])
    assert rc == 0 and "3 rows in 1 groups" in out, err
    rc, out, err = run_cli(["store", "export", "--store", str(readonly_store)])
    assert rc == 0 and len(out.splitlines()) == 4, err


def test_d5_read_only_store_is_refused_before_any_work(readonly_store, tmp_path, nb201_csv):
    rc, out, err = run_cli(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "5", "--quiet",
                            "--ranker", "params", "--store", str(readonly_store), "--output", str(tmp_path / "run")])
    assert rc == 2 and err.count("\n") == 1 and str(readonly_store) in err and "--no-store" in err, err
    assert "read-only" in err, err
    hist = tmp_path / "run" / "history.jsonl"
    assert not hist.exists() or not hist.read_text()
    rc, out, err = run_cli(["store", "prune", "--store", str(readonly_store), "--all"])
    assert rc == 2 and "deleted" not in out and str(readonly_store) in err and "read-only" in err, err


# -- D6: hostile rows and malformed databases ---------------------------------------------------------
def test_d6_hostile_rows_are_misses_with_a_warning(tmp_path, nb201_csv):
    store = tmp_path / "s.db"
    args = ["search", "--benchmark", f"csv:{nb201_csv}", "--ranker", "params", "--budget-queries", "6", "--quiet",
            "--seed", "4"]
    rc, _, err = run_cli([*args, "--store", str(store), "--output", str(tmp_path / "r1")])
    assert rc == 0, err
    db = sqlite3.connect(store, isolation_level=None)
    keys = [r[0] for r in db.execute("SELECT arch_key FROM evaluations ORDER BY arch_key")]
    db.execute("UPDATE evaluations SET score = 'abc' WHERE arch_key = ?", (keys[0],))
    db.execute("UPDATE evaluations SET info = 'not json' WHERE arch_key = ?", (keys[1],))
    db.execute("UPDATE evaluations SET seconds = 'x' WHERE arch_key = ?", (keys[2],))
    db.close()
    rc, _, err = run_cli([*args, "--store", str(store), "--output", str(tmp_path / "r2")])
    assert rc == 0 and "Traceback" not in err, err
    assert "malformed row" in err and str(store) in err and err.count("\n") == 1, err
    rc, _, _ = run_cli([*args, "--no-store", "--output", str(tmp_path / "r3")])

    def scores(run: str) -> list[float]:
        return [json.loads(x)["score"] for x in (tmp_path / run / "history.jsonl").read_text().splitlines()]

    assert scores("r2") == scores("r3")
    rc, out, err = run_cli(["store", "ls", "--store", str(store)])  # recomputed rows replaced the bad ones
    assert rc == 0 and "6 rows" in out, err


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(4096, len(data), 4096):  # every page after the first: the schema survives, the rows do not
        data[i + 8:i + 100] = b"\xff" * 92
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["other_schema", "foreign_database", "corrupt"])
def test_d6_prune_on_a_malformed_database_does_not_report_success(tmp_path, nb201_csv, kind):
    store = tmp_path / "s.db"
    if kind == "corrupt":
        rc, _, err = run_cli(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "40", "--quiet",
                              "--store", str(store), "--output", str(tmp_path / "r"), "--ranker", "params"])
        assert rc == 0, err
        db = sqlite3.connect(store)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        _corrupt(store)
    else:
        db = sqlite3.connect(store)
        if kind == "other_schema":
            db.execute("CREATE TABLE evaluations (x INTEGER)")
            db.execute("PRAGMA user_version = 1")
        else:
            db.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
            db.execute("INSERT INTO invoices VALUES (1, 9.5)")
        db.commit()
        db.close()
    before = store.read_bytes()
    for args in (["store", "prune", "--store", str(store), "--all"], ["store", "ls", "--store", str(store)]):
        rc, out, err = run_cli(args)
        assert rc == 2 and "deleted" not in out and err.count("\n") == 1 and str(store) in err, (args, out, err)
    assert store.read_bytes() == before  # nothing written into someone else's database
