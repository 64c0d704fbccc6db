"""Ctrl-C (SIGINT) that ends a run as an interruption, wherever it lands.

Two libraries turn a KeyboardInterrupt into something else:

* torch: a SIGINT that lands while torch has popped a function mode for a moment (inside
  ``with torch.device("meta")``, the ``params`` / ``flops`` build) leaves the mode stack short,
  and torch's clean-up raises ``RuntimeError: trying to pop from empty mode stack``;
* Lightning: ``Trainer.fit`` catches KeyboardInterrupt and calls ``sys.exit(1)``.

:func:`deferred` holds SIGINT for the length of a short block that must not be cut (the meta
build) and delivers it when the block ends. :func:`record_interrupts` (the CLI calls it first)
notes every SIGINT before raising KeyboardInterrupt as Python does, so the CLI can report an
interruption (exit 130, what was kept, how to resume) whatever exception reaches it
(:func:`received`).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any, Iterator

_received = False


def received() -> bool:
    """Whether this process got a SIGINT since :func:`record_interrupts` was called."""
    return _received


def _note_and_raise(signum: int, frame: Any) -> None:
    global _received
    _received = True
    signal.default_int_handler(signum, frame)


def record_interrupts(restore: Any = None) -> Any:
    """Note every SIGINT (then raise KeyboardInterrupt, as Python's default handler does) and return
    the handler it replaced; ``record_interrupts(that)`` puts it back. An ignored SIGINT (``nohup``,
    a parent's choice) stays ignored; off the main thread this is a no-op."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        return None
    if restore is not None:  # also over the SIG_IGN that Lightning sets when it catches one
        signal.signal(signal.SIGINT, restore)
        return None
    _received = False
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:
        signal.signal(signal.SIGINT, _note_and_raise)
        return previous
    return None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Run the block with SIGINT held; a SIGINT received meanwhile is delivered when it ends
    (its handler runs then: KeyboardInterrupt is raised after the block, not inside it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if getattr(previous, "_nasrank_deferring", False) or previous in (signal.SIG_IGN, None):
        yield  # nested in a deferral, or ignored anyway
        return
    pending: list[tuple[int, Any]] = []

    def hold(signum: int, frame: Any) -> None:
        pending.append((signum, frame))

    hold._nasrank_deferring = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            if callable(previous):
                previous(*pending[0])
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)
