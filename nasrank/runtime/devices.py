"""Devices: the one mapping from a device name to what runs there, checked with one clear error.

``--device`` takes :data:`DEVICES` (``auto``, ``cpu``, ``gpu``); the aliases torch users type
(``cuda``, ``mps``) are read too. :func:`accelerator` gives Lightning's accelerator for a Trainer
(:func:`~nasrank.lightning_modules.classification.make_trainer`, the supernet's), :func:`torch_device`
the ``torch.device`` of inference-only code (zero-shot scoring, supernet sub-networks).
"""
from __future__ import annotations

from typing import Any

from nasrank.errors import NasrankError, did_you_mean

DEVICES = ("auto", "cpu", "gpu")
#: the one device-name mapping: a device name -> Lightning's accelerator
ACCELERATORS = {"auto": "auto", "cpu": "cpu", "gpu": "gpu", "cuda": "gpu", "mps": "mps"}


def check_device(device: str) -> None:
    """One clear error for an unknown device, or ``gpu`` on a machine without a CUDA GPU."""
    if device not in DEVICES:
        raise NasrankError(f"unknown device {device!r}; expected one of: {', '.join(DEVICES)}"
                           f"{did_you_mean(device, DEVICES)}")
    if device == "gpu":
        import torch

        if not torch.cuda.is_available():
            raise NasrankError("--device gpu: no CUDA GPU is visible here (torch.cuda.is_available() is False); "
                               "use --device cpu or auto")


def accelerator(device: str | None) -> str:
    """Lightning's accelerator for ``device`` (None: auto)."""
    device = device or "auto"
    if device not in ACCELERATORS:
        raise NasrankError(f"unknown device {device!r}; expected auto, cpu or gpu")
    return ACCELERATORS[device]


def torch_device(device: Any = "auto"):
    """``auto`` -> cuda if available else cpu; ``gpu``/``cuda`` -> cuda (an error without one); ``cpu``;
    a ``torch.device`` or another torch device string as torch reads it."""
    import torch

    if isinstance(device, torch.device):
        return device
    kind = ACCELERATORS.get(device or "auto")
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "gpu":
        if not torch.cuda.is_available():
            raise NasrankError(f"device {device!r} was asked for but no CUDA GPU is available")
        return torch.device("cuda")
    if kind is not None:
        return torch.device(kind)
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise NasrankError(f"unknown device {device!r}; expected auto, cpu, gpu or a torch device string") from exc
