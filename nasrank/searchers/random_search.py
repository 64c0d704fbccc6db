"""Random search: sample uniformly, keep the best."""
from __future__ import annotations

from typing import Any

from nasrank import validate
from nasrank.registry import SEARCHERS
from nasrank.runs.limits import MAX_DRAWN_AHEAD
from nasrank.searchers.base import Searcher


@SEARCHERS.register("random")
class RandomSearch(Searcher):
    """Sample architectures uniformly (no repeats) in batches of ``batch_size``.

    Batches matter only for parallel executors; results do not depend on it. A batch draws at most
    the queries left (and :data:`~nasrank.runs.limits.MAX_DRAWN_AHEAD`) ahead of evaluating them.
    """

    def __init__(self, space, ranker, seed: int = 0, executor=None, batch_size: int = 1) -> None:
        super().__init__(space, ranker, seed, executor)
        self.batch_size = validate.integer(batch_size, "batch_size", "searcher 'random'")

    @classmethod
    def parallel_variant(cls, name: str, cfg: dict[str, Any], workers: int) -> tuple[str, dict[str, Any]]:
        """Batches of ``workers`` (unless ``batch_size`` is given)."""
        return name, {"batch_size": workers, **cfg}

    def search(self) -> None:
        while True:
            self._check_budget()
            left = self.budget.remaining_queries(self.n_queries)
            size = min(self.batch_size, MAX_DRAWN_AHEAD, left if left is not None else self.batch_size)
            batch = [self.space.sample(self.rng) for _ in range(size)]
            self.evaluate(batch)
