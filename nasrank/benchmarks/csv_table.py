"""A plain CSV ground-truth table: ``index,arch,test_acc[,...]``.

The architecture column is read by the space (``SearchSpace.arch_from_row``),
so NB101 reads ``matrix``/``ops`` and DARTS reads ``genotype``. The accuracy is
the first present of ``test_acc``, ``val_acc``, ``accuracy``, else the
``test_acc_<E>ep`` column of the largest E. Columns ``test_acc_<E>ep`` and
``valid_acc_<E>ep`` (or ``val_acc_<E>ep``) become the metrics ``test@E`` /
``valid@E`` a search may run on (the tabular ranker's ``metric`` and ``epochs``),
and ``train_seconds_<E>ep`` the recorded training times for E epochs. A
``dataset`` column splits rows by dataset; without one, the table serves
whatever dataset is asked for (it is the user's table for their data set).
"""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

from nasrank.benchmarks.base import Benchmark, Record
from nasrank.errors import NasrankError, existing_file
from nasrank.runs.limits import bounded_lines, short
from nasrank.spaces.base import SearchSpace

ACC_COLUMNS = ("test_acc", "val_acc", "accuracy")
_SECONDS_RE = re.compile(r"^train_seconds_(\d+)ep$")
_METRIC_RE = re.compile(r"^(test|valid|val)_acc_(\d+)ep$")


def _metric_columns(cols: list[str]) -> dict[str, str]:
    """``{"test@12": "test_acc_12ep", ...}`` for the per-schedule accuracy columns."""
    out = {}
    for c in cols:
        m = _METRIC_RE.match(c)
        if m:
            out[f"{'valid' if m.group(1) == 'val' else m.group(1)}@{int(m.group(2))}"] = c
    return out


def _finite(text: str | None, column: str) -> float:
    try:
        v = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{column} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{column} {text!r} is not a finite number")
    return v


def _accuracy(text: str | None, column: str) -> float:
    """An accuracy cell: a percentage in [0, 100] (a table of fractions in [0, 1] passes too)."""
    v = _finite(text, column)
    if not 0.0 <= v <= 100.0:
        raise ValueError(f"{column} {text!r} is not an accuracy (a percentage in [0, 100], or a fraction in [0, 1])")
    return v


def _seconds(row: dict, secs: dict[int, str]) -> dict[int, float]:
    out = {}
    for e, c in secs.items():
        if row.get(c):
            v = _finite(row[c], c)
            if v < 0:
                raise ValueError(f"{c} {row[c]!r} is negative")
            out[e] = v
    return out


def load_csv_benchmark(path: str | Path, space: SearchSpace, dataset: str = "cifar10") -> Benchmark:
    """Read a CSV table; errors name the file and the line.

    An accuracy (or training time) that is not a finite number is an error, and
    so is an architecture listed twice with different accuracies (an exact
    repeat is accepted and counted once).
    """
    path = existing_file(path, "benchmark CSV", f"benchmark CSV {path} is a folder; give the .csv file")
    try:
        return _read(path, space, dataset)
    except UnicodeDecodeError as exc:
        raise NasrankError(f"benchmark CSV {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise NasrankError(f"benchmark CSV {path} is not a readable CSV table: {short(exc)} (an unclosed "
                           "quote runs on to the end of the file)" if "field larger" in str(exc) or "EOF" in str(exc)
                           else f"benchmark CSV {path} is not a readable CSV table: {short(exc)}") from None


def _read(path: Path, space: SearchSpace, dataset: str) -> Benchmark:
    bench = Benchmark(space, source=f"csv:{path}")
    with path.open(newline="", encoding="utf-8-sig") as fh:  # a byte-order mark is not part of the header
        reader = csv.DictReader(bounded_lines(fh, f"benchmark CSV {path}"))
        cols = reader.fieldnames or []
        metric_cols = _metric_columns(cols)
        tests = sorted((int(k.split("@")[1]), c) for k, c in metric_cols.items() if k.startswith("test@"))
        acc_col = next((c for c in ACC_COLUMNS if c in cols), tests[-1][1] if tests else None)
        if acc_col is None:
            raise NasrankError(f"benchmark CSV {path} has no accuracy column (one of {', '.join(ACC_COLUMNS)} "
                               f"or test_acc_<E>ep); columns: {cols[:20]}")
        bench.any_dataset = "dataset" not in cols
        secs = {int(m.group(1)): c for c in cols if (m := _SECONDS_RE.match(c))}
        order: list = []
        seen: dict[tuple, tuple[int, float]] = {}  # (dataset, key) -> (line, accuracy)
        for line, row in enumerate(reader, start=2):
            try:
                arch = space.arch_from_row(row)
                acc = _accuracy(row[acc_col], f"accuracy ({acc_col})")
                metrics = {k: _accuracy(row[c], c) for k, c in metric_cols.items() if row.get(c) not in (None, "")}
                seconds = _seconds(row, secs)
                ds = row.get("dataset") or dataset
                key = (ds, space.key(arch))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                raise NasrankError(f"benchmark CSV {path}, line {line}: {short(exc)}") from None
            if key in seen:
                first, acc0 = seen[key]
                if acc0 != acc:
                    raise NasrankError(f"benchmark CSV {path}, line {line}: architecture {space.to_string(arch)} is "
                                       f"listed again with accuracy {acc} (line {first} says {acc0}); a table "
                                       "must give one accuracy per architecture")
                continue  # an exact repeat
            seen[key] = (line, acc)
            rec = Record(acc, seconds, {k: v for k, v in row.items() if k not in ("arch", acc_col)}, metrics)
            bench._add(arch, ds, rec)
            order.append(arch)
    if not order:
        raise NasrankError(f"benchmark CSV {path} has no rows")
    if "index" in cols and hasattr(space, "set_index_order") and len(order) == getattr(space, "size", -1):
        space.set_index_order(order)
    return bench
