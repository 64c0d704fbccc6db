"""The :class:`Ranker` contract: score architectures and report the cost spent."""
from __future__ import annotations

import hashlib
import json
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

from nasrank.errors import NasrankError
from nasrank.runs.outcomes import check_status
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
    log_dir: str | Path | None = None  # training logs (CSV, TensorBoard) go here; None: no logs


@dataclass
class Evaluation:
    """One ranker result for one architecture.

    ``seconds`` is the cost charged (measured wall time, or a modelled
    training time for the tabular ranker); ``device_seconds`` is the time the
    accelerator (or CPU, when none) was held, times the number of devices.
    ``score`` may be NaN: the ranker could not score the architecture; it is
    kept and reported, never raised. ``status`` says what happened (one of
    :data:`~nasrank.runs.outcomes.STATUSES`); a non-finite score is ``invalid``.
    """

    score: float
    seconds: float
    device_seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"

    def __post_init__(self) -> None:
        check_status(self.status)
        if self.status == "ok" and not self.valid:
            self.status = "invalid"

    @property
    def valid(self) -> bool:
        return isinstance(self.score, (int, float)) and math.isfinite(self.score)


def _is_method(cls: type, name: str) -> bool:
    import inspect

    static = inspect.getattr_static(cls, name, None)
    return inspect.isfunction(static) or isinstance(static, (property, staticmethod, classmethod))


class Ranker(ABC):
    """Scores architectures of one space; higher is better.

    Subclasses implement :meth:`evaluate_one` (or :meth:`evaluate` for batched
    scoring). Constructor keyword arguments are the ranker's config: they are
    recorded by :meth:`config` and hashed into the result store key.
    """

    registry_name: str = "custom"
    #: spaces this ranker supports (None = every space); checked when the ranker is built
    supported_spaces: tuple[str, ...] | None = None
    #: optional space capabilities this ranker needs (e.g. ``("supernet",)``: ``space.supernet()`` must not be
    #: None); None = none. Checked when the ranker is built, like ``supported_spaces``
    requires: tuple[str, ...] | None = None
    #: whether the same inputs always give the same score
    deterministic: bool = True
    #: whether a score depends on earlier evaluations (then the result store is bypassed)
    depends_on_history: bool = False
    #: whether the score is read from ``context.benchmark`` (its content fingerprint then keys the result store)
    uses_benchmark: bool = False
    #: whether the ranker trains networks and takes the training-scale options
    #: (``channels``, ``cells_per_stage``, ``image_size``, ``train_fraction``, ``epochs``, ``batch_size``)
    takes_training_scale: bool = False
    #: constructor arguments every ranker gets positionally (not options)
    positional_args: tuple[str, ...] = ("space", "context")
    #: the ranker's options, declared once: a dataclass of :func:`nasrank.options.option` fields
    #: (None: a user's ranker whose constructor's keyword arguments are its options)
    Options: ClassVar[type | None] = None

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        supported = type(self).supported_spaces
        if supported is not None and space.registry_name not in supported:
            raise NasrankError(f"ranker {self.registry_name!r} does not support space {space.registry_name!r} "
                               f"(it supports: {', '.join(supported)})")
        for cap in type(self).requires or ():
            if space.capability(cap) is None:
                raise NasrankError(f"ranker {self.registry_name!r} does not support space {space.registry_name!r}: "
                                   f"it needs a space that provides a {cap} (SearchSpace.{cap}() is None)")
        self.space = space
        self.context = context or RunContext()
        decl = type(self).Options
        if decl is not None:
            from nasrank.options import make_options

            self.options = make_options(decl, options, f"ranker {self.registry_name!r}")
            for name, value in vars(self.options).items():  # as attributes, unless that hides a method
                if not _is_method(type(self), name):
                    setattr(self, name, value)
        elif options:
            raise NasrankError(f"ranker {self.registry_name!r} does not take option(s) {', '.join(sorted(options))}")

    def set_option(self, name: str, value: Any) -> None:
        """Settle a declared option the constructor resolved (e.g. a default read from the dataset)."""
        import dataclasses

        self.options = dataclasses.replace(self.options, **{name: value})
        if not _is_method(type(self), name):
            setattr(self, name, value)

    @property
    def name(self) -> str:
        return self.registry_name

    def config(self) -> dict[str, Any]:
        """The options of this ranker (for hashing and reports): its declared ones, else the
        constructor's keyword arguments read back from attributes of the same name."""
        from nasrank.options import as_dict
        from nasrank.registry import accepted_options

        if type(self).Options is not None:
            return as_dict(self.options)
        out: dict[str, Any] = {}
        for n in accepted_options(type(self)).names:
            if hasattr(self, n):
                v = getattr(self, n)
                out[n] = v if isinstance(v, (int, float, str, bool, type(None), list, tuple)) else repr(v)
        return out

    def config_hash(self) -> str:
        """The hash of the name and :meth:`config`; for a ranker not built into nasrank also of its import path
        and code (or declared ``version``: :func:`~nasrank.utils.fingerprint.component_identity`), so two
        user classes, or an edited one, never share stored results. Built-in rankers hash as they always did."""
        from nasrank.utils.fingerprint import component_identity

        payload: dict[str, Any] = {"ranker": self.name, "cfg": self.config()}
        ident = component_identity(type(self))
        if ident is not None:
            payload["component"] = ident
        blob = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def evaluate_one(self, arch: Arch) -> Evaluation:
        raise NotImplementedError

    def evaluate(self, archs: Sequence[Arch],
                 on_result: Callable[[int, Evaluation], None] | None = None) -> list[Evaluation]:
        """Score ``archs``; one :class:`Evaluation` each, in order.

        ``on_result(i, evaluation)``, when given, is called once per position
        ``i`` as its result becomes available (e.g. for a progress bar).
        """
        out = []
        for i, a in enumerate(archs):
            out.append(self.evaluate_one(a))
            if on_result is not None:
                on_result(i, out[-1])
        return out

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
