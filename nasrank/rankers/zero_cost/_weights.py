"""Where zero-shot scoring runs and which weights it loads (``weights_from``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from nasrank.errors import NasrankError
from nasrank.spaces.base import Arch

WeightsFrom = str | Path | Callable[[Arch, nn.Module], Any] | None


def resolve_device(name: str | torch.device | None) -> torch.device:
    """The ``torch.device`` zero-shot scoring runs on (no Trainer): :func:`nasrank.runtime.devices.torch_device`."""
    from nasrank.runtime.devices import torch_device

    return torch_device(name)


def read_state_dict(path: str | Path, with_sha256: bool = False) -> Any:
    """``torch.load(path)``: a state dict, or a dict holding one under ``"state_dict"``; with ``with_sha256``,
    ``(state dict, sha256 of the bytes it was read from)`` (the result store keys on those bytes)."""
    import hashlib
    import io

    p = Path(path)
    if not p.is_file():
        from nasrank.errors import MissingFileError

        raise MissingFileError(p, "weights file (weights_from)")
    data = p.read_bytes()
    try:  # weights_only: tensors and plain containers only, a planted pickle cannot run code
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        from nasrank.errors import unreadable_pickle

        raise NasrankError(f"cannot read weights file {p} as a state dict: {unreadable_pickle(exc)}") from None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise NasrankError(f"weights file {p} holds a {type(obj).__name__}, not a state dict")
    return (obj, hashlib.sha256(data).hexdigest()) if with_sha256 else obj


def apply_weights(model: nn.Module, arch: Arch, weights_from: WeightsFrom,
                  cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load ``weights_from`` into ``model`` (``strict=False``); return what was loaded.

    ``weights_from`` is a path (read once per ``cache``) or a callable
    ``(arch, model) -> state_dict | None`` (``None``: it loaded the weights itself).
    """
    if weights_from is None:
        return {}
    if callable(weights_from):
        sd = weights_from(arch, model)
        if sd is None:
            return {"weights_from": "callable"}
    else:
        key = str(weights_from)
        if cache is not None and key in cache:
            sd = cache[key]
        else:
            sd = read_state_dict(key)
            if cache is not None:
                cache[key] = sd
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    res = model.load_state_dict(sd, strict=False)
    return {"weights_missing": len(res.missing_keys), "weights_unexpected": len(res.unexpected_keys)}
