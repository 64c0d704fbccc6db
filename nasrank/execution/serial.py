"""Executors evaluate a batch of architectures through a ranker.

``SerialExecutor`` (the default) runs in this process. The Ray executor
(``nasrank.execution.ray_executor``, optional extra ``nasrank[ray]``) runs the same contract
on a Ray cluster.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from nasrank.rankers.base import Evaluation, Ranker
from nasrank.spaces.base import Arch


class Executor(Protocol):
    def evaluate(self, ranker: Ranker, archs: Sequence[Arch]) -> list[Evaluation]:
        """Evaluate ``archs`` with ``ranker``; results in the same order."""
        ...


class SerialExecutor:
    """Evaluate in this process, one batch call to the ranker."""

    def evaluate(self, ranker: Ranker, archs: Sequence[Arch]) -> list[Evaluation]:
        return ranker.evaluate(list(archs))
