"""Opening a SQLite file a user pointed at: read-only where it must be, checked writable before work,
and recognised as ours before anything is written into it (:class:`nasrank.store.ResultStore`)."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from nasrank.errors import NasrankError


def open_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """A read-only connection to ``path``. A WAL database in a folder this user cannot write has no
    ``-shm`` file to share, so it falls back to ``immutable=1`` (nobody can be writing it from here)."""
    uri = "file:" + quote(str(path.resolve()))
    last: Exception | None = None
    for mode in ("mode=ro", "immutable=1"):
        try:
            conn = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=timeout, isolation_level=None)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            last = exc
    raise NasrankError(f"cannot read the result store {path}: {last}") from None


def read_only_reason(path: Path, exc: BaseException | None = None) -> str | None:
    """Why ``path`` cannot be written (``"the file is read-only"``, ...), or None when it can be."""
    if exc is not None and "readonly" in str(exc).lower().replace("read-only", "readonly"):
        return f"read-only ({exc})"
    if path.exists() and not os.access(path, os.W_OK):
        return "read-only (the file is not writable)"
    if not os.access(path.parent, os.W_OK):
        return "read-only (its folder is not writable: SQLite writes its journal beside it)"
    return None


def check_writable(conn: sqlite3.Connection, path: Path) -> None:
    """Write (and roll back) now, so a read-only store fails before any work, not after it. Taking the lock
    alone is not enough: in WAL mode a read-only file still gives the lock (the journal is beside it)."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        why = read_only_reason(path, exc)
        if why is None:
            raise
        raise NasrankError(f"result store {path} is {why}; give a --store PATH you can write, or --no-store") from None


def foreign_schema(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], version: int) -> str | None:
    """Why the database is not a result store (another program's tables, or ``table`` with other columns),
    or None. A database without tables is a new store."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    if not tables:
        return None
    if table not in tables:
        return f"it is a SQLite database of something else (tables: {', '.join(tables[:8])})"
    have = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    if sorted(have) != sorted(columns):
        return f"its {table} table has other columns ({', '.join(have[:12])})"
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    if user_version not in (0, version):
        return f"its schema version is {user_version}"
    return None
