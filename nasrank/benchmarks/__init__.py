"""Ground-truth tables behind one interface; ``load_benchmark(spec, space)`` picks the backend.

Specs: ``csv:PATH`` | ``nats:DIR`` | ``nb201:FILE`` (the official .pth) |
``nds:FILE`` (NDS json) | ``pool:DIR`` (a scored pool, :mod:`nasrank.pool`) | ``embedded`` (offline
default for nb201).
"""
from __future__ import annotations

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.errors import NasrankError
from nasrank.spaces.base import SearchSpace

SPEC_HELP = "csv:PATH | nats:DIR | nb201:FILE | nds:FILE | pool:DIR | embedded | none"


def load_benchmark(spec: str | None, space: SearchSpace) -> Benchmark | None:
    """Load the benchmark named by ``spec`` for ``space`` (``None``/"none" gives no benchmark)."""
    if spec is None or spec == "none":
        return None
    kind, _, arg = spec.partition(":")
    if kind == "embedded":
        from nasrank.benchmarks.embedded import load_embedded_benchmark

        return load_embedded_benchmark(space)
    if not arg:
        raise NasrankError(f"malformed benchmark spec {spec!r}; expected {SPEC_HELP}")
    if kind == "csv":
        from nasrank.benchmarks.csv_table import load_csv_benchmark

        return load_csv_benchmark(arg, space)
    if kind == "nats":
        from nasrank.benchmarks.nats import load_nats_benchmark

        return load_nats_benchmark(arg, space)
    if kind == "nb201":
        from nasrank.benchmarks.nb201_pth import load_nb201_pth

        return load_nb201_pth(arg, space)
    if kind == "nds":
        from nasrank.benchmarks.nds import load_nds_benchmark

        return load_nds_benchmark(arg, space)
    if kind == "pool":
        from nasrank.benchmarks.pool import load_pool_benchmark

        return load_pool_benchmark(arg, space)
    raise NasrankError(f"unknown benchmark kind {kind!r} in {spec!r}; expected {SPEC_HELP}")


__all__ = ["Benchmark", "Record", "load_benchmark", "SPEC_HELP"]
