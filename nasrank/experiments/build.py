"""Building the pieces of an experiment from names and plain options.

``make_space("nb201", {"channels": 8})``, ``make_context(space, benchmark=...)``
and ``make_ranker("synflow", space, context, {...})`` are what the commands and
the benchmark scripts use; the option helpers turn ``KEY=VALUE`` text into dicts.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from nasrank.runtime.devices import DEVICES, check_device  # noqa: F401  (DEVICES re-exported)
from nasrank.errors import NasrankError
from nasrank.options import split_top_level


# --------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------
def parse_cfg(pairs: list[str | dict] | None, what: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``; later items override earlier ones.

    Values are JSON when they parse as JSON, YAML flow collections (``[a, b]``, ``{k: v}``),
    else strings. Items split on commas outside brackets and quotes, so
    ``build_kwargs={"channels":4,"cells_per_stage":1}`` is one item, and an item without ``=``
    continues the value before it (``members=a,b``). An item may also be a
    mapping (from a ``--config`` file). ``what`` names the option in error messages.
    """
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if isinstance(pair, dict):
            out.update({str(k): v for k, v in pair.items()})
            continue
        for key, raw in _items(pair, what):
            out[key] = _value(raw, f"{what} {key}")
    return out


def _items(text: str, what: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` items of ``text``; an item with no ``=`` continues the value before it, so
    ``members=params,synflow,meco`` is one value (``"params,synflow,meco"``)."""
    items: list[tuple[str, str]] = []
    for item in split_top_level(text):
        if not item:
            continue
        key, eq, raw = item.partition("=")
        if eq and key:
            items.append((key.strip(), raw))
        elif not eq and items:
            items[-1] = (items[-1][0], f"{items[-1][1]},{item}")
        else:
            raise NasrankError(f"malformed {what} option {item!r}; expected KEY=VALUE")
    return items


def _value(raw: str, where: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    if raw.strip()[:1] in ("[", "{"):
        import yaml

        from nasrank.runs.safe_yaml import load_yaml

        try:
            return load_yaml(raw, where)
        except yaml.YAMLError:
            raise NasrankError(f"{where}: {raw!r} is neither JSON nor YAML") from None
    return raw



_LABEL = re.compile(r"[A-Za-z0-9_-]+")


def parse_ranker_list(text: str | None, cascades: bool = False) -> list[str]:
    """``"params, flops"`` -> ``["params", "flops"]``; with ``cascades`` an item may be
    ``CHEAP>EXPENSIVE`` and may carry a label, ``LABEL=SPEC`` (``train20=train``), so
    that one ranker can run twice with different options. An empty list, a malformed
    item or a repeated item (label) is an error."""
    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    if not items:
        raise NasrankError(f"--rankers names no ranker: {text!r}")
    if cascades:
        out = []
        for it in items:
            label, eq, spec = it.rpartition("=")
            parts = spec.split(">")
            if len(parts) > 2 or not all(p.strip() for p in parts) or (eq and not _LABEL.fullmatch(label.strip())):
                raise NasrankError(f"malformed ranker {it!r} in --rankers; expected NAME, CHEAP>EXPENSIVE "
                                   "or LABEL=NAME (a label is letters, digits, '_' or '-')")
            spec = ">".join(p.strip() for p in parts)
            out.append(f"{label.strip()}={spec}" if eq else spec)
        items = out
    labels = [ranker_label(n) for n in items]
    dup = sorted({n for n in labels if labels.count(n) > 1})
    if dup:
        raise NasrankError(f"--rankers lists {', '.join(dup)} more than once (give each a label: LABEL=NAME)")
    return items


def ranker_label(item: str) -> str:
    """The name a ``--rankers`` item is reported under: ``train20=train`` -> ``train20``, ``fear`` -> ``fear``."""
    return item.split("=", 1)[0] if "=" in item else item


def ranker_spec(item: str) -> str:
    """What a ``--rankers`` item runs: ``train20=train`` -> ``train``."""
    return item.split("=", 1)[1] if "=" in item else item


# --------------------------------------------------------------------------
# components
# --------------------------------------------------------------------------
def make_space(name: str = "nb201", cfg: dict[str, Any] | None = None):
    """The search space registered as ``name`` (or ``pkg.module:Class``), built with ``cfg``."""
    from nasrank.registry import SPACES

    return SPACES.create(name, **(cfg or {}))


def make_context(space, benchmark: str | None = None, dataset: str = "cifar10", data_dir: str | Path | None = None,
                 device: str = "auto", seed: int = 0, progress: bool = False):
    """A :class:`~nasrank.rankers.base.RunContext`; ``benchmark`` is a spec for
    :func:`nasrank.benchmarks.load_benchmark` (None: no ground truth)."""
    from nasrank import validate
    from nasrank.benchmarks import load_benchmark
    from nasrank.rankers.base import RunContext

    from nasrank.experiments.config_checks import dataset as check_dataset

    check_device(device)
    check_dataset(dataset)
    seed = validate.integer(seed, "seed", "the run (--seed)", minimum=0)  # numpy refuses negative seeds
    from nasrank.runs.limits import MAX_SEED, count

    count(seed, "--seed", MAX_SEED, minimum=0)  # the result store keeps it as a 64-bit integer
    bench = load_benchmark(benchmark, space)
    return RunContext(benchmark=bench, dataset=dataset, data_dir=data_dir, device=device, seed=seed,
                      progress=progress)


def make_ranker(name: str, space, context, cfg: dict[str, Any] | None = None):
    """The ranker registered as ``name`` for ``space``, built with ``cfg`` (unknown keys, or a space
    the ranker does not support, are an error)."""
    from nasrank.registry import RANKERS

    return RANKERS.create(name, space, context, **(cfg or {}))


def make_executor(executor: Any = "serial", workers: int = 2, ray_address: str | None = None,
                  gpus_per_task: float = 1.0):
    """``(executor, owned)``: None for ``"serial"``; a :class:`~nasrank.execution.ray_executor.RayExecutor` for ``"ray"``
    (``owned``: the caller closes it); an executor object is used as it is (not owned).

    ``gpus_per_task`` is what each evaluation asks of a cluster with GPUs (1: one candidate per GPU);
    below 1, several processes share a GPU, which only helps under MPS (the executor warns).
    """
    if executor is None or executor == "serial":
        return None, False
    if executor == "ray":
        from nasrank.execution.ray_executor import RayExecutor

        return RayExecutor(workers=workers, address=ray_address, gpus_per_task=gpus_per_task), True
    if isinstance(executor, str):
        raise NasrankError(f"unknown executor {executor!r}; expected serial or ray")
    return executor, False


def open_store(store):
    """``store`` as a :class:`~nasrank.store.ResultStore`: a path opens (or creates) one; None stays None."""
    if store is None or not isinstance(store, (str, os.PathLike)):
        return store
    from nasrank.store import ResultStore

    return ResultStore(store)


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented strict JSON (NaN/inf as null): temp file, fsync, ``os.replace``."""
    from nasrank.runs.atomic import write_json_atomic

    write_json_atomic(path, obj)


def random_search_warning(searcher, queries: int | None) -> str | None:
    """The warning for an evolution whose query budget is at most its population (it never mutates:
    every candidate is a random sample), else None."""
    pop = getattr(searcher, "population_size", None)
    if not isinstance(pop, int) or queries is None or queries > pop:
        return None
    name = getattr(searcher, "registry_name", type(searcher).__name__)
    return (f"{name}: a budget of {queries} queries is at most its population_size ({pop}), so every candidate is "
            f"a random sample and this is random search; give more than {pop} queries or a smaller "
            "--searcher-cfg population_size")
