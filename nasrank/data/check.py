"""``nasrank data check DIR``: which official items a folder holds, which files are missing, and each
file's size and md5 (compared with the published md5 where there is one).

An item is looked for at ``DIR/<folder>``, at ``DIR`` itself (``DIR`` is the item's folder) and one
level down (``DIR/<any>/<folder>``, as in a folder of several data sets). Single-file items (the NB201
``.pth``, the CSV tables) are looked for in ``DIR`` and one level down.
"""
from __future__ import annotations

import csv
import fnmatch
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from nasrank.data.sources import SOURCES, TABLE_COLUMNS, Source
from nasrank.errors import NasrankError

#: files larger than this get no md5 (the NB201 .pth is several GB)
MD5_LIMIT_BYTES = 1 << 30
#: an item of more files than this (the NATS directory: one per architecture) gets no md5s
MD5_LIMIT_FILES = 50


@dataclass
class FileStatus:
    """One file of an item: its path, size, md5 (None: not computed) and verdict against the published md5."""
    path: Path
    size: int
    md5: str | None = None
    official: bool | None = None  #: None: no published md5 (or none computed)


@dataclass
class ItemStatus:
    """What ``DIR`` holds of one item: the folder found, its files, what is missing."""
    key: str
    found: Path | None
    files: list[FileStatus] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    note: str = ""
    partial: bool = False  #: readable, but fewer records than the published item holds

    @property
    def complete(self) -> bool:
        """Found, with every file its reader opens and every record."""
        return self.found is not None and not self.missing and not self.partial


def md5_of(path: Path, chunk: int = 1 << 20) -> str:
    """The md5 of a file, read in chunks."""
    h = hashlib.md5()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _candidates(root: Path, folder: str) -> list[Path]:
    """Where an item's folder may be: ``root/folder``, ``root`` itself, ``root/*/folder``."""
    if not folder:
        return [root] + sorted(p for p in root.iterdir() if p.is_dir())
    out = [root / folder] if (root / folder).is_dir() else []
    if root.name == folder:
        out.append(root)
    out += sorted(p / folder for p in root.iterdir() if p.is_dir() and (p / folder).is_dir())
    return out


def _is_table(path: Path, key: str) -> bool:
    """Whether a CSV's header holds the columns of table ``key``."""
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            header = next(csv.reader([fh.readline(1_000_000)]), [])
    except OSError:
        return False
    return all(c in header for c in TABLE_COLUMNS[key])


def _match(folder: Path, src: Source) -> tuple[list[Path], list[str]]:
    """The files of ``src`` in ``folder`` and the names (or patterns) not there."""
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    found: dict[str, Path] = {}  # name -> path, in order (a set's lookups: the NATS folder has 15,626 files)
    missing = []
    for want in src.files:
        if "*" not in want:
            if want in names:
                found[want] = folder / want
            else:
                missing.append(want)
            continue
        hits = [n for n in fnmatch.filter(names, want) if n not in found]
        if src.key in TABLE_COLUMNS:
            hits = [n for n in hits if _is_table(folder / n, src.key)]
        found.update((n, folder / n) for n in hits)
        if not hits:
            missing.append(want)
    return list(found.values()), missing


def check_item(root: Path, src: Source, checksums: bool = True) -> ItemStatus:
    """What ``root`` holds of ``src`` (the best of the places it may be: most files found)."""
    best: ItemStatus | None = None
    for folder in _candidates(root, src.folder):
        found, missing = _match(folder, src)
        if not found:
            continue
        st = ItemStatus(src.key, folder, [FileStatus(p, p.stat().st_size) for p in found], missing)
        if best is None or len(st.files) > len(best.files):
            best = st
    if best is None:
        return ItemStatus(src.key, None, missing=list(src.files))
    n_records = sum(f.path.name not in src.files for f in best.files)  # the files a pattern matched
    if src.min_count and n_records < src.min_count:
        best.partial = True
        best.note = f"{n_records:,} of {src.min_count:,} records (a partial copy)"
    if checksums and len(best.files) <= MD5_LIMIT_FILES:
        for f in best.files:
            if f.size <= MD5_LIMIT_BYTES:
                f.md5 = md5_of(f.path)
                want = src.md5.get(f.path.name)
                f.official = None if want is None else f.md5 == want
    if any(f.official is False for f in best.files) and not best.note:
        best.note = "md5 differs from the published file: another copy or a subset"
    return best


def check_dir(root: str | Path, keys: list[str] | None = None, checksums: bool = True) -> list[ItemStatus]:
    """The status of every item (or those in ``keys``) under ``root``."""
    path = Path(root)
    if not path.is_dir():
        raise NasrankError(f"data folder {path} is not a folder")
    return [check_item(path, SOURCES[k], checksums) for k in (keys or list(SOURCES))]
