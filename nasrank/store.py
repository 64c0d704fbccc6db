"""A persistent result store: every ranker evaluation, in one SQLite file, reused across runs.

One row per evaluation, keyed by::

    (space, arch_key, ranker, config_hash, dataset, seed)

* ``space``: the space's registry name, followed by its non-default
  constructor options, e.g. ``nb201`` or ``nb201(cells_per_stage=1,channels=8)``
  (a smaller network gives different scores, so it is a different space here).
* ``arch_key``: ``str(space.key(arch))``, the architecture's **own** key.
  Lookups use it, not the canonical (isomorphism-class) key: a ranker's score
  is invariant under isomorphism only if the ranker makes it so (#params is
  not: a dead conv still holds parameters; a ranker that builds the cell as
  written sees the dead edges too). Reusing a class member's result for
  another member would silently change such a ranker's scores. The
  ``canonical_key`` is stored beside it for analysis and for ``ls``.
* ``ranker`` and ``config_hash``: :meth:`Ranker.name` and
  :meth:`Ranker.config_hash` (the ranker's constructor options).
* ``dataset``: a dataset fingerprint (:func:`dataset_fingerprint`):
  ``"<name>:none"`` without a data folder, else ``"<name>:<hash>"`` where the
  hash covers the resolved data folder and the relative path, size and mtime
  of every file under it, so re-downloaded or edited data is a new key. The
  dataset name is part of it even without a folder (the number of classes
  follows the dataset). For rankers whose score is the benchmark itself
  (``uses_benchmark = True``, e.g. the ``tabular`` ranker) the benchmark's
  content fingerprint (:meth:`Benchmark.fingerprint`: a hash of its loaded
  rows, never its path) is hashed in as well, so an edited table, or another
  table at the same relative path, is a new key.
* ``seed``: ``context.seed`` at evaluation time. Always part of the key, even
  for deterministic rankers: a seed is an input, and a ranker that wrongly
  declares itself deterministic must not hand one seed's result to another.

Stored with it: ``score`` (NULL when NaN/inf, with the reason in
``invalid``), ``seconds``, ``device_seconds``, ``info`` (JSON), the
architecture string, the ranker config (JSON) and ``created`` (Unix time).

A built-in ranker's ``config()`` is its declared options (its ``Options`` dataclass, see
:mod:`nasrank.options`), so every option is in the key by construction. A user's ranker without a
declaration is read back from attributes named like its constructor's keyword arguments; one that
keeps an option under another name should declare its options (or override ``config``), or its
results under different options would share a key. ``space_id`` reads a space's options the same
way (attributes named like its constructor's arguments).

**Reuse and cost.** :class:`~nasrank.rankers.stored.StoredRanker` wraps any ranker: a stored result
comes back with ``info["cached"] = True`` and is charged the cost recorded
when it was computed, so a search's budget and reported cost do not depend
on what happened to be in the store; what this process really spent is in
``StoredRanker.stats()`` (``fresh_seconds``, ``n_fresh``, ...).

**Concurrency.** Several processes (searches, Ray workers on one machine)
may write at once: the database runs in WAL mode, every connection waits up
to ``timeout`` seconds for a lock (``busy_timeout``), and every write is one
short autocommit statement (``INSERT OR REPLACE``), so a killed process
loses at most the evaluation it was computing. WAL needs a local file
system (not NFS); Ray workers on other machines need their own store.

**Imports.** This module imports neither torch nor the rankers, so the
``nasrank store`` commands and ``add_store_args`` stay fast. The ranker that
reads and writes the store is :class:`nasrank.rankers.stored.StoredRanker`.

**Default location.** ``--store PATH``, else the environment variable
``NASRANK_STORE``, else ``~/.cache/nasrank/results.sqlite``.
``--no-store`` (or ``NASRANK_STORE=none``) disables it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from nasrank.errors import NasrankError

if TYPE_CHECKING:  # annotations only: the store module itself imports no ranker
    from nasrank.rankers.base import Evaluation, Ranker
    from nasrank.spaces.base import SearchSpace

DEFAULT_STORE = "~/.cache/nasrank/results.sqlite"
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


# --------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------
def _simple_options(obj: Any) -> dict[str, Any]:
    """Constructor options of ``obj`` that it keeps as same-named attributes (non-default ones only)."""
    from nasrank.registry import accepted_options

    opts = accepted_options(type(obj))
    out: dict[str, Any] = {}
    for n in opts.names:
        if not hasattr(obj, n):
            continue
        v = getattr(obj, n)
        if not isinstance(v, (int, float, str, bool, type(None))):
            continue
        if n in opts.defaults and opts.defaults[n] == v:
            continue
        out[n] = v
    return out


def space_id(space: "SearchSpace") -> str:
    """``name`` or ``name(opt=value,...)`` with the space's non-default constructor options."""
    opts = _simple_options(space)
    if not opts:
        return space.registry_name
    return f"{space.registry_name}({','.join(f'{k}={opts[k]}' for k in sorted(opts))})"


