"""The single-GPU experiments of ``training_overhead.py`` (issue 17, items 5 and 6), run only on a GPU.

* ``concurrency``: 1/4/8/16 processes each train the same cell with a bare loop on the one device,
  started together after their warm-up; total steps/s. (Without MPS the GPU time-slices them.)
* ``torch_compile``: eager vs ``torch.compile`` (``default``) vs ``reduce-overhead`` (CUDA graphs):
  compile cost (first steps minus their steady-state share), steady per-step time, and the run
  length in steps at which compiling pays (``None``: it never does).
* ``cuda_streams``: K candidates trained in one process, one after another vs each on its own
  CUDA stream; total steps/s.

Each experiment is skipped (recorded as such) once ``budget_s`` is spent. Run as a script only
as a worker of the concurrency experiment, or with ``smoke`` to exercise the code on the CPU at a
tiny scale (a check that it runs, not a measurement).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any, Callable

import torch
import torch.nn.functional as F

from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _setup(arch: str, scale: dict, dev: torch.device, seed: int = 0) -> tuple[Any, Callable[[], None]]:
    """A model, its optimizer and random data on ``dev``; returns (model, step function)."""
    torch.manual_seed(seed)
    model = Nb201Space().build(Nb201Arch.from_string(arch), num_classes=10, channels=scale["channels"],
                               cells_per_stage=scale["cells_per_stage"]).to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    b, s = scale["batch_size"], scale["image_size"]
    x, y = torch.randn(b, 3, s, s, device=dev), torch.randint(0, 10, (b,), device=dev)

    def step(net: Any = None) -> None:
        loss = F.cross_entropy((model if net is None else net)(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return model, step


def _time_steps(step: Callable[[], None], n: int, dev: torch.device) -> float:
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    _sync(dev)
    return (time.perf_counter() - t0) / n


# -- concurrency -------------------------------------------------------------------------------------
def worker(arch: str, scale: dict, seconds: float, device: str) -> int:
    """Warm up, say ready, wait for ``go`` on stdin, train for ``seconds``; print the steps done."""
    dev = torch.device(device)
    _, step = _setup(arch, scale, dev)
    for _ in range(5):
        step()
    _sync(dev)
    print("ready", flush=True)
    sys.stdin.readline()
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
        if n % 10 == 0:
            _sync(dev)
    _sync(dev)
    print(json.dumps({"steps": n, "seconds": time.perf_counter() - t0}), flush=True)
    return 0


def concurrency(arch: str, scale: dict, device: str, procs: tuple[int, ...], seconds: float) -> dict[str, Any]:
    """Total steps/s of ``p`` processes training at once, for each ``p`` in ``procs``."""
    out: dict[str, Any] = {}
    for p in procs:
        cmd = [sys.executable, __file__, "worker", arch, json.dumps(scale), str(seconds), device]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")])}
        workers = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
                   for _ in range(p)]
        try:
            for w in workers:
                assert w.stdout is not None and w.stdout.readline().strip() == "ready"
            for w in workers:
                assert w.stdin is not None
                w.stdin.write("go\n")
                w.stdin.flush()
            results = [json.loads(w.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1]) for w in workers]
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
        out[str(p)] = {"total_steps_per_s": sum(r["steps"] / r["seconds"] for r in results),
                       "per_process_steps_per_s": [r["steps"] / r["seconds"] for r in results]}
    return out


# -- torch.compile / CUDA graphs ----------------------------------------------------------------------
def compile_experiment(arch: str, scale: dict, dev: torch.device, steps: int, first: int = 3) -> dict[str, Any]:
    """Compile cost vs steady-state gain of ``torch.compile`` (default and reduce-overhead = CUDA graphs)."""
    _, step = _setup(arch, scale, dev)
    for _ in range(3):
        step()
    eager = _time_steps(step, steps, dev)
    out: dict[str, Any] = {"eager_step_s": eager, "steps_timed": steps}
    for mode in ("default", "reduce-overhead"):
        torch._dynamo.reset()
        model, step = _setup(arch, scale, dev)
        compiled = torch.compile(model, mode=mode)
        t_first = _time_steps(lambda: step(compiled), first, dev) * first  # includes compilation
        for _ in range(3):
            step(compiled)
        steady = _time_steps(lambda: step(compiled), steps, dev)
        cost = t_first - first * steady
        gain = eager - steady
        out[mode] = {"first_steps": first, "first_steps_s": t_first, "compile_cost_s": cost, "step_s": steady,
                     "gain_per_step_s": gain, "break_even_steps": cost / gain if gain > 0 else None}
    return out


# -- several candidates on CUDA streams ---------------------------------------------------------------
def streams_experiment(arch: str, scale: dict, dev: torch.device, k: int, steps: int) -> dict[str, Any]:
    """``k`` candidates, round-robin one step each: all on one stream vs each on its own stream."""
    steppers = [_setup(arch, scale, dev, seed=i)[1] for i in range(k)]
    for s in steppers:
        s()
    one = _time_steps(lambda: [s() for s in steppers], steps, dev)
    if dev.type != "cuda":
        return {"k": k, "one_stream_steps_per_s": k / one, "note": "no CUDA: streams not tried"}
    streams = [torch.cuda.Stream(dev) for _ in range(k)]

    def round_robin() -> None:
        for s, st in zip(steppers, streams):
            with torch.cuda.stream(st):
                s()

    round_robin()
    many = _time_steps(round_robin, steps, dev)
    return {"k": k, "one_stream_steps_per_s": k / one, "k_streams_steps_per_s": k / many, "speedup": one / many}


def gpu_experiments(arch: str, scale: dict, budget_s: float, device: str = "cuda",
                    procs: tuple[int, ...] = (1, 4, 8, 16), seconds: float = 10.0, steps: int = 30) -> dict[str, Any]:
    """All three experiments, each skipped once ``budget_s`` seconds are spent."""
    t0 = time.perf_counter()
    dev = torch.device(device)
    jobs: dict[str, Callable[[], dict[str, Any]]] = {
        "concurrency": lambda: concurrency(arch, scale, device, procs, seconds),
        "cuda_streams": lambda: streams_experiment(arch, scale, dev, 4, steps),
        "torch_compile": lambda: compile_experiment(arch, scale, dev, steps),
    }
    out: dict[str, Any] = {}
    for name, job in jobs.items():
        if time.perf_counter() - t0 > budget_s:
            out[name] = f"skipped: the GPU time budget ({budget_s:.0f} s) was spent"
            continue
        t1 = time.perf_counter()
        try:
            out[name] = {**job(), "wall_s": time.perf_counter() - t1}
        except Exception as exc:  # a failed experiment is a result too
            out[name] = f"failed: {type(exc).__name__}: {exc}"[:500]
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        a, sc, secs, devname = sys.argv[2:6]
        raise SystemExit(worker(a, json.loads(sc), float(secs), devname))
    if sys.argv[1:2] == ["smoke"]:
        tiny = {"channels": 4, "cells_per_stage": 1, "image_size": 8, "batch_size": 8}
        cell = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
        print(json.dumps(gpu_experiments(cell, tiny, 600, "cpu", procs=(1, 2), seconds=1.0, steps=3), indent=1))
        raise SystemExit(0)
    raise SystemExit("usage: _gpu_experiments.py worker ARCH SCALE_JSON SECONDS DEVICE | smoke")
