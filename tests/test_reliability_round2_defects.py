"""Issue 24, defects D1-D9: each test is the issue's reproduction, through the command line and the
files a run writes (so it holds across the configuration redesign)."""
from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasrank.cli import main
from test_reliability_round2_severe import REPO, edit_run_config

MEMORY_CAP = 6 * 1024 ** 3  # address space of the child: an unbounded list or YAML bomb fails, not the machine


def cli_capped(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m nasrank.cli ARGS`` in a child limited to :data:`MEMORY_CAP` of address space."""
    env = dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "nasrank.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP)))


def one_error_line(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    for n in needles:
        assert n in r.stderr, r.stderr


@pytest.fixture()
def run(tmp_path, nb201_csv):
    out = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--seed", "5", "--quiet",
                 "--no-store", "--output", str(out)]) == 0
    return out


def _resume(out, *extra):
    return main(["search", "--resume", str(out), "--quiet", "--no-store", *extra])


# -- D1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("owner", ["target-folder", "target-file", "link-itself"])
def test_d1_symlinked_config_is_checked_at_its_target(run, tmp_path, capsys, owner):
    cfg = edit_run_config(run, space="nasrank.spaces.nb201:Nb201Space")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / cfg.name
    shutil.move(str(cfg), target)
    cfg.symlink_to(target)
    os.chmod(run, 0o755)
    if owner == "target-folder":
        os.chown(elsewhere, 12345, 12345)  # another user may replace the file the link points to
    elif owner == "target-file":
        os.chown(target, 12345, 12345)
    else:
        os.lchown(cfg, 12345, 12345)
    capsys.readouterr()
    assert _resume(run, "--budget-queries", "4") == 2
    err = capsys.readouterr().err
    assert "nasrank.spaces.nb201:Nb201Space" in err and "--trust-config" in err and err.count("\n") == 1, err
    assert _resume(run, "--budget-queries", "4", "--trust-config") == 0


# -- D2 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes", [{"ray_address": "10.255.255.1:6379"},
                                     {"executor": "ray", "ray_address": "10.255.255.1:6379"}])
def test_d2_planted_executor_or_ray_address_needs_trust(run, capsys, changes):
    cfg = edit_run_config(run, **changes)
    os.chown(cfg, 12345, 12345)
    capsys.readouterr()
    t0 = time.monotonic()
    assert _resume(run, "--budget-queries", "4") == 2
    assert time.monotonic() - t0 < 30
    err = capsys.readouterr().err
    assert "10.255.255.1:6379" in err and "--trust-config" in err and err.count("\n") == 1, err


# -- D3 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,needle", [
    (["compare", "--candidates", "3", "--rankers", "tabular", "--seeds", "0-1000000000"], "--seeds"),
    (["compare", "--candidates", "3", "--rankers", "params,tabular", "--seeds", "0", "--frontier", "params,tabular",
      "--n-boot", "1000000000000"], "--n-boot"),
    (["evaluate", "--rankers", "params", "--sample", "5", "--repeats", "1000000000000"], "--repeats"),
    (["search", "--budget-queries", "5", "--workers", "1000000000", "--executor", "ray"], "--workers"),
])
def test_d3_counts_from_the_user_are_bounded(tmp_path, nb201_csv, args, needle):
    r = cli_capped(*args, "--benchmark", f"csv:{nb201_csv}", "--output", str(tmp_path / "out"), cwd=tmp_path)
    one_error_line(r, needle)


# -- D4 ------------------------------------------------------------------------------------------
def test_d4_yaml_alias_bomb_in_config_is_refused(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 8):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*{'a' if i == 1 else f'l{i - 1}'}"] * 9) + "]")
    bomb = "\n".join(lines[:-1]) + "\nranker-cfg: {x: *l6}\n"
    (tmp_path / "bomb.yaml").write_text(bomb)
    assert len(bomb) < 1000
    t0 = time.monotonic()
    r = cli_capped("search", "--config", "bomb.yaml", "--budget-queries", "2", "--no-store", cwd=tmp_path)
    assert time.monotonic() - t0 < 60
    one_error_line(r, "bomb.yaml", "alias")


def test_d4_oversized_config_is_refused(tmp_path):
    (tmp_path / "big.yaml").write_text("seed: 1\n" + "# padding\n" * 2_000_000)
    r = cli_capped("search", "--config", "big.yaml", "--budget-queries", "2", cwd=tmp_path)
    one_error_line(r, "big.yaml", "bytes")


# -- D5 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flag,value", [("--channels", "-3"), ("--channels", "0"), ("--cells-per-stage", "0"),
                                        ("--cells-per-stage", "-1"), ("--image-size", "0"), ("--batch-size", "-2"),
                                        ("--train-fraction", "0"), ("--train-fraction", "1.5")])
def test_d5_bad_network_scale_is_one_error(tmp_path, nb201_csv, capsys, flag, value):
    for cmd in (["search", "--ranker", "params", "--budget-queries", "2"],
                ["evaluate", "--rankers", "params", "--sample", "3", "--output", str(tmp_path / "ev")]):
        capsys.readouterr()
        assert main([*cmd, "--benchmark", f"csv:{nb201_csv}", "--quiet", "--no-store", flag, value]) == 2
        err = capsys.readouterr().err
        assert flag in err and value in err and err.count("\n") == 1, err


# -- D6 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("column,value", [("test_acc", "-5"), ("test_acc", "250"), ("test_acc_12ep", "-0.5"),
                                          ("test_acc_12ep", "100.5")])
def test_d6_accuracy_out_of_range_is_refused(tmp_path, capsys, column, value):
    from conftest import shared

    src = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")
    with src.open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:50]
    for r in rows:
        r["test_acc"] = r["test_acc_200ep"]
    rows[7][column] = value
    with (tmp_path / "t.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert main(["evaluate", "--benchmark", f"csv:{tmp_path / 't.csv'}", "--rankers", "params", "--sample", "5",
                 "--no-plots", "--quiet", "--no-store", "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "line 9" in err and column in err and value in err and err.count("\n") == 1, err


def test_d6_fraction_table_is_accepted(tmp_path, capsys):
    from conftest import shared

    src = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")
    with src.open(newline="") as fh:
        rows = [{"arch": r["arch"], "test_acc": f"{float(r['test_acc_200ep']) / 100:.5f}"}
                for r in list(csv.DictReader(fh))[:50]]
    with (tmp_path / "t.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["arch", "test_acc"])
        w.writeheader()
        w.writerows(rows)
    assert main(["evaluate", "--benchmark", f"csv:{tmp_path / 't.csv'}", "--rankers", "params", "--sample", "5",
                 "--no-plots", "--quiet", "--no-store", "--output", str(tmp_path / "out")]) == 0


# -- D7 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"seed: 1\n\xff\xfe\x00bad\n"])
def test_d7_binary_config_file_is_one_error(tmp_path, capsys, data):
    (tmp_path / "bin.yaml").write_bytes(data)
    assert main(["search", "--config", str(tmp_path / "bin.yaml"), "--budget-queries", "2", "--no-store"]) == 2
    err = capsys.readouterr().err
    assert "bin.yaml" in err and "UTF-8" in err and err.count("\n") == 1, err


# -- D8 ------------------------------------------------------------------------------------------
def test_d8_overwrite_replaces_an_earlier_seed_sweep(tmp_path, nb201_csv, capsys):
    out = tmp_path / "sweep"
    base = ["compare", "--benchmark", f"csv:{nb201_csv}", "--candidates", "4", "--rankers", "params,tabular",
            "--seeds", "0-1", "--quiet", "--no-store", "--output", str(out)]
    assert main(base) == 0
    assert main(base) == 2  # without --overwrite: refused
    assert "--overwrite" in capsys.readouterr().err
    (out / "seed0" / "compare.json").write_text("{}")  # marks the old sweep's file
    assert main([*base, "--overwrite"]) == 0
    assert json.loads((out / "seed0" / "compare.json").read_text())["candidates"] == 4
    assert json.loads((out / "compare.json").read_text())["seeds"] == [0, 1] and (out / "seed1").is_dir()
    (out / "mine.txt").write_text("not nasrank's")
    capsys.readouterr()
    assert main([*base, "--overwrite"]) == 2  # a file compare did not write is never deleted
    assert "mine.txt" in capsys.readouterr().err and (out / "mine.txt").exists()


# -- D9 ------------------------------------------------------------------------------------------
def test_d9_evaluate_refuses_a_search_run_folder(run, nb201_csv, capsys):
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    capsys.readouterr()
    assert main(["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params", "--sample", "5",
                 "--no-plots", "--quiet", "--no-store", "--output", str(run)]) == 2
    err = capsys.readouterr().err
    assert str(run) in err and err.count("\n") == 1, err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_d9_evaluate_takes_the_run_folder_lock(tmp_path, nb201_csv, capsys):
    out = tmp_path / "ev"
    out.mkdir()
    fd = os.open(out / ".nasrank.lock", os.O_RDWR | os.O_CREAT)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR);"
                               "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'4242\\n'); print('held', flush=True);"
                               "time.sleep(60)", str(out / ".nasrank.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        capsys.readouterr()
        assert main(["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params", "--sample", "5",
                     "--no-plots", "--quiet", "--no-store", "--output", str(out)]) == 2
        err = capsys.readouterr().err
        assert "in use" in err and "4242" in err, err
        assert not (out / "report.json").exists()
    finally:
        holder.kill()
        holder.wait()
        os.close(fd)


def test_d9_evaluate_rerun_into_its_own_folder_still_works(tmp_path, nb201_csv):
    cmd = ["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params", "--sample", "5", "--no-plots",
           "--quiet", "--no-store", "--output", str(tmp_path / "ev")]
    assert main(cmd) == 0
    assert main(cmd) == 0
    assert (tmp_path / "ev" / "report.json").is_file()
