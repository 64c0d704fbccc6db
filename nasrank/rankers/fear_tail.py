"""FEAR's freeze point: which modules of a built network its stage 2 trains.

A space says which of its network's cells may be trained and what always is
(:meth:`SearchSpace.fear_cells`); :func:`fear_tail` picks the last ``cells`` of
them (the ``fear`` ranker's ``tail_cells``; None = the space's default).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nasrank.errors import NasrankError

if TYPE_CHECKING:
    from torch import nn

    from nasrank.spaces.base import SearchSpace


def check_tail_cells(cells: int | None, available: int | None = None, default: int = 1) -> int:
    """The number of tail cells FEAR trains: ``cells`` (or ``default``), checked against ``available``
    (the network's trainable cells; None checks only that it is a positive integer)."""
    n = default if cells is None else cells
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise NasrankError(f"fear tail_cells must be a positive integer, got {cells!r}")
    if available is None:
        return n
    if cells is not None and n > available:
        raise NasrankError(f"fear tail_cells={cells} but this network has only {available} cells that can be trained "
                           "as FEAR's tail")
    return min(n, available)


def fear_tail(space: "SearchSpace", model: "nn.Module", cells: int | None = None) -> list["nn.Module"]:
    """The modules FEAR's stage 2 trains in ``model`` (built by ``space``): the last ``cells`` of
    the space's trainable cells (default: the space's choice), then the modules it always trains."""
    tail = space.fear_cells(model)
    n = check_tail_cells(cells, len(tail.cells), tail.default)
    return [*tail.cells[-n:], *tail.head]
