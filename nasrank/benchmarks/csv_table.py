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


def _same_cell(a: str | None, b: str | None) -> bool:
    """Two cells of one column say the same: equal numbers (``93.6`` and ``93.60``), else equal text."""
    try:
        return float(a) == float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return a == b


def _other_cells(row: dict, skip: set) -> dict:
    return {k: v for k, v in row.items() if k not in skip}


def _check_repeat(path: Path, line: int, arch: str, first: tuple, again: tuple, columns: tuple) -> None:
    """A repeated architecture must repeat every value: its accuracy, per-schedule accuracies and times, and
    every other column but ``index``."""
    line0, acc0, metrics0, secs0, _ = first
    acc, metrics, secs, _ = again
    _, metric_cols, sec_cols = columns
    diffs = [("accuracy", acc0, acc)] if acc != acc0 else []  # the main one (acc_col)
    diffs += [(metric_cols[k], metrics0.get(k), metrics.get(k)) for k in sorted(set(metrics0) | set(metrics))
              if metrics0.get(k) != metrics.get(k)]
    diffs += [(sec_cols[e], secs0.get(e), secs.get(e)) for e in sorted(set(secs0) | set(secs))
              if secs0.get(e) != secs.get(e)]
    diffs += [(c, first[4].get(c), again[3].get(c)) for c in sorted(set(first[4]) | set(again[3]))
              if not _same_cell(first[4].get(c), again[3].get(c))]
    if diffs:
        col, v0, v = diffs[0]
        more = f"; {len(diffs) - 1} more column(s) differ" if diffs[1:] else ""
        raise NasrankError(f"benchmark CSV {path}, line {line}: architecture {short(arch)} is listed again with "
                           f"{col} {v} (line {line0} says {v0}{more}); a table must give one value per architecture "
                           "and column")


#: classes of the datasets nasrank reads (their chance level bounds a real accuracy from below)
_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}


class _Scale:
    """Whether the accuracies are all percentages or all fractions. A column of fractions beside one of
    percentages is refused, and so is a fraction-like value (at most 1) in a column of percentages: below 90 %
    of the row's dataset's chance level in percent (0.93 in a CIFAR-10 table is 93 % written as a fraction;
    0.83 in an ImageNet16-120 table is a diverged cell at chance, 1/120), or, in a table without a dataset
    column, in a column whose lowest value above 1 is at least 5 (nothing else comes near 1)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.suspect: dict[str, tuple[int, float]] = {}  # column -> first fraction-like (line, value)
        self.small: dict[str, tuple[int, float]] = {}    # column -> first (line, value) in (0, 1], dataset unknown
        self.low: dict[str, float] = {}                  # column -> lowest value above 1
        self.high: dict[str, float] = {}                 # column -> highest value

    def add(self, line: int, column: str, value: float, dataset: str | None) -> None:
        if 0.0 < value <= 1.0:
            if dataset is None:
                self.small.setdefault(column, (line, value))
            elif dataset in _CLASSES and value < 0.9 * 100.0 / _CLASSES[dataset]:
                self.suspect.setdefault(column, (line, value))
        elif value > 1.0:
            self.low[column] = min(value, self.low.get(column, value))
        self.high[column] = max(value, self.high.get(column, value))

    def check(self) -> None:
        fractions = sorted(c for c, h in self.high.items() if 0.0 < h <= 1.0)
        percents = sorted(c for c, h in self.high.items() if h > 1.0)
        if fractions and percents:
            raise NasrankError(f"benchmark CSV {self.path} mixes fractions and percentages: column {fractions[0]} "
                               f"holds fractions (highest {self.high[fractions[0]]}), column {percents[0]} percentages "
                               f"(highest {self.high[percents[0]]}); write every accuracy on one scale")
        for column in percents:
            found = self.suspect.get(column) or (self.small.get(column) if self.low[column] >= 5.0 else None)
            if found:
                raise NasrankError(f"benchmark CSV {self.path}, line {found[0]}: {column} {found[1]} looks like a "
                                   f"fraction, but the column holds percentages ({self.low[column]} to "
                                   f"{self.high[column]}); write every accuracy on one scale")


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
        seen: dict[tuple, tuple] = {}  # (dataset, key) -> (line, accuracy, metrics, seconds, other cells)
        scale = _Scale(path)
        # compared as numbers above, or part of the key (the architecture's own columns, the dataset)
        skip = {"index", "dataset", "arch", "matrix", "ops", "genotype", acc_col, *metric_cols.values(), *secs.values()}
        for line, row in enumerate(reader, start=2):
            if None in row:
                raise NasrankError(f"benchmark CSV {path}, line {line} has {len(cols) + len(row[None])} fields, the "
                                   f"header {len(cols)}; is a comma missing from the header, or a field unquoted?")
            try:
                arch = space.arch_from_row(row)
                acc = _accuracy(row[acc_col], f"accuracy ({acc_col})")
                metrics = {k: _accuracy(row[c], c) for k, c in metric_cols.items() if row.get(c) not in (None, "")}
                seconds = _seconds(row, secs)
                ds = row.get("dataset") or dataset
                key = (ds, space.key(arch))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                raise NasrankError(f"benchmark CSV {path}, line {line}: {short(exc)}") from None
            others = _other_cells(row, skip)
            if key in seen:
                _check_repeat(path, line, space.to_string(arch), seen[key], (acc, metrics, seconds, others),
                              (acc_col, metric_cols, secs))
                continue  # an exact repeat
            seen[key] = (line, acc, metrics, seconds, others)
            scale.add(line, acc_col, acc, row.get("dataset"))
            for k, c in metric_cols.items():
                if k in metrics:
                    scale.add(line, c, metrics[k], row.get("dataset"))
            rec = Record(acc, seconds, {k: v for k, v in row.items() if k not in ("arch", acc_col)}, metrics)
            bench._add(arch, ds, rec)
            order.append(arch)
    if not order:
        raise NasrankError(f"benchmark CSV {path} has no rows")
    scale.check()
    if "index" in cols and hasattr(space, "set_index_order") and len(order) == getattr(space, "size", -1):
        space.set_index_order(order)
    return bench
