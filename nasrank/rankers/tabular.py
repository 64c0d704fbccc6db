"""The ``tabular`` ranker: the benchmark's accuracy, charged a model of training cost.

The charge is the training time the benchmark records for ``epochs`` (NATS
records one per metric and schedule); where it records none, the space's model
(:meth:`SearchSpace.modelled_training_seconds`, e.g. NB201's fit of op counts),
else ``seconds_per_query``.

The score is the benchmark's ``metric`` (``test`` or ``valid``) after
``epochs``: ``metric=valid,epochs=12`` runs the NB201/NATS protocol (search on
the 12-epoch validation accuracy). The history's ``true_acc`` is always the
reported test accuracy after the full schedule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nasrank.options import number_in, option, positive_int
from nasrank.benchmarks.base import METRICS, metric_key
from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

@dataclass
class TabularOptions:
    """The ``tabular`` ranker's options."""

    epochs: int = option(200, "training epochs whose recorded accuracy is the score", check=positive_int)
    seconds_per_query: float = option(1.0, "the charge where neither the benchmark nor the space has a cost",
                                      check=number_in(0.0))
    metric: str = option("test", "the benchmark's accuracy: test or valid", choices=METRICS)


@RANKERS.register("tabular")
class TabularRanker(Ranker):
    """Score = the benchmark's ``metric`` accuracy after ``epochs``; cost = its recorded (else modelled) time."""

    uses_benchmark = True  # the benchmark's content fingerprint is part of the result-store key

    Options = TabularOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        bench = self.context.benchmark
        if bench is None:
            raise NasrankError("the 'tabular' ranker needs a benchmark (--benchmark csv:PATH | nats:DIR | nb201:FILE | embedded)")
        if not bench.has_metric(self.context.dataset, self.metric, self.epochs):
            have = bench.metric_keys(self.context.dataset) or ["test (one schedule)"]
            raise NasrankError(f"tabular: benchmark {bench.source} has no {metric_key(self.metric, self.epochs)} "
                               f"accuracy on {self.context.dataset}; it has: {', '.join(have)}")

    def cost(self, arch: Arch, epochs: int | None = None) -> tuple[float, str]:
        """``(seconds, "recorded" | "modelled" | "per query")`` charged for ``arch`` after ``epochs``
        (default: this ranker's ``epochs``)."""
        epochs = self.epochs if epochs is None else epochs
        recorded = self.context.benchmark.training_seconds(arch, self.context.dataset, epochs, self.metric)
        if recorded is not None:
            return recorded, "recorded"
        modelled = self.space.modelled_training_seconds(arch, epochs)
        return (self.seconds_per_query, "per query") if modelled is None else (modelled, "modelled")

    def evaluate_one(self, arch: Arch) -> Evaluation:
        return self._evaluate(arch, self.epochs)

    def _evaluate(self, arch: Arch, epochs: int, start: int = 0) -> Evaluation:
        acc = self.context.benchmark.metric_accuracy(arch, self.context.dataset, self.metric, epochs)
        score = float("nan") if acc is None else float(acc)
        c, how = self.cost(arch, epochs)
        if start:
            c = max(0.0, c - self.cost(arch, start)[0])
        info: dict[str, Any] = {"source": self.context.benchmark.source,
                                "metric": metric_key(self.metric, epochs), "cost": how}
        if not math.isfinite(score):
            info["invalid"] = "not in benchmark"
        return Evaluation(score, c, c, info)

    # -- fidelities (nasrank.rankers.fidelity) ----------------------------------
    def fidelity_grid(self) -> tuple[int, ...]:
        """The schedules (epochs) the benchmark records for ``metric``, up to ``epochs``."""
        prefix = f"{self.metric}@"
        have = {int(k[len(prefix):]) for k in self.context.benchmark.metric_keys(self.context.dataset)
                if k.startswith(prefix)}
        return tuple(sorted(e for e in have | {self.epochs} if e <= self.epochs))

    def max_fidelity(self) -> int:
        return self.epochs

    def evaluate_at(self, arch: Arch, budget: int, start: int = 0) -> Evaluation:
        """The ``metric`` accuracy after ``budget`` epochs, charged T(budget) − T(start) (see the module docstring)."""
        if budget not in self.fidelity_grid():
            raise NasrankError(f"tabular: benchmark {self.context.benchmark.source} records no {self.metric} accuracy "
                               f"after {budget} epochs; fidelities: {', '.join(map(str, self.fidelity_grid()))}")
        ev = self._evaluate(arch, budget, start if 0 < start < budget else 0)
        ev.info.update({"fidelity": budget, "continued_from": start if 0 < start < budget else 0})
        return ev

    def release(self, arch: Arch) -> None:
        """Nothing to release: the table keeps no state."""
