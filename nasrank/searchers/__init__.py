"""Searchers. Importing this package registers the built-in searchers."""
from nasrank.searchers.base import Budget, Searcher
from nasrank.searchers import evolution, local_search, random_search  # noqa: F401  (registration)
from nasrank.searchers import async_evolution  # noqa: F401  (registration: evolution_async)
from nasrank.searchers.evolution import RegularizedEvolution
from nasrank.searchers.local_search import LocalSearch
from nasrank.searchers.random_search import RandomSearch

__all__ = ["Budget", "Searcher", "RandomSearch", "RegularizedEvolution", "LocalSearch"]
