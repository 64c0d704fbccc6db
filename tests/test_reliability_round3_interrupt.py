"""Issue 32, S9: Ctrl-C anywhere in a run is exit 130 with what was kept and how to resume.

Each test signals the child at a chosen point, never after a sleep: the child is
``python -c HOOK``, where HOOK wraps one function so that its k-th call sends SIGINT to its own
process, then runs ``nasrank.cli.main``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared

REPO = Path(__file__).resolve().parents[1]

#: the child: wrap MODULE.OWNER.NAME (OWNER may be "-" for a module function) so that its K-th call
#: first sends SIGINT to this process, then run the CLI with the remaining arguments
HOOK = r"""
import importlib, os, signal, sys
mod, owner, name, k = sys.argv[1:5]
target = importlib.import_module(mod)
holder = target if owner == "-" else getattr(target, owner)
real = getattr(holder, name)
calls = [0]
def wrapped(*a, **kw):
    calls[0] += 1
    if calls[0] == int(k):
        os.kill(os.getpid(), signal.SIGINT)
    return real(*a, **kw)
setattr(holder, name, wrapped)
from nasrank.cli import main
sys.exit(main(sys.argv[5:]))
"""


def run_interrupted(hook: tuple[str, str, str, int], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The CLI with ``args``, SIGINT sent to itself at the ``hook``'s k-th call."""
    env = dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none", OMP_NUM_THREADS="1")
    mod, owner, name, k = hook
    # SIGINT as a terminal delivers it: an earlier test (Ray) may leave it ignored, which a child inherits
    return subprocess.run([sys.executable, "-c", HOOK, mod, owner, name, str(k), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def lines(run: Path) -> int:
    return sum(len(h.read_text().splitlines()) for h in run.rglob("history.jsonl"))


def assert_interrupted(r: subprocess.CompletedProcess, run: Path, command: str) -> int:
    assert r.returncode == 130, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    n = lines(run)
    assert f"nasrank {command}: interrupted" in r.stderr, r.stderr[-3000:]
    assert f"the {n} evaluations finished so far" in r.stderr and "--resume" in r.stderr, r.stderr[-3000:]
    return n


# the SIGINT lands where torch has popped its mode for a moment (the params ranker builds on the meta
# device): torch's own clean-up then fails with "trying to pop from empty mode stack"
MODE_STACK = ("torch.overrides", "-", "_push_mode", 40)


def test_s9_ctrl_c_inside_the_meta_device_build_is_an_interruption(tmp_path, nb201_csv):
    r = run_interrupted(MODE_STACK, "search", "--benchmark", f"csv:{nb201_csv}", "--ranker", "params",
                        "--budget-queries", "50", "--quiet", "--no-store", "--output", "run", cwd=tmp_path)
    n = assert_interrupted(r, tmp_path / "run", "search")
    assert 0 < n < 50
    resumed = subprocess.run([sys.executable, "-m", "nasrank.cli", "search", "--resume", "run", "--quiet",
                              "--no-store"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert lines(tmp_path / "run") == 50


@pytest.mark.parametrize("sweep", [False, True])
def test_s9_ctrl_c_inside_the_meta_device_build_of_a_compare(tmp_path, nb201_csv, sweep):
    r = run_interrupted(MODE_STACK, "compare", "--benchmark", f"csv:{nb201_csv}", "--candidates", "200",
                        "--rankers", "params,tabular", "--quiet", "--no-store", "--output", "cmp",
                        *(["--seeds", "0-1"] if sweep else []), cwd=tmp_path)
    assert_interrupted(r, tmp_path / "cmp", "compare")


def test_s9_ctrl_c_during_training_is_an_interruption_not_lightnings_exit_1(tmp_path):
    """Lightning catches KeyboardInterrupt in fit and calls sys.exit(1); the run still says how to resume."""
    args = ["search", "--space", "nb201", "--searcher", "sh", "--searcher-cfg", "min_budget=1,max_budget=3,eta=3",
            "--ranker", "train", "--ranker-cfg", "epochs=3", "--channels", "4", "--cells-per-stage", "1",
            "--image-size", "8", "--train-fraction", "0.1", "--batch-size", "64",
            "--benchmark", f"csv:{shared('nb201', 'nb201_cifar10.csv')}", "--data-dir", str(shared("cifar10")),
            "--device", "cpu", "--budget-queries", "5", "--output", "mf", "--quiet", "--no-store"]
    hook = ("nasrank.lightning_modules.classification", "ClassificationModule", "training_step", 30)
    r = run_interrupted(hook, *args, cwd=tmp_path)  # 8 steps an epoch: rung 1 is 24, then the continuation to 3
    n = assert_interrupted(r, tmp_path / "mf", "search")
    assert n == 3, r.stderr[-3000:]
    resumed = subprocess.run([sys.executable, "-m", "nasrank.cli", "search", "--resume", "mf", "--quiet"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=600,
                             env=dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none", OMP_NUM_THREADS="1"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    records = [json.loads(x) for x in (tmp_path / "mf" / "history.jsonl").read_text().splitlines()]
    assert [d["fidelity"] for d in records] == [1.0, 1.0, 1.0, 3.0, 1.0]
    assert records[3]["info"]["continued_from"] == 1 and not records[3]["info"].get("restarted")
