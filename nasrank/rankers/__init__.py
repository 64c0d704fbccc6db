"""Rankers. Importing this package registers the built-in rankers.

Rankers that train (``train``, ``fear``, ``oneshot``) import Lightning, so they
register lazily: their module loads the first time one of them is asked for.
"""
from nasrank.rankers.base import Evaluation, Ranker, RunContext, TimedRanker
from nasrank.rankers import cascade, complexity, tabular, zero_shot  # noqa: F401  (registration)
from nasrank.registry import RANKERS

RANKERS.register_lazy("nasrank.rankers.training", "train")
RANKERS.register_lazy("nasrank.rankers.fear", "fear")
RANKERS.register_lazy("nasrank.rankers.oneshot", "oneshot")

__all__ = ["Evaluation", "Ranker", "RunContext", "TimedRanker"]
