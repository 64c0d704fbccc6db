"""Terminal tables that fit the terminal: columns are dropped by priority rather than words broken."""
from __future__ import annotations

from typing import Sequence


def fit_columns(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int,
                drop_order: Sequence[str]) -> list[int]:
    """Indices of the columns to show so that a rich table (borders included) fits ``width``.

    Columns named in ``drop_order`` are dropped first to last until the table fits; the others
    are always kept.
    """
    def need(cols: list[int]) -> int:
        cell = [max([len(headers[i])] + [len(r[i]) for r in rows]) for i in cols]
        return sum(cell) + 3 * len(cols) + 1  # "│ x " per column and the closing border

    keep = list(range(len(headers)))
    for name in drop_order:
        if need(keep) <= width:
            break
        if name in headers:
            keep.remove(list(headers).index(name))
    return keep
