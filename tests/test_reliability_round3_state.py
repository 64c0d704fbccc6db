"""Issue 32, part A: what a resume reads from a run folder's training state and config.yaml.

Black-box through the command line: a tiny ``sh`` + ``train`` search (the issue's ``T``) is run
once to 5 queries and once to 9; each test resumes a copy of the 5-query folder and checks the
files it reads and writes (S1 planted pickles, S3 path options, S4 the checkpoint path, S5 links,
D2 corrupt state) and the minor config / history items.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import shared

REPO = Path(__file__).resolve().parents[1]
TINY = ["--channels", "4", "--cells-per-stage", "1", "--image-size", "8", "--train-fraction", "0.1",
        "--batch-size", "64"]


def t_search(out: str, queries: int, seed: int = 0) -> list[str]:
    """The issue's ``T``: sh + train, 3 epochs, on the shared CIFAR-10 subset and NB201 table."""
    return ["search", "--space", "nb201", "--searcher", "sh", "--searcher-cfg", "min_budget=1,max_budget=3,eta=3",
            "--ranker", "train", "--ranker-cfg", "epochs=3", *TINY, "--benchmark",
            f"csv:{shared('nb201', 'nb201_cifar10.csv')}", "--data-dir", str(shared("cifar10")), "--device", "cpu",
            "--budget-queries", str(queries), "--seed", str(seed), "--output", out, "--quiet", "--no-store"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "nasrank.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def records(run: Path) -> list[tuple]:
    lines = (run / "history.jsonl").read_text().splitlines()
    return [(d["arch"], d["fidelity"], d["score"], d["info"].get("continued_from"), d["info"].get("restarted"))
            for d in map(json.loads, lines)]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """``BASE/mf``: T to 5 queries, written with a relative --output (as a user types it)."""
    d = tmp_path_factory.mktemp("t5")
    r = cli(*t_search("mf", 5), cwd=d)
    assert r.returncode == 0, r.stderr[-3000:]
    return d / "mf"


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> list[tuple]:
    """The records of T run to 9 queries without interruption."""
    d = tmp_path_factory.mktemp("t9")
    r = cli(*t_search("full", 9), cwd=d)
    assert r.returncode == 0, r.stderr[-3000:]
    recs = records(d / "full")
    assert [f for _, f, *_ in recs] == [1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 3.0, 1.0]
    return recs


def copy_of(base: Path, dst: Path) -> Path:
    shutil.copytree(base, dst, symlinks=True)
    (dst / ".nasrank.lock").unlink(missing_ok=True)
    return dst


def resume(run: Path, cwd: Path, queries: int = 9, *extra: str) -> subprocess.CompletedProcess:
    return cli("search", "--resume", str(run), "--budget-queries", str(queries), "--quiet", "--no-store", *extra,
               cwd=cwd)


def one_error_line(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    lines = [ln for ln in r.stderr.splitlines() if "error:" in ln]
    assert len(lines) == 1, r.stderr[-3000:]
    for n in needles:
        assert n in lines[0], r.stderr[-3000:]


class _Payload:
    """A pickle whose loading runs a shell command (as a hostile file would)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# -- S1: the training state is unpickled with full pickle ------------------------------------------
def test_s1_planted_pickle_in_the_training_state_does_not_run(base, tmp_path):
    import torch

    run = copy_of(base, tmp_path / "copy")
    marker = tmp_path / "PWNED"
    states = list((run / "fidelity_state").glob("*.state.pt"))
    assert states
    for p in states:
        torch.save(_Payload(marker), p)
    r = resume(run, tmp_path)
    assert not marker.exists(), "the planted pickle's code ran"
    one_error_line(r, "fidelity_state", states[0].name)
    assert len(records(run)) == 5  # refused before any new work


# -- S4: the checkpoint path is resolved against the state folder ----------------------------------
def test_s4_a_copy_continues_from_its_own_state_after_another_run_at_the_original_path(base, full, tmp_path):
    copy_of(base, tmp_path / "mf")
    copy = copy_of(base, tmp_path / "mf_copy")
    shutil.rmtree(tmp_path / "mf")
    r = cli(*t_search("mf", 5, seed=5), cwd=tmp_path)  # another run now lives at the original path
    assert r.returncode == 0, r.stderr[-3000:]
    r = resume(Path("mf_copy"), tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert records(copy) == full  # step 7 continued the copy's own state: same score, continued_from 1


def test_s4_an_intact_copy_resumed_from_another_directory_keeps_its_state(base, full, tmp_path):
    copy = copy_of(base, tmp_path / "moved" / "run")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = resume(copy, elsewhere)
    assert r.returncode == 0, r.stderr[-3000:]
    assert records(copy) == full
    assert records(copy)[7][3:] == (1, None)  # continued from 1 epoch, not restarted


# -- S5: links in the run folder are not followed ----------------------------------------------------
def test_s5_a_linked_state_folder_is_refused(base, tmp_path):
    run = copy_of(base, tmp_path / "copy")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run / "fidelity_state", elsewhere)
    (run / "fidelity_state").symlink_to(elsewhere)
    before = sorted(p.name for p in elsewhere.iterdir())
    r = resume(run, tmp_path)
    one_error_line(r, "fidelity_state", "link")
    assert sorted(p.name for p in elsewhere.iterdir()) == before


def test_s5_planted_temporary_links_are_not_written_through(base, full, tmp_path):
    import hashlib

    run = copy_of(base, tmp_path / "copy")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    state = run / "fidelity_state"
    names = {hashlib.sha1(arch.encode()).hexdigest()[:10] for arch, *_ in full}
    pid = os.getpid()
    for name in names:  # the temporaries a writer named after its PID would use, for the next PIDs
        for p in range(pid, pid + 1500):
            (state / f".{name}.state.pt.{p}.tmp").symlink_to(victim)
    r = resume(run, tmp_path)
    assert victim.read_bytes() == b"precious\n", "written through a planted link"
    one_error_line(r, ".tmp", "link")  # nasrank writes no links in a run folder: a planted one is refused
    assert len(records(run)) == 5


def test_s5_a_linked_logs_folder_is_refused(base, tmp_path):
    run = copy_of(base, tmp_path / "copy")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(run / "logs", ignore_errors=True)
    (run / "logs").symlink_to(elsewhere)
    r = resume(run, tmp_path)
    one_error_line(r, "logs", "link")
    assert not list(elsewhere.iterdir()), "training logs were written through the link"


def test_s5_a_link_inside_the_logs_folder_is_refused(base, tmp_path):
    run = copy_of(base, tmp_path / "copy")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (run / "logs" / "train").mkdir(parents=True, exist_ok=True)
    (run / "logs" / "train" / "planted").symlink_to(elsewhere)
    r = resume(run, tmp_path)
    one_error_line(r, "planted", "link")


# -- D2: a corrupt state is one clear line ---------------------------------------------------------
def test_d2_a_truncated_state_file_is_one_error_line(base, tmp_path):
    run = copy_of(base, tmp_path / "copy")
    (state,) = (run / "fidelity_state").glob("*.state.pt")
    state.write_bytes(state.read_bytes()[:200])
    one_error_line(resume(run, tmp_path), state.name)


def test_d2_a_truncated_checkpoint_is_one_error_line(base, tmp_path):
    run = copy_of(base, tmp_path / "copy")
    (ckpt,) = (run / "fidelity_state").glob("*.ckpt")
    ckpt.write_bytes(ckpt.read_bytes()[:300])
    one_error_line(resume(run, tmp_path), ckpt.name)


def test_d2_a_state_folder_that_is_a_file_is_one_error_line(base, tmp_path):
    run = copy_of(base, tmp_path / "copy")
    shutil.rmtree(run / "fidelity_state")
    (run / "fidelity_state").write_text("not a folder\n")
    one_error_line(resume(run, tmp_path), "fidelity_state", "not a folder")


# -- S3: path options in a foreign config.yaml are gated like import paths ---------------------------
def _foreign(run: Path) -> None:
    for p in (run / "config.yaml", run):
        os.chown(p, 12345, 12345)  # as if another user made the folder


@pytest.mark.parametrize("form", ["mapping", "string"])
def test_s3_foreign_write_paths_need_trust_and_are_shown(base, tmp_path, form):
    run = copy_of(base, tmp_path / "copy")
    ckdir, logdir = tmp_path / "x_checkpoints", tmp_path / "y_logs"
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    opts = {"epochs": 3, "checkpoint_dir": str(ckdir), "log_dir": str(logdir)}
    cfg["ranker-cfg"] = opts if form == "mapping" else [",".join(f"{k}={v}" for k, v in opts.items())]
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    _foreign(run)
    r = resume(run, tmp_path, 6)
    one_error_line(r, "checkpoint_dir", "log_dir", str(ckdir), "--trust-config")
    assert not ckdir.exists() and not logdir.exists() and len(records(run)) == 5
    r = resume(run, tmp_path, 6, "--trust-config")
    assert r.returncode == 0, r.stderr[-3000:]
    note = [ln for ln in r.stderr.splitlines() if "note:" in ln]
    assert note and "checkpoint_dir" in note[0] and str(logdir) in note[0] and "writes" in note[0], r.stderr


@pytest.mark.parametrize("key,ranker", [("weights_from", "synflow"), ("supernet", "oneshot"),
                                        ("checkpoint_dir", "train"), ("log_dir", "fear")])
def test_s3_every_path_option_is_listed_even_nested(tmp_path, nb201_csv, key, ranker):
    r = cli("search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet", "--no-store",
            "--output", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = tmp_path / "run"
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg.update({"ranker": "cascade", "ranker-cfg": {"first": "params", "second": ranker,
                                                    "second_cfg": {key: "/somewhere/else"}}})
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    _foreign(run)
    one_error_line(resume(run, tmp_path, 4), key, "/somewhere/else", "--trust-config")


# -- minor items -----------------------------------------------------------------------------------
@pytest.fixture()
def tab_run(tmp_path, nb201_csv) -> Path:
    r = cli("search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "3", "--quiet", "--no-store",
            "--output", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return tmp_path / "run"


def _edit(run: Path, **changes) -> None:
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg.update(changes)
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))


def test_unknown_config_key_is_refused_on_resume(tab_run, tmp_path):
    _edit(tab_run, **{"budget-querys": 7})
    one_error_line(resume(tab_run, tmp_path, 4), "budget-querys", "budget-queries")


@pytest.mark.parametrize("value", ["false", "no", 1])
def test_plot_must_be_true_or_false(tab_run, tmp_path, value):
    _edit(tab_run, plot=value)
    r = resume(tab_run, tmp_path, 4)
    one_error_line(r, "plot")
    assert not (tab_run / "trajectory.png").exists()


def test_plot_false_is_no_figure(tab_run, tmp_path):
    _edit(tab_run, plot=False)
    assert resume(tab_run, tmp_path, 4).returncode == 0
    assert not (tab_run / "trajectory.png").exists()


def test_foreign_config_file_with_an_import_path_needs_trust(tmp_path, nb201_csv):
    cfg = tmp_path / "exp.yaml"
    cfg.write_text(yaml.safe_dump({"space": "nasrank.spaces.nb201:Nb201Space", "benchmark": f"csv:{nb201_csv}",
                                   "budget-queries": 3, "no-store": True, "quiet": True}))
    os.chown(cfg, 12345, 12345)
    r = cli("search", "--config", str(cfg), "--output", "a", cwd=tmp_path)
    one_error_line(r, "nasrank.spaces.nb201:Nb201Space", "--trust-config")
    assert not (tmp_path / "a").exists()
    r = cli("search", "--config", str(cfg), "--output", "b", "--trust-config", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "note:" in r.stderr and "nasrank.spaces.nb201:Nb201Space" in r.stderr
    os.chown(cfg, os.getuid(), os.getgid())
    r = cli("search", "--config", str(cfg), "--output", "c", cwd=tmp_path)  # the user's own file: a note
    assert r.returncode == 0 and "note:" in r.stderr and "nasrank.spaces.nb201:Nb201Space" in r.stderr, r.stderr


def test_fractional_fidelity_in_history_is_refused_into_bad(tmp_path):
    nats = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")
    r = cli("search", "--benchmark", f"csv:{nats}", "--searcher", "sh", "--searcher-cfg", "eta=3,n=3",
            "--budget-queries", "4", "--quiet", "--no-store", "--output", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    hist = tmp_path / "run" / "history.jsonl"
    lines = hist.read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["fidelity"] == 200.0
    last["fidelity"] = 200.7
    hist.write_text("\n".join(lines[:-1] + [json.dumps(last)]) + "\n")
    r = resume(tmp_path / "run", tmp_path, 4)
    assert r.returncode == 0, r.stderr
    assert "200.7" in (tmp_path / "run" / "history.jsonl.bad").read_text()
    assert "fidelity" in r.stderr and "corrupt" in r.stderr, r.stderr
    assert all(json.loads(x)["fidelity"] in (12.0, 200.0) for x in hist.read_text().splitlines())


def test_s5_a_link_in_a_resumed_compare_folder_is_refused(tmp_path, nb201_csv):
    args = ["compare", "--benchmark", f"csv:{nb201_csv}", "--candidates", "20", "--rankers", "params,tabular",
            "--quiet", "--no-store", "--output", "cmp"]
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ranker_dir = next(d for d in (tmp_path / "cmp").iterdir() if (d / "history.jsonl").is_file())
    (ranker_dir / "logs").symlink_to(elsewhere)
    one_error_line(cli(*args, "--resume", cwd=tmp_path), "logs", "link")
    assert not list(elsewhere.iterdir())
