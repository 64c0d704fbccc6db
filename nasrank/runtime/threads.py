"""How many threads torch's CPU kernels use: the cores this process may run on, unless the user says.

torch starts one intra-op thread per core of the machine, even when the
process is confined to fewer cores (``taskset``, a container's cpuset, a
batch scheduler). On a busy machine the extra threads fight each other: a
zero-cost proxy took 28 s per architecture with the default against 2.7 s
with one thread. :func:`limit_torch_threads` sets the count to

1. ``--threads N`` when given,
2. else nothing at all when ``OMP_NUM_THREADS`` is set (torch honours it),
3. else the number of cores in this process's CPU affinity mask.
"""
from __future__ import annotations

import os

from nasrank.errors import NasrankError


def available_cores() -> int:
    """Cores this process may run on (its affinity mask; ``os.cpu_count()`` where there is none)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(requested: int | None = None) -> tuple[int | None, str]:
    """``(threads, why)``: the count to set (None: leave torch alone) and where it comes from."""
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
            raise NasrankError(f"--threads must be a positive integer, got {requested!r}")
        return requested, "--threads"
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return None, "OMP_NUM_THREADS"
    return available_cores(), "cpu affinity"


def limit_torch_threads(requested: int | None = None) -> dict[str, object]:
    """Apply :func:`choose_threads` to torch; return ``{"torch_threads": n, "threads_from": why}``
    (for a run's provenance)."""
    import torch

    n, why = choose_threads(requested)
    if n is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return {"torch_threads": torch.get_num_threads(), "threads_from": why}
