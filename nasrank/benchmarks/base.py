"""The ground-truth :class:`Benchmark` interface."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Hashable

from nasrank.errors import NasrankError
from nasrank.spaces.base import Arch, SearchSpace


@dataclass
class Record:
    """What a benchmark knows of one architecture on one dataset."""

    accuracy: float
    train_seconds: dict[int, float] = field(default_factory=dict)  # epochs -> seconds
    extra: dict[str, Any] = field(default_factory=dict)


class Benchmark:
    """A table of true accuracies keyed by the space's architecture key.

    Backends fill ``self._table[dataset][key] = Record``. ``source`` labels
    where the numbers come from and is printed wherever they are shown.
    :meth:`fingerprint` hashes the loaded records (never the path), so the
    result store keys benchmark-reading rankers on what the table says.
    """

    source: str = "benchmark"

    def __init__(self, space: SearchSpace, source: str) -> None:
        self.space = space
        self.source = source
        self._table: dict[str, dict[Hashable, Record]] = {}
        self._archs: dict[Hashable, Arch] = {}

    # -- filling ------------------------------------------------------------
    def _add(self, arch: Arch, dataset: str, record: Record) -> None:
        k = self.space.key(arch)
        self._by_canonical = None
        self._fingerprint = None
        self._table.setdefault(dataset, {})[k] = record
        self._archs.setdefault(k, arch)

    # -- queries ------------------------------------------------------------
    @property
    def datasets(self) -> list[str]:
        return sorted(self._table)

    def _records(self, dataset: str) -> dict[Hashable, Record]:
        if dataset not in self._table:
            raise NasrankError(f"benchmark {self.source!r} has no dataset {dataset!r}; it has: {', '.join(self.datasets)}")
        return self._table[dataset]

    def record(self, arch: Arch, dataset: str = "cifar10") -> Record | None:
        """The record of ``arch``; if the table lacks this exact form but holds
        isomorphic architectures (same canonical key), their mean accuracy."""
        recs = self._records(dataset)
        rec = recs.get(self.space.key(arch))
        if rec is not None:
            return rec
        members = [recs[k] for k in self._canonical_index().get(self.space.canonical_key(arch), ()) if k in recs]
        if not members:
            return None
        return Record(sum(r.accuracy for r in members) / len(members), {}, {"isomorphic_records": len(members)})

    def _canonical_index(self) -> dict[Hashable, list[Hashable]]:
        if getattr(self, "_by_canonical", None) is None:
            index: dict[Hashable, list[Hashable]] = {}
            for k, arch in self._archs.items():
                index.setdefault(self.space.canonical_key(arch), []).append(k)
            self._by_canonical = index
        return self._by_canonical

    def true_accuracy(self, arch: Arch, dataset: str = "cifar10") -> float | None:
        """True test accuracy (%) of ``arch``, or ``None`` if the table lacks it."""
        rec = self.record(arch, dataset)
        return None if rec is None else rec.accuracy

    def training_seconds(self, arch: Arch, dataset: str = "cifar10", epochs: int = 200) -> float | None:
        """Recorded training time of ``arch`` for ``epochs``, or ``None``."""
        rec = self.record(arch, dataset)
        if rec is None:
            return None
        return rec.train_seconds.get(epochs)

    def archs(self, dataset: str = "cifar10") -> list[Arch]:
        """Every architecture with a known accuracy on ``dataset``, in table order."""
        return [self._archs[k] for k in self._records(dataset)]

    def __len__(self) -> int:
        return len(self._archs)

    def best(self, dataset: str = "cifar10") -> tuple[Arch, float]:
        recs = self._records(dataset)
        k = max(recs, key=lambda key: recs[key].accuracy)
        return self._archs[k], recs[k].accuracy

    def true_rank(self, arch: Arch, dataset: str = "cifar10") -> int | None:
        """1-based rank of ``arch`` among all known architectures (1 = best)."""
        acc = self.true_accuracy(arch, dataset)
        if acc is None:
            return None
        return 1 + sum(r.accuracy > acc for r in self._records(dataset).values())

    def fingerprint(self) -> str:
        """A SHA-256 (hex, 32 chars) of every loaded record: dataset, key, accuracy and
        recorded training times, in a fixed order. The same rows give the same
        fingerprint wherever the file lies; one changed accuracy gives another."""
        fp = getattr(self, "_fingerprint", None)
        if fp is None:
            h = hashlib.sha256()
            for ds in sorted(self._table):
                recs = self._table[ds]
                for line in sorted(f"{k!r}\t{r.accuracy!r}\t{sorted(r.train_seconds.items())!r}"
                                   for k, r in recs.items()):
                    h.update(f"{ds}\t{line}\n".encode())
            fp = self._fingerprint = h.hexdigest()[:32]
        return fp

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "n_archs": len(self), "datasets": self.datasets}

