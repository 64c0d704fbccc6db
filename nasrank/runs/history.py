"""The search :class:`History`: every evaluation, appended to disk as it finishes.

``history.jsonl`` gets one JSON line per evaluation, written through to the
operating system as it finishes (so an interrupted or killed run loses nothing
already evaluated) and fsynced at least every :attr:`History.SYNC_SECONDS` and
by :meth:`History.sync` / :meth:`History.close` (so a machine that loses power
loses at most the last half second; a 300-query tabular search does not wait
for 300 disk flushes). Reopening the same
directory with ``resume=True`` replays those lines: the searcher, seeded the
same way, proposes the same architectures and gets the recorded results back
without paying for them again, then continues where the run stopped.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterator

from nasrank.runs.atomic import atomic_write, open_run_file
from nasrank.errors import NasrankError
from nasrank.runs.outcomes import STATUSES, check_status, infer_status


@dataclass
class HistoryRecord:
    """One evaluation made by a search."""

    step: int
    arch: str
    score: float
    seconds: float
    device_seconds: float
    cumulative_seconds: float
    true_acc: float | None = None
    ranker: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    #: one of nasrank.runs.outcomes.STATUSES; None (a record written before statuses): read from ``info``
    status: str | None = None
    #: the budget (e.g. training epochs) this evaluation ran at, for multi-fidelity searchers; None otherwise
    fidelity: float | None = None

    def __post_init__(self) -> None:
        if self.status is None:
            self.status = infer_status(self.score, self.info)
        check_status(self.status)
        if self.status == "ok" and not self.valid:
            self.status = "invalid"

    @property
    def valid(self) -> bool:
        return self.score is not None and math.isfinite(self.score)

    def to_json(self) -> str:
        d = {name: getattr(self, name) for name in _RECORD_FIELDS}  # (asdict's deep copy is slow)
        if d["fidelity"] is None:  # single-fidelity histories keep their former lines
            del d["fidelity"]
        if not self.valid:
            d["score"] = None
            d["info"] = {**d["info"], "invalid": d["info"].get("invalid", "nan")}
        return json.dumps(d, default=str)

    @classmethod
    def from_json(cls, line: str) -> "HistoryRecord":
        """Parse one line; raise :class:`ValueError` naming what is wrong (a corrupt line)."""
        d = json.loads(line)
        if not isinstance(d, dict):
            raise ValueError(f"expected a JSON object, got {type(d).__name__}")
        unknown = sorted(set(d) - _FIELDS)
        missing = sorted(_REQUIRED - set(d))
        if unknown or missing:
            raise ValueError(f"unknown field(s) {unknown}" if unknown else f"missing field(s) {missing}")
        if d.get("score") is None:
            d["score"] = float("nan")
        if not _is_int(d["step"]) or d["step"] < 0 or not isinstance(d["arch"], str):
            raise ValueError("step must be an integer >= 0 and arch a string")
        for k in ("score", "seconds", "device_seconds", "cumulative_seconds", "true_acc", "fidelity"):
            v = d.get(k)
            if not (v is None and k in ("true_acc", "fidelity")) and not _is_number(v):
                raise ValueError(f"{k} must be a number, got {v!r}")
        fid = d.get("fidelity")
        if fid is not None and not (math.isfinite(fid) and fid >= 1 and fid == int(fid)):
            raise ValueError(f"fidelity must be a whole budget >= 1 (epochs), got {fid!r}")
        if not isinstance(d.get("ranker", ""), str) or not isinstance(d.get("info", {}), dict):
            raise ValueError("ranker must be a string and info an object")
        if d.get("status") is not None and d["status"] not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {d['status']!r}")
        return cls(**d)


_FIELDS = {"step", "arch", "score", "seconds", "device_seconds", "cumulative_seconds", "true_acc", "ranker", "info",
           "status", "fidelity"}
_REQUIRED = {"step", "arch", "seconds", "device_seconds", "cumulative_seconds"}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class _Reading:
    """What :func:`_read_lines` found in a history file."""

    records: list[HistoryRecord]
    bad: list[tuple[int, str, str]]  # (line number, line, reason)
    clean: bool  # the file ends with a newline and holds nothing to drop


def _read_lines(path: Path) -> _Reading:
    """Every valid record (first of each step, in step order); corrupt lines and repeated steps
    are listed in ``bad``; a last line cut short by a kill (no newline) is dropped silently."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    records: dict[int, HistoryRecord] = {}
    bad: list[tuple[int, str, str]] = []
    for n, raw in enumerate(lines + [tail], start=1):
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        try:
            raw.decode("utf-8")  # a line with bytes that are not UTF-8 is corrupt, not a record
            rec = HistoryRecord.from_json(text)
        except (ValueError, TypeError, RecursionError) as exc:
            if n > len(lines):  # the last line, unfinished: an interrupted write
                continue
            bad.append((n, text, str(exc).splitlines()[0][:120]))
            continue
        if rec.step in records:
            bad.append((n, text, f"repeats step {rec.step}"))
            continue
        records[rec.step] = rec
    ordered = [records[k] for k in sorted(records)]
    return _Reading(ordered, bad, clean=not bad and not tail.strip())


