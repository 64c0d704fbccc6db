"""A one-dataset table held as columns: records, keys and architectures made on demand.

The embedded table has 15,625 rows. Building a :class:`~nasrank.benchmarks.base.Record`, a key
and an architecture object per row costs more than a whole tabular search, so
:class:`ColumnBenchmark` keeps a float64 accuracy array and three functions (row -> arch,
row -> key, key -> row), and answers the :class:`Benchmark` queries from them. Its answers,
and its :meth:`fingerprint`, are those of a row-by-row :class:`Benchmark` of the same rows.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Callable, Hashable, Iterator

import numpy as np

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.spaces.base import Arch, SearchSpace


class _Rows(Mapping):
    """``key -> make(row)`` over the rows of a :class:`ColumnBenchmark`, in row order."""

    def __init__(self, bench: "ColumnBenchmark", make: Callable[[int], object]) -> None:
        self._bench, self._make = bench, make

    def __getitem__(self, key: Hashable) -> object:
        row = self._bench.locate(key)
        if row is None:
            raise KeyError(key)
        return self._make(row)

    def __contains__(self, key: object) -> bool:
        return self._bench.locate(key) is not None

    def __iter__(self) -> Iterator[Hashable]:
        return (self._bench.key_of(i) for i in range(len(self._bench.accuracy)))

    def __len__(self) -> int:
        return len(self._bench.accuracy)


class ColumnBenchmark(Benchmark):
    """Accuracies (%) of one dataset: row ``i`` is ``arch_of(i)``, whose ``space.key`` is ``key_of(i)``;
    ``row_of(arch)`` is the row of an architecture (None: not in the table). ``fingerprint``, when
    given, is what :meth:`fingerprint` computes from these columns (a caller that has checked them
    may pass it)."""

    def __init__(self, space: SearchSpace, source: str, dataset: str, accuracy: np.ndarray,
                 rows: tuple[Callable[[int], Arch], Callable[[int], Hashable], Callable[[Arch], int | None]],
                 fingerprint: str | None = None) -> None:
        super().__init__(space, source)
        self.accuracy = np.asarray(accuracy, dtype=np.float64)
        self.arch_of, self.key_of, self.row_of = rows
        self._table = {dataset: _Rows(self, lambda i: Record(float(self.accuracy[i])))}  # type: ignore[dict-item]
        self._archs = _Rows(self, self.arch_of)  # type: ignore[assignment]
        self._fingerprint = fingerprint

    def locate(self, key: Hashable) -> int | None:
        """The row of ``key`` (None: not a key of this table)."""
        try:
            arch = self.space.from_string(key) if isinstance(key, str) else None
        except (ValueError, TypeError):  # NasrankError is a ValueError
            return None
        return None if arch is None or self.space.key(arch) != key else self.row_of(arch)

    def _add(self, arch: Arch, dataset: str, record: Record) -> None:
        raise TypeError("a ColumnBenchmark is read-only")

    def record(self, arch: Arch, dataset: str = "cifar10") -> Record | None:
        self._records(dataset)
        row = self.row_of(arch)
        if row is None:  # not in the table: the mean of the isomorphic ones it holds, as any Benchmark
            return super().record(arch, dataset)
        return Record(float(self.accuracy[row]))

    def metric_keys(self, dataset: str = "cifar10") -> list[str]:
        self._records(dataset)  # an unknown dataset is the same clear error
        return []  # one schedule: the reported test accuracy only

    def archs(self, dataset: str = "cifar10") -> list[Arch]:
        self._records(dataset)
        return [self.arch_of(i) for i in range(len(self.accuracy))]

    def best(self, dataset: str = "cifar10") -> tuple[Arch, float]:
        self._records(dataset)
        i = int(np.argmax(self.accuracy))  # the first maximum, as max() over the rows in order
        return self.arch_of(i), float(self.accuracy[i])

    def true_rank(self, arch: Arch, dataset: str = "cifar10") -> int | None:
        acc = self.true_accuracy(arch, dataset)
        return None if acc is None else 1 + int(np.count_nonzero(self.accuracy > acc))

    def fingerprint(self) -> str:
        """:meth:`Benchmark.fingerprint` of the same rows (no training times, no metrics)."""
        if self._fingerprint is None:
            self._fingerprint = column_fingerprint(self)
        return self._fingerprint


def column_fingerprint(bench: ColumnBenchmark) -> str:
    """:meth:`Benchmark.fingerprint` computed from the columns (every key and accuracy, in sorted order)."""
    (ds,) = bench._table
    keys = (bench.key_of(i) for i in range(len(bench.accuracy)))
    lines = sorted(f"{k!r}\t{a!r}\t[]\t[]\t[]" for k, a in zip(keys, bench.accuracy.tolist()))
    return hashlib.sha256("".join(f"{ds}\t{line}\n" for line in lines).encode()).hexdigest()[:32]
