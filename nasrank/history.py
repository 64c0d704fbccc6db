"""The search :class:`History`: every evaluation, appended to disk as it finishes.

``history.jsonl`` gets one JSON line per evaluation, flushed and fsynced, so
an interrupted run loses nothing already evaluated. Reopening the same
directory with ``resume=True`` replays those lines: the searcher, seeded the
same way, proposes the same architectures and gets the recorded results back
without paying for them again, then continues where the run stopped.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from nasrank.errors import NasrankError


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

    @property
    def valid(self) -> bool:
        return self.score is not None and math.isfinite(self.score)

    def to_json(self) -> str:
        d = asdict(self)
        if not self.valid:
            d["score"] = None
            d["info"] = {**d["info"], "invalid": d["info"].get("invalid", "nan")}
        return json.dumps(d, default=str)

    @classmethod
    def from_json(cls, line: str) -> "HistoryRecord":
        d = json.loads(line)
        if d.get("score") is None:
            d["score"] = float("nan")
        return cls(**d)


class History:
    """Ordered evaluations of one search, optionally mirrored to ``DIR/history.jsonl``."""

    FILENAME = "history.jsonl"

    def __init__(self, directory: str | Path | None = None, resume: bool = False) -> None:
        self.records: list[HistoryRecord] = []
        self._replay: list[HistoryRecord] = []
        self.path: Path | None = None
        if directory is not None:
            d = Path(directory)
            d.mkdir(parents=True, exist_ok=True)
            self.path = d / self.FILENAME
            if self.path.exists() and self.path.stat().st_size > 0:
                if not resume:
                    raise NasrankError(f"{self.path} already exists: pass --resume {d} to continue it or choose a new --output")
                self._replay = list(self._read(self.path))
                # drop a last line cut short by a kill, so new lines start clean
                self.path.write_text("".join(r.to_json() + "\n" for r in self._replay))

    @staticmethod
    def _read(path: Path) -> Iterator[HistoryRecord]:
        with path.open() as fh:
            for n, line in enumerate(fh, start=1):
                line = line.strip()
                if not line:
                    continue
                try:
                    yield HistoryRecord.from_json(line)
                except (json.JSONDecodeError, TypeError):
                    # a line cut short by a kill: everything before it is intact
                    break

    @classmethod
    def load(cls, directory: str | Path) -> "History":
        """Read a finished or interrupted run's history (read-only)."""
        path = Path(directory) / cls.FILENAME
        if not path.is_file():
            raise NasrankError(f"no search history at {path}")
        h = cls()
        h.records = list(cls._read(path))
        return h

    # -- replay -------------------------------------------------------------
    @property
    def replaying(self) -> bool:
        return bool(self._replay)

    def replay_next(self, arch: str) -> HistoryRecord | None:
        """The recorded evaluation of ``arch`` if the replay is at it, else ``None``."""
        if self._replay and self._replay[0].arch == arch:
            rec = self._replay.pop(0)
            self.records.append(rec)
            return rec
        if self._replay:
            raise NasrankError(
                f"cannot resume: the search proposed {arch} where the history has {self._replay[0].arch}; "
                "resume with the same searcher, ranker, seed and options"
            )
        return None

    # -- appending ----------------------------------------------------------
    @property
    def total_seconds(self) -> float:
        return self.records[-1].cumulative_seconds if self.records else 0.0

    def append(self, arch: str, score: float, seconds: float, device_seconds: float,
               true_acc: float | None = None, ranker: str = "", info: dict[str, Any] | None = None) -> HistoryRecord:
        rec = HistoryRecord(len(self.records), arch, float(score), float(seconds), float(device_seconds),
                            self.total_seconds + float(seconds), true_acc, ranker, dict(info or {}))
        self.records.append(rec)
        if self.path is not None:
            with self.path.open("a") as fh:
                fh.write(rec.to_json() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        return rec

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
        """The record with the highest valid score (first one on ties)."""
        valid = [r for r in self.records if r.valid]
        return max(valid, key=lambda r: r.score) if valid else None

    def trajectory(self) -> list[tuple[float, float | None]]:
        """(cumulative cost, true accuracy of the best-scored architecture so far)."""
        out, best = [], None
        for r in self.records:
            if r.valid and (best is None or r.score > best.score):
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
