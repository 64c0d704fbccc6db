"""Supernet checkpoints read as data (plain torch, no Trainer): load, check, export.

A checkpoint is a file a user may have been given, so nothing in it runs or sizes memory unchecked:

* it is read with ``torch.load(..., weights_only=True)`` (tensors and plain containers only);
* its space (``hyper_parameters["space"]``) must be a registered name (``nb201``, ``nb101``, ``darts``,
  or one registered in this process). An import path ``pkg.mod:Class`` would import that module and
  run its code, so it is refused unless it names the space the caller already uses (the ``oneshot``
  ranker of a run on that space) or the caller trusts the file (``supernet info|export
  --trust-checkpoint``);
* every hyper-parameter goes through its declared check and the bounds of :mod:`nasrank.runs.limits`;
* the network the hyper-parameters describe is first built on the ``meta`` device (shapes only, no
  memory) and compared tensor by tensor with the stored weights, so another space's weights, one
  wrong-shaped tensor or ``channels: 4096`` beside 4-channel weights is one clear line, before anything
  large is allocated.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from nasrank.errors import MissingFileError, NasrankError
from nasrank.runs.limits import short

CKPT_KEY = "nasrank_supernet"
PACKED_KEY = "packed_state_dict"
#: the numeric fields of the training record (``CKPT_KEY``) and their types
_RECORD = {"train_seconds": float, "train_device_seconds": float, "epochs_done": int, "global_step": int}


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The checkpoint at ``path`` as a dict, or one :class:`NasrankError` saying what the file is instead."""
    p = Path(path)
    if p.is_dir():
        raise NasrankError(f"supernet checkpoint {p} is a folder; give the .ckpt file `nasrank supernet train` wrote")
    if not p.exists():
        raise MissingFileError(p, "supernet checkpoint")
    if not p.is_file():
        raise NasrankError(f"supernet checkpoint {p} is not a regular file (a device, FIFO or socket)")
    if p.stat().st_size == 0:
        raise NasrankError(f"supernet checkpoint {p} is empty (0 bytes); was its training interrupted?")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (any unreadable file)
        from nasrank.errors import unreadable_pickle

        with p.open("rb") as fh:
            head = fh.read(4)
        what = ("not a PyTorch checkpoint (a file written by torch.save)" if head[:2] not in (b"PK", b"\x80\x02")
                else "damaged or truncated")
        raise NasrankError(f"cannot read supernet checkpoint {p}: it is {what}: {unreadable_pickle(exc)}") from None
    if not isinstance(ckpt, dict) or CKPT_KEY not in ckpt or "hyper_parameters" not in ckpt:
        held = f"a {type(ckpt).__name__}" + (f" with keys {short(sorted(map(str, ckpt)))}" if isinstance(ckpt, dict)
                                             else "")
        raise NasrankError(f"{p} is not a supernet checkpoint written by `nasrank supernet train` (it holds {held}; "
                           f"expected hyper_parameters, state_dict and {CKPT_KEY})")
    return ckpt


def import_path(cls: type) -> str:
    """``package.module:Class`` of ``cls``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def checkpoint_space(name: Any, path: Path, space: type | None = None, trust: bool = False) -> str:
    """The checkpoint's space ``name``, once it passes the trust gate (see the module docstring).

    ``space``: the class the caller uses (its import path may be in the checkpoint, and a run on another
    space is refused here, before anything is imported); ``trust``: the user trusts the file's import path.
    """
    from nasrank.registry import SPACES

    if not isinstance(name, str) or not name:
        raise NasrankError(f"supernet checkpoint {path}: hyper_parameters.space is {short(repr(name))}, "
                           "not a space name")
    if ":" not in name:
        if name not in SPACES:
            raise NasrankError(f"supernet checkpoint {path} names space {short(repr(name))}, which is not registered "
                               f"(known: {', '.join(SPACES.names())})")
        if space is not None and SPACES.get(name) is not space:
            raise NasrankError(f"supernet {path} was trained on space {name!r}, but the run's space is "
                               f"{getattr(space, 'registry_name', space.__name__)!r}")
        return name
    if space is not None:
        if import_path(space) != name:
            raise NasrankError(f"supernet {path} was trained on space {short(repr(name))} (an import path, not "
                               f"imported), but the run's space is {getattr(space, 'registry_name', '?')!r} "
                               f"({import_path(space)})")
        return name
    if not trust:
        raise NasrankError(f"supernet checkpoint {path} names its space by the import path {short(repr(name))}; "
                           "loading it would import that module and run its code. Pass --trust-checkpoint if you "
                           "trust this file and that module")
    return name


def hyper_parameters(ckpt: dict[str, Any], path: Path, space: type | None, trust: bool) -> dict[str, Any]:
    """The checkpoint's hyper-parameters: a dict whose space passes the gate and whose values pass their checks."""
    from nasrank.lightning_modules.supernet_options import SupernetOptions
    from nasrank.options import make_options

    hp = ckpt["hyper_parameters"]
    if not isinstance(hp, dict) or not all(isinstance(k, str) for k in hp):
        raise NasrankError(f"supernet checkpoint {path}: hyper_parameters is a {type(hp).__name__}, not a mapping "
                           "of option names")
    hp = dict(hp)
    hp["space"] = checkpoint_space(hp.get("space", "nb201"), path, space, trust)
    make_options(SupernetOptions, hp, f"supernet checkpoint {path}: hyper_parameters")
    return hp


