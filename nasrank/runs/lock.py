"""An advisory lock on a run folder, so two processes never write one history.

:func:`lock_run_folder` takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on
``DIR/.nasrank.lock`` and writes the holder's PID into it (one fixed-width ``pwrite``, so a
process reading it never sees a partial PID). A second process
gets one :class:`NasrankError` naming that PID. The lock is released when the
holder calls :meth:`RunLock.release`, when the object is garbage-collected, or
when the process ends (even by SIGKILL: the kernel drops it). Within one
process the lock is shared (taking it twice is allowed and counted).
"""
from __future__ import annotations

import os
import stat
import weakref
from pathlib import Path

from nasrank.errors import NasrankError

LOCK_FILE = ".nasrank.lock"

#: resolved folder -> [file descriptor, holders] of the locks this process holds
_HELD: dict[str, list[int]] = {}


def _release(key: str) -> None:
    held = _HELD.get(key)
    if held is None:
        return
    held[1] -= 1
    if held[1] <= 0:
        del _HELD[key]
        try:
            os.close(held[0])  # closing the descriptor drops the flock
        except OSError:
            pass


class RunLock:
    """The lock on one run folder; :meth:`release` (or dropping the object) frees it."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._finalizer = weakref.finalize(self, _release, key)

    def release(self) -> None:
        self._finalizer()


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"process {text}" if text.isdigit() else "another process"


def lock_run_folder(folder: str | Path) -> RunLock:
    """Lock ``folder`` (created if missing) for this process, or raise naming the holder's PID."""
    import fcntl

    d = Path(folder)
    if d.exists() and not d.is_dir():
        raise NasrankError(f"run folder {d} is a file; give a folder for the run (--output)")
    try:
        d.mkdir(parents=True, exist_ok=True)
        key = str(d.resolve())
        if key in _HELD:
            _HELD[key][1] += 1
            return RunLock(key)
        fd = os.open(str(d / LOCK_FILE), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        if (d / LOCK_FILE).is_symlink():
            raise NasrankError(f"lock file {d / LOCK_FILE} is a symbolic link; nasrank does not write through "
                               "links in a run folder (remove the link)") from None
        raise NasrankError(f"cannot use run folder {d}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NasrankError(f"lock file {d / LOCK_FILE} is not a regular file (a device or FIFO); remove it")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        who = _holder(fd)
        os.close(fd)
        raise NasrankError(f"run folder {d} is in use by {who}; wait for it to finish "
                           "(or stop it) before resuming or writing there") from None
    pid = f"{os.getpid():>20}\n".encode()  # one fixed-width write: a reader never sees a half-written PID
    os.pwrite(fd, pid, 0)
    os.ftruncate(fd, len(pid))  # only trims what an older, longer file held beyond it
    _HELD[key] = [fd, 1]
    return RunLock(key)
