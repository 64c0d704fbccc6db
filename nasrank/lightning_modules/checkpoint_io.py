"""Lightning checkpoints kept in a run folder: written atomically, read as tensors and plain data.

Lightning's own :class:`~lightning.fabric.plugins.io.torch_io.TorchCheckpointIO` opens the path it
is given (following a link planted there) and loads with full pickle unless told otherwise.
:class:`RunFolderCheckpointIO` writes through :func:`nasrank.runs.atomic.atomic_write` (a fresh
temporary, then replace: a link in the way is replaced, not written through) and reads through
:func:`nasrank.runs.safe_torch.load_tensors` (``weights_only=True``, no link followed, one clear
error). Set it on a trainer with :func:`use_run_folder_io`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from lightning.fabric.plugins.io.checkpoint_io import CheckpointIO


class RunFolderCheckpointIO(CheckpointIO):
    """Checkpoint I/O for files in a run folder (see the module doc)."""

    def __init__(self, remedy: str = "") -> None:
        self.remedy = remedy

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        import torch

        from nasrank.runs.atomic import atomic_write

        with atomic_write(path, "wb", what="training checkpoint") as fh:
            torch.save(checkpoint, fh)

    def load_checkpoint(self, path: Any, map_location: Callable | str | None = None,
                        weights_only: bool | None = None) -> dict[str, Any]:
        from nasrank.runs.safe_torch import load_tensors

        return load_tensors(path, "training checkpoint", self.remedy, map_location or "cpu")

    def remove_checkpoint(self, path: Any) -> None:
        Path(path).unlink(missing_ok=True)


def use_run_folder_io(trainer: Any, remedy: str = "") -> Any:
    """``trainer`` with :class:`RunFolderCheckpointIO` as its checkpoint I/O."""
    trainer.strategy.checkpoint_io = RunFolderCheckpointIO(remedy)
    return trainer
