"""The measures of this package, found by their file names (:func:`nasrank.catalog.zero_cost_measures`)."""
from __future__ import annotations

import importlib
from typing import Any

from nasrank.catalog import zero_cost_measures

_FOUND = zero_cost_measures()
#: every measure's name, in the order of their module names
MEASURES: tuple[str, ...] = tuple(_FOUND)


def get_measure(name: str) -> Any:
    """The ``MEASURE`` object of measure ``name`` (its module imported on first use)."""
    return importlib.import_module(_FOUND[name][0]).MEASURE


def measure_options() -> list[type]:
    """The option declarations of every measure that has some (for the ``zero_shot`` ranker)."""
    out: list[type] = []
    for name in MEASURES:
        decl = get_measure(name).Options
        if decl is not None and decl not in out:
            out.append(decl)
    return out