def stored_weights(ckpt: dict[str, Any], path: Path) -> dict[str, torch.Tensor]:
    """``state_dict`` (or the unpacked ``packed_state_dict``): names to tensors, checked."""
    if "state_dict" in ckpt:
        state = ckpt["state_dict"]
        if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                  for k, v in state.items()):
            raise NasrankError(f"supernet checkpoint {path}: state_dict is not a mapping of names to tensors")
        return state
    if PACKED_KEY not in ckpt:
        raise NasrankError(f"supernet checkpoint {path} holds no weights (neither state_dict nor {PACKED_KEY})")
    return unpack_state(ckpt[PACKED_KEY], f"supernet checkpoint {path}: {PACKED_KEY}")


def training_record(ckpt: dict[str, Any], path: Path) -> dict[str, Any]:
    """The training record (``CKPT_KEY``): a dict whose seconds and counts are finite, non-negative numbers."""
    rec = ckpt[CKPT_KEY]
    if not isinstance(rec, dict):
        raise NasrankError(f"supernet checkpoint {path}: {CKPT_KEY} is a {type(rec).__name__}, not a mapping")
    rec = dict(rec)
    for key, kind in _RECORD.items():
        if key not in rec:
            continue
        v = rec[key]
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
        if not ok or (kind is int and v != int(v)):
            raise NasrankError(f"supernet checkpoint {path}: {CKPT_KEY}.{key} is {short(repr(v))}, not a "
                               f"non-negative {'integer' if kind is int else 'number'}")
        rec[key] = kind(v)
    if not isinstance(rec.get("train_history", []), list):
        raise NasrankError(f"supernet checkpoint {path}: {CKPT_KEY}.train_history is not a list")
    return rec


def check_shapes(expected: dict[str, Any], state: dict[str, torch.Tensor], path: Path, space: str) -> None:
    """``state`` has exactly the tensors of ``expected`` (a meta-device state dict), shape for shape."""
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        raise NasrankError(f"supernet checkpoint {path}: its state_dict does not match the {space} supernet its "
                           f"hyper_parameters describe ({len(missing)} tensors missing"
                           f"{f', e.g. {missing[0]!r}' if missing else ''}; {len(extra)} unexpected"
                           f"{f', e.g. {extra[0]!r}' if extra else ''}): weights of another space, or of other "
                           "cells_per_stage / num_supernets")
    for k, v in expected.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise NasrankError(f"supernet checkpoint {path}: tensor {k!r} has shape {list(state[k].shape)}, but the "
                               f"network its hyper_parameters describe needs {list(v.shape)} (channels="
                               "..., cells_per_stage=... differ from the weights)")


def load_supernet(path: str | Path, space: type | None = None, trust: bool = False) -> tuple[Any, dict[str, Any]]:
    """Load a checkpoint written by ``train_supernet`` (or an export); returns ``(module, info)``.

    ``info`` holds ``train_seconds``, ``train_device_seconds``, ``epochs_done`` and ``global_step``.
    ``space``: the space class the caller runs on (the checkpoint must be of it); ``trust``: import a space
    the checkpoint names by import path. Every problem is one :class:`NasrankError` naming the path.
    """
    from nasrank.lightning_modules.supernet import SupernetModule

    path = Path(path)
    ckpt = read_checkpoint(path)
    hp = hyper_parameters(ckpt, path, space, trust)
    record = training_record(ckpt, path)
    state = stored_weights(ckpt, path)
    try:
        with torch.device("meta"):  # shapes only: nothing the hyper-parameters ask for is allocated
            expected = SupernetModule(**hp).state_dict()
    except NasrankError as exc:
        raise NasrankError(f"supernet checkpoint {path}: {exc}") from None
    check_shapes(expected, state, path, hp["space"])
    module = SupernetModule(**hp)
    module.load_state_dict(state)
    module.on_load_checkpoint({CKPT_KEY: record})
    return module, record


