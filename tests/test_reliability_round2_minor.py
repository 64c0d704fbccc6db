"""Issue 24, the minor list: each item's reproduction through the command line (black-box)."""
from __future__ import annotations

import csv
import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nasrank.cli import main
from test_reliability_round2_severe import REPO

NATS = "nats_1000_cifar10_12ep_vs_200ep.csv"


def _env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none", OMP_NUM_THREADS="1", **extra)


def _table(tmp_path: Path, n: int = 40, name: str = "t.csv") -> Path:
    """A small arch,test_acc table from the shared NATS rows."""
    from conftest import shared

    with shared("nb201", NATS).open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:n]
    p = tmp_path / name
    with p.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["arch", "test_acc"])
        w.writerows([r["arch"], r["test_acc_200ep"]] for r in rows)
    return p


def _evaluate(tmp_path: Path, bench: str, *extra: str) -> int:
    return main(["evaluate", "--benchmark", bench, "--rankers", "params", "--no-plots", "--quiet", "--no-store",
                 "--output", str(tmp_path / "out"), *extra])


# -- a 1 GB CSV line used 2.4 GB before its error ------------------------------------------------
_PEAK = ("import resource, sys; from nasrank.cli import main; rc = main(sys.argv[1:]); "
         "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")


def _peak_kb(tmp_path: Path, table: Path) -> tuple[int, str]:
    r = subprocess.run([sys.executable, "-c", _PEAK, "evaluate", "--benchmark", f"csv:{table}", "--rankers",
                        "params", "--sample", "3", "--no-plots", "--quiet", "--output", str(tmp_path / "o")],
                       env=_env(), capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    return int(r.stderr.split("PEAK_KB")[1].split()[0]), r.stderr.split("PEAK_KB")[0]


def test_huge_csv_line_fails_before_it_is_read_whole(tmp_path):
    small = _table(tmp_path, name="small.csv")
    with small.open("a") as fh:
        fh.write("x" * 2_000_000 + "\n")  # over the line limit, but small
    big = _table(tmp_path, name="big.csv")
    with big.open("a") as fh:
        for _ in range(40):
            fh.write("y" * 5_000_000)  # one 200 MB line
        fh.write("\n")
    base, _ = _peak_kb(tmp_path, small)
    peak, err = _peak_kb(tmp_path, big)
    assert "line 42" in err and "characters" in err and len(err) < 400, err
    assert peak - base < 60_000, f"the 200 MB line cost {(peak - base) / 1000:.0f} MB"


# -- --archs lines have no length cap ------------------------------------------------------------
def test_huge_archs_line_is_a_short_error(tmp_path, nb201_csv, capsys):
    (tmp_path / "archs.txt").write_text("|" + "nor_conv_3x3~0|" * 600_000 + "\n")  # a 9 MB line
    assert _evaluate(tmp_path, f"csv:{nb201_csv}", "--archs", str(tmp_path / "archs.txt")) == 2
    err = capsys.readouterr().err
    assert "line 1" in err and err.count("\n") == 1 and len(err) < 500, err[:500]


def test_long_but_bounded_archs_line_quotes_a_short_excerpt(tmp_path, nb201_csv, capsys):
    (tmp_path / "archs.txt").write_text("|" + "nor_conv_3x3~0|" * 30_000 + "\n")  # 450 kB: under the cap
    assert _evaluate(tmp_path, f"csv:{nb201_csv}", "--archs", str(tmp_path / "archs.txt")) == 2
    err = capsys.readouterr().err
    assert "line 1" in err and err.count("\n") == 1 and len(err) < 600, err[:600]


# -- an unclosed CSV quote gives a 21 KB error ---------------------------------------------------
def test_unclosed_csv_quote_is_a_short_error(tmp_path, capsys):
    from conftest import shared

    lines = shared("nb201", NATS).read_text().splitlines()
    lines[3] = lines[3].replace(",|", ',"|', 1)
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    assert _evaluate(tmp_path, f"csv:{tmp_path / 't.csv'}", "--sample", "3") == 2
    err = capsys.readouterr().err
    assert "line 4" in err and err.count("\n") == 1 and len(err) < 600, (len(err), err[:600])


# -- a byte-order mark is not stripped from the header -------------------------------------------
def test_byte_order_mark_is_stripped(tmp_path, capsys):
    t = _table(tmp_path)
    t.write_bytes(b"\xef\xbb\xbf" + t.read_bytes())  # as Excel saves "CSV UTF-8"
    archs = tmp_path / "archs.txt"
    rows = t.read_text(encoding="utf-8-sig").splitlines()[1:4]
    archs.write_bytes(b"\xef\xbb\xbf" + "\n".join(r.split(",")[0] for r in rows).encode())
    assert _evaluate(tmp_path, f"csv:{t}", "--archs", str(archs)) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "report.json").read_text())["n_archs"] == 3


