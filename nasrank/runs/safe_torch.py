"""Torch files read from a run folder (training state, checkpoints): tensors and plain data only.

A run folder can come from someone else, and ``torch.load`` with full pickle runs whatever a
planted file asks. :func:`load_tensors` reads with ``weights_only=True`` (tensors, numbers,
strings, lists, tuples, dicts; no other class is rebuilt, no function is called), through a
descriptor opened without following a symbolic link, and turns every way the file can be wrong
(a link, not a regular file, truncated, not a torch file, objects other than plain data) into one
:class:`NasrankError` naming the file.
"""
from __future__ import annotations

import errno
import os
import pickle
import stat
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    for line in text.splitlines():  # torch's weights_only refusal: name the global it refused
        if "Unsupported global" in line or "Unsupported operand" in line:
            return line.strip()[:160]
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def open_no_follow(path: str | Path, what: str) -> Any:
    """``path`` opened for binary reading, never through a symbolic link and never a device or FIFO."""
    p = Path(path)
    try:
        fd = os.open(str(p), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP or p.is_symlink():
            raise NasrankError(f"{what} {p} is a symbolic link; nasrank does not follow links in a run folder "
                               "(remove the link)") from None
        raise NasrankError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NasrankError(f"{what} {p} is not a regular file (a folder, device, FIFO or socket); remove it")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def load_tensors(path: str | Path, what: str, remedy: str = "", map_location: Any = "cpu") -> Any:
    """The content of the torch file ``path`` (``weights_only=True``), or one :class:`NasrankError`
    naming ``what`` and ``path`` (``remedy``: what the user can do, appended to the message)."""
    import torch

    hint = f"; {remedy}" if remedy else ""
    with open_no_follow(path, what) as fh:
        try:
            return torch.load(fh, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as exc:
            raise NasrankError(f"{what} {path} holds objects other than tensors and plain data, which nasrank "
                               f"does not load (they could run code: {_first_line(exc)}){hint}") from None
        except (RuntimeError, EOFError, ValueError, TypeError, KeyError, OSError, MemoryError,
                RecursionError) as exc:
            raise NasrankError(f"{what} {path} is truncated or not a torch file ({_first_line(exc)}){hint}") from None
