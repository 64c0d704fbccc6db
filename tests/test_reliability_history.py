"""Issue 15 items 2-4: run files survive kills and corruption; one process per run folder.

* every rewrite is temp-then-``os.replace`` (``nasrank.runs.atomic``);
* a corrupt line in the middle of ``history.jsonl`` is skipped, reported and kept
  in ``history.jsonl.bad``; only a truncated LAST line is dropped;
* a second process on a locked run folder gets one error naming the holder's PID.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from nasrank.runs.atomic import atomic_write, atomic_write_text
from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.runs.history import History


def _run(tmp_path, nb201_csv, out, n: int, resume: bool = False) -> int:
    args = ["search", "--ranker", "tabular", "--benchmark", f"csv:{nb201_csv}", "--seed", "7", "--quiet",
            "--budget-queries", str(n), "--no-store"]
    return main(args + (["--resume", str(out)] if resume else ["--output", str(out)]))


# -- atomic writes -------------------------------------------------------------------------
def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    p = tmp_path / "f.json"
    atomic_write_text(p, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(p) as fh:
            fh.write("half of the new")
            raise RuntimeError("killed")
    assert p.read_text() == "old\n" and sorted(os.listdir(tmp_path)) == ["f.json"]  # no temporary left
    atomic_write_text(p, "new\n")
    assert p.read_text() == "new\n" and (p.stat().st_mode & 0o777) == 0o666 & ~_umask()
    with pytest.raises(NasrankError, match="is a folder"):
        atomic_write_text(tmp_path, "x")
    (tmp_path / "afile").write_text("")
    with pytest.raises(NasrankError, match="afile"):
        atomic_write_text(tmp_path / "afile" / "sub" / "out.json", "x")


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_resume_rewrite_is_atomic(tmp_path, nb201_csv, monkeypatch):
    """The resume rewrite never truncates history.jsonl in place (write_text truncated it first)."""
    out = tmp_path / "run"
    assert _run(tmp_path, nb201_csv, out, 30) == 0
    lines = (out / "history.jsonl").read_text().splitlines()
    (out / "history.jsonl").write_text("\n".join(lines) + "\n" + lines[-1][:20])  # a cut last line
    inode = (out / "history.jsonl").stat().st_ino
    from pathlib import Path
    calls = []
    real = Path.write_text
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: calls.append(self) or real(self, *a, **k))
    h = History(out, resume=True)
    assert len(h._replay) == 30 and not [c for c in calls if c.name == "history.jsonl"]
    assert (out / "history.jsonl").stat().st_ino != inode  # replaced by rename
    assert (out / "history.jsonl").read_text() == "\n".join(lines) + "\n"
    assert not (out / "history.jsonl.bad").exists()  # a truncated last line is only dropped


# -- corrupt lines -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["{not json", "null", "[1, 2]", '"a string"', "{}",
                                 '{"step": 3, "arch": "x", "score": "high", "seconds": 1, "device_seconds": 1, '
                                 '"cumulative_seconds": 1}'])
def test_corrupt_middle_line_loses_nothing_else(tmp_path, nb201_csv, capsys, bad):
    out = tmp_path / "run"
    assert _run(tmp_path, nb201_csv, out, 40) == 0
    full = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    lines = (out / "history.jsonl").read_text().splitlines()
    lines[15] = bad
    (out / "history.jsonl").write_text("\n".join(lines) + "\n")
    loaded = History.load(out)  # read-only: skips and reports
    assert len(loaded) == 39
    assert "line 16" in capsys.readouterr().err
    assert _run(tmp_path, nb201_csv, out, 40, resume=True) == 0
    err = capsys.readouterr().err
    assert "history.jsonl" in err and "line 16" in err and "history.jsonl.bad" in err
    assert (out / "history.jsonl.bad").read_text().splitlines() == [bad]
    after = History.load(out)
    assert [r.arch for r in after] == [r["arch"] for r in full]  # the lost step re-evaluated, the rest kept
    assert [r.score for r in after] == pytest.approx([r["score"] for r in full])
    assert sorted(r.step for r in after) == list(range(40))


def test_duplicate_and_resumed_again(tmp_path, nb201_csv, capsys):
    """After a hole is refilled, a second resume (with more budget) replays everything in step order."""
    out = tmp_path / "run"
    assert _run(tmp_path, nb201_csv, out, 30) == 0
    lines = (out / "history.jsonl").read_text().splitlines()
    full = [json.loads(x)["arch"] for x in lines]
    lines[5] = "garbage"
    lines.insert(10, lines[9])  # a duplicated step
    (out / "history.jsonl").write_text("\n".join(lines) + "\n")
    assert _run(tmp_path, nb201_csv, out, 30, resume=True) == 0
    assert _run(tmp_path, nb201_csv, out, 45, resume=True) == 0
    after = History.load(out)
    assert len(after) == 45 and [r.arch for r in after][:30] == full
    assert len((out / "history.jsonl.bad").read_text().splitlines()) == 2


def test_deleted_history_on_resume_is_an_error(tmp_path, nb201_csv, capsys):
    out = tmp_path / "run"
    assert _run(tmp_path, nb201_csv, out, 10) == 0
    (out / "history.jsonl").unlink()
    assert _run(tmp_path, nb201_csv, out, 10, resume=True) == 2
    assert "history.jsonl" in capsys.readouterr().err


# -- the run-folder lock -------------------------------------------------------------------
def test_second_process_gets_one_error_naming_the_pid(tmp_path, nb201_csv, capsys):
    out = tmp_path / "run"
    assert _run(tmp_path, nb201_csv, out, 10) == 0
    code = ("import sys, time\nfrom nasrank.runs.history import History\n"
            f"h = History({str(out)!r}, resume=True)\nprint('locked', flush=True)\ntime.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.time()
        assert _run(tmp_path, nb201_csv, out, 20, resume=True) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"in use by process {holder.pid}" in err and time.time() - t0 < 10
        with pytest.raises(NasrankError, match=str(holder.pid)):
            History(out, resume=True)
    finally:
        holder.kill()
        holder.wait()
    assert _run(tmp_path, nb201_csv, out, 20, resume=True) == 0  # the kernel dropped the dead holder's lock
    assert len(History.load(out)) == 20
