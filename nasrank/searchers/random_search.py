"""Random search: sample uniformly, keep the best."""
from __future__ import annotations

from typing import Any

from nasrank import validate
from nasrank.registry import SEARCHERS
from nasrank.searchers.base import Searcher


@SEARCHERS.register("random")
class RandomSearch(Searcher):
    """Sample architectures uniformly (no repeats) in batches of ``batch_size``.

    Batches matter only for parallel executors; results do not depend on it.
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
            batch = [self.space.sample(self.rng) for _ in range(self.batch_size)]
            self.evaluate(batch)
