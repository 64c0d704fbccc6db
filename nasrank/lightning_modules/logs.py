"""Training logs: Lightning's CSVLogger (always) and TensorBoardLogger (when tensorboard is installed).

Every training run (the ``train`` and ``fear`` rankers, FEAR's stage 1 and stage 2 separately,
``nasrank supernet train``) writes per-epoch loss and accuracy to
``<log_dir>/<name>/<version>/metrics.csv`` (and TensorBoard event files beside them when the
``tensorboard`` package is importable). The commands put ``log_dir`` inside the run folder;
``--no-logs`` turns it off.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def tensorboard_available() -> bool:
    """Whether Lightning's TensorBoardLogger can write (``tensorboard`` or ``tensorboardX`` installed)."""
    return any(importlib.util.find_spec(m) is not None for m in ("tensorboard", "tensorboardX"))


def make_loggers(log_dir: str | Path | None, name: str, version: str) -> list[Any] | bool:
    """Loggers for one training run under ``log_dir`` (``False``, i.e. none, when ``log_dir`` is ``None``)."""
    if not log_dir:
        return False
    from lightning.pytorch.loggers import CSVLogger

    loggers: list[Any] = [CSVLogger(str(log_dir), name=name, version=version)]
    if tensorboard_available():
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(str(log_dir), name=name, version=version, default_hp_metric=False))
    return loggers
