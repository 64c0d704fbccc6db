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

import math
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
                info = api.get_more_info(index, ds, hp=hp, is_random=False)
            except Exception:  # noqa: BLE001 - a record may lack a dataset or a schedule, or be corrupt
                continue
            if isinstance(info, dict):
                out[ds, hp] = info
    return out


def _record(runs: dict[tuple[str, str], dict[str, Any]], ds: str, extra: dict[str, Any]) -> Record | None:
    """The record of one dataset: reported accuracy, metrics and their training times."""
    final = runs.get((ds, "200"))
    acc_key = "valid-accuracy" if ds == "cifar10-valid" else "test-accuracy"
    if final is None or not _finite(final.get(acc_key)):
        return None
    rec = Record(float(final[acc_key]), {}, dict(extra))
    for hp in NATS_HPS:
        for metric, src in (("test", ds), ("valid", VALID_SOURCE.get(ds, ds))):
            info = runs.get((src, hp))
            if info is None or not _finite(info.get(f"{metric}-accuracy")):
                continue
            rec.metrics[f"{metric}@{hp}"] = float(info[f"{metric}-accuracy"])
            if _finite(info.get("train-all-time")):
                rec.metric_seconds[f"{metric}@{hp}"] = float(info["train-all-time"])
        own = runs.get((ds, hp))
        if own is not None and _finite(own.get("train-all-time")):
            rec.train_seconds[int(hp)] = float(own["train-all-time"])
    return rec


def _float(x: Any) -> float | None:
    return float(x) if _finite(x) else None


def load_nats_benchmark(path: str | Path, space: SearchSpace) -> Benchmark:
    """Load every record present in a NATS tss directory (``fast_mode``), both schedules."""
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
    bench = Benchmark(space, source=f"nats:{path}")
    try:
        orders = [space.from_string(a) for a in meta_archs]
    except (NasrankError, ValueError, TypeError) as exc:
        raise NasrankError(f"NATS-Bench folder {path}: its meta file lists a malformed architecture: {exc}") from None
    if hasattr(space, "set_index_order") and len(orders) == getattr(space, "size", -1):
        space.set_index_order(meta_archs)
    for index in _record_indices(path, len(meta_archs)):
        arch = orders[index]
        runs = _runs(api, index)
        for ds in NATS_DATASETS:
            try:
                cost = api.get_cost_info(index, ds, hp="200")
            except Exception:  # noqa: BLE001 - a record may lack a dataset, or be corrupt
                cost = {}
            cost = cost if isinstance(cost, dict) else {}
            rec = _record(runs, ds, {"index": index, "params_m": _float(cost.get("params")),
                                     "flops_m": _float(cost.get("flops"))})
            if rec is not None:
                bench._add(arch, ds, rec)
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
