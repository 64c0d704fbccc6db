"""The figure file formats a command may write (``--format png,pdf,svg``); no plotting imports here."""
from __future__ import annotations

from typing import Sequence

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
