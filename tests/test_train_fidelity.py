"""The ``train`` ranker's fidelities: a continuation equals one uninterrupted run of the same
schedule, it is charged only the added epochs, and a multi-fidelity search with ``train`` resumes
after kill -9 as the same run (tiny NB201 networks on the shared CIFAR-10 subset)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from nasrank.errors import NasrankError
from nasrank.rankers import RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

TINY = dict(channels=4, cells_per_stage=1, image_size=16, train_fraction=0.1, batch_size=64)
GOOD = Nb201Arch.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")

pytestmark = pytest.mark.usefixtures("one_thread")


def _ranker(cifar10_dir, state_dir, **cfg):
    r = RANKERS.create("train", Nb201Space(), RunContext(data_dir=cifar10_dir, seed=0), **{"epochs": 4, **TINY, **cfg})
    r.use_state_dir(state_dir)
    return r


def _weights(state_dir: Path) -> dict[str, torch.Tensor]:
    (ckpt,) = state_dir.glob("*.ckpt")
    return torch.load(ckpt, weights_only=False)["state_dict"]


def test_continuation_equals_one_uninterrupted_run(cifar10_dir, tmp_path):
    a = _ranker(cifar10_dir, tmp_path / "a")
    e2 = a.evaluate_at(GOOD, 2)
    e4 = a.evaluate_at(GOOD, 4, start=2)  # continued from the state kept at 2 epochs
    b = _ranker(cifar10_dir, tmp_path / "b")
    f4 = b.evaluate_at(GOOD, 4)  # 4 epochs in one run, same cosine over 4 epochs
    wa, wb = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert e4.score == f4.score and e4.info["steps"] == f4.info["steps"]
    # the charge: only the added epochs were trained
    per_epoch = a.steps_per_epoch()
    assert e2.info["steps"] == 2 * per_epoch and e4.info["steps"] - e2.info["steps"] == 2 * per_epoch
    assert (e4.info["continued_from"], e4.info["epochs_trained"]) == (2, 2)
    assert (f4.info["continued_from"], f4.info["epochs_trained"]) == (0, 4)


def test_missing_state_restarts_and_a_recorded_state_is_recovered(cifar10_dir, tmp_path):
    r = _ranker(cifar10_dir, tmp_path / "s")
    ev = r.evaluate_at(GOOD, 2, start=1)  # nothing kept at 1 epoch: from scratch, charged in full
    assert ev.info["restarted"] and ev.info["epochs_trained"] == 2 and ev.info["continued_from"] == 0
    again = r.evaluate_at(GOOD, 2, start=1)  # a kill after the state, before the history line
    assert again.info["recovered"] and again.score == ev.score and again.seconds == ev.seconds
    r.release(GOOD)
    assert not list((tmp_path / "s").iterdir())
    with pytest.raises(NasrankError, match="1..4"):
        r.evaluate_at(GOOD, 5)


def _cli(out: Path, cifar10_dir: Path, queries: int, resume: bool = False) -> list[str]:
    base = [sys.executable, "-m", "nasrank.cli", "search"]
    if resume:
        return base + ["--resume", str(out), "--budget-queries", str(queries), "--quiet"]
    cfg = "epochs=4," + ",".join(f"{k}={v}" for k, v in TINY.items())
    return base + ["--space", "nb201", "--ranker", "train", "--ranker-cfg", cfg, "--data-dir", str(cifar10_dir),
                   "--device", "cpu", "--searcher", "sh", "--searcher-cfg", "eta=2,n=4", "--budget-queries",
                   str(queries), "--seed", "5", "--output", str(out), "--no-store", "--no-logs", "--quiet"]


def _records(out: Path) -> list[tuple]:
    lines = (out / "history.jsonl").read_text().splitlines()
    return [(d["arch"], d["fidelity"], d["score"], d["info"]["continued_from"]) for d in map(json.loads, lines)]


def test_sh_with_train_resumes_after_kill_minus_9(cifar10_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    full = tmp_path / "full"
    subprocess.run(_cli(full, cifar10_dir, 7), env=env, check=True, capture_output=True, timeout=600)
    want = _records(full)
    assert [f for _, f, _, _ in want] == [1.0] * 4 + [2.0] * 2 + [4.0]  # rungs 1, 2, 4 epochs
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(killed, cifar10_dir, 7), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        hist = killed / "history.jsonl"
        if hist.exists() and len(hist.read_text().splitlines()) >= 5:  # into the second rung
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len((killed / "history.jsonl").read_text().splitlines())
    assert 5 <= n_before < 7, "the run was not interrupted mid-search"
    subprocess.run(_cli(killed, cifar10_dir, 7, resume=True), env=env, check=True, capture_output=True, timeout=600)
    assert _records(killed) == want  # the same architectures, fidelities, scores and continuations


def test_state_folder_travels_to_ray_workers_but_a_private_temp_folder_does_not(cifar10_dir, tmp_path):
    import pickle

    r = _ranker(cifar10_dir, tmp_path / "run" / "fidelity_state")
    assert pickle.loads(pickle.dumps(r))._fidelity_dir == tmp_path / "run" / "fidelity_state"
    own = RANKERS.create("train", Nb201Space(), RunContext(data_dir=cifar10_dir), epochs=2, **TINY)
    private = own._state_dir()  # created on first use, in this process
    assert private.is_dir() and pickle.loads(pickle.dumps(own))._fidelity_dir is None
