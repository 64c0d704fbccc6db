"""``pool:DIR``: a scored pool (:mod:`nasrank.pool`) as a benchmark: its cells and their true accuracy.

The true accuracy is the ground-truth table's, as the manifest recorded it when the pool was made. The
pool's recorded scores and costs ride along (``benchmark.pool``) for the ``recorded`` ranker, and the
fingerprint covers them as well as the accuracies, so the result store keys a recorded ranker on what
the pool says.
"""
from __future__ import annotations

from pathlib import Path

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.errors import NasrankError
from nasrank.spaces.base import SearchSpace


class PoolBenchmark(Benchmark):
    """The cells of a scored pool (those every pool ranker has scored) with the true accuracy its manifest
    recorded."""

    def __init__(self, space: SearchSpace, folder: str | Path) -> None:
        from nasrank.pool.table import Pool

        super().__init__(space, f"pool:{folder}")
        self.pool = Pool.load(folder)
        dataset = self.pool.manifest["dataset"]
        for cell in self.pool.complete_cells():
            if cell.get("true_acc") is None:
                continue
            self._add(space.from_string(cell["arch"]), dataset, Record(float(cell["true_acc"])))
        if not self._table:
            raise NasrankError(f"pool {folder}: no cell is scored by every pool ranker and has a true accuracy")

    def coverage_warning(self, dataset: str) -> str | None:
        """None: a pool is the whole universe of the searches that replay it."""
        return None

    def fingerprint(self) -> str:
        import hashlib

        return hashlib.sha256(f"{super().fingerprint()}\t{self.pool.fingerprint()}".encode()).hexdigest()[:32]


def load_pool_benchmark(folder: str, space: SearchSpace) -> PoolBenchmark:
    """The ``pool:DIR`` benchmark for ``space`` (the pool's own space, or the pool-restricted space)."""
    return PoolBenchmark(getattr(space, "base", space), folder)
