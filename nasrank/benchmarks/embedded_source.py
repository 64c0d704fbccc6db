"""Where the embedded table comes from: AnalogNAS-Bench's ``data.anb``, converted to columns.

The PyPI package ``analog-nasbench`` 0.1.3 (IBM, Apache-2.0) ships independently trained
200-epoch CIFAR-10 accuracies for all 15,625 NB201 cells (``baseline_accuracy``, keyed by
NASLib's 6-tuple) as one pickle of 15,625 objects. ``import analognasbench`` fails under
setuptools >= 81 (it imports ``pkg_resources``) and needs pandas, so this module never imports
it: :func:`analog_data_path` finds the package folder with ``importlib.util.find_spec`` (which
does not run the package) and :func:`read_analog_table` unpickles ``data.anb`` with inert
stand-in classes. :func:`write_columns` writes what :mod:`nasrank.benchmarks.embedded` loads
(``nasrank/benchmarks/data/embedded_nb201.npy`` and its ``.json``); ``tests/test_embedded_table.py`` checks that
the committed file holds exactly the package's numbers. Regenerate with
``python -m nasrank.benchmarks.embedded_source``.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from nasrank.errors import NasrankError
from nasrank.runs.safe_pickle import AllowListUnpickler


class _Stub:
    """Stands in for analognasbench's pickled classes; keeps their attributes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


#: the only globals data.anb refers to (checked against the installed analog-nasbench)
TABLE_CLASSES = (("analognasbench.data", "Architecture"), ("analognasbench.data", "DriftMeasurement"))


class _StubUnpickler(AllowListUnpickler):
    """Builds the table's two classes as inert :class:`_Stub` objects; refuses every other global."""

    def __init__(self, fh: Any) -> None:
        super().__init__(fh, dict.fromkeys(TABLE_CLASSES, _Stub))


def analog_data_path() -> Path:
    """Path of ``analognasbench/data.anb`` without importing the package."""
    spec = importlib.util.find_spec("analognasbench")
    if spec is None or not spec.submodule_search_locations:
        raise NasrankError("converting the embedded table needs the 'analog-nasbench' package: "
                           "pip install analog-nasbench")
    path = Path(next(iter(spec.submodule_search_locations))) / "data.anb"
    if not path.is_file():
        raise NasrankError(f"analog-nasbench is installed but its data file is missing: expected {path}")
    return path


def read_analog_table(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(naslib, accuracy)``: the NASLib 6-tuples (uint8, one row per cell, in the file's order) and
    their ``baseline_accuracy`` (float64, %); cells without one are left out."""
    path = Path(path) if path is not None else analog_data_path()
    try:
        with path.open("rb") as fh:
            data = _StubUnpickler(fh).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise NasrankError(f"cannot read the AnalogNAS-Bench table {path}: {exc}") from None
    if not isinstance(data, dict):
        raise NasrankError(f"cannot read the AnalogNAS-Bench table {path}: expected a dict, got {type(data).__name__}")
    rows = [(tuple(int(v) for v in key), float(acc)) for key, rec in data.items()
            if (acc := getattr(rec, "baseline_accuracy", None)) is not None]
    naslib = np.array([k for k, _ in rows], dtype=np.uint8).reshape(-1, 6)
    return naslib, np.array([a for _, a in rows], dtype=np.float64)


def write_columns(folder: str | Path, source: str | Path | None = None) -> tuple[Path, Path]:
    """Write the embedded table into ``folder``: ``embedded_nb201.npy`` (one structured array:
    ``naslib`` uint8 [6] and ``accuracy`` float64 per row, in ``data.anb``'s order) and
    ``embedded_nb201.json`` (where it comes from, the file's SHA-256, the table's fingerprint)."""
    from nasrank.benchmarks.columns import column_fingerprint
    from nasrank.benchmarks.embedded import COLUMNS, columns_benchmark
    from nasrank.runs.atomic import atomic_write_bytes, write_json_atomic
    from nasrank.spaces.nb201 import Nb201Space

    naslib, accuracy = read_analog_table(source)
    table = np.empty(len(naslib), dtype=COLUMNS)
    table["naslib"], table["accuracy"] = naslib, accuracy
    buf = io.BytesIO()
    np.save(buf, table, allow_pickle=False)
    folder = Path(folder)
    npy, meta = folder / "embedded_nb201.npy", folder / "embedded_nb201.json"
    atomic_write_bytes(npy, buf.getvalue())
    fingerprint = column_fingerprint(columns_benchmark(Nb201Space(), table))
    write_json_atomic(meta, {
        "source": f"analog-nasbench {_dist_version()} (IBM, Apache-2.0): analognasbench/data.anb, baseline_accuracy",
        "made_by": "python -m nasrank.benchmarks.embedded_source", "rows": len(table),
        "columns": {"naslib": "NASLib 6-tuple (ops 0=skip,1=none,2=conv3x3,3=conv1x1,4=avgpool)",
                    "accuracy": "CIFAR-10 test accuracy (%) after 200 epochs"},
        "sha256": hashlib.sha256(buf.getvalue()).hexdigest(), "fingerprint": fingerprint})
    return npy, meta


def _dist_version() -> str:
    try:
        return importlib.metadata.version("analog-nasbench")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


if __name__ == "__main__":
    from nasrank.benchmarks.embedded import DATA_FILE

    print(*write_columns(DATA_FILE.parent))