def _short_hash(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


def dataset_fingerprint(dataset: str, data_dir: str | Path | None, extra: str | None = None) -> str:
    """``"<dataset>:none"`` without a data folder, else ``"<dataset>:<hash>"``.

    The hash covers the resolved folder and the relative path, size and
    mtime (ns) of every file under it (a single file is hashed the same way),
    plus ``extra`` when given (e.g. the benchmark source). Only ``stat`` is
    called: nothing is read, so it is fast even for large datasets.
    """
    if data_dir is None and extra is None:
        return f"{dataset}:none"
    parts: list[Any] = [dataset, extra]
    if data_dir is not None:
        root = Path(data_dir).expanduser().resolve()
        parts.append(str(root))
        if root.is_file():
            st = root.stat()
            parts.append(("", st.st_size, st.st_mtime_ns))
        elif root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for f in sorted(filenames):
                    p = Path(dirpath) / f
                    try:
                        st = p.stat()
                    except OSError:
                        continue
                    parts.append((str(p.relative_to(root)), st.st_size, st.st_mtime_ns))
        else:
            parts.append("missing")
    return f"{dataset}:{_short_hash(parts)}"


def benchmark_fingerprint(bench: Any) -> str:
    """The content fingerprint of ``bench`` (its :meth:`~nasrank.benchmarks.base.Benchmark.fingerprint`);
    ``"none"`` without one. A benchmark object without ``fingerprint`` (a user's own) falls back to its
    ``source`` label, which then must name its content."""
    if bench is None:
        return "none"
    fp = getattr(bench, "fingerprint", None)
    if callable(fp):
        return "sha256:" + str(fp())
    return "source:" + str(getattr(bench, "source", None) or type(bench).__name__)


@dataclass(frozen=True)
class StoreScope:
    """Everything in a row's key except the architecture."""

    space: str
    ranker: str
    config_hash: str
    dataset: str
    seed: int


@functools.lru_cache(maxsize=64)
def _fingerprint_once(dataset: str, data_dir: str | None, extra: str | None) -> str:
    return dataset_fingerprint(dataset, data_dir, extra)


def ranker_scope(ranker: "Ranker") -> StoreScope:
    """The :class:`StoreScope` of ``ranker`` with its context as it is now.

    The dataset fingerprint is computed once per process and data folder
    (data changed while a run is going is not noticed).
    """
    ctx = ranker.context
    extra = None
    if getattr(ranker, "uses_benchmark", False):
        extra = "benchmark:" + benchmark_fingerprint(ctx.benchmark)
    data_dir = None if ctx.data_dir is None else str(ctx.data_dir)
    return StoreScope(space_id(ranker.space), ranker.name, ranker.config_hash(),
                      _fingerprint_once(ctx.dataset, data_dir, extra), int(ctx.seed))


# --------------------------------------------------------------------------
# the store
# --------------------------------------------------------------------------
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

    def __init__(self, path: str | Path, create: bool = True, timeout: float = 60.0) -> None:
        self.path = Path(path).expanduser()
        self.timeout = float(timeout)
        if not self.path.exists():
            if not create:
                raise NasrankError(f"no result store at {self.path} (give --store PATH or set {ENV_VAR})")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NasrankError(f"cannot create the result store folder {self.path.parent}: {exc}") from None
        elif self.path.is_dir():
            raise NasrankError(f"result store {self.path} is a folder; give a file path such as "
                               f"{self.path / 'results.sqlite'}")
        self._local = threading.local()
        self._conn()  # create the schema now, so errors name the path early

    # -- connections ----------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.timeout = state["path"], state["timeout"]
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise NasrankError(f"result store {self.path} has schema version {version}; this nasrank reads "
                                   f"up to {SCHEMA_VERSION} (upgrade nasrank or use another --store)")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed process loses nothing committed
            if version < SCHEMA_VERSION:
                self._retry(lambda: conn.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};"))
        except sqlite3.DatabaseError as exc:
            raise NasrankError(f"cannot open the result store {self.path}: {exc}") from None
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

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
                out[k] = self._evaluation(score, invalid, secs, dsecs, info)
        return out

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
        out = []
        for r in self._retry(lambda: self._conn().execute(sql, params).fetchall()):
            d = dict(zip(keys, r))
            d["config"] = json.loads(d["config"] or "{}")
            out.append(d)
        return out

    def delete(self, **filters: Any) -> int:
        """Delete the rows matching the filters (all rows when none is given); return how many."""
        where, params = self._where(**filters)
        conn = self._conn()
        cur = self._retry(lambda: conn.execute(f"DELETE FROM evaluations{where}", params))
        return int(cur.rowcount)

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"


# --------------------------------------------------------------------------
# command-line helpers
# --------------------------------------------------------------------------
def default_store_path() -> str | None:
    """``$NASRANK_STORE`` (``none``/``off`` disables), else ``~/.cache/nasrank/results.sqlite``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env.lower() in ("none", "off", "0", "false"):
        return None
    return env or DEFAULT_STORE
