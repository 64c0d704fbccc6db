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


def plain_table(title: str, rows: Sequence[tuple[str, str]], width: int = 80) -> str:
    """A two-column table as plain text (for a log or a pipe: no box drawing, no rich): the keys
    aligned, each value wrapped at word boundaries to fit ``width`` columns."""
    import textwrap

    key_width = max((len(k) for k, _ in rows), default=0)
    room = max(20, width - key_width - 2)
    lines = [title, "-" * min(width, max(len(title), 1))]
    for key, value in rows:
        parts = textwrap.wrap(value, room, break_long_words=True, break_on_hyphens=False) or [""]
        lines.append(f"{key:<{key_width}}  {parts[0]}")
        lines.extend(f"{'':<{key_width}}  {p}" for p in parts[1:])
    return "\n".join(lines)
