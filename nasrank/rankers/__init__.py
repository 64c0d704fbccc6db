"""Rankers: the :class:`Ranker` contract here; the built-in rankers are declared in
:mod:`nasrank.catalog` and imported by the registry when one is first asked for."""
from nasrank.rankers.base import Evaluation, Ranker, RunContext, TimedRanker

__all__ = ["Evaluation", "Ranker", "RunContext", "TimedRanker"]
