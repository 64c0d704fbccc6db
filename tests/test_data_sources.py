"""`nasrank data`: where the official files come from, `data check DIR` on the shared data, and the
resumable, md5-verified download against an HTTP server on 127.0.0.1 (issue 33)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nasrank.cli import main
from nasrank.data.check import check_dir
from nasrank.data.download import download, fetch, unpack
from nasrank.data.sources import SOURCES, Archive
from nasrank.errors import MissingFileError, NasrankError
from nasrank.lightning_modules.datasets import DATASETS, read_arrays

from conftest import SHARED


# -- the catalog and `data check` on real data ---------------------------------------------------------
def test_the_layout_is_the_readers():
    """The folders the catalog names are the ones the dataset readers open."""
    for key, name in (("cifar10", "cifar10"), ("cifar100", "cifar100"), ("imagenet16", "ImageNet16-120")):
        assert SOURCES[key].folder == DATASETS[name].folder
    assert SOURCES["cifar10"].archive.md5 == "c58f30108f718f92721af3b95e74349a"
    assert SOURCES["cifar100"].archive.md5 == "eb9058c3a382ffc7106e4002c42a8d85"
    assert all(SOURCES[k].archive.url.startswith("https://www.cs.toronto.edu/~kriz/") for k in ("cifar10", "cifar100"))


def test_check_the_shared_data(cifar10_dir):
    st = {s.key: s for s in check_dir(SHARED)}
    c10 = st["cifar10"]
    assert c10.complete and c10.found == cifar10_dir / "cifar-10-batches-py"
    assert {f.path.name for f in c10.files} == set(SOURCES["cifar10"].files)
    batch1 = next(f for f in c10.files if f.path.name == "data_batch_1")
    assert batch1.size == (cifar10_dir / "cifar-10-batches-py" / "data_batch_1").stat().st_size
    assert batch1.md5 == hashlib.md5(batch1.path.read_bytes()).hexdigest()
    assert batch1.official is False and "subset" in c10.note  # the shared copy is a 1,017-image subset
    nats = st["nats_tss"]
    assert nats.partial and not nats.complete and "3 of 15,625 records" in nats.note
    assert st["nb101"].complete and st["nb101"].files[0].path.name == "nb101_cifar10_500.csv"
    assert st["nb301"].complete and st["nb301"].files[0].path.name == "nb301_cifar10_725.csv"
    for key in ("cifar100", "imagenet16", "nb201"):
        assert st[key].found is None and st[key].missing


def test_check_names_what_the_reader_would_miss(tmp_path, cifar10_dir):
    folder = tmp_path / "cifar-10-batches-py"
    shutil.copytree(cifar10_dir / "cifar-10-batches-py", folder)
    (folder / "test_batch").unlink()
    st = check_dir(tmp_path, ["cifar10"])[0]
    assert not st.complete and st.missing == ["test_batch"]
    with pytest.raises(MissingFileError, match="test_batch"):
        read_arrays("cifar10", tmp_path)


def test_check_command_prints_sizes_and_md5s(capsys):
    assert main(["data", "check", str(SHARED), "--only", "cifar10", "--only", "cifar100"]) == 0
    out = capsys.readouterr().out
    assert "cifar10     complete" in out and "3,149,793 B  md5 " in out and "(not the published md5)" in out
    assert "cifar100    missing    expected DIR/cifar-100-python/{train, test, meta}" in out
    assert "nasrank data download cifar100 DIR" in out and "1 of 2 item(s) complete" in out
    assert main(["data", "check", str(SHARED), "--json", "--no-checksums"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["cifar10"]["complete"] and rows["cifar10"]["files"][0]["md5"] is None


def test_sources_command_and_errors(capsys, tmp_path):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    for key in SOURCES:
        assert f"{key}: " in out
    assert "DIR/ImageNet16/{train_data_batch_{1..10}, val_data}" in out and "nats:DIR/NATS-tss-v1_0-3ffb9-simple" in out
    assert main(["data", "sources", "cifar1"]) == 2
    assert "unknown data item 'cifar1' (did you mean 'cifar10'?)" in capsys.readouterr().err
    assert main(["data", "download", "nb201", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nb201 has no public download" in err[0]
    assert main(["data", "check", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_data_command_imports_no_torch():
    code = ("import sys, io, contextlib\nfrom nasrank.cli import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            "    main(['data']); main(['data', 'check', sys.argv[1], '--no-checksums'])\n"
            "    try:\n        main(['data', '--help'])\n    except SystemExit:\n        pass\n"
            "assert 'nats_tss' in buf.getvalue(), buf.getvalue()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning')))")
    out = subprocess.run([sys.executable, "-c", code, str(SHARED)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# -- the download, against a loopback server ----------------------------------------------------------
class _Server:
    """An HTTP server on 127.0.0.1 serving ``payload`` at every path: it honours ``Range`` (or not),
    and may cut its first response after ``cut`` bytes."""

    def __init__(self, payload: bytes, honour_range: bool = True, cut: int | None = None) -> None:
        self.payload, self.honour_range, self.cut, self.ranges = payload, honour_range, cut, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                rng = self.headers.get("Range")
                outer.ranges.append(rng)
                start = int(rng[len("bytes="):].rstrip("-")) if rng and outer.honour_range else 0
                body = outer.payload[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(outer.payload) - 1}/{len(outer.payload)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.cut is not None:
                    body, outer.cut = body[:outer.cut], None
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "_Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _archive(folder: str, files: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in {**{f"{folder}/{k}": v for k, v in files.items()}, **(extra or {})}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_a_cut_download_resumes_with_range_and_is_verified(tmp_path):
    payload = os.urandom(300_000)
    dest = tmp_path / "file.tar.gz"
    with _Server(payload, cut=100_000) as srv:
        with pytest.raises(NasrankError, match="stopped after 100,000 of 300,000 bytes; run the same command again"):
            fetch(f"{srv.url}/file.tar.gz", dest, _md5(payload))
        part = tmp_path / "file.tar.gz.part"
        assert part.stat().st_size == 100_000 and not dest.exists()
        fetch(f"{srv.url}/file.tar.gz", dest, _md5(payload))
        assert srv.ranges == [None, "bytes=100000-"]  # the second request continued the partial file
    assert dest.read_bytes() == payload and not part.exists()


def test_a_server_that_ignores_range_restarts_the_file(tmp_path):
    payload = os.urandom(50_000)
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(b"stale bytes of another file")
    with _Server(payload, honour_range=False) as srv:
        fetch(f"{srv.url}/f.bin", dest, _md5(payload))
        assert srv.ranges == ["bytes=27-"]
    assert dest.read_bytes() == payload


def test_a_wrong_checksum_leaves_no_file(tmp_path, capsys):
    """Through the command: one error line, and nothing under the final name (nor a partial file)."""
    with _Server(b"not the CIFAR-10 archive") as srv:
        rc = main(["data", "download", "cifar10", str(tmp_path), "--mirror", srv.url])
    lines = capsys.readouterr().err.strip().splitlines()
    err = [x for x in lines if not x.startswith("cifar-10-python.tar.gz: ")]  # the progress lines
    assert rc == 2 and len(err) == 1 and "Traceback" not in "".join(lines), lines
    assert err[0].startswith("nasrank data: error: ") and "md5 of the download of" in err[0] and "expected c58f30108f718f92721af3b95e74349a" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_download_fetches_and_unpacks_the_folder_the_reader_opens(tmp_path, cifar10_dir):
    """A CIFAR-10-shaped archive (the shared subset's files) from the loopback server: unpacked,
    each file's md5 checked, readable by the dataset reader; files outside the folder are ignored."""
    src_dir = cifar10_dir / "cifar-10-batches-py"
    files = {f: (src_dir / f).read_bytes() for f in SOURCES["cifar10"].files}
    blob = _archive("cifar-10-batches-py", files, {"cifar-10-batches-py/readme.html": b"x", "../evil": b"x"})
    with _Server(blob) as srv:
        src = replace(SOURCES["cifar10"], md5={k: _md5(v) for k, v in files.items()},
                      archive=Archive(f"{srv.url}/c.tar.gz", "c.tar.gz", _md5(blob), 1))
        folder = download(src, tmp_path / "data")
    assert folder == tmp_path / "data" / "cifar-10-batches-py"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "data" / "evil").exists()
    xtr, _, xte, _ = read_arrays("cifar10", tmp_path / "data")
    assert xtr.shape == (5 * 1017, 3, 32, 32) and xte.shape == (1017, 3, 32, 32)
    assert download(src, tmp_path / "data") == folder  # complete: nothing fetched again
    assert [p.name for p in (tmp_path / "data").iterdir() if p.name.startswith(".")] == []


