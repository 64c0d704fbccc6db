"""NATS-Bench topology (tss) directories, read through the ``nats_bench`` package."""
from __future__ import annotations

from pathlib import Path

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.errors import MissingFileError, NasrankError
from nasrank.spaces.base import SearchSpace

NATS_DATASETS = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")


def load_nats_benchmark(path: str | Path, space: SearchSpace, hp: str = "200") -> Benchmark:
    """Load every record present in a NATS tss directory (``fast_mode``)."""
    path = Path(path)
    if not path.is_dir():
        raise MissingFileError(path, "NATS-Bench tss directory")
    if not (path / "meta.pickle.pbz2").is_file():
        raise MissingFileError(path / "meta.pickle.pbz2", "NATS-Bench meta file")
    try:
        from nats_bench import create
    except ImportError:  # pragma: no cover - a declared dependency
        raise NasrankError("reading NATS-Bench needs the 'nats_bench' package: pip install nats_bench") from None
    api = create(str(path), "tss", fast_mode=True, verbose=False)
    bench = Benchmark(space, source=f"nats:{path} (hp={hp})")
    if hasattr(space, "set_index_order"):
        space.set_index_order(api.meta_archs)
    present = sorted(int(p.name.split(".")[0]) for p in path.glob("[0-9]*.pickle.pbz2"))
    for index in present:
        arch = space.from_string(api.meta_archs[index])
        for ds in NATS_DATASETS:
            try:
                info = api.get_more_info(index, ds, hp=hp, is_random=False)
                cost = api.get_cost_info(index, ds, hp=hp)
            except Exception:  # a record may lack a dataset
                continue
            acc = info.get("test-accuracy") if ds != "cifar10-valid" else info.get("valid-accuracy")
            if acc is None:
                continue
            epochs = int(hp)
            secs = {}
            if info.get("train-all-time") is not None:
                secs[epochs] = float(info["train-all-time"])
            bench._add(arch, ds, Record(float(acc), secs, {"index": index, "params_m": cost.get("params"),
                                                           "flops_m": cost.get("flops")}))
    return bench