def _report_bad(path: Path, bad: list[tuple[int, str, str]], kept_in: Path | None) -> None:
    if not bad:
        return
    nums = ", ".join(str(n) for n, _, _ in bad[:10]) + (" ..." if len(bad) > 10 else "")
    where = f"; kept in {kept_in}" if kept_in is not None else ""
    print(f"nasrank: warning: {path}: skipped {len(bad)} corrupt line(s) (line {nums}: {bad[0][2]}){where}",
          file=sys.stderr)


#: the fields of a history line, in order
_RECORD_FIELDS = tuple(f.name for f in fields(HistoryRecord))


class History:
    """Ordered evaluations of one search, optionally mirrored to ``DIR/history.jsonl``."""

    FILENAME = "history.jsonl"
    #: the longest time an appended line waits for its fsync (while appends go on)
    SYNC_SECONDS = 0.5

    def __init__(self, directory: str | Path | None = None, resume: bool = False) -> None:
        self.records: list[HistoryRecord] = []
        self._replay: list[HistoryRecord] = []
        self._listeners: list[Callable[[HistoryRecord, bool], None]] = []
        self._holes: list[int] = []  # steps of corrupt lines handed back to the searcher, in order
        self._next_step = 0
        self.path: Path | None = None
        self._lock = None
        self._last_sync = -math.inf
        self._unsynced = False
        self._fh = None  # history.jsonl, open for appending from the first append on
        if directory is not None:
            from nasrank.runs.lock import lock_run_folder

            d = Path(directory)
            self._lock = lock_run_folder(d)  # one process per run folder
            self.path = d / self.FILENAME
            if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
                self._lock.release()
                kind = "a symbolic link" if self.path.is_symlink() else "not a regular file"
                raise NasrankError(f"history {self.path} is {kind}; nasrank does not write through links or "
                                   "onto devices in a run folder (remove it)")
            if self.path.exists() and self.path.stat().st_size > 0:
                if not resume:
                    raise NasrankError(f"{self.path} already exists (an earlier run): continue it with --resume "
                                      "or choose a new --output")
                self._replay = self._open_for_resume(self.path)
            elif not self.path.exists():
                self.path.touch()  # so that a history deleted later is told from a run not started

    @classmethod
    def _open_for_resume(cls, path: Path) -> list[HistoryRecord]:
        """Read ``path`` for a resume; move corrupt lines to ``<path>.bad`` and rewrite the file
        (atomically) when anything was dropped, so new lines start clean."""
        for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a kill during an earlier rewrite
            stale.unlink(missing_ok=True)  # (we hold the folder's lock: nobody else is writing)
        try:
            reading = _read_lines(path)
        except OSError as exc:
            raise NasrankError(f"cannot read {path}: {exc.strerror or exc}") from None
        if reading.clean:
            return reading.records
        bad_path = path.with_name(path.name + ".bad")
        if reading.bad:
            with open_run_file(bad_path, "a", "corrupt-line file") as fh:  # saved before the rewrite drops them
                fh.write("".join(line + "\n" for _, line, _ in reading.bad))
                fh.flush()
                os.fsync(fh.fileno())
        _report_bad(path, reading.bad, bad_path)
        with atomic_write(path, what="history") as fh:
            fh.write("".join(r.to_json() + "\n" for r in reading.records))
        return reading.records

    @staticmethod
    def _read(path: Path) -> Iterator[HistoryRecord]:
        reading = _read_lines(path)
        _report_bad(path, reading.bad, None)
        return iter(reading.records)

    def sync(self) -> None:
        """fsync the lines appended since the last fsync (a no-op when there are none)."""
        if self._unsynced and self._fh is not None:
            os.fsync(self._fh.fileno())
            self._last_sync, self._unsynced = time.monotonic(), False

    def close(self) -> None:
        """fsync what is left (:meth:`sync`) and release the run folder's lock (also released when
        this object is dropped)."""
        self.sync()
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @classmethod
    def load(cls, directory: str | Path) -> "History":
        """Read a finished or interrupted run's history (read-only; corrupt lines are skipped and reported)."""
        path = Path(directory) / cls.FILENAME
        if not path.is_file():
            raise NasrankError(f"no search history at {path}")
        h = cls()
        try:
            h.records = list(cls._read(path))
        except OSError as exc:
            raise NasrankError(f"cannot read {path}: {exc.strerror or exc}") from None
        return h

    # -- replay -------------------------------------------------------------
    @property
    def replaying(self) -> bool:
        return bool(self._replay)

    def replay_next(self, arch: str) -> HistoryRecord | None:
        """The recorded evaluation of ``arch`` if the replay is at it, else ``None``.

        A step missing from the replay (its line was corrupt) also gives ``None``:
        the searcher evaluates that architecture again, the new record takes the
        missing step, and the replay goes on after it.
        """
        expected = len(self.records) + len(self._holes)
        if self._replay and self._replay[0].step > expected:
            self._holes.append(expected)  # a hole left by a corrupt line
            return None
        if self._replay and self._replay[0].arch == arch:
            return self.replay_pop()
        if self._replay:
            raise NasrankError(
                f"cannot resume: the search proposed {arch} where the history has {self._replay[0].arch}; "
                "resume with the same searcher, ranker, seed and options"
            )
        return None

    def replay_pop(self) -> HistoryRecord:
        """Take the next recorded evaluation, whatever the searcher proposes (for searchers that
        replay in completion order, e.g. ``evolution_async``)."""
        rec = self._replay.pop(0)
        self.records.append(rec)
        self._next_step = max(self._next_step, rec.step + 1)
        self._notify(rec, True)
        return rec

    # -- appending ----------------------------------------------------------
    @property
    def total_seconds(self) -> float:
        return self.records[-1].cumulative_seconds if self.records else 0.0

    def append(self, arch: str, score: float, seconds: float, device_seconds: float,
               true_acc: float | None = None, ranker: str = "", info: dict[str, Any] | None = None,
               **fields: Any) -> HistoryRecord:
        """Append one evaluation (written through; fsynced as :attr:`SYNC_SECONDS` says); ``fields`` are the record's optional ones: ``status``
        (one of :data:`~nasrank.runs.outcomes.STATUSES`; default: read from ``info``) and ``fidelity``."""
        unknown = sorted(set(fields) - {"status", "fidelity"})
        if unknown:
            raise TypeError(f"History.append() got unexpected field(s) {', '.join(unknown)}")
        fidelity = fields.get("fidelity")
        step = self._holes.pop(0) if self._holes else self._next_step
        self._next_step = max(self._next_step, step + 1)
        rec = HistoryRecord(step, arch, float(score), float(seconds), float(device_seconds),
                            self.total_seconds + float(seconds), true_acc, ranker, dict(info or {}),
                            fields.get("status"), None if fidelity is None else float(fidelity))
        self.records.append(rec)
        if self.path is not None:
            if self._fh is None:  # opened once (the folder's lock keeps other writers out)
                self._fh = open_run_file(self.path, "a", "history")
            self._fh.write(rec.to_json() + "\n")
            self._fh.flush()
            now = time.monotonic()
            self._unsynced = now - self._last_sync < self.SYNC_SECONDS
            if not self._unsynced:
                os.fsync(self._fh.fileno())
                self._last_sync = now
        self._notify(rec, False)
        return rec

    def subscribe(self, listener: Callable[[HistoryRecord, bool], None]) -> None:
        """Call ``listener(record, replayed)`` for every record from now on (replayed ones included)."""
        self._listeners.append(listener)

    def _notify(self, rec: HistoryRecord, replayed: bool) -> None:
        for listener in self._listeners:
            listener(rec, replayed)

    # -- summaries ----------------------------------------------------------
    def __repr__(self) -> str:
        best = self.best()
        where = f", {self.path}" if getattr(self, "path", None) is not None else ""
        head = f"History({len(self.records)} evaluations, cost {self.total_seconds:.4g} s"
        if best is None:
            return head + f", no valid score{where})"
        acc = "" if best.true_acc is None else f", its true acc {best.true_acc:.2f}"
        return head + f", best score {best.score:.4g}{acc}{where})"

    def cost_kind(self, measured_on: str | None = None) -> str:
        """What this history's cost is: the benchmark's recorded or modelled training time (a tabular
        ranker says so in ``info["cost"]``), a fixed charge, or measured wall time (``measured_on``)."""
        kinds = {str(r.info.get("cost")) for r in self.records if r.info.get("cost") is not None}
        if kinds and kinds <= {"recorded"}:
            return "recorded benchmark training time (GPU s)"
        if kinds and kinds <= {"recorded", "modelled"}:
            return "recorded/modelled benchmark training (GPU s)"
        if kinds == {"per query"}:
            return "fixed charge per query (s)"
        return f"measured wall time{f' on {measured_on}' if measured_on else ''} (s)"

    def to_pandas(self):
        """One row per evaluation (``info`` flattened to ``info.KEY`` columns); needs pandas
        (``pip install nasrank[pandas]``)."""
        pd = require_pandas()
        rows = []
        for r in self.records:
            d = asdict(r)
            info = d.pop("info")
            d.update({f"info.{k}": v for k, v in info.items()})
            rows.append(d)
        cols = ["step", "arch", "score", "seconds", "device_seconds", "cumulative_seconds", "true_acc", "ranker"]
        return pd.DataFrame(rows, columns=None if rows else cols)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[HistoryRecord]:
        return iter(self.records)

    def best(self) -> HistoryRecord | None:
        """The record with the highest valid score (first one on ties). In a multi-fidelity history
        (records with a ``fidelity``) only the records at the highest fidelity reached compete:
        scores at different budgets are not comparable."""
        valid = [r for r in self.records if r.valid]
        top = max((r.fidelity for r in valid if r.fidelity is not None), default=None)
        if top is not None:
            valid = [r for r in valid if r.fidelity == top]
        return max(valid, key=lambda r: r.score) if valid else None

    def trajectory(self) -> list[tuple[float, float | None]]:
        """(cumulative cost, true accuracy of the best-scored architecture so far); with fidelities,
        the best among the records at the highest fidelity reached so far (as :meth:`best`)."""
        out, best, top = [], None, None
        for r in self.records:
            if r.valid and r.fidelity is not None and (top is None or r.fidelity > top):
                top, best = r.fidelity, None  # a higher fidelity: earlier scores no longer compete
            if r.valid and r.fidelity == top and (best is None or r.score > best.score):
                best = r
            out.append((r.cumulative_seconds, None if best is None else best.true_acc))
        return out


def require_pandas():
    """The pandas module, or one clear error saying how to install it (pandas is an optional extra)."""
    try:
        import pandas
    except ImportError:
        raise NasrankError("to_pandas() needs pandas: pip install 'nasrank[pandas]'") from None
    return pandas
