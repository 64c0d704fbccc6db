"""Checks of numeric options, each failing with one :class:`NasrankError` that names the option.

Options arrive from the command line parsed as JSON (``channels=abc`` is the
string ``"abc"``), so a constructor cannot assume a number: these helpers
reject strings, booleans, NaN/inf and out-of-range values before anything
compares or multiplies them.
"""
from __future__ import annotations

import math
from typing import Any

from nasrank.errors import NasrankError


def _fail(owner: str, name: str, want: str, value: Any) -> NasrankError:
    return NasrankError(f"{owner}: {name} must be {want}, got {value!r}")


def integer(value: Any, name: str, owner: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (an integral float such as ``8.0`` is accepted)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        want = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise _fail(owner, name, want, value)
    return value


def optional_integer(value: Any, name: str, owner: str, minimum: int = 1) -> int | None:
    """:func:`integer`, or ``None`` left as it is."""
    return None if value is None else integer(value, name, owner, minimum)


def number(value: Any, name: str, owner: str, low: float | None = None, high: float | None = None,
           low_open: bool = False) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = "" if low is None else (f"{'(' if low_open else '['}{low:g}, ")
        hi = "" if high is None else f"{high:g}]"
        want = "a finite number" + (f" in {lo}{hi or 'inf)'}" if lo else (f" <= {high:g}" if hi else ""))
        raise _fail(owner, name, want, value)
    return float(value)


def optional_number(value: Any, name: str, owner: str, **bounds: Any) -> float | None:
    """:func:`number`, or ``None`` left as it is."""
    return None if value is None else number(value, name, owner, **bounds)
