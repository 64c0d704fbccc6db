"""NATS-Bench topology (tss) directories, read through the ``nats_bench`` package."""
from __future__ import annotations

import math
from pathlib import Path

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.errors import MissingFileError, NasrankError
from nasrank.spaces.base import SearchSpace

NATS_DATASETS = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")


def load_nats_benchmark(path: str | Path, space: SearchSpace, hp: str = "200") -> Benchmark:
    """Load every record present in a NATS tss directory (``fast_mode``)."""
    path = Path(path)
    if path.is_file():
        raise NasrankError(f"nats:{path} is a file; give the NATS-Bench tss folder (holding meta.pickle.pbz2)")
    if not path.is_dir():
        raise MissingFileError(path, "NATS-Bench tss directory")
    if not (path / "meta.pickle.pbz2").is_file():
        raise MissingFileError(path / "meta.pickle.pbz2", "NATS-Bench meta file")
    try:
        from nats_bench import create
    except ImportError:  # pragma: no cover - a declared dependency
        raise NasrankError("reading NATS-Bench needs the 'nats_bench' package: pip install nats_bench") from None
    try:  # nats_bench unpickles bz2 files: a corrupt one fails anywhere inside it
        api = create(str(path), "tss", fast_mode=True, verbose=False)
        meta_archs = list(api.meta_archs)
    except Exception as exc:  # noqa: BLE001 - a third-party reader's failure, named once
        raise NasrankError(f"cannot read NATS-Bench folder {path}: {_first_line(exc)}") from None
    bench = Benchmark(space, source=f"nats:{path} (hp={hp})")
    try:
        orders = [space.from_string(a) for a in meta_archs]
    except (NasrankError, ValueError, TypeError) as exc:
        raise NasrankError(f"NATS-Bench folder {path}: its meta file lists a malformed architecture: {exc}") from None
    if hasattr(space, "set_index_order") and len(orders) == getattr(space, "size", -1):
        space.set_index_order(meta_archs)
    for index in _record_indices(path, len(meta_archs)):
        arch = orders[index]
        for ds in NATS_DATASETS:
            try:
                info = api.get_more_info(index, ds, hp=hp, is_random=False)
                cost = api.get_cost_info(index, ds, hp=hp)
            except Exception:  # noqa: BLE001 - a record may lack a dataset, or be corrupt
                continue
            if not isinstance(info, dict) or not isinstance(cost, dict):
                continue
            acc = info.get("test-accuracy") if ds != "cifar10-valid" else info.get("valid-accuracy")
            if not _finite(acc):
                continue
            epochs = int(hp)
            secs = {}
            if _finite(info.get("train-all-time")):
                secs[epochs] = float(info["train-all-time"])
            bench._add(arch, ds, Record(float(acc), secs, {"index": index, "params_m": cost.get("params"),
                                                           "flops_m": cost.get("flops")}))
    return bench


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:160] if text else type(exc).__name__)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _record_indices(path: Path, n_archs: int) -> list[int]:
    """Indices of the ``NNNNNN.pickle.pbz2`` records in ``path``; other names are ignored, an index
    outside the meta file's architectures is an error."""
    out = []
    for p in path.glob("*.pickle.pbz2"):
        stem = p.name[: -len(".pickle.pbz2")]
        if not stem.isdigit():
            continue  # meta.pickle.pbz2, or a stray file
        index = int(stem)
        if index >= n_archs:
            raise NasrankError(f"NATS-Bench folder {path}: record {p.name} is outside the {n_archs} "
                               "architectures of its meta file")
        out.append(index)
    return sorted(out)
