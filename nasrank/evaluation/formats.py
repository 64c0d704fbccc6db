"""The figure file formats a command may write (``--format png,pdf,svg``); no plotting imports here."""
from __future__ import annotations

import math
from typing import Any, Sequence

from nasrank.errors import NasrankError

FORMATS = ("png", "pdf", "svg")


def parse_formats(text: str | Sequence[str] | None) -> list[str]:
    """``"png,pdf"`` -> ``["png", "pdf"]``; an unknown format is one clear error."""
    if text is None:
        return ["png"]
    items = [t.strip().lower().lstrip(".") for t in (text.split(",") if isinstance(text, str) else text)]
    items = [t for t in items if t]
    bad = [t for t in items if t not in FORMATS]
    if bad or not items:
        raise NasrankError(f"--format {text!r}: expected a comma-separated list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(items))


def short_number(v: float, _pos: Any = None) -> str:
    """``120000`` -> ``120k``; ``3.4e6`` -> ``3.4M`` (tick labels that do not run together)."""
    if not math.isfinite(v):
        return ""
    a = abs(v)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"
