"""What nasrank's training path costs per optimizer step, against a bare PyTorch loop (issue 17).

Per NB201 cell (big: six 3x3 convolutions; mid; small: pool/skip/1x1) it measures

* ``bare``: the per-step time of a hand-written loop (SGD Nesterov, the NB201 recipe, random data
  already on the device), fp32 and bf16 autocast;
* ``ranker``: the ``train`` ranker's per-step time inside ``trainer.fit`` (steady state: the steps
  after its first epoch, on the shared CIFAR-10 subset), ``32-true`` and ``bf16-mixed``, its
  whole ``evaluate`` time per step, and the fixed cost per candidate that the steps do not
  explain (data module, build, Trainer, fit start-up, validation);
* ``fear_stage2``: FEAR's cached stage 2, per step (feature caching reported apart);
* ``zero_shot``: seconds per architecture of the ``zero_shot`` ranker (8 measures) and of ``synflow``.

Bare and ranker runs alternate, ``--repeats`` times, so that load drift from other processes hits
both alike; the JSON keeps every repeat and reports medians and the median of the paired ratios.
Step times are wall time (after a device sync) on a GPU, and the process's CPU time on the CPU
(see :func:`clock`); ``evaluate_s`` is always wall time.

On a GPU it also runs (``benchmarks/_gpu_experiments.py``) the concurrency experiment (1/4/8/16
processes training the mid cell at once), ``torch.compile`` (default and ``reduce-overhead``, i.e.
CUDA graphs: compile cost, steady-state gain, break-even steps) and several candidates on separate
CUDA streams in one process. On the CPU those are recorded as not measured.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/training_overhead.py --scale cpu      # CPU target
    .venv/bin/python benchmarks/training_overhead.py --device auto --scale full          # on a GPU

Scales: ``cpu`` = C=8, N=1, 16 px, batch 128, one thread; ``full`` = C=16, N=5, 32 px, batch 256.
Targets (issue 17): ranker/bare <= 1.10 on the CPU scale; <= 1.15 and zero_shot <= 0.25 s per
architecture on a GPU at full scale.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, write_result  # noqa: E402

import lightning as L  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import nasrank.rankers  # noqa: E402,F401
import nasrank.rankers.zero_shot  # noqa: E402,F401
from nasrank.rankers.base import RunContext  # noqa: E402
from nasrank.registry import RANKERS  # noqa: E402
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space  # noqa: E402

CELLS = {
    "big": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "mid": "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "small": "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|skip_connect~1|nor_conv_1x1~2|",
}
SCALES = {
    "cpu": {"channels": 8, "cells_per_stage": 1, "image_size": 16, "batch_size": 128},
    "full": {"channels": 16, "cells_per_stage": 5, "image_size": 32, "batch_size": 256},
}
NOT_MEASURED = "not measured (needs a CUDA GPU; none on this machine)"


def accelerator(device: str) -> str:
    """``auto`` -> ``gpu`` when CUDA is present, else ``cpu``."""
    if device == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    return device


def torch_device(acc: str) -> torch.device:
    return torch.device("cuda" if acc == "gpu" else "cpu")


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def build(cell: str, scale: dict, dev: torch.device) -> torch.nn.Module:
    space = Nb201Space()
    return space.build(Nb201Arch.from_string(CELLS[cell]), num_classes=10, channels=scale["channels"],
                       cells_per_stage=scale["cells_per_stage"]).to(dev)


def clock(dev: torch.device) -> float:
    """Wall time on a GPU; on the CPU this process's CPU time, which other processes' load does not inflate.

    (With one torch thread and no loader workers the two agree on a quiet machine; on a shared
    one the wall time of a step grows with everyone else's load, its CPU time does not.)
    """
    return time.perf_counter() if dev.type == "cuda" else time.process_time()


def bare_step_seconds(cell: str, scale: dict, dev: torch.device, steps: int, bf16: bool = False,
                      channels_last: bool = False, warmup: int = 3) -> float:
    """Seconds per step of a hand-written training loop on random data held on the device."""
    torch.manual_seed(0)
    model = build(cell, scale, dev)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    b, s = scale["batch_size"], scale["image_size"]
    x = torch.randn(b, 3, s, s, device=dev).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (b,), device=dev)

    def step() -> None:
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    sync(dev)
    t0 = clock(dev)
    for _ in range(steps):
        step()
    sync(dev)
    return (clock(dev) - t0) / steps


class StepTimer(L.Callback):
    """:func:`clock` time of the optimizer steps after the first ``skip`` ones, up to the end of ``fit``."""

    def __init__(self, skip: int) -> None:
        self.skip = skip
        self.t0: float | None = None
        self.step0 = 0
        self.seconds = float("nan")
        self.steps = 0

    def on_train_batch_start(self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        if self.t0 is None and trainer.global_step >= self.skip:
            sync(module.device)
            self.t0, self.step0 = clock(module.device), trainer.global_step

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.t0 is not None:
            sync(module.device)
            self.seconds = clock(module.device) - self.t0
            self.steps = trainer.global_step - self.step0

    @property
    def per_step(self) -> float:
        return self.seconds / self.steps if self.steps else float("nan")


def with_timer(ranker: Any, timer: StepTimer) -> None:
    """Make every Trainer the ranker builds carry ``timer`` (the ranker's own code path is unchanged)."""
    build_trainer = ranker.trainer

    def trainer(*a: Any, callbacks: Any = (), **k: Any) -> L.Trainer:
        return build_trainer(*a, callbacks=[*callbacks, timer], **k)

    ranker.trainer = trainer


def ranker_step_seconds(cell: str, scale: dict, acc: str, precision: str, epochs: int,
                        train_fraction: float) -> dict[str, float]:
    """The ``train`` ranker on the shared subset: steady per-step time and whole evaluate time per step."""
    space = Nb201Space()
    ctx = RunContext(data_dir=str(SHARED / "cifar10"), device=acc, seed=0)
    ranker = RANKERS.create("train", space, ctx, epochs=epochs, precision=precision, train_fraction=train_fraction,
                            **scale)
    timer = StepTimer(skip=ranker.steps_per_epoch())
    with_timer(ranker, timer)
    dev = torch_device(acc)
    t0 = clock(dev)
    (ev,) = ranker.evaluate([Nb201Arch.from_string(CELLS[cell])])
    total = clock(dev) - t0
    steps = ev.info["steps"]
    return {"step_s": timer.per_step, "timed_steps": timer.steps, "evaluate_s_per_step": total / steps,
            "fixed_s_per_candidate": total - steps * timer.per_step, "evaluate_wall_s": ev.seconds, "steps": steps}


def fear_stage2_seconds(cell: str, scale: dict, acc: str, epochs: int) -> dict[str, float]:
    """FEAR's cached stage 2 (default batch 1024) on an untrained network: per-step time and caching time."""
    space = Nb201Space()
    ctx = RunContext(data_dir=str(SHARED / "cifar10"), device=acc, seed=0)
    fear = RANKERS.create("fear", space, ctx, stage2_epochs=epochs, **scale)
    timer = StepTimer(skip=1)
    with_timer(fear, timer)
    fear.seed_run()
    model = fear.build(Nb201Arch.from_string(CELLS[cell])).to(torch_device(acc))
    t0 = clock(torch_device(acc))
    out = fear.stage2_cached(model, fear.tail(model), "bench")
    total = clock(torch_device(acc)) - t0
    return {"step_s": timer.per_step, "timed_steps": timer.steps, "steps": out["stage2_steps"],
            "cache_wall_s": out["stage2_cache_seconds"], "stage2_total_s": total}


def zero_shot_seconds(scale: dict, acc: str, repeats: int) -> dict[str, Any]:
    """:func:`clock` seconds per architecture (the three cells, ``repeats`` times, after a warm-up call)."""
    space = Nb201Space()
    ctx = RunContext(data_dir=str(SHARED / "cifar10"), device=acc, seed=0)
    build_kwargs = {"channels": scale["channels"], "cells_per_stage": scale["cells_per_stage"]}
    archs = [Nb201Arch.from_string(c) for c in CELLS.values()]
    out: dict[str, Any] = {}
    for name in ("zero_shot", "synflow"):
        ranker = RANKERS.create(name, space, ctx, build_kwargs=build_kwargs)
        ranker.evaluate(archs[:1])  # warm-up: data, kernels
        secs = []
        for _ in range(repeats):
            for arch in archs:
                t0 = clock(torch_device(acc))
                ranker.evaluate([arch])
                secs.append(clock(torch_device(acc)) - t0)
        out[name] = {"median_s_per_arch": statistics.median(secs), "all_s": secs}
    return out


def trainer_construction_seconds(acc: str, n: int = 20) -> float:
    """:func:`clock` seconds to build one Trainer the way every ranker run does."""
    from nasrank.lightning_modules.classification import make_trainer

    ctx = RunContext(device=acc)
    make_trainer(ctx, 1)
    t0 = clock(torch_device(acc))
    for _ in range(n):
        make_trainer(ctx, 1)
    return (clock(torch_device(acc)) - t0) / n


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def measure_cell(cell: str, args: argparse.Namespace, acc: str) -> dict[str, Any]:
    """Interleaved repeats of bare and ranker steps (fp32 and bf16) for one cell."""
    scale, dev = SCALES[args.scale], torch_device(acc)
    rows: list[dict[str, Any]] = []
    for r in range(args.repeats):
        row: dict[str, Any] = {"repeat": r}
        for prec, bf16 in (("32-true", False), ("bf16-mixed", True)):
            if prec not in args.precisions:
                continue
            row[f"bare_{prec}_s"] = bare_step_seconds(cell, scale, dev, args.bare_steps, bf16=bf16)
            rk = ranker_step_seconds(cell, scale, acc, prec, args.epochs, args.train_fraction)
            row[f"ranker_{prec}"] = rk
            row[f"ratio_{prec}"] = rk["step_s"] / row[f"bare_{prec}_s"]
        rows.append(row)
        print(f"  {cell} repeat {r}: " + ", ".join(f"{k}={v:.3f}" for k, v in row.items() if k.startswith("ratio")),
              flush=True)
    out: dict[str, Any] = {"arch": CELLS[cell], "repeats": rows}
    for prec in args.precisions:
        bare = [row[f"bare_{prec}_s"] for row in rows]
        rank = [row[f"ranker_{prec}"]["step_s"] for row in rows]
        out[prec] = {"bare_step_s": median(bare), "ranker_step_s": median(rank),
                     "ranker_evaluate_s_per_step": median([row[f"ranker_{prec}"]["evaluate_s_per_step"] for row in rows]),
                     "ranker_fixed_s_per_candidate": median([row[f"ranker_{prec}"]["fixed_s_per_candidate"]
                                                             for row in rows]),
                     "ratio_median_of_pairs": median([row[f"ratio_{prec}"] for row in rows]),
                     "ratio_of_medians": median(rank) / median(bare)}
    if dev.type == "cuda":
        out["bare_bf16_channels_last_step_s"] = bare_step_seconds(cell, scale, dev, args.bare_steps, bf16=True,
                                                                  channels_last=True)
    out["fear_stage2"] = fear_stage2_seconds(cell, scale, acc, args.stage2_epochs)
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    ap.add_argument("--scale", default="cpu", choices=list(SCALES))
    ap.add_argument("--cells", default="big,mid,small")
    ap.add_argument("--repeats", type=int, default=None, help="default: 5 on the cpu scale, 3 on full")
    ap.add_argument("--bare-steps", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=3, help="train ranker epochs (the first is not timed)")
    ap.add_argument("--train-fraction", type=float, default=None,
                    help="of the shared CIFAR-10 subset's training split (default: 0.25 on cpu, 1.0 on full)")
    ap.add_argument("--stage2-epochs", type=int, default=4)
    ap.add_argument("--precisions", default="32-true,bf16-mixed")
    ap.add_argument("--zero-shot-repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: 1 on the cpu scale)")
    ap.add_argument("--gpu-budget-s", type=float, default=240.0,
                    help="seconds left for the GPU-only experiments (each is skipped once this is spent)")
    ap.add_argument("--out", default=None, help="result name (default training_overhead_<device>)")
    args = ap.parse_args(argv)
    args.repeats = args.repeats or (5 if args.scale == "cpu" else 3)
    args.train_fraction = args.train_fraction or (0.25 if args.scale == "cpu" else 1.0)
    args.precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    args.cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in args.cells if c not in CELLS]
    if unknown:
        ap.error(f"unknown cell(s) {', '.join(unknown)}; choose from {', '.join(CELLS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    acc = accelerator(args.device)
    if args.threads or args.scale == "cpu":
        torch.set_num_threads(args.threads or 1)
    t_start = time.perf_counter()
    cells = {}
    for cell in args.cells:
        print(f"cell {cell}", flush=True)
        cells[cell] = measure_cell(cell, args, acc)
    zs = zero_shot_seconds(SCALES[args.scale], acc, args.zero_shot_repeats)
    if acc == "gpu":
        from _gpu_experiments import gpu_experiments

        gpu = gpu_experiments(CELLS["mid"], SCALES[args.scale], args.gpu_budget_s)
    else:
        gpu = {k: NOT_MEASURED for k in ("concurrency", "torch_compile", "cuda_streams")}
    summary = {cell: {p: round(c[p]["ratio_median_of_pairs"], 3) for p in args.precisions} for cell, c in cells.items()}
    payload = {"settings": {**vars(args), "scale_settings": SCALES[args.scale], "accelerator": acc},
               "summary_ranker_over_bare": summary, "cells": cells, "zero_shot": zs, "gpu_only": gpu,
               "trainer_construction_s": trainer_construction_seconds(acc),
               "wall_s": time.perf_counter() - t_start}
    write_result(args.out or f"training_overhead_{'gpu' if acc == 'gpu' else 'cpu'}", payload,
                 sample=f"cells {', '.join(args.cells)}; {args.repeats} interleaved repeats each")
    print("ranker/bare (median of paired repeats):", summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
