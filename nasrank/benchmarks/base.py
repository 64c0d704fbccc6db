"""The ground-truth :class:`Benchmark` interface.

A record's ``accuracy`` is what is *reported*: the test accuracy after the
benchmark's full schedule (200 epochs on NB201/NATS). Benchmarks that hold more
(NATS: validation and test accuracy after 12 and 200 epochs) also fill
``metrics`` (``"valid@12"``, ``"test@200"``, ...) and the training time behind
each (``metric_seconds``), so that a search can be run on one signal (the
NB201/NATS protocol searches on validation accuracy) and reported on another.
"""
from __future__ import annotations

import hashlib
import sys
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
    metrics: dict[str, float] = field(default_factory=dict)  # "valid@12" -> accuracy (%)
    metric_seconds: dict[str, float] = field(default_factory=dict)  # "valid@12" -> training seconds behind it


#: the accuracy kinds a search may use
METRICS = ("test", "valid")


def metric_key(metric: str, epochs: int | None = None) -> str:
    """``("valid", 12)`` -> ``"valid@12"``; ``("test", None)`` -> ``"test"``."""
    return metric if epochs is None else f"{metric}@{int(epochs)}"


def _mean_record(members: list[Record]) -> Record:
    """The mean of isomorphic records (accuracy and every metric all members hold)."""
    n = len(members)
    keys = set.intersection(*(set(r.metrics) for r in members))
    return Record(sum(r.accuracy for r in members) / n, {}, {"isomorphic_records": n},
                  {k: sum(r.metrics[k] for r in members) / n for k in keys})


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
        #: a table without a dataset column serves whatever dataset is asked for
        self.any_dataset = False
        self._warned: set[str] = set()

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
        if self.any_dataset and len(self._table) == 1:
            return next(iter(self._table.values()))
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
        return _mean_record(members)

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

    def metric_keys(self, dataset: str = "cifar10") -> list[str]:
        """The accuracies this benchmark holds besides the reported one (``"valid@12"``, ...)."""
        keys: set[str] = set()
        for rec in self._records(dataset).values():
            keys.update(rec.metrics)
        return sorted(keys)

    def has_metric(self, dataset: str, metric: str, epochs: int | None) -> bool:
        """Whether :meth:`metric_accuracy` can answer ``metric`` after ``epochs`` on ``dataset``."""
        keys = self.metric_keys(dataset)
        if metric_key(metric, epochs) in keys:
            return True
        # a table of one unnamed schedule: its test accuracy answers test at any epochs
        return metric == "test" and not any("@" in k for k in keys)

    def metric_accuracy(self, arch: Arch, dataset: str = "cifar10", metric: str = "test",
                        epochs: int | None = None) -> float | None:
        """``metric`` (test/valid) accuracy of ``arch`` after ``epochs``, or ``None`` if the table lacks it.

        ``("test", None)`` is the reported accuracy (:meth:`true_accuracy`).
        """
        rec = self.record(arch, dataset)
        if rec is None:
            return None
        key = metric_key(metric, epochs)
        if key in rec.metrics:
            return rec.metrics[key]
        if metric == "test" and (epochs is None or not any("@" in k for k in rec.metrics)):
            return rec.accuracy
        return None

    def training_seconds(self, arch: Arch, dataset: str = "cifar10", epochs: int = 200,
                         metric: str = "test") -> float | None:
        """Recorded training time of ``arch`` behind ``metric`` after ``epochs``, or ``None``."""
        rec = self.record(arch, dataset)
        if rec is None:
            return None
        recorded = rec.metric_seconds.get(metric_key(metric, epochs))
        return recorded if recorded is not None else rec.train_seconds.get(epochs)

    def coverage_warning(self, dataset: str) -> str | None:
        """A one-line warning when the table covers fewer architectures than the space (else ``None``)."""
        size = getattr(self.space, "size", None)
        try:
            n = len(self._records(dataset))
        except NasrankError:
            return None
        if size is None or n >= size:
            return None
        approx = "about " if getattr(self.space, "size_is_estimate", False) else ""
        return (f"benchmark {self.source} covers {n:,} of {approx}{size:,} {self.space.registry_name} architectures "
                f"on {dataset}; the others have no true accuracy (the tabular ranker scores them NaN)")

    def warn_coverage(self, dataset: str) -> None:
        """Print :meth:`coverage_warning` to stderr, once per benchmark and dataset."""
        msg = self.coverage_warning(dataset)
        if msg and dataset not in self._warned:
            self._warned.add(dataset)
            print(f"nasrank: warning: {msg}", file=sys.stderr)

    def archs(self, dataset: str = "cifar10") -> list[Arch]:
        """Every architecture with a known accuracy on ``dataset``, in table order."""
        return [self._archs[k] for k in self._records(dataset)]

    def size(self, dataset: str = "cifar10") -> int:
        """How many architectures have a known accuracy on ``dataset``."""
        return len(self._records(dataset))

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
        """A SHA-256 (hex, 32 chars) of every loaded record: dataset, key, accuracy, recorded
        training times, and every per-schedule metric (``test@12``...) with its training time, in a
        fixed order. The same rows give the same fingerprint wherever the file lies; one changed
        accuracy (of any column a ranker may read) gives another."""
        fp = getattr(self, "_fingerprint", None)
        if fp is None:
            h = hashlib.sha256()
            for ds in sorted(self._table):
                recs = self._table[ds]
                for line in sorted(f"{k!r}\t{r.accuracy!r}\t{sorted(r.train_seconds.items())!r}"
                                   f"\t{sorted(r.metrics.items())!r}\t{sorted(r.metric_seconds.items())!r}"
                                   for k, r in recs.items()):
                    h.update(f"{ds}\t{line}\n".encode())
            fp = self._fingerprint = h.hexdigest()[:32]
        return fp

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "n_archs": len(self), "datasets": "any" if self.any_dataset else self.datasets}

