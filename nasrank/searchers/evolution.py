"""Regularized (aging) evolution, Real et al. 2019."""
from __future__ import annotations

from collections import deque
from typing import Any

from nasrank import validate
from nasrank.registry import SEARCHERS
from nasrank.searchers.base import Searcher


@SEARCHERS.register("evolution")
class RegularizedEvolution(Searcher):
    """Population of ``population_size``; each round a tournament of ``sample_size``
    picks the parent, its one-edit mutation is evaluated, the oldest member dies."""

    @classmethod
    def parallel_variant(cls, name: str, cfg: dict[str, Any], workers: int) -> tuple[str, dict[str, Any]]:
        """``evolution_async``: a new child as soon as a worker is free."""
        return "evolution_async", {"workers": workers, **cfg}

    def __init__(self, space, ranker, seed: int = 0, executor=None, population_size: int = 20,
                 sample_size: int = 5) -> None:
        super().__init__(space, ranker, seed, executor)
        population_size = validate.integer(population_size, "population_size", "searcher 'evolution'")
        sample_size = validate.integer(sample_size, "sample_size", "searcher 'evolution'")
        if not 1 <= sample_size <= population_size:
            from nasrank.errors import NasrankError

            raise NasrankError(f"evolution needs 1 <= sample_size ({sample_size}) <= population_size ({population_size})")
        self.population_size = population_size
        self.sample_size = sample_size

    def search(self) -> None:
        population: deque = deque()
        while len(population) < self.population_size:
            arch = self.space.sample(self.rng)
            population.append((arch, self.fitness(self.evaluate_one(arch))))
        while True:
            self._check_budget()
            idx = self.rng.choice(len(population), size=self.sample_size, replace=False)
            parent = max((population[i] for i in idx), key=lambda p: p[1])[0]
            child = self.space.mutate(parent, self.rng)
            population.append((child, self.fitness(self.evaluate_one(child))))
            population.popleft()
