"""Reading a scored pool: its manifest and its records (the shard lines, or the finished ``pool.csv``).

Format (``DIR/``):

* ``manifest.json``: ``format`` (``nasrank-pool/1``), ``plan`` (space, benchmark, dataset, data
  folder, device, cost kind, seed, cell count, calibration fraction, rankers), ``rankers`` (each
  label's ranker name, resolved ``config()`` and rungs), ``cells`` (``cell``, ``arch``, ``true_acc``,
  ``split``: calibration or report), ``benchmark_fingerprint``, ``provenance``;
* ``records/shard-K-of-N.jsonl``: one line per (cell, ranker): ``score`` (null when not finite),
  ``status``, ``seconds`` (the charge), ``process_cpu_seconds``, ``wall_seconds``,
  ``device_seconds``, ``info``, and for a ranker with rungs ``rungs``: one entry per rung with
  ``fidelity``, ``score``, ``status`` and the *cumulative* ``seconds`` (and CPU/wall seconds);
* ``pool.csv`` (:func:`write_table`): the same records as one table, a row per (cell, ranker,
  fidelity): ``cell,arch,split,true_acc,ranker,fidelity,score,status,seconds,device_seconds,info``
  (``fidelity`` empty for a plain score; ``info`` JSON).

Nothing is unpickled: JSON and CSV only.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError
MANIFEST = "manifest.json"
RECORDS = "records"
TABLE = "pool.csv"
COLUMNS = ("cell", "arch", "split", "true_acc", "ranker", "fidelity", "score", "status", "seconds",
           "device_seconds", "info")


@dataclass
class PoolEntry:
    """One recorded evaluation of one cell by one ranker (``rungs``: per-rung entries, cumulative cost)."""

    score: float
    status: str
    seconds: float
    device_seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float | None = None
    rungs: dict[int, "PoolEntry"] | None = None
    added_seconds: float | None = None  #: a rung's own charge (its cumulative ``seconds`` minus the previous rung's)


def _entry(rec: dict[str, Any]) -> PoolEntry:
    score = rec.get("score")
    rungs = None
    if rec.get("rungs"):
        rungs, prev = {}, 0.0
        for r in sorted(rec["rungs"], key=lambda r: int(r["fidelity"])):
            e = _entry({**r, "device_seconds": r.get("wall_seconds", r["seconds"])})
            e.added_seconds = float(r["added_seconds"]) if r.get("added_seconds") is not None else e.seconds - prev
            rungs[int(r["fidelity"])], prev = e, e.seconds
    info = rec.get("info") or (rungs[max(rungs)].info if rungs else {})
    return PoolEntry(float("nan") if score is None else float(score), rec.get("status", "ok"), float(rec["seconds"]),
                     float(rec.get("device_seconds", rec["seconds"])), info,
                     rec.get("wall_seconds"), rungs)


class Pool:
    """A scored pool: ``cells`` (manifest order), ``entries[label][arch string]``."""

    def __init__(self, folder: Path, manifest: dict[str, Any], entries: dict[str, dict[str, PoolEntry]]) -> None:
        self.folder = folder
        self.manifest = manifest
        self.entries = entries
        self.cells = manifest["cells"]

    @classmethod
    def load(cls, folder: str | Path) -> "Pool":
        """Read ``folder`` (records when there are any, else ``pool.csv``); one clear error if it is no pool."""
        folder = Path(folder)
        mpath = folder / MANIFEST
        if not mpath.is_file():
            raise NasrankError(f"pool {folder}: no manifest.json (not a pool folder)")
        try:
            manifest = json.loads(mpath.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise NasrankError(f"pool {folder}: manifest.json is not JSON ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != "nasrank-pool/1":
            raise NasrankError(f"pool {folder}: manifest.json is not a nasrank-pool/1 manifest")
        records = [r for p in sorted((folder / RECORDS).glob("shard-*.jsonl")) for r in read_records(p)]
        if not records and (folder / TABLE).is_file():
            records = _read_table(folder / TABLE)
        entries: dict[str, dict[str, PoolEntry]] = {lab: {} for lab in manifest["rankers"]}
        for rec in records:
            if rec.get("ranker") in entries:
                entries[rec["ranker"]][rec["arch"]] = _entry(rec)
        return cls(folder, manifest, entries)

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["rankers"])

    def complete_cells(self, labels: list[str] | None = None, split: str = "all") -> list[dict[str, Any]]:
        """The cells every one of ``labels`` (default: all) has scored, of ``split`` (calibration, report, all)."""
        if split not in ("calibration", "report", "all"):
            raise NasrankError(f"pool split must be calibration, report or all, got {split!r}")
        labels = labels or self.labels
        for lab in labels:
            if lab not in self.entries:
                raise NasrankError(f"pool {self.folder} has no ranker {lab!r}; it has: {', '.join(self.labels)}")
        return [c for c in self.cells if (split == "all" or c["split"] == split)
                and all(c["arch"] in self.entries[lab] for lab in labels)]

    def entry(self, label: str, arch: str) -> PoolEntry:
        if label not in self.entries:
            raise NasrankError(f"pool {self.folder} has no ranker {label!r}; it has: {', '.join(self.labels)}")
        got = self.entries[label].get(arch)
        if got is None:
            raise NasrankError(f"pool {self.folder}: ranker {label!r} has no record of {arch}")
        return got

    def fingerprint(self) -> str:
        """A SHA-256 of every recorded score, status and cost (what a recorded ranker reads)."""
        h = hashlib.sha256()
        for lab in sorted(self.entries):
            for arch in sorted(self.entries[lab]):
                e = self.entries[lab][arch]
                rungs = sorted((b, r.score, r.seconds) for b, r in (e.rungs or {}).items())
                h.update(f"{lab}\t{arch}\t{e.score!r}\t{e.status}\t{e.seconds!r}\t{rungs!r}\n".encode())
        return h.hexdigest()[:32]


def read_records(path: Path) -> list[dict[str, Any]]:
    """The complete lines of one shard file (a cut last line, from a kill, is dropped)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _read_table(path: Path) -> list[dict[str, Any]]:
    plain: dict[tuple, dict] = {}
    rungs: dict[tuple, list] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["arch"], row["ranker"])
            rec = {"cell": int(row["cell"]), "arch": row["arch"], "ranker": row["ranker"],
                   "score": None if row["score"] == "" else float(row["score"]), "status": row["status"],
                   "seconds": float(row["seconds"]), "device_seconds": float(row["device_seconds"]),
                   "info": json.loads(row["info"] or "{}")}
            if row["fidelity"]:
                rungs.setdefault(key, []).append({**rec, "fidelity": int(row["fidelity"])})
            else:
                plain[key] = rec
    for key, rs in rungs.items():
        plain.setdefault(key, dict(rs[-1]))["rungs"] = sorted(rs, key=lambda r: r["fidelity"])
    return list(plain.values())


def write_table(pool: Pool, path: str | Path | None = None) -> Path:
    """Write the pool's records as ``pool.csv`` (atomically); returns its path."""
    import io

    from nasrank.runs.atomic import atomic_write_text

    out = Path(path) if path else pool.folder / TABLE
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for c in pool.cells:
        for lab in pool.labels:
            e = pool.entries[lab].get(c["arch"])
            if e is None:
                continue
            rows = [(None, e)] + sorted((e.rungs or {}).items())
            for fid, r in rows:
                w.writerow([c["cell"], c["arch"], c["split"], c["true_acc"], lab, "" if fid is None else fid,
                            "" if r.score != r.score else repr(r.score), r.status, repr(r.seconds),
                            repr(r.device_seconds), json.dumps(r.info, sort_keys=True, default=str)])
    atomic_write_text(out, buf.getvalue())
    return out
