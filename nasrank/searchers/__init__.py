"""Searchers: the :class:`Searcher` contract and :class:`Budget` here; the built-in searchers
are declared in :mod:`nasrank.catalog` and imported by the registry when one is first asked for."""
from nasrank.searchers.base import Budget, Searcher

__all__ = ["Budget", "Searcher"]
