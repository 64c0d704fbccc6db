"""The ``tabular`` ranker: the benchmark's accuracy, charged a model of training cost.

Cost model (NB201, CIFAR-10, the benchmark's GPU): a least-squares fit of the
recorded 200-epoch training times of the 1,000 cells in
``nats_1000_cifar10_12ep_vs_200ep.csv`` on op counts (R² = 0.995, median
error 1.2%)::

    seconds(200 ep) = 1435.67 + 906.87·#conv3x3 + 690.88·#conv1x1
                      + 327.10·#avgpool − 76.89·#skip

Time scales linearly with epochs (the 12-epoch records are 12/200 of it,
to 0.01%). Where the benchmark records a training time it is used instead.
For other spaces the default charge is ``seconds_per_query``.
"""
from __future__ import annotations

import math
from typing import Any

from nasrank import validate
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
    """Score = the benchmark's true accuracy; cost = modelled training time for ``epochs``."""

    uses_benchmark = True  # the benchmark's content fingerprint is part of the result-store key

    def __init__(self, space: SearchSpace, context: RunContext | None = None, epochs: int = 200,
                 seconds_per_query: float = 1.0) -> None:
        super().__init__(space, context)
        if self.context.benchmark is None:
            raise NasrankError("the 'tabular' ranker needs a benchmark (--benchmark csv:PATH | nats:DIR | nb201:FILE | embedded)")
        self.epochs = validate.integer(epochs, "epochs", "ranker 'tabular'")
        self.seconds_per_query = validate.number(seconds_per_query, "seconds_per_query", "ranker 'tabular'", 0.0)

    def cost(self, arch: Arch) -> float:
        recorded = self.context.benchmark.training_seconds(arch, self.context.dataset, self.epochs)
        if recorded is not None:
            return recorded
        if self.space.registry_name == "nb201":
            return nb201_training_seconds(arch, self.epochs)
        return self.seconds_per_query

    def evaluate_one(self, arch: Arch) -> Evaluation:
        acc = self.context.benchmark.true_accuracy(arch, self.context.dataset)
        score = float("nan") if acc is None else float(acc)
        info: dict[str, Any] = {"source": self.context.benchmark.source}
        if not math.isfinite(score):
            info["invalid"] = "not in benchmark"
        c = self.cost(arch)
        return Evaluation(score, c, c, info)
