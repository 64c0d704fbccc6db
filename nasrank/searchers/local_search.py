"""Local search with random restarts (White et al. 2020)."""
from __future__ import annotations

from nasrank.errors import NasrankError
from nasrank.registry import SEARCHERS
from nasrank.searchers.base import Searcher


@SEARCHERS.register("local")
class LocalSearch(Searcher):
    """From a random start evaluate the neighbours and move to the best one
    (``best`` improvement) or the first better one (``first``); at a local
    optimum restart from a new random architecture."""

    def __init__(self, space, ranker, seed: int = 0, executor=None, improvement: str = "best") -> None:
        super().__init__(space, ranker, seed, executor)
        if improvement not in ("best", "first"):
            raise NasrankError(f"local search improvement must be 'best' or 'first', got {improvement!r}")
        self.improvement = improvement

    def search(self) -> None:
        while True:
            current = self.space.sample(self.rng)
            cur_fit = self.fitness(self.evaluate_one(current))
            while True:
                self._check_budget()
                nbrs = list(self.space.neighbours(current))
                order = self.rng.permutation(len(nbrs))
                nbrs = [nbrs[i] for i in order]
                if self.improvement == "best":
                    fits = [self.fitness(s) for s in self.evaluate(nbrs)]
                    i = max(range(len(nbrs)), key=fits.__getitem__)
                    if fits[i] <= cur_fit:
                        break
                    current, cur_fit = nbrs[i], fits[i]
                else:
                    moved = False
                    for n in nbrs:
                        f = self.fitness(self.evaluate_one(n))
                        if f > cur_fit:
                            current, cur_fit, moved = n, f, True
                            break
                    if not moved:
                        break
