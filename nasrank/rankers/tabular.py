"""The ``tabular`` ranker: the benchmark's accuracy, charged a model of training cost.

Cost model (NB201, CIFAR-10, the benchmark's GPU): a least-squares fit of the
recorded 200-epoch training times of the 1,000 cells in
``nats_1000_cifar10_12ep_vs_200ep.csv`` on op counts (R² = 0.995, median
error 1.2%)::

    seconds(200 ep) = 1435.67 + 906.87·#conv3x3 + 690.88·#conv1x1
                      + 327.10·#avgpool − 76.89·#skip

Time scales linearly with epochs (the 12-epoch records are 12/200 of it,
to 0.01%). Where the benchmark records a training time it is used instead
(NATS records one per metric and schedule). For other spaces the default
charge is ``seconds_per_query``.

The score is the benchmark's ``metric`` (``test`` or ``valid``) after
``epochs``: ``metric=valid,epochs=12`` runs the NB201/NATS protocol (search on
the 12-epoch validation accuracy). The history's ``true_acc`` is always the
reported test accuracy after the full schedule.
"""
from __future__ import annotations

import math
from typing import Any

from nasrank.benchmarks.base import METRICS, metric_key
from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

NB201_COST_200EP = {"const": 1435.67, "nor_conv_3x3": 906.87, "nor_conv_1x1": 690.88,
                    "avg_pool_3x3": 327.10, "skip_connect": -76.89}


def nb201_training_seconds(arch: Arch, epochs: int = 200) -> float:
    """Modelled NB201 CIFAR-10 training time (benchmark GPU seconds) for ``epochs``."""
    s = NB201_COST_200EP["const"] + sum(c * arch.count(op) for op, c in NB201_COST_200EP.items() if op != "const")
    return s * epochs / 200.0


@RANKERS.register("tabular")
class TabularRanker(Ranker):
    """Score = the benchmark's ``metric`` accuracy after ``epochs``; cost = the recorded (else modelled)
    training time behind it."""

    uses_benchmark = True  # the benchmark's source is part of the result-store key

    def __init__(self, space: SearchSpace, context: RunContext | None = None, epochs: int = 200,
                 seconds_per_query: float = 1.0, metric: str = "test") -> None:
        super().__init__(space, context)
        bench = self.context.benchmark
        if bench is None:
            raise NasrankError("the 'tabular' ranker needs a benchmark (--benchmark csv:PATH | nats:DIR | nb201:FILE | embedded)")
        if metric not in METRICS:
            raise NasrankError(f"tabular: unknown metric {metric!r}; expected one of: {', '.join(METRICS)}")
        if not bench.has_metric(self.context.dataset, metric, epochs):
            have = bench.metric_keys(self.context.dataset) or ["test (one schedule)"]
            raise NasrankError(f"tabular: benchmark {bench.source} has no {metric_key(metric, epochs)} accuracy on "
                               f"{self.context.dataset}; it has: {', '.join(have)}")
        self.epochs = epochs
        self.seconds_per_query = seconds_per_query
        self.metric = metric

    def cost(self, arch: Arch) -> tuple[float, str]:
        """``(seconds, "recorded" | "modelled" | "per query")`` charged for ``arch``."""
        recorded = self.context.benchmark.training_seconds(arch, self.context.dataset, self.epochs, self.metric)
        if recorded is not None:
            return recorded, "recorded"
        if self.space.registry_name == "nb201":
            return nb201_training_seconds(arch, self.epochs), "modelled"
        return self.seconds_per_query, "per query"

    def evaluate_one(self, arch: Arch) -> Evaluation:
        acc = self.context.benchmark.metric_accuracy(arch, self.context.dataset, self.metric, self.epochs)
        score = float("nan") if acc is None else float(acc)
        c, how = self.cost(arch)
        info: dict[str, Any] = {"source": self.context.benchmark.source,
                                "metric": metric_key(self.metric, self.epochs), "cost": how}
        if not math.isfinite(score):
            info["invalid"] = "not in benchmark"
        return Evaluation(score, c, c, info)
