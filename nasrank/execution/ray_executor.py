"""``RayExecutor``: evaluate architectures on a Ray cluster (optional extra ``nasrank[ray]``).

The executor contract is the one of :class:`nasrank.execution.serial.SerialExecutor`:
``evaluate(ranker, archs)`` returns one :class:`~nasrank.rankers.base.Evaluation`
per architecture, in order. The ranker is shipped once (``ray.put``), not per
architecture, and one Ray task runs per architecture. Later batches with the
same ranker object (and the same config) reuse the shipped copy, and a worker
deserializes a shipped ranker once and keeps it, with whatever it loads (a
benchmark table, a dataset), for the next tasks: a ranker is not mutated after
construction (its constructor arguments are its config).

* Local mode (no ``address``): a private Ray instance with ``workers`` CPUs,
  so at most ``workers`` evaluations run at once. With ``address`` it attaches
  to an existing cluster, whose resources decide the parallelism.
* When the cluster has GPUs and the ranker's device is not ``cpu``, each task
  asks for ``gpus_per_task`` GPUs (1 by default: one candidate per GPU). A
  fraction packs several evaluations, in separate processes, on one GPU; without
  NVIDIA MPS those processes take turns on it (time-slicing), so this buys
  throughput only under MPS, and the executor warns.
* A task whose worker process dies (out of memory, a crash, a lost node) is
  retried up to ``max_retries`` times: its architecture is not lost. An
  exception raised by the ranker is not retried; it reaches the caller with its
  own type, as with the serial executor.
* Every worker runs torch with ``threads_per_worker`` threads (1 by default),
  so ``workers`` evaluations do not fight over the cores.

The asynchronous API (:meth:`submit` / :meth:`wait_one`, or
:meth:`evaluate_async`) hands results back in completion order; it drives
``evolution_async`` (:class:`~nasrank.searchers.async_evolution.AsyncRegularizedEvolution`).

On the command line: ``nasrank search --executor ray --workers N`` (random
search then proposes batches of N; ``--searcher evolution`` runs the
asynchronous variant, see :func:`searcher_for_executor`).
"""
from __future__ import annotations

import logging
import warnings
from collections import OrderedDict
from typing import Any, Hashable, Iterator, Sequence

from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker
from nasrank.spaces.base import Arch

INSTALL_HINT = 'the Ray executor needs the optional extra: pip install "nasrank[ray]"'


def import_ray():
    """Import ray, or raise a :class:`NasrankError` telling how to install it."""
    try:
        import ray
    except ImportError:
        raise NasrankError(INSTALL_HINT) from None
    return ray


# -- worker side -----------------------------------------------------------------
#: rankers already deserialized in this worker process, by object id (most recent last)
_WORKER_RANKERS: "OrderedDict[str, Ranker]" = OrderedDict()
_WORKER_CACHE_SIZE = 4


def _worker_ranker(boxed_ref: list) -> Ranker:
    """The ranker behind ``boxed_ref`` (a one-element list, so Ray does not resolve it for us)."""
    import ray

    ref = boxed_ref[0]
    key = ref.hex()
    ranker = _WORKER_RANKERS.get(key)
    if ranker is None:
        ranker = ray.get(ref)
        _WORKER_RANKERS[key] = ranker
        while len(_WORKER_RANKERS) > _WORKER_CACHE_SIZE:
            _WORKER_RANKERS.popitem(last=False)
    else:
        _WORKER_RANKERS.move_to_end(key)
    return ranker


