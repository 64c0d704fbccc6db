"""NATS-Bench topology (tss) directories, read through the ``nats_bench`` package.

Each record holds what the NB201/NATS protocol needs (Dong et al. 2020/2021):

* ``accuracy`` (reported): test accuracy after the 200-epoch schedule (hp=200);
  for ``cifar10-valid`` the validation accuracy, as NB201 reports it;
* ``metrics``: ``test@E`` and ``valid@E`` for each schedule E in (12, 200) the
  directory holds. On ``cifar10`` the networks are trained on train+valid, so
  ``valid@E`` is the ``cifar10-valid`` run's validation accuracy (trained on
  the train half): the protocol searches there and reports ``cifar10`` test.
  On ``cifar100`` and ``ImageNet16-120`` ``valid@E`` is the x-valid half;
* ``metric_seconds``: the recorded training time (``train-all-time``) of the
  run behind each metric, the cost a search on that metric is charged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.errors import MissingFileError, NasrankError
from nasrank.spaces.base import SearchSpace

NATS_DATASETS = ("cifar10", "cifar10-valid", "cifar100", "ImageNet16-120")
#: the training schedules (``hp``) of NATS-Bench tss
NATS_HPS = ("12", "200")
#: where the ``valid@E`` metric of each dataset comes from
VALID_SOURCE = {"cifar10": "cifar10-valid"}


def _runs(api: Any, index: int) -> dict[tuple[str, str], dict[str, Any]]:
    """``(dataset, hp) -> get_more_info(...)`` for every run the record holds."""
    out = {}
    for ds in NATS_DATASETS:
        for hp in NATS_HPS:
            try:
                out[ds, hp] = api.get_more_info(index, ds, hp=hp, is_random=False)
            except Exception:  # a record may lack a dataset or a schedule
                continue
    return out


def _record(runs: dict[tuple[str, str], dict[str, Any]], ds: str, extra: dict[str, Any]) -> Record | None:
    """The record of one dataset: reported accuracy, metrics and their training times."""
    final = runs.get((ds, "200"))
    acc_key = "valid-accuracy" if ds == "cifar10-valid" else "test-accuracy"
    if final is None or final.get(acc_key) is None:
        return None
    rec = Record(float(final[acc_key]), {}, dict(extra))
    for hp in NATS_HPS:
        for metric, src in (("test", ds), ("valid", VALID_SOURCE.get(ds, ds))):
            info = runs.get((src, hp))
            if info is None or info.get(f"{metric}-accuracy") is None:
                continue
            rec.metrics[f"{metric}@{hp}"] = float(info[f"{metric}-accuracy"])
            if info.get("train-all-time") is not None:
                rec.metric_seconds[f"{metric}@{hp}"] = float(info["train-all-time"])
        own = runs.get((ds, hp))
        if own is not None and own.get("train-all-time") is not None:
            rec.train_seconds[int(hp)] = float(own["train-all-time"])
    return rec


def _float(x: Any) -> float | None:
    return None if x is None else float(x)


def load_nats_benchmark(path: str | Path, space: SearchSpace) -> Benchmark:
    """Load every record present in a NATS tss directory (``fast_mode``), both schedules."""
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
    bench = Benchmark(space, source=f"nats:{path}")
    if hasattr(space, "set_index_order"):
        space.set_index_order(api.meta_archs)
    present = sorted(int(p.name.split(".")[0]) for p in path.glob("[0-9]*.pickle.pbz2"))
    for index in present:
        arch = space.from_string(api.meta_archs[index])
        runs = _runs(api, index)
        for ds in NATS_DATASETS:
            try:
                cost = api.get_cost_info(index, ds, hp="200")
            except Exception:
                cost = {}
            rec = _record(runs, ds, {"index": index, "params_m": _float(cost.get("params")),
                                         "flops_m": _float(cost.get("flops"))})
            if rec is not None:
                bench._add(arch, ds, rec)
    return bench