def test_unpack_refuses_a_member_with_the_wrong_md5(tmp_path):
    files = {f: f.encode() for f in SOURCES["cifar100"].files}
    (tmp_path / "a.tar.gz").write_bytes(_archive("cifar-100-python", files))
    with pytest.raises(NasrankError, match="md5 of cifar-100-python/train in .* differs from the published one"):
        unpack(tmp_path / "a.tar.gz", SOURCES["cifar100"], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz"]  # no folder, no temporary left


def test_no_write_through_a_symbolic_link(tmp_path):
    payload = b"payload"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"keep")
    (tmp_path / "f.part").symlink_to(elsewhere)
    with _Server(payload) as srv:
        with pytest.raises(NasrankError, match="symbolic link"):
            fetch(f"{srv.url}/f", tmp_path / "f", _md5(payload))
        (tmp_path / "g").symlink_to(elsewhere)
        with pytest.raises(NasrankError, match="symbolic link"):
            fetch(f"{srv.url}/g", tmp_path / "g", _md5(payload))
    assert elsewhere.read_bytes() == b"keep"


def test_a_full_nats_folder_is_complete(tmp_path):
    """15,625 records and meta: complete, counted once each (and quickly: no md5 of 15,626 files)."""
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    for name in ["meta.pickle.pbz2"] + [f"{i:06d}.pickle.pbz2" for i in range(15625)]:
        (folder / name).touch()
    st = check_dir(tmp_path, ["nats_tss"])[0]
    assert st.complete and not st.partial and len(st.files) == 15626 and st.files[0].md5 is None
    (folder / "000123.pickle.pbz2").unlink()
    st = check_dir(tmp_path, ["nats_tss"])[0]
    assert st.partial and "15,624 of 15,625 records" in st.note
