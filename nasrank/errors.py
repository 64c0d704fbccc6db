"""Errors that nasrank raises for bad user input.

Every error a user can cause (an unknown op, a malformed string, a missing
file, an empty budget) is a :class:`NasrankError`. It subclasses
``ValueError`` so callers that expect a ``ValueError`` keep working, and the
command line prints it as one line instead of a traceback.
"""
from __future__ import annotations


class NasrankError(ValueError):
    """A clear, user-facing error that names the offending input."""


class MissingFileError(NasrankError, FileNotFoundError):
    """A file the user pointed at (or that a format requires) does not exist."""

    def __init__(self, path: object, what: str = "file") -> None:
        super().__init__(f"{what} not found: expected {path}")
        self.path = path


def existing_file(path: object, what: str, folder_message: str):
    """``path`` as a :class:`~pathlib.Path` to a file that exists: a folder raises
    ``folder_message``, a missing path :class:`MissingFileError` naming ``what``."""
    from pathlib import Path

    p = Path(path)  # type: ignore[arg-type]
    if p.is_dir():
        raise NasrankError(folder_message)
    if p.exists() and not p.is_file():
        raise NasrankError(f"{what} {p} is not a regular file (a device, FIFO or socket); give a file")
    if not p.is_file():
        raise MissingFileError(p, what)
    return p


def did_you_mean(name: str, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``name``, else ``""``."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unreadable_pickle(exc: BaseException) -> str:
    """Why ``torch.load(..., weights_only=True)`` refused a file, in one line: never torch's
    multi-line text (which suggests ``weights_only=False``, i.e. running the file's code)."""
    import re

    text = str(exc)
    if "weights only" in text.lower() or "weights_only" in text:
        m = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text) or re.search(r"Unsupported operand (\d+)", text)
        what = f" (it names {m.group(1)})" if m else ""
        return (f"it holds objects other than tensors and plain containers{what}; nasrank refuses to unpickle "
                "them, since loading them could run code")
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]
