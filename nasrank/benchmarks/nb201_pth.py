"""The NAS-Bench-201 ``.pth`` file (e.g. ``NAS-Bench-201-v1_1-096897.pth``), read by ``nas-bench-201``."""
from __future__ import annotations

from pathlib import Path

from nasrank.benchmarks.base import Benchmark
from nasrank.errors import NasrankError, existing_file
from nasrank.spaces.base import SearchSpace

PTH_DATASETS = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")


def _version(text: str) -> tuple[int, int]:
    major, minor = (text.split("+")[0].split(".") + ["0"])[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def load_nb201_pth(path: str | Path, space: SearchSpace) -> Benchmark:
    """Load every architecture of the official NB201 file (needs several GB of RAM), with the
    metrics and training times of both schedules the file holds (see :mod:`nasrank.benchmarks.nats`)."""
    from nasrank.benchmarks.nats import _record, _runs

    path = existing_file(path, "NAS-Bench-201 .pth file", f"nb201:{path} is a folder; give the NAS-Bench-201 .pth file")
    try:
        from nas_201_api import NASBench201API
    except ImportError:  # pragma: no cover - a declared dependency
        raise NasrankError("reading the NB201 .pth needs 'nas-bench-201': pip install nas-bench-201") from None
    import torch

    if _version(torch.__version__) < (2, 6):
        raise NasrankError(f"reading NAS-Bench-201 file {path} needs torch >= 2.6 (found {torch.__version__}): "
                           "nas-bench-201 calls torch.load without weights_only, which runs code in older torch")
    try:  # torch >= 2.6: torch.load defaults to weights_only=True, so the file cannot run code
        api = NASBench201API(str(path), verbose=False)
    except Exception as exc:
        from nasrank.errors import unreadable_pickle

        raise NasrankError(f"cannot read NAS-Bench-201 file {path}: {unreadable_pickle(exc)}") from None
    bench = Benchmark(space, source=f"nb201:{path}")
    if hasattr(space, "set_index_order"):
        space.set_index_order(api.meta_archs)
    for index, arch_str in enumerate(api.meta_archs):
        arch = space.from_string(arch_str)
        runs = _runs(api, index)  # the same get_more_info(index, dataset, hp=, is_random=) as NATS
        for ds in PTH_DATASETS:
            rec = _record(runs, ds, {"index": index})
            if rec is not None:
                bench._add(arch, ds, rec)
    return bench
