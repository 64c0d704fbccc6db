"""The :class:`Ranker` contract: score architectures and report the cost spent."""
from __future__ import annotations

import hashlib
import inspect
import json
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from nasrank.spaces.base import Arch, SearchSpace


@dataclass
class RunContext:
    """What a ranker may need beyond the space: ground truth, data, device, seed."""

    benchmark: Any = None          # a nasrank.benchmarks.Benchmark or None
    dataset: str = "cifar10"
    data_dir: str | Path | None = None
    device: str = "auto"           # "auto" | "cpu" | "gpu"
    seed: int = 0
    progress: bool = False         # show Lightning's progress bar


@dataclass
class Evaluation:
    """One ranker result for one architecture.

    ``seconds`` is the cost charged (measured wall time, or a modelled
    training time for the tabular ranker); ``device_seconds`` is the time the
    accelerator (or CPU, when none) was held, times the number of devices.
    ``score`` may be NaN: the ranker could not score the architecture; it is
    kept and reported, never raised.
    """

    score: float
    seconds: float
    device_seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return isinstance(self.score, (int, float)) and math.isfinite(self.score)


class Ranker(ABC):
    """Scores architectures of one space; higher is better.

    Subclasses implement :meth:`evaluate_one` (or :meth:`evaluate` for batched
    scoring). Constructor keyword arguments are the ranker's config: they are
    recorded by :meth:`config` and hashed into the result store key.
    """

    registry_name: str = "custom"
    #: spaces this ranker supports (None = every space)
    supported_spaces: tuple[str, ...] | None = None
    #: whether the same inputs always give the same score
    deterministic: bool = True
    #: whether a score depends on earlier evaluations (then the result store is bypassed)
    depends_on_history: bool = False
    #: whether a score reads the benchmark (then its content fingerprint is part of the store key)
    uses_benchmark: bool = False

    def __init__(self, space: SearchSpace, context: RunContext | None = None) -> None:
        self.space = space
        self.context = context or RunContext()

    @property
    def name(self) -> str:
        return self.registry_name

    def config(self) -> dict[str, Any]:
        """The constructor options of this ranker (for hashing and reports)."""
        out: dict[str, Any] = {}
        for cls in type(self).__mro__:
            if cls is Ranker or cls is object or "__init__" not in cls.__dict__:
                continue
            for n in inspect.signature(cls.__init__).parameters:
                if n in ("self", "space", "context", "args", "kwargs") or n in out:
                    continue
                if hasattr(self, n):
                    v = getattr(self, n)
                    out[n] = v if isinstance(v, (int, float, str, bool, type(None), list, tuple)) else repr(v)
        return out

    def config_hash(self) -> str:
        blob = json.dumps({"ranker": self.name, "cfg": self.config()}, sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def evaluate_one(self, arch: Arch) -> Evaluation:
        raise NotImplementedError

    def evaluate(self, archs: Sequence[Arch]) -> list[Evaluation]:
        """Score ``archs``; one :class:`Evaluation` each, in order."""
        return [self.evaluate_one(a) for a in archs]

    def score(self, archs: Sequence[Arch]) -> list[float]:
        """Scores only (convenience)."""
        return [e.score for e in self.evaluate(archs)]


class TimedRanker(Ranker):
    """A ranker whose cost is its measured wall time on this machine."""

    @abstractmethod
    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        """Return ``(score, info)`` for one architecture."""

    def evaluate_one(self, arch: Arch) -> Evaluation:
        t0 = time.perf_counter()
        try:
            score, info = self.compute_score(arch)
        except FloatingPointError as exc:  # numerical failure: report, don't crash
            score, info = float("nan"), {"error": str(exc)}
        dt = time.perf_counter() - t0
        score = float(score)
        if not math.isfinite(score):
            info = {**info, "invalid": "nan" if math.isnan(score) else "inf"}
        return Evaluation(score, dt, dt, info)
