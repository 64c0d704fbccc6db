"""Options and helpers that several sub-commands share."""
from __future__ import annotations

import argparse
import json
import re
from typing import Any

from nasrank.errors import NasrankError


def parse_cfg(pairs: list[str] | None, what: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (values parsed as JSON when possible)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        for item in pair.split(","):
            if not item:
                continue
            key, eq, raw = item.partition("=")
            if not eq or not key:
                raise NasrankError(f"malformed {what} option {item!r}; expected KEY=VALUE")
            try:
                out[key.strip()] = json.loads(raw)
            except json.JSONDecodeError:
                out[key.strip()] = raw
    return out


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


_LABEL = re.compile(r"[A-Za-z0-9_-]+")


def ranker_label(item: str) -> str:
    """The name a ``--rankers`` item is reported under: ``train20=train`` -> ``train20``, ``fear`` -> ``fear``."""
    return item.split("=", 1)[0] if "=" in item else item


def ranker_spec(item: str) -> str:
    """What a ``--rankers`` item runs: ``train20=train`` -> ``train``."""
    return item.split("=", 1)[1] if "=" in item else item


def add_space_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--space", default="nb201", help="space name (see `nasrank spaces`) or pkg.module:Class")
    p.add_argument("--space-cfg", action="append", metavar="KEY=VALUE",
                   help="space constructor options, e.g. channels=8,cells_per_stage=1")


def add_context_args(p: argparse.ArgumentParser) -> None:
    from nasrank.benchmarks import SPEC_HELP

    p.add_argument("--benchmark", default=None, help=f"ground truth: {SPEC_HELP}")
    p.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | ImageNet16-120")
    p.add_argument("--data-dir", default=None, help="folder holding the dataset in its official format")
    p.add_argument("--device", default="auto", help="auto | cpu | gpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress", action="store_true", help="show Lightning's training progress bars")


def add_ranker_cfg_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ranker-cfg", action="append", metavar="KEY=VALUE",
                   help="ranker options, e.g. batch_size=64,seeds=1 (repeatable)")


def make_space(args: argparse.Namespace):
    import nasrank.spaces  # noqa: F401  (registration)
    from nasrank.registry import SPACES

    return SPACES.create(args.space, **parse_cfg(args.space_cfg, "--space-cfg"))


def make_context(args: argparse.Namespace, space):
    from nasrank.benchmarks import load_benchmark
    from nasrank.rankers.base import RunContext

    bench = load_benchmark(args.benchmark, space)
    return RunContext(benchmark=bench, dataset=args.dataset, data_dir=args.data_dir, device=args.device,
                      seed=args.seed, progress=getattr(args, "progress", False))


def make_ranker(name: str, space, context, cfg: dict[str, Any] | None = None):
    import nasrank.rankers  # noqa: F401  (registration)
    from nasrank.registry import RANKERS

    cls = RANKERS.get(name)
    supported = getattr(cls, "supported_spaces", None)
    if supported is not None and space.registry_name not in supported:
        raise NasrankError(f"ranker {name!r} does not support space {space.registry_name!r} (it supports: {', '.join(supported)})")
    return RANKERS.create(name, space, context, **(cfg or {}))


def write_json(path, obj: Any) -> None:
    """Strict JSON (NaN/inf as null), written temp-then-replace."""
    from nasrank.atomic import write_json_atomic

    write_json_atomic(path, obj)
