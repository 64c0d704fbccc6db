"""Which scale knobs a space's ``build`` takes, so a typo in ``build_kwargs`` fails loudly.

The built-in spaces' ``build(arch, num_classes=None, channels=..., **_)``
ignore unknown keys (one scale dict may be handed to any space); a ranker that
forwards *the user's* options to ``build`` checks them here first.
"""
from __future__ import annotations

import inspect
from typing import Any, Mapping

from nasrank.errors import NasrankError


def build_options(space: Any) -> set[str] | None:
    """The keyword options ``space.build`` names; None when it names none (then any key may be its)."""
    try:
        params = inspect.signature(type(space).build).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    names -= {"self", "arch"}
    return names if names - {"num_classes"} else None


def check_build_kwargs(space: Any, kwargs: Mapping[str, Any], owner: str) -> None:
    """Raise :class:`NasrankError` if ``kwargs`` has a key ``space.build`` does not take."""
    opts = build_options(space)
    if opts is None:
        return
    unknown = sorted(set(kwargs) - opts)
    if unknown:
        raise NasrankError(f"{owner}: space {getattr(space, 'registry_name', type(space).__name__)!r} builds "
                           f"networks with {', '.join(sorted(opts))}; it does not take {', '.join(unknown)}")
