"""The result store's key (see :mod:`nasrank.store`): the space's identity, the ranker's scope, and
the dataset and benchmark fingerprints hashed into it. No torch, no ranker imports."""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the store imports no ranker
    from nasrank.rankers.base import Ranker
    from nasrank.spaces.base import SearchSpace


def _simple_options(obj: Any) -> dict[str, Any]:
    """Constructor options of ``obj`` that it keeps as same-named attributes (non-default ones only)."""
    from nasrank.registry import accepted_options

    opts = accepted_options(type(obj))
    out: dict[str, Any] = {}
    for n in opts.names:
        if not hasattr(obj, n):
            continue
        v = getattr(obj, n)
        if not isinstance(v, (int, float, str, bool, type(None))):
            continue
        if n in opts.defaults and opts.defaults[n] == v:
            continue
        out[n] = v
    return out


def space_id(space: "SearchSpace") -> str:
    """``name`` or ``name(opt=value,...)`` with the space's non-default constructor options; a space not built
    into nasrank adds ``component=pkg.mod:Class@<code or version>`` (two user spaces of one name, or an
    edited one, are different spaces here)."""
    from nasrank.utils.fingerprint import component_identity

    opts = _simple_options(space)
    ident = component_identity(type(space))
    if ident is not None:
        mark = ident.get("version") or str(ident.get("code") or "unknown").removeprefix("sha256:")[:16]
        opts["component"] = f"{ident['component']}@{mark}"
    if not opts:
        return space.registry_name
    return f"{space.registry_name}({','.join(f'{k}={opts[k]}' for k in sorted(opts))})"


def _short_hash(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


def dataset_fingerprint(dataset: str, data_dir: str | Path | None, extra: str | None = None) -> str:
    """``"<dataset>:none"`` without a data folder, else ``"<dataset>:<hash>"``.

    The hash covers the resolved folder and the relative path, size and
    mtime (ns) of every file under it (a single file is hashed the same way),
    plus ``extra`` when given (e.g. the benchmark source). Only ``stat`` is
    called: nothing is read, so it is fast even for large datasets.
    """
    if data_dir is None and extra is None:
        return f"{dataset}:none"
    parts: list[Any] = [dataset, extra]
    if data_dir is not None:
        root = Path(data_dir).expanduser().resolve()
        parts.append(str(root))
        if root.is_file():
            st = root.stat()
            parts.append(("", st.st_size, st.st_mtime_ns))
        elif root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for f in sorted(filenames):
                    p = Path(dirpath) / f
                    try:
                        st = p.stat()
                    except OSError:
                        continue
                    parts.append((str(p.relative_to(root)), st.st_size, st.st_mtime_ns))
        else:
            parts.append("missing")
    return f"{dataset}:{_short_hash(parts)}"


def benchmark_fingerprint(bench: Any) -> str:
    """The content fingerprint of ``bench`` (its :meth:`~nasrank.benchmarks.base.Benchmark.fingerprint`);
    ``"none"`` without one. A benchmark object without ``fingerprint`` (a user's own) falls back to its
    ``source`` label, which then must name its content."""
    if bench is None:
        return "none"
    fp = getattr(bench, "fingerprint", None)
    if callable(fp):
        return "sha256:" + str(fp())
    return "source:" + str(getattr(bench, "source", None) or type(bench).__name__)


@dataclass(frozen=True)
class StoreScope:
    """Everything in a row's key except the architecture."""

    space: str
    ranker: str
    config_hash: str
    dataset: str
    seed: int


@functools.lru_cache(maxsize=64)
def _fingerprint_once(dataset: str, data_dir: str | None, extra: str | None) -> str:
    return dataset_fingerprint(dataset, data_dir, extra)


def ranker_scope(ranker: "Ranker") -> StoreScope:
    """The :class:`StoreScope` of ``ranker`` with its context as it is now.

    The dataset fingerprint is computed once per process and data folder
    (data changed while a run is going is not noticed).
    """
    ctx = ranker.context
    extra = None
    if getattr(ranker, "uses_benchmark", False):
        extra = "benchmark:" + benchmark_fingerprint(ctx.benchmark)
    data_dir = None if ctx.data_dir is None else str(ctx.data_dir)
    return StoreScope(space_id(ranker.space), ranker.name, ranker.config_hash(),
                      _fingerprint_once(ctx.dataset, data_dir, extra), int(ctx.seed))
