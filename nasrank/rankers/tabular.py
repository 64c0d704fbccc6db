"""The ``tabular`` ranker: the benchmark's accuracy, charged a model of training cost.

The charge is the training time the benchmark records for ``epochs``; where it
records none, the space's model (:meth:`SearchSpace.modelled_training_seconds`,
e.g. NB201's fit of op counts), else ``seconds_per_query``.
"""
from __future__ import annotations

import math
from typing import Any

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

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
        modelled = self.space.modelled_training_seconds(arch, self.epochs)
        return self.seconds_per_query if modelled is None else modelled

    def evaluate_one(self, arch: Arch) -> Evaluation:
        acc = self.context.benchmark.true_accuracy(arch, self.context.dataset)
        score = float("nan") if acc is None else float(acc)
        info: dict[str, Any] = {"source": self.context.benchmark.source}
        if not math.isfinite(score):
            info["invalid"] = "not in benchmark"
        c = self.cost(arch)
        return Evaluation(score, c, c, info)
