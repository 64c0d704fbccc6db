"""Rankers. Importing this package registers the built-in rankers."""
from nasrank.rankers.base import Evaluation, Ranker, RunContext, TimedRanker
from nasrank.rankers import complexity, tabular  # noqa: F401  (registration)

__all__ = ["Evaluation", "Ranker", "RunContext", "TimedRanker"]