def pack_state(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """A state dict as one flat tensor per dtype plus names and shapes (a few tensors instead of
    thousands: ``torch.save`` spends ~300 bytes of overhead per tensor)."""
    names, shapes, dtypes, flat = list(state), [], [], {}
    for name in names:
        v = state[name].detach().reshape(-1)
        shapes.append(list(state[name].shape))
        dtypes.append(str(v.dtype).removeprefix("torch."))
        flat.setdefault(dtypes[-1], []).append(v)
    return {"names": names, "shapes": shapes, "dtypes": dtypes, "flat": {k: torch.cat(v) for k, v in flat.items()}}


def unpack_state(packed: Any, what: str = PACKED_KEY) -> dict[str, torch.Tensor]:
    """The inverse of :func:`pack_state`; a malformed pack (lengths, shapes or sizes that do not add up)
    is one :class:`NasrankError` naming ``what``."""
    def bad(why: str) -> NasrankError:
        return NasrankError(f"{what} is malformed: {why}")

    if not isinstance(packed, dict) or not isinstance(packed.get("flat"), dict):
        raise bad("expected a mapping with names, shapes, dtypes and flat")
    names, shapes, dtypes, flat = (packed.get(k) for k in ("names", "shapes", "dtypes", "flat"))
    if not all(isinstance(x, list) for x in (names, shapes, dtypes)) or not len(names) == len(shapes) == len(dtypes):
        raise bad("names, shapes and dtypes must be lists of one length")
    need: dict[Any, int] = {}
    for name, shape, dtype in zip(names, shapes, dtypes):
        if not isinstance(name, str) or not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            raise bad(f"entry {short(repr(name))} has shape {short(repr(shape))}")
        if not isinstance(flat.get(dtype), torch.Tensor):
            raise bad(f"entry {name!r} has dtype {short(repr(dtype))}, which has no flat tensor")
        need[dtype] = need.get(dtype, 0) + math.prod(shape)
    for dtype, n in need.items():
        if flat[dtype].dim() != 1 or flat[dtype].numel() != n:
            raise bad(f"the {dtype} entries hold {n:,} values, the flat tensor {flat[dtype].numel():,}")
    offsets = {k: 0 for k in flat}
    out = {}
    for name, shape, dtype in zip(names, shapes, dtypes):
        n = math.prod(shape)
        out[name] = flat[dtype][offsets[dtype]:offsets[dtype] + n].reshape(shape).clone()
        offsets[dtype] += n
    return out


def export_paths(src: str | Path, dst: str | Path) -> tuple[Path, Path]:
    """``(slim checkpoint, its JSON config)`` for ``export --output dst``; refused when either would be the
    source or one another (``--output slim.json`` would write the config over the weights)."""
    import os

    src, dst = Path(src), Path(dst)
    config = dst.with_suffix(".json")
    if config == dst or dst.suffix.lower() == ".json":
        raise NasrankError(f"--output {dst}: the config is written beside the checkpoint as {config.name}, the same "
                           "file; give a checkpoint name such as slim.ckpt")
    for p, what in ((dst, "slim checkpoint"), (config, "JSON config")):
        same = p.exists() and src.exists() and os.path.samefile(p, src)
        if same or p.resolve() == src.resolve():
            raise NasrankError(f"--output {dst}: its {what} {p} is the checkpoint being exported ({src}); export "
                               "writes a new file, give another path")
    return dst, config


def export_supernet(src: str | Path, dst: str | Path, packed: bool = False, trust: bool = False) -> dict[str, Any]:
    """Write a slim copy of checkpoint ``src`` to ``dst`` and its config to ``dst`` with ``.json``.

    The copy keeps only the weights (``state_dict``, BN buffers included), the
    hyperparameters and the training record, so it loads with
    ``torch.load(..., weights_only=True)`` and through :func:`load_supernet`
    (and so ``--ranker oneshot --ranker-cfg supernet=DST``). Optimizer state is
    dropped. With ``packed`` the weights are stored as one flat tensor per dtype (:func:`pack_state`;
    for networks of thousands of small tensors, e.g. the DARTS supernet, this halves the file). Both
    files are written temp-then-replace; neither may be ``src`` (:func:`export_paths`). Returns the JSON record.
    """
    import json

    from nasrank.runs.atomic import atomic_write, atomic_write_text

    dst, config = export_paths(src, dst)
    module, info = load_supernet(src, trust=trust)
    dst.parent.mkdir(parents=True, exist_ok=True)
    hp = dict(module.hparams)
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    slim = {"hyper_parameters": hp, **({PACKED_KEY: pack_state(state)} if packed else {"state_dict": state}),
            CKPT_KEY: dict(info)}
    with atomic_write(dst, "wb", what="supernet checkpoint") as fh:
        torch.save(slim, fh)
    record = {"checkpoint": dst.name, "hyper_parameters": hp,
              **{k: v for k, v in info.items() if k != "train_history"},
              "parameters": int(sum(v.numel() for v in module.state_dict().values())),
              "load": "torch.load(path, weights_only=True) or nasrank.lightning_modules.supernet.load_supernet"}
    atomic_write_text(config, json.dumps(record, indent=2, default=str) + "\n", what="supernet config")
    return record
