"""Issue 24, severe items S1-S5: each test is the issue's reproduction, run through the command line.

Black-box on purpose (the CLI and the files a run writes), so the tests hold across the
configuration redesign. Run-config edits go through :func:`edit_run_config`, which handles a
run folder's ``config.json`` and, if that is gone, its ``config.yaml``.
"""
from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nasrank.cli import main

REPO = Path(__file__).resolve().parents[1]


def edit_run_config(run: Path, **changes) -> Path:
    """Apply ``changes`` to the run folder's saved options (config.json, else config.yaml); return the file."""
    js = run / "config.json"
    if js.is_file():
        cfg = json.loads(js.read_text())
        cfg.update(changes)
        js.write_text(json.dumps(cfg))
        return js
    import yaml

    ym = run / "config.yaml"
    cfg = yaml.safe_load(ym.read_text()) or {}
    target = cfg.get("options", cfg) if isinstance(cfg.get("options"), dict) else cfg
    target.update(changes)
    ym.write_text(yaml.safe_dump(cfg))
    return ym


def cli(*args: str, cwd: Path, store: str = "none") -> subprocess.CompletedProcess:
    """``python -m nasrank.cli ARGS`` in ``cwd`` (a fresh process, as a user runs it)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE=store, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "nasrank.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def _flip_12ep(src: Path, dst: Path) -> None:
    """``dst``: ``src`` with ``test_acc_12ep`` replaced by 100 - x."""
    with src.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["test_acc_12ep"] = f"{100 - float(r['test_acc_12ep']):.3f}"
    with dst.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture()
def nats_csv():
    from conftest import shared

    return shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")


# -- S1 ------------------------------------------------------------------------------------------
def test_s1_store_does_not_serve_stale_per_schedule_scores(tmp_path, monkeypatch, nats_csv):
    monkeypatch.setenv("NASRANK_STORE", str(tmp_path / "store.db"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "t.csv").write_bytes(nats_csv.read_bytes())
    _flip_12ep(nats_csv, tmp_path / "b" / "t.csv")
    taus = {}
    for d in ("a", "b"):
        monkeypatch.chdir(tmp_path / d)
        assert main(["evaluate", "--benchmark", "csv:t.csv", "--sample", "50", "--rankers", "tabular",
                     "--ranker-cfg", "metric=test,epochs=12", "--output", "out", "--no-plots", "--quiet"]) == 0
        rep = json.loads((tmp_path / d / "out" / "report.json").read_text())
        taus[d] = rep["rankers"]["tabular"]["criteria"]["deiso"]["kendall_tau"]
    assert taus["a"] > 0.5
    assert taus["b"] == pytest.approx(-taus["a"], abs=1e-9)  # b's own (flipped) scores, not a's


def test_s1_search_does_not_serve_stale_per_schedule_scores(tmp_path, monkeypatch, nats_csv):
    monkeypatch.setenv("NASRANK_STORE", str(tmp_path / "store.db"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "t.csv").write_bytes(nats_csv.read_bytes())
    _flip_12ep(nats_csv, tmp_path / "b" / "t.csv")
    scores = {}
    for d in ("a", "b"):
        monkeypatch.chdir(tmp_path / d)
        assert main(["search", "--benchmark", "csv:t.csv", "--budget-queries", "20", "--seed", "3", "--quiet",
                     "--ranker-cfg", "metric=test,epochs=12", "--output", "run"]) == 0
        recs = [json.loads(x) for x in (tmp_path / d / "run" / "history.jsonl").read_text().splitlines()]
        scores[d] = {r["arch"]: r["score"] for r in recs if r["score"] is not None}
    common = set(scores["a"]) & set(scores["b"])
    assert len(common) >= 1
    for arch in common:
        assert scores["b"][arch] == pytest.approx(100 - scores["a"][arch], abs=1e-3)


# -- S2 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ['"shared_run.payload:Evil"', '"shared_run.payload:\\u0045vil"',
                                   '["shared_run.payload:Evil"]', '{"x": "shared_run.payload:Evil"}'])
def test_s2_quoted_import_path_in_a_foreign_config_is_not_imported(tmp_path, nb201_csv, value):
    run = tmp_path / "shared_run"
    r = cli("search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet", "--ranker", "cascade",
            "--ranker-cfg", "first=tabular,second=tabular", "--output", "shared_run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    marker = tmp_path / "PWNED"
    (run / "payload.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                                    "from nasrank.rankers.base import Ranker\nclass Evil(Ranker):\n    pass\n")
    cfg = edit_run_config(run, ranker="cascade", ranker_cfg=["first=tabular", f"second={value}"])
    for p in (cfg, run / "payload.py", run):
        os.chown(p, 12345, 12345)  # as if another user made the folder
    r = cli("search", "--resume", "shared_run", "--budget-queries", "6", "--quiet", cwd=tmp_path)
    assert not marker.exists(), "the planted module's top-level code ran"
    assert r.returncode == 2
    assert "shared_run.payload" in r.stderr and "--trust-config" in r.stderr
    assert "Traceback" not in r.stderr


# -- S3 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [".nasrank.lock", "history.jsonl", "history.jsonl.bad"])
def test_s3_symlinked_run_file_does_not_write_through(tmp_path, nb201_csv, monkeypatch, capsys, name):
    r = tmp_path / "r"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "4", "--quiet", "--no-store",
                 "--output", str(r)]) == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = r / name
    if name == "history.jsonl":
        victim.write_text((r / name).read_text())  # a victim that looks like a history
    if name == "history.jsonl.bad":
        with (r / "history.jsonl").open("a") as fh:
            fh.write("{corrupt line}\n{more}\n")  # so that the resume writes .bad
    before = victim.read_bytes()
    link.unlink(missing_ok=True)
    link.symlink_to(Path("..") / "victim.txt")
    capsys.readouterr()
    rc = main(["search", "--resume", str(r), "--budget-queries", "6", "--quiet", "--no-store"])
    assert victim.read_bytes() == before, "written through the link"
    assert rc == 2
    err = capsys.readouterr().err
    assert name in err and "link" in err and err.count("\n") == 1, err


# -- S4 ------------------------------------------------------------------------------------------
def test_s4_resume_from_another_directory_uses_the_runs_table(tmp_path, monkeypatch, nats_csv, capsys):
    for d in ("a", "c"):
        (tmp_path / d).mkdir()
    (tmp_path / "a" / "t.csv").write_bytes(nats_csv.read_bytes())
    _flip_12ep(nats_csv, tmp_path / "c" / "t.csv")
    with (tmp_path / "c" / "t.csv").open() as fh:  # c's table: another test_acc_200ep too
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["test_acc_200ep"] = f"{100 - float(row['test_acc_200ep']):.3f}"
    with (tmp_path / "c" / "t.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    truth_a = {}
    with nats_csv.open() as fh:
        for row in csv.DictReader(fh):
            truth_a[row["arch"]] = float(row["test_acc_200ep"])
    monkeypatch.chdir(tmp_path / "a")
    assert main(["search", "--benchmark", "csv:t.csv", "--budget-queries", "30", "--seed", "9", "--quiet",
                 "--no-store", "--output", "../mix"]) == 0
    monkeypatch.chdir(tmp_path / "c")
    assert main(["search", "--resume", "../mix", "--budget-queries", "60", "--quiet", "--no-store"]) == 0
    recs = [json.loads(x) for x in (tmp_path / "mix" / "history.jsonl").read_text().splitlines()]
    assert len(recs) == 60
    for rec in recs:  # every step from table a
        if rec["arch"] in truth_a:
            assert rec["true_acc"] == pytest.approx(truth_a[rec["arch"]], abs=1e-6), rec["step"]


def test_s4_resume_refuses_a_changed_table(tmp_path, monkeypatch, nats_csv, capsys):
    (tmp_path / "a").mkdir()
    table = tmp_path / "a" / "t.csv"
    table.write_bytes(nats_csv.read_bytes())
    monkeypatch.chdir(tmp_path / "a")
    assert main(["search", "--benchmark", "csv:t.csv", "--budget-queries", "10", "--seed", "9", "--quiet",
                 "--no-store", "--output", "../mix"]) == 0
    _flip_12ep(nats_csv, table)  # the run's table, edited since
    capsys.readouterr()
    assert main(["search", "--resume", "../mix", "--budget-queries", "20", "--quiet", "--no-store"]) == 2
    err = capsys.readouterr().err
    assert "t.csv" in err and "fingerprint" in err and err.count("\n") == 1, err
    assert len((tmp_path / "mix" / "history.jsonl").read_text().splitlines()) == 10


# -- S5 ------------------------------------------------------------------------------------------
def _device_node(path: Path) -> None:
    """A character device like /dev/null at ``path`` (as root), else a FIFO: never a regular file."""
    if os.geteuid() == 0:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    else:
        os.mkfifo(path)


@pytest.mark.parametrize("kind", ["device", "fifo", "link-to-device"])
def test_s5_store_export_never_replaces_a_device(tmp_path, monkeypatch, nb201_csv, capsys, kind):
    store = tmp_path / "store.db"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet",
                 "--store", str(store)]) == 0
    target = tmp_path / "null"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        _device_node(target)
    out = target
    if kind == "link-to-device":
        out = tmp_path / "out.csv"
        out.symlink_to(target)
    before = os.lstat(out)
    capsys.readouterr()
    assert main(["store", "export", "--store", str(store), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "regular file" in err and err.count("\n") == 1, err
    after = os.lstat(out)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
