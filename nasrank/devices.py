"""The devices a run may ask for (``--device``), checked once with one clear error."""
from __future__ import annotations

from nasrank.errors import NasrankError, did_you_mean

DEVICES = ("auto", "cpu", "gpu")


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