# -- a killed store export leaves *.tmp files behind ---------------------------------------------
def test_store_export_removes_a_killed_exports_temporary(tmp_path, nb201_csv):
    store = tmp_path / "store.db"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet",
                 "--store", str(store)]) == 0
    stale = tmp_path / ".out.csv.k1ll3d.tmp"  # what a SIGKILL during `store export -o out.csv` leaves
    stale.write_text("index,half a row")
    live = tmp_path / ".out.csv.w0rk1n.tmp"  # another export still writing (it holds its lock)
    live.write_text("")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        r = subprocess.run([sys.executable, "-m", "nasrank.cli", "store", "export", "--store", str(store),
                            "--output", str(tmp_path / "out.csv")], env=_env(), capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        assert not stale.exists() and live.exists()
        assert (tmp_path / "out.csv").read_text().count("\n") == 4
    finally:
        os.close(fd)


def test_killed_store_export_leaves_no_temporary_after_the_next(tmp_path, nb201_csv):
    store = tmp_path / "store.db"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet",
                 "--store", str(store)]) == 0
    cmd = [sys.executable, "-c", "import sys, time\nfrom nasrank.commands import store as s\n"
           "real = s._export\ndef slow(*a):\n    n = real(*a)\n    print('written', flush=True)\n    time.sleep(60)\n"
           "    return n\ns._export = slow\nfrom nasrank.cli import main\nmain(sys.argv[1:])",
           "store", "export", "--store", str(store), "--output", str(tmp_path / "out.csv")]
    p = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "written"
        assert [x.name for x in tmp_path.glob(".out.csv.*.tmp")]
        p.send_signal(signal.SIGKILL)
        p.wait()
    finally:
        p.kill()
    assert main(["store", "export", "--store", str(store), "--output", str(tmp_path / "out.csv")]) == 0
    assert not list(tmp_path.glob(".out.csv.*.tmp"))


# -- evolution stops short of its budget without saying so ---------------------------------------
def test_search_that_runs_out_of_new_architectures_says_so(tmp_path, nb201_csv, capsys):
    out = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "16000", "--quiet", "--no-store",
                 "--output", str(out)]) == 0
    err = capsys.readouterr().err
    n = len((out / "history.jsonl").read_text().splitlines())
    assert n < 16000
    assert "warning" in err and f"{n:,} evaluations of the 16,000 asked" in err, err
    assert "16,000" in json.loads((out / "summary.json").read_text())["stopped_early"]


# -- a rejected checkpoint prints torch's multi-line text ----------------------------------------
def test_rejected_checkpoint_is_one_line_without_torchs_advice(tmp_path, capsys):
    import argparse

    import torch

    torch.save({"state_dict": {}, "planted": argparse.Namespace(x=1)}, tmp_path / "bad.ckpt")
    assert main(["supernet", "info", str(tmp_path / "bad.ckpt")]) == 2
    err = capsys.readouterr().err
    assert "bad.ckpt" in err and err.count("\n") == 1, err
    assert "weights_only=False" not in err and "argparse.Namespace" in err, err


# -- a compare interrupted by Ctrl-C gives no count and no resume hint ---------------------------
@pytest.mark.parametrize("sweep", [False, True])
def test_interrupted_compare_counts_and_says_how_to_resume(tmp_path, nb201_csv, sweep):
    """Deterministic (issue 32, S9): the child sends SIGINT to itself as it is about to write its 30th
    history line (no sleep, no race with the machine's load)."""
    from test_reliability_round3_interrupt import run_interrupted

    args = ["compare", "--benchmark", f"csv:{nb201_csv}", "--candidates", "20000", "--rankers", "params,tabular",
            "--quiet", "--no-store", "--output", "cmp"] + (["--seeds", "0-1"] if sweep else [])
    r = run_interrupted(("nasrank.runs.history", "History", "append", 30), *args, cwd=tmp_path)
    err = r.stderr
    assert r.returncode == 130, err[-3000:]
    n = sum(len(h.read_text().splitlines()) for h in (tmp_path / "cmp").rglob("history.jsonl"))
    assert n == 29 and f"the {n} evaluations finished so far" in err and "--resume" in err, err[-3000:]


# -- --archs /dev/zero says "file not found" -----------------------------------------------------
@pytest.mark.parametrize("flag", ["--archs", "--benchmark"])
def test_device_as_input_file_is_named_as_such(tmp_path, nb201_csv, capsys, flag):
    if flag == "--archs":
        rc = _evaluate(tmp_path, f"csv:{nb201_csv}", "--archs", "/dev/zero")
    else:
        rc = _evaluate(tmp_path, "csv:/dev/zero", "--sample", "3")
    assert rc == 2
    err = capsys.readouterr().err
    assert "/dev/zero" in err and "not a regular file" in err and "not found" not in err, err
