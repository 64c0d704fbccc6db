"""Crash-safe file writes: a temporary file in the same folder, fsynced, then ``os.replace``.

Every rewrite of a run file (history on resume, ``config.json``,
``summary.json``, ``compare.json``, ``scores.csv``, a store export) goes
through :func:`atomic_write` / :func:`atomic_write_text`. A reader, or a run
killed at any instant, sees either the old file whole or the new file whole,
never a truncated one. Errors a user can cause (the target is a folder, the
folder is read-only, the disk is full) become one :class:`NasrankError`
naming the path.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

from nasrank.errors import NasrankError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(folder: str | Path) -> None:
    """Flush a folder's entries (a rename) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(str(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(path: str | Path, what: str = "output file") -> Path:
    """Raise :class:`NasrankError` unless ``path`` can be (re)written as a file: it is not a
    folder and its folder exists (or can be created) and accepts new files."""
    p = Path(path)
    if p.is_dir():
        raise NasrankError(f"{what} {p} is a folder; give a file path")
    refuse_special(p, what)
    folder = p.parent if str(p.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NasrankError(f"cannot create the folder of {what} {p}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise NasrankError(f"cannot write {what} {p}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise NasrankError(f"cannot write {what} {p}: permission denied")
    return p


def refuse_special(path: str | Path, what: str = "output file") -> None:
    """Raise unless ``path`` is missing or a regular file once links are followed: a device
    (``/dev/null``), a FIFO or a socket is never replaced or written as if it were a file."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return  # a new path (or a dangling link, which os.replace swaps for the new file)
    except OSError as exc:
        raise NasrankError(f"cannot write {what} {p}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise NasrankError(f"{what} {p} is not a regular file (a device, FIFO or socket); give a new path or a file")


def _open_no_follow(path: Path, append: bool, what: str) -> int:
    """A descriptor of ``path`` opened for writing (created if missing), never through a symbolic link
    and never onto a device or FIFO: a planted link is one :class:`NasrankError`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | (os.O_APPEND if append else 0)
    try:
        fd = os.open(str(path), flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise NasrankError(f"{what} {path} is a symbolic link; nasrank does not write through links "
                               "(remove the link)") from None
        raise NasrankError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NasrankError(f"{what} {path} is not a regular file (a device, FIFO or socket); remove it")
    os.set_blocking(fd, True)
    return fd


def open_run_file(path: str | Path, mode: str = "a", what: str = "run file") -> IO:
    """``path`` opened for appending (``"a"``) or rewriting (``"w"``) in place, as UTF-8 text, never
    through a symbolic link and never onto a device or FIFO: a planted link is one :class:`NasrankError`."""
    fd = _open_no_follow(Path(path), mode == "a", what)
    if mode == "w":
        os.ftruncate(fd, 0)
    return os.fdopen(fd, "a" if mode == "a" else "w", encoding="utf-8", newline="" if mode == "w" else None)


def open_partial_file(path: str | Path, restart: bool = False, what: str = "partial download") -> IO[bytes]:
    """``path`` opened to append bytes (emptied first when ``restart``), with the same refusals as
    :func:`open_run_file`: a resumable download grows its ``.part`` file through this."""
    fd = _open_no_follow(Path(path), True, what)
    if restart:
        os.ftruncate(fd, 0)
    return os.fdopen(fd, "ab")


def refuse_links_under(folder: str | Path, what: str = "run folder", allow: tuple[str, ...] = ()) -> None:
    """Raise one :class:`NasrankError` naming the first symbolic link, device, FIFO or socket found
    under ``folder`` (walked without following links; a missing folder is fine). nasrank writes
    only regular files and folders in a run folder, so anything else was planted: a link there
    would lead a write (state, logs, checkpoints) or a read elsewhere. ``allow``: names directly in
    ``folder`` that may be links (the run's config file, which the trust gate judges link by link
    and a rewrite replaces)."""
    root = Path(folder)
    if not root.is_dir() or root.is_symlink():
        return
    for dirpath, dirnames, filenames in os.walk(root, onerror=None):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            if name in allow and Path(dirpath) == root:
                continue
            try:
                mode = os.lstat(p).st_mode
            except OSError:
                continue  # gone meanwhile
            if stat.S_ISLNK(mode):
                raise NasrankError(f"{p} is a symbolic link; nasrank does not follow links in a {what} "
                                   "(remove the link)")
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise NasrankError(f"{p} is not a regular file (a device, FIFO or socket) in a {what}; remove it")


def output_folder(path: str | Path, holds: str) -> Path:
    """``path`` as an output folder that exists (created if missing); ``holds`` names what it is for
    in the error raised when it is a file or cannot be created."""
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise NasrankError(f"--output {d} is a file; give a folder for {holds}")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NasrankError(f"cannot create the --output folder {d}: {exc.strerror or exc}") from None
    return d


def remove_stale_temporaries(path: Path) -> int:
    """Delete the temporaries of ``path`` that a killed writer left (``.NAME.*.tmp`` that no process
    holds locked); a writer still at work keeps its own. Returns how many were removed."""
    n = 0
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            fd = os.open(str(tmp), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # gone, or a link: not ours to delete
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                tmp.unlink()
                n += 1
        except OSError:
            pass  # locked: its writer is alive
        finally:
            os.close(fd)
    return n


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", newline: str | None = None,
                 what: str = "file") -> Iterator[IO]:
    """``with atomic_write(path) as fh: fh.write(...)``: ``path`` is replaced only if the block
    finishes; on an error (or a kill) the old file is untouched and no temporary file is left."""
    p = check_writable(path, what)
    binary = "b" in mode
    remove_stale_temporaries(p)
    try:
        fd, tmp = tempfile.mkstemp(dir=str(p.parent), prefix=f".{p.name}.", suffix=".tmp")
    except OSError as exc:
        raise NasrankError(f"cannot write {what} {p}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held while writing: a temporary nobody holds is a killed writer's
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would create it (mkstemp makes 0600)
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8",
                                                                            "newline": newline})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, p)  # still open and locked, so no cleaner takes it for a killed writer's
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, NasrankError):
            raise NasrankError(f"cannot write {what} {p}: {exc.strerror or exc}") from None
        raise
    fsync_dir(p.parent)


def atomic_write_text(path: str | Path, text: str, what: str = "file") -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    with atomic_write(path, "w", what=what) as fh:
        fh.write(text)


def atomic_write_bytes(path: str | Path, data: bytes, what: str = "file") -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_write(path, "wb", what=what) as fh:
        fh.write(data)


def strict_json(obj: Any) -> Any:
    """``obj`` with NaN/inf floats as ``None`` and numpy scalars as plain numbers (valid JSON)."""
    if isinstance(obj, dict):
        return {str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "shape", None) == ():
        obj = obj.item()  # a numpy scalar
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json_atomic(path: str | Path, obj: Any, what: str = "JSON file") -> None:
    """Write ``obj`` as indented strict JSON (no bare NaN) to ``path``, atomically."""
    text = json.dumps(strict_json(obj), indent=2, allow_nan=False, default=str) + "\n"
    atomic_write_text(path, text, what=what)
