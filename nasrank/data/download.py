"""A resumable, checksum-verified download of the items with a stable public URL (CIFAR-10/100).

``fetch(url, dest, md5)`` grows ``DEST.part`` (HTTP ``Range`` continues a partial file; a server that
ignores the range sends it whole and the file starts over), checks the md5 and only then renames the
file to ``DEST``: a wrong checksum is one error, and neither ``DEST`` nor the partial file is left.
``unpack(archive, source, root)`` extracts only the files the reader opens into a temporary folder,
checks each one's published md5 and renames the folder into place. No write follows a symbolic link
(``nasrank.runs.atomic``).
"""
from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Callable

from nasrank.data.check import md5_of
from nasrank.data.sources import Source
from nasrank.errors import NasrankError
from nasrank.runs.atomic import fsync_dir, open_partial_file, refuse_special

#: progress(bytes so far, total bytes or None)
Progress = Callable[[int, "int | None"], None]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _open(url: str, start: int, timeout: float):
    """The response to a GET of ``url`` from byte ``start``; proxies are bypassed for the loopback address."""
    req = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    handlers = [urllib.request.ProxyHandler({})] if urllib.parse.urlsplit(url).hostname in _LOOPBACK else []
    try:
        return urllib.request.build_opener(*handlers).open(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # the partial file already holds everything
            return None
        raise NasrankError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise NasrankError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None


def _resumed_at(resp, start: int) -> int:
    """Where the body of ``resp`` starts: ``start`` for a 206 that continues there, else 0 (whole file)."""
    if start and resp.status == 206:
        m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
        if m and int(m.group(1)) == start:
            return start
    return 0


def _total(resp, at: int) -> int | None:
    length = resp.headers.get("Content-Length")
    return at + int(length) if length and length.isdigit() else None


def _stream(url: str, part: Path, timeout: float, progress: Progress | None) -> None:
    """Grow ``part`` until the server has sent the whole file (resuming what it holds)."""
    if part.is_symlink():
        raise NasrankError(f"partial download {part} is a symbolic link; remove it")
    start = part.stat().st_size if part.exists() else 0
    resp = _open(url, start, timeout)
    if resp is None:
        return
    with resp:
        at = _resumed_at(resp, start)
        total, done = _total(resp, at), at
        with open_partial_file(part, restart=at == 0) as fh:
            try:
                while block := resp.read(1 << 16):
                    fh.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
            except (OSError, http.client.HTTPException) as exc:
                raise NasrankError(f"download of {url} stopped after {done:,} bytes ({exc.__class__.__name__}); "
                                   f"run the same command again to resume from {part}") from None
            finally:
                fh.flush()
                os.fsync(fh.fileno())
    if total is not None and done < total:
        raise NasrankError(f"download of {url} stopped after {done:,} of {total:,} bytes; "
                           f"run the same command again to resume from {part}")


def fetch(url: str, dest: str | Path, md5: str, progress: Progress | None = None, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify its md5 and rename it into place."""
    dest = Path(dest)
    refuse_special(dest, "download target")
    if dest.is_symlink():
        raise NasrankError(f"download target {dest} is a symbolic link; remove it")
    if dest.is_file() and md5_of(dest) == md5:
        return dest
    part = dest.with_name(dest.name + ".part")
    _stream(url, part, timeout, progress)
    got = md5_of(part)
    if got != md5:
        part.unlink()
        raise NasrankError(f"md5 of the download of {url} is {got}, expected {md5}; the file was removed")
    os.replace(part, dest)
    fsync_dir(dest.parent)
    return dest


def _extract(tar: tarfile.TarFile, src: Source, into: Path) -> set[str]:
    """Write the members ``src.folder/<file>`` of ``tar`` (regular files only) into ``into``; their names."""
    got = set()
    for m in tar:
        p = PurePosixPath(m.name)
        if not m.isfile() or p.parent != PurePosixPath(src.folder) or p.name not in src.files:
            continue
        data = tar.extractfile(m)
        fd = os.open(str(into / p.name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with data, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(data, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        got.add(p.name)
    return got


def unpack(archive: str | Path, src: Source, root: str | Path) -> Path:
    """Extract ``src``'s files from ``archive`` into ``root/src.folder`` (checked, then renamed into place)."""
    root, archive = Path(root), Path(archive)
    target = root / src.folder
    if target.exists() or target.is_symlink():
        raise NasrankError(f"{target} already exists; move it away to unpack {archive.name} again")
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{src.folder}.", suffix=".tmp"))
    try:
        try:
            with tarfile.open(archive, "r:*") as tar:
                got = _extract(tar, src, tmp)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise NasrankError(f"cannot unpack {archive}: {exc}") from None
        missing = [f for f in src.files if f not in got]
        if missing:
            raise NasrankError(f"{archive} lacks {src.folder}/{missing[0]} (and {len(missing) - 1} more)"
                               if len(missing) > 1 else f"{archive} lacks {src.folder}/{missing[0]}")
        bad = [f for f in src.files if f in src.md5 and md5_of(tmp / f) != src.md5[f]]
        if bad:
            raise NasrankError(f"md5 of {src.folder}/{bad[0]} in {archive} differs from the published one")
        os.rename(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
    fsync_dir(root)
    return target


def download(src: Source, root: str | Path, mirror: str | None = None, progress: Progress | None = None,
             keep_archive: bool = True) -> Path:
    """Fetch ``src``'s archive into ``root`` (from ``mirror``, a base URL holding the same file name, if
    given), verify it and unpack its folder; returns the folder. A folder already complete is kept."""
    if src.archive is None:
        raise NasrankError(f"{src.key} has no public download; get it from {src.origin}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / src.folder
    if target.is_dir() and not target.is_symlink() and all((target / f).is_file() for f in src.files):
        return target
    url = f"{mirror.rstrip('/')}/{src.archive.name}" if mirror else src.archive.url
    archive = fetch(url, root / src.archive.name, src.archive.md5, progress)
    folder = unpack(archive, src, root)
    if not keep_archive:
        archive.unlink()
    return folder

