"""Progress of a long job: the one helper every verb and the Python API report through.

* On a terminal: rich bars (count, elapsed time, ETA), on stderr.
* Elsewhere (a log file, a pipe, a notebook's captured stream): one timestamped line at most every
  ``interval`` seconds (``$NASRANK_PROGRESS_SECONDS``, default 30) naming each running task with its
  count, its elapsed time and its ETA, and a last line when a job that printed lines ends.
* ``quiet``: nothing.

The clock is injectable (``clock``: monotonic seconds for the interval and the ETA, ``now``: the
wall-clock time of the stamps), so tests drive it without waiting.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, TextIO

INTERVAL_ENV = "NASRANK_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 30.0


def default_interval() -> float:
    """Seconds between two lines off a terminal: ``$NASRANK_PROGRESS_SECONDS`` (a positive number), else 30."""
    try:
        v = float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL
    return v if v > 0 else DEFAULT_INTERVAL


def duration(seconds: float | None) -> str:
    """``0:07``, ``12:05``, ``1:02:03`` (h:mm:ss); ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(max(0.0, seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass
class Task:
    """One counted piece of work: ``completed`` of ``total`` (None: unknown), since ``started``."""

    name: str
    total: float | None
    started: float
    completed: float = 0.0
    note: str = ""

    def eta(self, now: float) -> float | None:
        """Seconds left at the rate so far; None before the first unit or without a total."""
        if self.total is None or self.completed <= 0:
            return None
        return max(0.0, self.total - self.completed) * (now - self.started) / self.completed

    def line(self, now: float) -> str:
        total = "?" if self.total is None else f"{self.total:.0f}"
        pct = f" ({100 * self.completed / self.total:.0f}%)" if self.total else ""
        note = f", {self.note}" if self.note else ""
        return (f"{self.name} {self.completed:.0f}/{total}{pct}, elapsed {duration(now - self.started)}, "
                f"eta {duration(self.eta(now))}{note}")


class Progress:
    """Tasks reported as bars on a terminal, as timestamped lines elsewhere, or not at all (``quiet``).

    Use as a context manager (or call :meth:`stop`); :meth:`add` a task, then :meth:`update` it.
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] = datetime.now,
                 tty: bool | None = None) -> None:
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.interval = default_interval() if interval is None else float(interval)
        self.clock, self.now = clock, now
        self.tty = (hasattr(self.stream, "isatty") and self.stream.isatty()) if tty is None else tty
        self.tasks: dict[str, Task] = {}
        self._bars: Any = None
        self._ids: dict[str, Any] = {}
        self._last = clock()
        self._printed = 0

    # -- the two outputs ------------------------------------------------------------------------
    def _start_bars(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress as Bars, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._bars = Bars(TextColumn("[bold]{task.description}"), BarColumn(bar_width=24),
                          TextColumn("{task.completed:.0f}/{task.total:.0f}"), TextColumn("{task.fields[note]}"),
                          TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                          console=Console(file=self.stream), transient=False)
        self._bars.start()

    def _emit(self, force: bool = False) -> None:
        """A timestamped line naming every task, when ``interval`` has passed (or ``force``)."""
        t = self.clock()
        if not force and t - self._last < self.interval:
            return
        self._last = t
        if not self.tasks:
            return
        stamp = self.now().strftime("%Y-%m-%d %H:%M:%S")
        self.stream.write(f"[{stamp}] " + "; ".join(task.line(t) for task in self.tasks.values()) + "\n")
        self.stream.flush()
        self._printed += 1

    # -- the API ------------------------------------------------------------------------------
    def add(self, name: str, total: float | None, note: str = "") -> str:
        """Start counting ``name`` (``total`` units; None: unknown); returns the name."""
        self.tasks[name] = Task(name, total, self.clock(), note=note)
        if self.quiet:
            return name
        if self.tty:
            if self._bars is None:
                self._start_bars()
            self._ids[name] = self._bars.add_task(name, total=total, note=note)
        return name

    def update(self, name: str, completed: float | None = None, advance: float = 0.0, total: float | None = None,
               note: str | None = None) -> None:
        """Set (``completed``) or add to (``advance``) a task's count; change its ``total`` or ``note``."""
        task = self.tasks[name]
        if completed is not None:
            task.completed = float(completed)
        task.completed += advance
        if total is not None:
            task.total = total
        if note is not None:
            task.note = note
        if self.quiet:
            return
        if self.tty:
            self._bars.update(self._ids[name], completed=task.completed, total=task.total, note=task.note)
        else:
            self._emit()

    def remove(self, name: str) -> None:
        """Stop showing a finished task."""
        self.tasks.pop(name, None)
        if self._bars is not None and name in self._ids:
            self._bars.remove_task(self._ids.pop(name))

    def message(self, text: str) -> None:
        """One line between the bars (timestamped off a terminal); nothing when quiet."""
        if self.quiet:
            return
        if self._bars is not None:
            self._bars.console.print(text, highlight=False)
        elif self.tty:
            self.stream.write(text + "\n")
        else:
            self.stream.write(f"[{self.now().strftime('%Y-%m-%d %H:%M:%S')}] {text}\n")
            self.stream.flush()

    def stop(self) -> None:
        """End the bars; off a terminal, a last line if the job printed any."""
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
        elif not self.quiet and not self.tty and self._printed:
            self._emit(force=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def run_search(searcher: Any, budget: Any, history: Any, quiet: bool, label: str = "search",
               on_record: Callable[[Any], None] | None = None) -> Any:
    """``searcher.run(budget, history)`` with its progress: evaluations of ``budget.queries`` (else
    cost seconds of ``budget.seconds``) and the best score so far; ``on_record`` is called too."""
    by_queries = budget.queries is not None
    total = budget.queries if by_queries else budget.seconds
    with Progress(quiet) as prog:
        prog.add(label if by_queries else f"{label} (cost s)", total)

        def record(rec: Any) -> None:
            if on_record is not None:
                on_record(rec)
            if quiet:
                return
            best = searcher.history.best()
            done = len(searcher.history) if by_queries else rec.cumulative_seconds
            prog.update(next(iter(prog.tasks)), completed=min(done, total) if total else done,
                        note=f"best {best.score:.4g}" if best else "")

        return searcher.run(budget, history, on_record=record)
