"""How many threads torch's CPU kernels use: the cores this process may run on, unless the user says.

torch starts one intra-op thread per core of the machine, even when the
process is confined to fewer cores (``taskset``, a container's cpuset, a
batch scheduler). On a busy machine the extra threads fight each other: a
zero-cost proxy took 28 s per architecture with the default against 2.7 s
with one thread. :func:`limit_torch_threads` sets the count to

1. ``--threads N`` when given,
2. else nothing at all when ``OMP_NUM_THREADS`` is set (torch honours it),
3. else the number of cores in this process's CPU affinity mask.

A process that has not imported torch (a tabular search) does not import it for
this: the count is applied when torch is first imported (:class:`_ApplyOnImport`).
"""
from __future__ import annotations

import os
import sys
from typing import Any

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
    (for a run's provenance). Without torch loaded, the count is set when torch is imported
    (``torch_threads`` is then the count it will get, or None when torch is left alone)."""
    n, why = choose_threads(requested)
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "set_num_threads"):
        if n is not None:
            _ApplyOnImport.install(n)
        return {"torch_threads": n, "threads_from": why}
    _set_threads(torch, n)
    return {"torch_threads": torch.get_num_threads(), "threads_from": why}


def _set_threads(torch: Any, n: int | None) -> None:
    if n is not None and torch.get_num_threads() != n:
        torch.set_num_threads(n)


class _ApplyOnImport:
    """A meta path finder that sets torch's thread count right after ``import torch`` runs (once),
    without importing it now."""

    threads: int | None = None

    @classmethod
    def install(cls, n: int) -> None:
        cls.threads = n
        if not any(isinstance(f, cls) for f in sys.meta_path):
            sys.meta_path.insert(0, cls())

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "torch":
            return None
        sys.meta_path.remove(self)  # the real finders locate torch; this one only wraps its loader
        spec = next((s for f in sys.meta_path if hasattr(f, "find_spec")
                     for s in [f.find_spec(name, path, target)] if s is not None), None)
        if spec is None or spec.loader is None:
            return spec
        loader, threads = spec.loader, type(self).threads

        class _Loader:  # (a plain loader: importlib.abc would load importlib.resources)
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                module.__loader__ = module.__spec__.loader = loader  # torch sees its own loader
                loader.exec_module(module)
                _set_threads(module, threads)

        spec.loader = _Loader()
        return spec