def _evaluate_in_worker(boxed_ref: list, arch: Arch, threads: int) -> Evaluation:
    """Ray task body: score one architecture with the shipped ranker."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return _worker_ranker(boxed_ref).evaluate([arch])[0]


# -- driver side -----------------------------------------------------------------
class RayExecutor:
    """Evaluate architectures as Ray tasks, one per architecture (see the module docstring)."""

    def __init__(self, workers: int = 2, address: str | None = None, max_retries: int = 2,
                 gpus_per_task: float = 1.0, threads_per_worker: int = 1,
                 object_store_memory: int | None = None) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise NasrankError(f"--workers must be a positive integer, got {workers!r}")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise NasrankError(f"max_retries must be a non-negative integer, got {max_retries!r}")
        if not gpus_per_task > 0:
            raise NasrankError(f"gpus_per_task must be positive, got {gpus_per_task!r}")
        if gpus_per_task < 1:
            warnings.warn(f"gpus_per_task={gpus_per_task:g}: several evaluations share a GPU in separate processes; "
                          "without NVIDIA MPS they take turns on it (no throughput gain; see docs/guide.md on MPS)",
                          UserWarning, stacklevel=2)
        self.workers = workers
        self.address = address
        self.max_retries = max_retries
        self.gpus_per_task = float(gpus_per_task)
        self.threads_per_worker = max(1, int(threads_per_worker))
        self.object_store_memory = object_store_memory
        self._ray = import_ray()  # fail early, with the install hint
        self._started_ray = False
        self._remote = None
        self._gpus = 0.0
        self._shipped: tuple[Ranker, Any, Any] | None = None  # (ranker, (config hash, seed), ObjectRef)
        self._pending: dict[Any, tuple[Hashable, Arch]] = {}  # ObjectRef -> (token, arch)

    # -- Ray session ----------------------------------------------------------
    def start(self) -> "RayExecutor":
        """Start a local Ray instance (or attach to ``address``) unless Ray is already running."""
        ray = self._ray
        if not ray.is_initialized():
            from nasrank.runtime.quiet import silence_third_party

            silence_third_party()
            if self.address is None:
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING, object_store_memory=self.object_store_memory)
            else:
                ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
            self._started_ray = True
        if self._remote is None:
            self._remote = ray.remote(_evaluate_in_worker)
            self._gpus = float(ray.cluster_resources().get("GPU", 0.0))
        return self

    def close(self) -> None:
        """Cancel pending tasks; shut Ray down if this executor started it."""
        self.cancel()
        self._shipped = None
        if self._started_ray and self._ray.is_initialized():
            self._ray.shutdown()
        self._started_ray = False
        self._remote = None

    def __enter__(self) -> "RayExecutor":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def cluster_gpus(self) -> float:
        """GPUs of the Ray cluster (as seen when this executor started)."""
        self.start()
        return self._gpus

    def _task_options(self, ranker: Ranker) -> dict[str, Any]:
        device = getattr(getattr(ranker, "context", None), "device", "auto")
        gpus = self.gpus_per_task if device != "cpu" and self.cluster_gpus > 0 else 0
        return {"num_cpus": 1, "num_gpus": gpus, "max_retries": self.max_retries, "retry_exceptions": False}

    def _launch(self, ranker_ref: Any, arch: Arch, options: dict[str, Any]) -> Any:
        assert self._remote is not None
        return self._remote.options(**options).remote([ranker_ref], arch, self.threads_per_worker)

    def _get(self, refs: Sequence[Any], archs: Sequence[Arch]) -> list[Evaluation]:
        from ray.exceptions import RayTaskError, RayError

        try:
            return list(self._ray.get(list(refs)))
        except RayTaskError as exc:  # the ranker raised: re-raise its own exception
            cause = getattr(exc, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from None
            raise
        except RayError as exc:  # the worker died more than max_retries times, or the cluster went away
            names = ", ".join(str(a) for a in archs[:3]) + (" ..." if len(archs) > 3 else "")
            raise NasrankError(f"Ray could not evaluate {names} ({type(exc).__name__} after "
                               f"{self.max_retries} retries): {str(exc).splitlines()[0] if str(exc) else ''}") from exc

    def _ship(self, ranker: Ranker) -> Any:
        """``ray.put`` the ranker, unless this very ranker object (same config, same context seed) was
        shipped last (``nasrank evaluate --repeats`` changes the seed between passes)."""
        h = (ranker.config_hash() if hasattr(ranker, "config_hash") else None,
             getattr(getattr(ranker, "context", None), "seed", None))
        if self._shipped is None or self._shipped[0] is not ranker or self._shipped[1] != h:
            self._shipped = (ranker, h, self._ray.put(ranker))
        return self._shipped[2]

    # -- the executor contract ------------------------------------------------
    def evaluate(self, ranker: Ranker, archs: Sequence[Arch]) -> list[Evaluation]:
        """Evaluate ``archs`` in parallel; results in the same order."""
        archs = list(archs)
        if not archs:
            return []
        self.start()
        ref = self._ship(ranker)
        opts = self._task_options(ranker)
        refs = [self._launch(ref, a, opts) for a in archs]
        return self._get(refs, archs)

    # -- asynchronous API ------------------------------------------------------
    def submit(self, ranker: Ranker, arch: Arch, token: Hashable | None = None) -> Hashable:
        """Start evaluating ``arch``; :meth:`wait_one` returns ``(token, Evaluation)`` when done."""
        self.start()
        ref = self._launch(self._ship(ranker), arch, self._task_options(ranker))
        token = ref if token is None else token
        self._pending[ref] = (token, arch)
        return token

    @property
    def pending(self) -> int:
        """Number of submitted evaluations not yet returned by :meth:`wait_one`."""
        return len(self._pending)

    def wait_one(self, timeout: float | None = None) -> tuple[Hashable, Evaluation]:
        """Block until one submitted evaluation finishes; return ``(token, Evaluation)``.

        Raises :class:`TimeoutError` if ``timeout`` seconds pass first.
        """
        if not self._pending:
            raise NasrankError("wait_one() called with no evaluation pending")
        done, _ = self._ray.wait(list(self._pending), num_returns=1, timeout=timeout)
        if not done:
            raise TimeoutError(f"no evaluation finished within {timeout} s")
        ref = done[0]
        token, arch = self._pending.pop(ref)
        return token, self._get([ref], [arch])[0]

    def cancel(self) -> None:
        """Cancel every pending evaluation (their results are dropped)."""
        if self._pending and self._ray.is_initialized():
            for ref in list(self._pending):
                try:
                    self._ray.cancel(ref, force=True)
                except Exception:  # already finished, or the worker is gone
                    pass
        self._pending.clear()

    def evaluate_async(self, ranker: Ranker, archs: Sequence[Arch]) -> Iterator[tuple[int, Evaluation]]:
        """Evaluate ``archs``; yield ``(index, Evaluation)`` in completion order."""
        for i, a in enumerate(archs):
            self.submit(ranker, a, token=("evaluate_async", i))
        remaining = len(archs)
        while remaining:
            (_, i), ev = self.wait_one()
            remaining -= 1
            yield i, ev


def searcher_for_executor(name: str, cfg: dict[str, Any], workers: int) -> tuple[str, dict[str, Any]]:
    """Adapt a searcher choice to a parallel executor with ``workers`` workers: the searcher's own
    :meth:`~nasrank.searchers.base.Searcher.parallel_variant` (``random`` proposes batches of
    ``workers``, ``evolution`` becomes ``evolution_async``; others are unchanged)."""
    from nasrank.registry import SEARCHERS

    return SEARCHERS.get(name).parallel_variant(name, dict(cfg), workers)
