"""The embedded offline default: AnalogNAS-Bench's digital baseline accuracies (``--benchmark embedded``).

IBM's AnalogNAS-Bench (PyPI ``analog-nasbench``, Apache-2.0) has independently trained
200-epoch CIFAR-10 accuracies for all 15,625 NB201 cells. Its Spearman with the official
NB201 table is 0.991, but it is **not** the official table, and every output that uses it
says so. nasrank ships the one column it reads, ``baseline_accuracy``, as one array
(``data/embedded_nb201.npy``: a NASLib 6-tuple and a float64 accuracy per row; its ``.json``
says where it comes from; both made by :mod:`nasrank.benchmarks.embedded_source`), so that
loading it takes milliseconds, unpickles nothing and needs neither the package nor torch.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from nasrank.benchmarks.columns import ColumnBenchmark
from nasrank.errors import NasrankError
from nasrank.spaces.base import SearchSpace

SOURCE = "embedded: AnalogNAS-Bench baseline_accuracy (IBM, not the official NB201 table)"
#: the table, written by ``python -m nasrank.benchmarks.embedded_source``; its metadata beside it
DATA_FILE = Path(__file__).with_name("data") / "embedded_nb201.npy"
META_FILE = DATA_FILE.with_suffix(".json")
#: one row: NASLib's 6-tuple and the accuracy (%)
COLUMNS = np.dtype([("naslib", np.uint8, (6,)), ("accuracy", np.float64)])


def read_table(path: str | Path = DATA_FILE) -> tuple[np.ndarray, str | None]:
    """``(rows, fingerprint)``: the embedded table (a :data:`COLUMNS` array) and, when the file is the
    one its metadata describes (same SHA-256), the fingerprint recorded there (else None: compute it)."""
    path = Path(path)
    try:
        data = path.read_bytes()
        table = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise NasrankError(f"cannot read the embedded table {path}: {exc} (reinstall nasrank)") from None
    if table.dtype != COLUMNS or table.ndim != 1 or (len(table) and table["naslib"].max() > 4):
        raise NasrankError(f"cannot read the embedded table {path}: unexpected columns {table.dtype} "
                           "(reinstall nasrank)")
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        meta = {}
    same = isinstance(meta, dict) and meta.get("sha256") == hashlib.sha256(data).hexdigest()
    return table, (str(meta["fingerprint"]) if same and meta.get("fingerprint") else None)


def columns_benchmark(space: SearchSpace, table: np.ndarray, fingerprint: str | None = None) -> ColumnBenchmark:
    """The :class:`ColumnBenchmark` of a :data:`COLUMNS` table of NB201 cells (CIFAR-10)."""
    from nasrank.spaces.nb201 import NASLIB_OPS, NASLIB_TO_OFFICIAL, Nb201Arch

    naslib = table["naslib"]
    official = np.empty_like(naslib)
    official[:, list(NASLIB_TO_OFFICIAL)] = naslib  # NASLib edge k is official edge NASLIB_TO_OFFICIAL[k]
    codes = official.astype(np.int64) @ (5 ** np.arange(5, -1, -1))
    row_of_code = np.full(5**6, -1, dtype=np.int64)
    row_of_code[codes[::-1]] = np.arange(len(codes))[::-1]  # a repeated cell: its first row
    op_code = {op: NASLIB_OPS.index(op) for op in NASLIB_OPS}  # an official op's NASLib number

    def arch_of(i: int) -> Nb201Arch:
        return Nb201Arch(tuple(NASLIB_OPS[v] for v in official[i].tolist()))

    def key_of(i: int) -> str:
        return str(space.key(arch_of(i)))

    def row_of(arch: object) -> int | None:
        if not isinstance(arch, Nb201Arch):
            return None
        row = int(row_of_code[sum(op_code[op] * 5 ** (5 - e) for e, op in enumerate(arch.ops))])
        return None if row < 0 else row

    if len(official) and space.key(arch_of(0)) != str(arch_of(0)):
        raise NasrankError("the embedded benchmark needs the nb201 space's own keys (the official arch strings)")
    return ColumnBenchmark(space, SOURCE, "cifar10", table["accuracy"], (arch_of, key_of, row_of), fingerprint)


def load_embedded_benchmark(space: SearchSpace) -> ColumnBenchmark:
    """All 15,625 NB201 cells with AnalogNAS-Bench's baseline CIFAR-10 accuracy."""
    if getattr(space, "registry_name", "") != "nb201":
        raise NasrankError(f"the embedded benchmark covers only the nb201 space, not {space.registry_name!r}")
    table, fingerprint = read_table()
    return columns_benchmark(space, table, fingerprint)
