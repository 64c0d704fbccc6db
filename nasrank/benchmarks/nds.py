"""Ground truth of the NDS ResNet / ResNeXt-A spaces from the official NDS json files.

``load_nds_table(path, space)`` reads ``ResNet.json`` or ``ResNeXt-A.json``
(Radosavovic et al. 2019): a list of records, or a ``{"top": [...], "mid": [...]}``
wrapper (the lists are concatenated). Each record has ``net`` (``block_type``
and the per-stage lists ``ds``, ``ws``, ``ss``, ``bot_muls``, ``num_gs``;
with 4 entries, entry 0 is the stem and is dropped; 3 entries are read as the
stages), ``min_test_top1`` (%), ``params`` and ``flops``.

Accuracy = 100 − ``min_test_top1``. Records of the same architecture (e.g. in
both ``top`` and ``mid``) are averaged. Keys are the space's ``key`` of the
architecture (its text form, e.g. ``ds=1,2,4|ws=16,32,64``; NDS archs have no
isomorphisms, so it is also the canonical key).

``load_nds_benchmark(path, space)`` wraps the table as a ``Benchmark`` (the
``nds:FILE`` spec of :func:`nasrank.benchmarks.load_benchmark`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from nasrank.errors import MissingFileError, NasrankError
from nasrank.spaces.nds import NUM_STAGES, STRIDES, NdsArch, NdsResNeXtASpace, NdsResNetSpace, NdsSpace

if TYPE_CHECKING:
    from nasrank.benchmarks.base import Benchmark

_SPACES: dict[str, type[NdsSpace]] = {"nds_resnet": NdsResNetSpace, "nds_resnexta": NdsResNeXtASpace}


class NdsTable(dict):
    """``key -> accuracy (%)`` with metadata dicts by the same key.

    Attributes: ``archs`` (key -> :class:`NdsArch`), ``params`` and ``flops``
    (key -> the file's ``params`` / ``flops``, NaN when absent), ``counts``
    (records averaged per key), ``path``, ``space`` (registry name) and
    ``num_records``.
    """

    def __init__(self, path: Path, space: str) -> None:
        super().__init__()
        self.path = path
        self.space = space
        self.archs: dict[str, NdsArch] = {}
        self.params: dict[str, float] = {}
        self.flops: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.num_records = 0


def _stages(net: Mapping[str, Any], name: str, where: str) -> list:
    vals = net.get(name)
    n = len(net["ds"]) if isinstance(net.get("ds"), list) else NUM_STAGES + 1
    if not isinstance(vals, list) or len(vals) not in (NUM_STAGES, NUM_STAGES + 1) or len(vals) != n:
        raise NasrankError(f"{where}: net.{name} must be a list of {NUM_STAGES + 1} values (stem + "
                           f"{NUM_STAGES} stages) like net.ds, got {vals!r}")
    return vals[-NUM_STAGES:]


def arch_from_net(net: Mapping[str, Any], space: NdsSpace, where: str = "NDS record") -> NdsArch:
    """The :class:`NdsArch` of one record's ``net`` dict; ``where`` names it in errors."""
    if not isinstance(net, Mapping):
        raise NasrankError(f"{where}: 'net' must be an object, got {net!r}")
    block = net.get("block_type")
    if block != space.block_type:
        raise NasrankError(f"{where}: block_type {block!r} does not match space {space.registry_name!r} "
                           f"(expects {space.block_type!r}); is this the right file?")
    ds, ws = _stages(net, "ds", where), _stages(net, "ws", where)
    if "ss" in net:
        ss = _stages(net, "ss", where)
        if tuple(ss) != STRIDES:
            raise NasrankError(f"{where}: stage strides {ss!r} differ from the CIFAR form's {list(STRIDES)}")
    bs: list = []
    gs: list = []
    if space.resnext:
        bs, gs = _stages(net, "bot_muls", where), _stages(net, "num_gs", where)
    try:
        return NdsArch.create(ds, ws, bs, gs)
    except NasrankError as exc:
        raise NasrankError(f"{where}: {exc}") from None


def load_nds_table(path: str | Path, space: NdsSpace | str, only_grid: bool = False) -> NdsTable:
    """Read an official NDS json file into an :class:`NdsTable` (``key -> accuracy``).

    ``space`` is an NDS space or its name (``nds_resnet`` / ``nds_resnexta``).
    ``only_grid`` keeps only archs inside the space's choice sets. A missing
    file raises :class:`MissingFileError`; malformed content raises one
    :class:`NasrankError` naming the file (and the record).
    """
    if isinstance(space, str):
        if space not in _SPACES:
            raise NasrankError(f"unknown NDS space {space!r}; choose one of: {', '.join(_SPACES)}")
        space = _SPACES[space]()
    if not isinstance(space, NdsSpace):
        raise NasrankError(f"load_nds_table needs an NDS space (nds_resnet / nds_resnexta), got {space!r}")
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "NDS benchmark file")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise NasrankError(f"NDS benchmark file {path} is not valid JSON: {str(exc)[:160]}") from None
    if isinstance(data, dict):
        lists = [v for k, v in data.items() if k in ("top", "mid")]
        if not lists or not all(isinstance(v, list) for v in lists):
            raise NasrankError(f"NDS benchmark file {path}: expected a list of records or a "
                               f"{{\"top\": [...], \"mid\": [...]}} object, got keys {sorted(data)}")
        records = [r for v in lists for r in v]
    elif isinstance(data, list):
        records = data
    else:
        raise NasrankError(f"NDS benchmark file {path}: expected a list of records, got {type(data).__name__}")
    if not records:
        raise NasrankError(f"NDS benchmark file {path} holds no records")

    table = NdsTable(path, space.registry_name)
    sums: dict[str, float] = {}
    for i, rec in enumerate(records):
        where = f"NDS benchmark file {path}, record {i}"
        if not isinstance(rec, Mapping) or "net" not in rec:
            raise NasrankError(f"{where}: expected an object with 'net' and 'min_test_top1'")
        arch = arch_from_net(rec["net"], space, where)
        err = rec.get("min_test_top1")
        if isinstance(err, bool) or not isinstance(err, (int, float)) or not 0 <= err <= 100:
            raise NasrankError(f"{where}: min_test_top1 must be a number in 0..100, got {err!r}")
        if only_grid and not space.in_grid(arch):
            continue
        key = space.key(arch)
        sums[key] = sums.get(key, 0.0) + 100.0 - float(err)
        table.counts[key] = table.counts.get(key, 0) + 1
        table.archs[key] = arch
        for name, dest in (("params", table.params), ("flops", table.flops)):
            v = rec.get(name)
            dest[key] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")
        table.num_records += 1
    for key, total in sums.items():
        table[key] = total / table.counts[key]
    return table


def load_nds_benchmark(path: str | Path, space: Any, dataset: str = "cifar10") -> "Benchmark":
    """``nds:FILE``: the table of :func:`load_nds_table` as a :class:`~nasrank.benchmarks.base.Benchmark`.

    Each record's ``extra`` holds ``params``, ``flops`` and ``n_records`` (records averaged).
    """
    from nasrank.benchmarks.base import Benchmark, Record

    if not isinstance(space, NdsSpace):
        raise NasrankError(f"the nds: benchmark needs space nds_resnet or nds_resnexta, got "
                           f"{getattr(space, 'registry_name', type(space).__name__)!r}")
    table = load_nds_table(path, space)
    bench = Benchmark(space, source=f"nds:{table.path}")
    for key, acc in table.items():
        bench._add(table.archs[key], dataset, Record(acc, {}, {"params": table.params[key], "flops": table.flops[key],
                                                              "n_records": table.counts[key]}))
    return bench
