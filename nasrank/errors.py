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
