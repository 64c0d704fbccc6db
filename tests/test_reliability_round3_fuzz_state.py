"""Issue 32, fuzz: planted pickles and damaged bytes in every file a resume of a multi-fidelity run
reads (``fidelity_state/*.state.pt`` and ``*.ckpt``), and torch files planted anywhere else in the
run folder. Nothing planted ever runs (each payload would create MARKER); a file the resume reads
is refused with one error line naming it, or (random damage that leaves it a valid torch file)
read as data. Seeds are fixed (``NASRANK_FUZZ_SEED``), so a failure reproduces.
"""
from __future__ import annotations

import io
import os
import pickle
import random
import shutil
import zipfile
from pathlib import Path

import pytest

from test_reliability_round3_state import cli, copy_of, records, t_search

SEED = int(os.environ.get("NASRANK_FUZZ_SEED", "32"))
pytestmark = pytest.mark.usefixtures("one_thread")


class _System:
    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class _Eval:
    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self):
        return (eval, (f"__import__('os').system({self.cmd!r})",))


def _payloads(marker: Path, original: dict) -> dict[str, bytes]:
    """Hostile replacements of a torch file whose content was ``original`` (a dict)."""
    import torch

    cmd = f"touch {marker}"

    def saved(obj) -> bytes:
        buf = io.BytesIO()
        torch.save(obj, buf)
        return buf.getvalue()

    first = next(iter(original))
    return {
        "system": saved(_System(cmd)),
        "eval": saved(_Eval(cmd)),
        "nested_in_a_real_looking_dict": saved({**original, first: [_System(cmd)]}),
        "in_every_value": saved({k: _System(cmd) for k in original}),
        "plain_pickle_not_torch": pickle.dumps(_System(cmd)),
        "legacy_torch_format": _legacy(_System(cmd)),
        "zip_with_a_pickled_payload": _zip_payload(saved(original), pickle.dumps(_System(cmd), protocol=2)),
    }


def _legacy(obj) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def _zip_payload(good: bytes, data_pkl: bytes) -> bytes:
    """``good`` (a torch zip file) with its ``data.pkl`` replaced by ``data_pkl``."""
    src, out = zipfile.ZipFile(io.BytesIO(good)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info, data_pkl if info.filename.endswith("/data.pkl") else src.read(info.filename))
    return out.getvalue()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz_t5")
    r = cli(*t_search("mf", 5), cwd=d)
    assert r.returncode == 0, r.stderr[-3000:]
    return d / "mf"


def _resume(run: Path, monkeypatch, capsys) -> tuple[int, str]:
    from nasrank.cli import main

    monkeypatch.chdir(run.parent)
    capsys.readouterr()
    rc = main(["search", "--resume", str(run), "--budget-queries", "6", "--quiet", "--no-store"])
    return rc, capsys.readouterr().err


def _read_files(run: Path) -> list[Path]:
    files = sorted((run / "fidelity_state").glob("*.state.pt")) + sorted((run / "fidelity_state").glob("*.ckpt"))
    assert any(p.suffix == ".pt" for p in files) and any(p.suffix == ".ckpt" for p in files)
    return files


def test_fuzz_planted_pickles_in_every_file_a_resume_reads(base, tmp_path, monkeypatch, capsys):
    import torch

    marker = tmp_path / "MARKER"
    cases = 0
    for target in _read_files(base):
        original = torch.load(target, weights_only=True)
        for kind, data in _payloads(marker, original).items():
            run = copy_of(base, tmp_path / f"{target.name}-{kind}")
            (run / "fidelity_state" / target.name).write_bytes(data)
            rc, err = _resume(run, monkeypatch, capsys)
            assert not marker.exists(), f"{kind} in {target.name}: the planted code ran"
            assert rc == 2 and "Traceback" not in err, (kind, target.name, err)
            (line,) = [ln for ln in err.splitlines() if "error:" in ln]
            assert target.name in line, (kind, line)
            assert len(records(run)) == 5, "the resume did work before refusing"
            shutil.rmtree(run)
            cases += 1
    assert cases >= 14


def test_fuzz_torch_files_planted_elsewhere_in_the_run_folder_never_run(base, tmp_path, monkeypatch, capsys):
    import torch

    marker = tmp_path / "MARKER"
    places = ["model.pt", "last.ckpt", "logs/train/x.ckpt", "fidelity_state/zzzzzzzzzz.state.pt",
              "fidelity_state/zzzzzzzzzz@1.ckpt", "fidelity_state/.hidden.state.pt", "summary.pt"]
    for place in places:
        run = copy_of(base, tmp_path / place.replace("/", "_"))
        (run / place).parent.mkdir(parents=True, exist_ok=True)
        torch.save(_System(f"touch {marker}"), run / place)
        rc, err = _resume(run, monkeypatch, capsys)
        assert not marker.exists(), f"{place}: the planted code ran"
        assert "Traceback" not in err and rc in (0, 2), (place, err)
        if rc == 2:  # read, and refused by name
            assert Path(place).name in err and err.count("error:") == 1, (place, err)
        shutil.rmtree(run)


def test_fuzz_damaged_bytes_in_the_training_state(base, tmp_path, monkeypatch, capsys):
    """Truncations and byte flips at seeded offsets: one clear line, or (the damage left a valid torch
    file) a resume that runs; never a traceback."""
    rng = random.Random(SEED)
    for i in range(6):
        target = rng.choice(_read_files(base))
        data = bytearray(target.read_bytes())
        if i % 2 == 0:
            data = data[:rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        run = copy_of(base, tmp_path / f"damaged{i}")
        (run / "fidelity_state" / target.name).write_bytes(bytes(data))
        rc, err = _resume(run, monkeypatch, capsys)
        assert "Traceback" not in err and rc in (0, 2), (i, target.name, err)
        if rc == 2:
            assert err.count("error:") == 1 and target.name in err, (i, err)
        shutil.rmtree(run)
