"""Content fingerprints for the result store's key: of a file, and of a user's component.

* :func:`file_sha256`: the sha256 of a file's bytes (a weights file, a supernet checkpoint). A path
  names a place, not its content: new weights at the same path are a new key. The hash is computed
  once per process and file state (device, inode, size, mtime and ctime: ``touch -d`` cannot forge ctime).
* :func:`component_identity`: what keys a component that is not built into nasrank: its import path
  ``package.module:Class`` (two ``AlwaysOne`` classes in two modules are two components) and either the
  ``version`` it declares (a class attribute: the author vouches that equal versions give equal
  scores) or the sha256 of the source files of the classes it is made of (an edited component is a new
  key). A built-in component has none: its key is its registry name and options, as before.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


@functools.lru_cache(maxsize=256)
def _sha256(path: str, state: tuple[int, ...]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike, what: str = "file") -> str:
    """The sha256 (hex) of the file at ``path``; a missing or unreadable file is one clear error naming ``what``."""
    from nasrank.errors import MissingFileError, NasrankError

    p = Path(path).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MissingFileError(p, what) from None
    except OSError as exc:
        raise NasrankError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if not p.is_file():
        raise NasrankError(f"{what} {p} is not a regular file")
    state = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    try:
        return _sha256(str(p.resolve()), state)
    except OSError as exc:
        raise NasrankError(f"cannot read {what} {p}: {exc.strerror or exc}") from None


def is_builtin(cls: type) -> bool:
    """Whether ``cls`` is defined in the nasrank package itself."""
    mod = getattr(cls, "__module__", "") or ""
    return mod == "nasrank" or mod.startswith("nasrank.")


def _source_file(cls: type) -> str | None:
    mod = sys.modules.get(cls.__module__)
    path = getattr(mod, "__file__", None)
    if path is None:
        try:
            path = inspect.getsourcefile(cls)
        except (TypeError, OSError):
            return None
    return path if path and os.path.isfile(path) else None


def component_identity(cls: type) -> dict[str, Any] | None:
    """``None`` for a built-in class; else ``{"component": "pkg.mod:Class", "version": V}`` when the class
    declares ``version``, or ``{"component": ..., "code": "sha256:..."}`` over the source files of every
    non-built-in class in its MRO (``"code": None`` when a source file cannot be found, e.g. a class typed
    into an interactive session: such a component cannot be keyed on its code)."""
    if is_builtin(cls):
        return None
    ident: dict[str, Any] = {"component": f"{cls.__module__}:{cls.__qualname__}"}
    version = getattr(cls, "version", None)
    if isinstance(version, (str, int)) and not isinstance(version, bool):
        ident["version"] = str(version)
        return ident
    h = hashlib.sha256()
    for c in cls.__mro__:
        if c is object or is_builtin(c) or c.__module__ == "builtins":
            continue
        src = _source_file(c)
        if src is None:
            ident["code"] = None
            return ident
        h.update(f"{c.__module__}:{c.__qualname__}\0".encode())
        h.update(file_sha256(src, f"source of {c.__qualname__}").encode())
    ident["code"] = "sha256:" + h.hexdigest()
    return ident
