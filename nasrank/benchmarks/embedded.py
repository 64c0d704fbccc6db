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
from nasrank.spaces.base import SearchSpace

SOURCE = "embedded: AnalogNAS-Bench baseline_accuracy (IBM, not the official NB201 table)"


class _Stub:
    """Stands in for analognasbench's pickled classes; keeps their attributes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class _StubUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("analognasbench"):
            return _Stub
        if module.split(".")[0] in ("builtins", "collections", "copyreg", "numpy", "_codecs"):
            return super().find_class(module, name)
        return _Stub  # e.g. pandas objects: never needed here


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
    with analog_data_path().open("rb") as fh:
        data = _StubUnpickler(fh).load()
    bench = Benchmark(space, source=SOURCE)
    for key, rec in data.items():
        acc = getattr(rec, "baseline_accuracy", None)
        if acc is None:
            continue
        bench._add(Nb201Arch.from_naslib(tuple(int(v) for v in key)), "cifar10", Record(float(acc)))
    return bench
