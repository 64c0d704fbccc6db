"""The embedded offline default: AnalogNAS-Bench's digital baseline accuracies.

The PyPI package ``analog-nasbench`` (IBM, Apache-2.0) ships independently
trained 200-epoch CIFAR-10 accuracies for all 15,625 NB201 cells
(``baseline_accuracy``, keyed by NASLib's 6-tuple). Its Spearman with the
official NB201 table is 0.991, but it is **not** the official table, and every
output that uses it says so.

``import analognasbench`` fails under setuptools >= 81 (it imports
``pkg_resources``) and needs pandas, so this module never imports it: it finds
the package folder with ``importlib.util.find_spec`` (which does not run the
package) and unpickles ``data.anb`` with stand-in classes.
"""
from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path
from typing import Any

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.errors import NasrankError
from nasrank.runs.safe_pickle import AllowListUnpickler
from nasrank.spaces.base import SearchSpace

SOURCE = "embedded: AnalogNAS-Bench baseline_accuracy (IBM, not the official NB201 table)"


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
        raise NasrankError("the embedded benchmark needs the 'analog-nasbench' package: pip install analog-nasbench")
    path = Path(next(iter(spec.submodule_search_locations))) / "data.anb"
    if not path.is_file():
        raise NasrankError(f"analog-nasbench is installed but its data file is missing: expected {path}")
    return path


def load_embedded_benchmark(space: SearchSpace) -> Benchmark:
    """All 15,625 NB201 cells with AnalogNAS-Bench's baseline CIFAR-10 accuracy."""
    from nasrank.spaces.nb201 import Nb201Arch

    if getattr(space, "registry_name", "") != "nb201":
        raise NasrankError(f"the embedded benchmark covers only the nb201 space, not {space.registry_name!r}")
    path = analog_data_path()
    try:
        with path.open("rb") as fh:
            data = _StubUnpickler(fh).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise NasrankError(f"cannot read the embedded table {path}: {exc}") from None
    if not isinstance(data, dict):
        raise NasrankError(f"cannot read the embedded table {path}: expected a dict, got {type(data).__name__}")
    bench = Benchmark(space, source=SOURCE)
    for key, rec in data.items():
        acc = getattr(rec, "baseline_accuracy", None)
        if acc is None:
            continue
        bench._add(Nb201Arch.from_naslib(tuple(int(v) for v in key)), "cifar10", Record(float(acc)))
    return bench
