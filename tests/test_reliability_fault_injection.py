"""Issue 15, done-when: SIGKILL a resume during its rewrite, many times at random points;
no finished evaluation is ever lost and the history always reopens.

Each round cuts the last line short (as a kill mid-append does), so the resume must rewrite
``history.jsonl``; a forked child resumes it (rewrite, then a few appends) and is SIGKILLed
at a random instant within its measured lifetime.
"""
from __future__ import annotations

import json
import os
import random
import signal
import time

from nasrank.runs.history import History, HistoryRecord

N_LINES = 6_000
ROUNDS = 60


def _record(step: int) -> str:
    return HistoryRecord(step, f"arch-{step}", float(step % 97), 1.0, 1.0, float(step + 1), None, "r",
                         {"pad": "x" * 40}).to_json()


def _child(folder) -> None:
    """Resume, then append five new evaluations, as a resumed search would."""
    try:
        h = History(folder, resume=True)
        for _ in range(5):
            n = len(h.records) + len(h._replay)
            h.records.extend(h._replay)
            h._replay = []
            h._next_step = max(h._next_step, n)
            h.append(f"arch-{n}", float(n % 97), 1.0, 1.0)
    finally:
        os._exit(0)


def _fork_resume(folder, kill_after: float | None) -> float:
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _child(folder)
    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return time.perf_counter() - t0


def test_sigkill_during_resume_rewrite_never_loses_a_finished_evaluation(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    path = folder / History.FILENAME
    path.write_text("".join(_record(i) + "\n" for i in range(N_LINES)))
    rng = random.Random(1234)
    with path.open("a") as fh:
        fh.write(_record(N_LINES)[:25])
    lifetime = _fork_resume(folder, None)  # one undisturbed resume: how long a child lives
    assert len(History.load(folder)) == N_LINES + 5
    finished = N_LINES + 5
    killed_during = 0
    t_end = time.time() + 15
    for _ in range(ROUNDS):
        if time.time() > t_end:
            break
        with path.open("a") as fh:  # a kill mid-append: the resume has to rewrite
            fh.write(_record(finished)[: rng.randint(1, 60)])
        before = path.stat().st_ino
        _fork_resume(folder, rng.uniform(0.0, lifetime * 1.2))
        killed_during += path.stat().st_ino == before  # the replace had not happened yet
        records = History.load(folder).records  # never raises, never loses a finished line
        steps = [r.step for r in records]
        assert steps[:finished] == list(range(finished)), "a finished evaluation was lost"
        assert len(steps) == len(set(steps))
        finished = len(records)
        assert not (folder / "history.jsonl.bad").exists()
    assert killed_during >= 3  # the kills did land before the rename in several rounds
    leftovers = [p for p in os.listdir(folder) if p.endswith(".tmp")]
    assert len(leftovers) <= 1  # a kill between write and rename leaves at most the newest temp file
    json.loads(path.read_text().splitlines()[0])
