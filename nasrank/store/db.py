"""The SQLite file of the result store (see :mod:`nasrank.store`): schema, connections, reads and writes."""
from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from nasrank.errors import NasrankError
from nasrank.store.keys import StoreScope

if TYPE_CHECKING:  # annotations only: the store imports no ranker
    from nasrank.rankers.base import Evaluation

ENV_VAR = "NASRANK_STORE"
SCHEMA_VERSION = 1

COLUMNS = ("space", "arch_key", "ranker", "config_hash", "dataset", "seed", "canonical_key", "arch", "score",
           "invalid", "seconds", "device_seconds", "info", "config", "created")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    space          TEXT    NOT NULL,
    arch_key       TEXT    NOT NULL,
    ranker         TEXT    NOT NULL,
    config_hash    TEXT    NOT NULL,
    dataset        TEXT    NOT NULL,
    seed           INTEGER NOT NULL,
    canonical_key  TEXT    NOT NULL,
    arch           TEXT    NOT NULL,
    score          REAL,
    invalid        TEXT,
    seconds        REAL    NOT NULL,
    device_seconds REAL    NOT NULL,
    info           TEXT    NOT NULL DEFAULT '{}',
    config         TEXT    NOT NULL DEFAULT '{}',
    created        REAL    NOT NULL,
    PRIMARY KEY (space, ranker, config_hash, dataset, seed, arch_key)
);
CREATE INDEX IF NOT EXISTS evaluations_created ON evaluations (created);
"""



def _finite_or_none(x: float) -> float | None:
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return None
    return xf if math.isfinite(xf) else None


class ResultStore:
    """The SQLite result store at ``path`` (created with its folder unless ``create=False``).

    Safe to share between threads and processes; picklable (the connection
    is reopened lazily in each process and thread).
    """

    def __init__(self, path: str | Path, create: bool = True, timeout: float = 60.0, read_only: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.timeout = float(timeout)
        self.read_only = bool(read_only)  # ls / export: opened read-only (a store in a read-only folder reads)
        if not self.path.exists():
            if not create or read_only:
                raise NasrankError(f"no result store at {self.path} (give --store PATH or set {ENV_VAR})")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NasrankError(f"cannot create the result store folder {self.path.parent}: {exc}") from None
        elif self.path.is_dir():
            raise NasrankError(f"result store {self.path} is a folder; give a file path such as "
                               f"{self.path / 'results.sqlite'}")
        self._local = threading.local()
        self._warned = False
        self._conn()  # now, so errors name the path early and a read-only store fails before any work

    # -- connections ----------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "timeout": self.timeout, "read_only": self.read_only}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.timeout = state["path"], state["timeout"]
        self.read_only = state.get("read_only", False)
        self._local = threading.local()
        self._warned = False

    def _connect(self) -> sqlite3.Connection:
        """A connection (read-only, or read-write and checked writable) to a file that is a result store."""
        from nasrank.store.sqlite_files import check_writable, foreign_schema, open_read_only, read_only_reason

        if self.read_only:
            conn = open_read_only(self.path, self.timeout)
        else:
            try:
                conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None)
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError as exc:
                why = read_only_reason(self.path, exc)
                if why is None:
                    raise
                raise NasrankError(f"result store {self.path} is {why}; give a --store PATH you can write, "
                                   "or --no-store") from None
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NasrankError(f"result store {self.path} has schema version {version}; this nasrank reads "
                               f"up to {SCHEMA_VERSION} (upgrade nasrank or use another --store)")
        why = foreign_schema(conn, "evaluations", COLUMNS, SCHEMA_VERSION)
        if why is not None:  # never write our schema into another program's database
            raise NasrankError(f"{self.path} is not a nasrank result store: {why}; give another --store")
        if self.read_only:
            return conn
        check_writable(conn, self.path)
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed process loses nothing committed
        if version < SCHEMA_VERSION:
            self._retry(lambda: conn.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};"))
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise NasrankError(f"cannot open the result store {self.path}: {exc}") from None
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _has_table(self) -> bool:
        """Whether the evaluations table exists (a read-only open never creates it)."""
        return bool(self._conn().execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                                         "'evaluations'").fetchone())

    def _retry(self, fn: Callable[[], Any], tries: int = 8) -> Any:
        """Run ``fn``; retry a few times when SQLite reports a lock despite the busy timeout.

        A database error that persists (read-only file, full disk, a corrupt
        file) becomes a :class:`NasrankError` naming the store.
        """
        for i in range(tries):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                msg = str(exc).lower()
                if ("locked" not in msg and "busy" not in msg) or i == tries - 1:
                    raise NasrankError(f"result store {self.path}: {exc}") from exc
                time.sleep(0.05 * 2 ** i)
            except sqlite3.DatabaseError as exc:
                raise NasrankError(f"result store {self.path}: {exc}") from exc
        return None  # pragma: no cover

    def close(self) -> None:
        """Close this thread's connection (reopened on the next use)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- writing -------------------------------------------------------------
    def put(self, scope: StoreScope, arch_key: str, canonical_key: str, arch: str, ev: "Evaluation",
            config: dict[str, Any] | None = None) -> None:
        """Store one evaluation (replacing an earlier one with the same key); committed on return.

        ``ev`` is an :class:`~nasrank.rankers.base.Evaluation` or any object
        with its ``score``, ``seconds``, ``device_seconds`` and ``info``.
        """
        score = _finite_or_none(ev.score)
        info = dict(ev.info or {})
        info.pop("cached", None)
        invalid = None
        if score is None:
            s = ev.score if isinstance(ev.score, (int, float)) else float("nan")
            invalid = str(info.get("invalid") or ("nan" if math.isnan(s) else "inf"))
        row = (scope.space, str(arch_key), scope.ranker, scope.config_hash, scope.dataset, int(scope.seed),
               str(canonical_key), str(arch), score, invalid, float(ev.seconds), float(ev.device_seconds),
               json.dumps(info, default=str), json.dumps(config or {}, sort_keys=True, default=str), time.time())
        sql = f"INSERT OR REPLACE INTO evaluations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        conn = self._conn()
        self._retry(lambda: conn.execute(sql, row))

    # -- reading -------------------------------------------------------------
    @staticmethod
    def _evaluation(score: float | None, invalid: str | None, seconds: float, device_seconds: float,
                    info: str) -> "Evaluation":
        from nasrank.rankers.base import Evaluation
        from nasrank.runs.outcomes import infer_status

        d = json.loads(info) if info else {}
        if not isinstance(d, dict):
            raise ValueError(f"info is a JSON {type(d).__name__}, not an object")
        if not all(isinstance(x, (int, float)) and math.isfinite(x) and x >= 0 for x in (seconds, device_seconds)):
            raise ValueError(f"seconds {seconds!r} / device_seconds {device_seconds!r} are not costs")
        if score is None:
            d["invalid"] = invalid or d.get("invalid") or "nan"
            score = float("nan")
        return Evaluation(float(score), float(seconds), float(device_seconds), d, infer_status(score, d))

    def get_many(self, scope: StoreScope, arch_keys: Iterable[str]) -> dict[str, "Evaluation"]:
        """The stored evaluations of ``arch_keys`` under ``scope`` (missing keys are absent)."""
        keys = list(dict.fromkeys(str(k) for k in arch_keys))
        out: dict[str, Evaluation] = {}
        conn = self._conn()
        base = ("SELECT arch_key, score, invalid, seconds, device_seconds, info FROM evaluations WHERE space = ? "
                "AND ranker = ? AND config_hash = ? AND dataset = ? AND seed = ? AND arch_key IN ")
        head = (scope.space, scope.ranker, scope.config_hash, scope.dataset, int(scope.seed))
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            sql = base + f"({', '.join('?' * len(chunk))})"
            found = self._retry(lambda: conn.execute(sql, head + tuple(chunk)).fetchall())
            for k, score, invalid, secs, dsecs, info in found:
                try:
                    out[k] = self._evaluation(score, invalid, secs, dsecs, info)
                except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a hand-edited row: a miss
                    self._warn_malformed(k, exc)
        return out

    def _warn_malformed(self, arch_key: str, exc: BaseException) -> None:
        """Say once per store object that a malformed row is treated as a miss (recomputed, then replaced)."""
        if self._warned:
            return
        import sys

        from nasrank.runs.limits import short

        self._warned = True
        print(f"nasrank: warning: result store {self.path}: malformed row(s) ignored and recomputed (arch "
              f"{short(arch_key)}: {short(exc)}); further ones are recomputed without a warning", file=sys.stderr)

    def get(self, scope: StoreScope, arch_key: str) -> "Evaluation | None":
        return self.get_many(scope, [arch_key]).get(str(arch_key))

    @staticmethod
    def _where(space: str | None = None, ranker: str | None = None, config_hash: str | None = None,
               dataset: str | None = None, older_than_days: float | None = None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if space is not None:  # "nb201" also matches "nb201(channels=8)"; the name itself is no pattern
            clauses.append("(space = ? OR substr(space, 1, ?) = ?)")
            params += [space, len(space) + 1, space + "("]
        for col, val in (("ranker", ranker), ("config_hash", config_hash), ("dataset", dataset)):
            if val is not None:
                clauses.append(f"{col} = ?")
                params.append(val)
        if older_than_days is not None:
            clauses.append("created < ?")
            params.append(time.time() - float(older_than_days) * 86400.0)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def rows(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every row matching the filters (``space``, ``ranker``, ``config_hash``, ``dataset``,
        ``older_than_days``), as dicts with the :data:`COLUMNS`; ``info``/``config`` decoded."""
        where, params = self._where(**filters)
        if not self._has_table():
            return
        try:
            cur = self._conn().execute(f"SELECT {', '.join(COLUMNS)} FROM evaluations{where} "
                                       "ORDER BY space, ranker, config_hash, dataset, seed, created", params)
            for r in cur:
                d = dict(zip(COLUMNS, r))
                d["info"] = json.loads(d["info"] or "{}")
                d["config"] = json.loads(d["config"] or "{}")
                yield d
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise NasrankError(f"cannot read the result store {self.path}: {exc}") from None

    def counts(self, **filters: Any) -> list[dict[str, Any]]:
        """Rows per (space, ranker, config_hash, dataset): n, n_invalid, n_seeds, seconds, first/last time."""
        where, params = self._where(**filters)
        sql = ("SELECT space, ranker, config_hash, dataset, COUNT(*), SUM(score IS NULL), COUNT(DISTINCT seed), "
               "SUM(seconds), MIN(created), MAX(created), MAX(config) FROM evaluations" + where +
               " GROUP BY space, ranker, config_hash, dataset ORDER BY space, ranker, config_hash, dataset")
        keys = ("space", "ranker", "config_hash", "dataset", "n", "n_invalid", "n_seeds", "seconds", "first", "last",
                "config")
        out: list[dict[str, Any]] = []
        if not self._has_table():
            return out
        for r in self._retry(lambda: self._conn().execute(sql, params).fetchall()):
            d = dict(zip(keys, r))
            try:
                d["config"] = json.loads(d["config"] or "{}")
            except (TypeError, ValueError):
                d["config"] = {"malformed": str(d["config"])[:40]}
            out.append(d)
        return out

    def check_integrity(self) -> None:
        """``PRAGMA quick_check``: a damaged file is one :class:`NasrankError` (before a prune reports success)."""
        rows = self._retry(lambda: self._conn().execute("PRAGMA quick_check").fetchall())
        if [r[0] for r in rows] != ["ok"]:
            raise NasrankError(f"result store {self.path} is damaged ({rows[0][0]}); nothing was deleted. Move it "
                               "aside and start a new one")

    def delete(self, **filters: Any) -> int:
        """Delete the rows matching the filters (all rows when none is given); return how many."""
        where, params = self._where(**filters)
        conn = self._conn()
        cur = self._retry(lambda: conn.execute(f"DELETE FROM evaluations{where}", params))
        return int(cur.rowcount)

    def __len__(self) -> int:
        if not self._has_table():
            return 0
        return int(self._retry(lambda: self._conn().execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]))

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"
