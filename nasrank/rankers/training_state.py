"""The kept training state of the ``train`` ranker's fidelities (:mod:`nasrank.rankers.training_fidelity`):
one folder, one ``<run>.state.pt`` and one ``<run>@<epochs>.ckpt`` per architecture.

A multi-fidelity search keeps it in ``OUT/fidelity_state``, and ``--resume`` reads it back, so
it is treated as input that may come from someone else:

* read with ``weights_only=True`` through a descriptor that does not follow links
  (:func:`nasrank.runs.safe_torch.load_tensors`): a planted pickle cannot run code, and a
  link, a truncated or foreign file is one clear error naming it (delete the file: that
  architecture is then trained again from scratch);
* a ``.state.pt`` holds plain data and one tensor: the architecture (string), the epochs
  reached, the checkpoint's **file name** (resolved against the state folder, never the
  working directory, so a copied or moved run folder continues from its own checkpoints; a
  path written by an older nasrank is reduced to its file name), the torch random state
  (a uint8 tensor) and the evaluation made at that budget;
* written atomically (:func:`nasrank.runs.atomic.atomic_write`: a fresh temporary of a random
  name, then replace), so a planted link is replaced, never written through;
* the folder itself must be a folder, not a link to one (:func:`state_folder`); every kept file
  is checked when the search starts (:func:`check_state_folder`), before any work.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError

STATE_SUFFIX = ".state.pt"
CKPT_SUFFIX = ".ckpt"
_REMEDY = "delete it to train that architecture again from scratch"


def state_folder(path: str | Path) -> Path:
    """``path`` as the state folder: created if missing; a link or a file there is one clear error."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise NasrankError(f"cannot use the training state folder {p}: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise NasrankError(f"the training state folder {p} is a symbolic link; nasrank does not follow links "
                           "in a run folder (remove the link)")
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise NasrankError(f"the training state folder {p} is not a folder (a file is in its place); "
                           "remove it or give another --output")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NasrankError(f"cannot create the training state folder {p}: {exc.strerror or exc}") from None
    return p


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _checked(raw: Any, path: Path) -> dict[str, Any]:
    """``raw`` as a training state (see the module doc), or one error naming ``path``."""
    import torch

    def bad(why: str) -> NasrankError:
        return NasrankError(f"training state {path} is not a nasrank training state ({why}); {_REMEDY}")

    if not isinstance(raw, dict):
        raise bad(f"it holds a {type(raw).__name__}")
    if not isinstance(raw.get("arch"), str) or not isinstance(raw.get("ckpt"), str):
        raise bad("no architecture or checkpoint name")
    epochs = raw.get("epochs")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise bad(f"epochs {epochs!r}")
    rng = raw.get("rng")
    if not isinstance(rng, torch.Tensor) or rng.dtype != torch.uint8 or rng.dim() != 1:
        raise bad("no random state")
    ckpt = Path(raw["ckpt"]).name  # older states recorded a path (relative to their working directory)
    if not ckpt.endswith(CKPT_SUFFIX):
        raise bad(f"checkpoint name {raw['ckpt']!r}")
    ev = raw.get("evaluation")
    if ev is not None and not (isinstance(ev, (list, tuple)) and len(ev) == 3 and _is_number(ev[0])
                               and _is_number(ev[1]) and isinstance(ev[2], dict)):
        raise bad("its evaluation is not (score, seconds, info)")
    return {"arch": raw["arch"], "epochs": epochs, "ckpt": ckpt, "rng": rng,
            "evaluation": None if ev is None else (float(ev[0]), float(ev[1]), dict(ev[2]))}


def read_state(path: str | Path) -> dict[str, Any]:
    """The training state in ``path`` (checked; its ``ckpt`` a file name in the same folder)."""
    from nasrank.runs.safe_torch import load_tensors

    p = Path(path)
    return _checked(load_tensors(p, "training state", _REMEDY), p)


def write_state(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (its ``ckpt`` reduced to the file name)."""
    import torch

    from nasrank.runs.atomic import atomic_write

    with atomic_write(path, "wb", what="training state") as fh:
        torch.save({**state, "ckpt": Path(state["ckpt"]).name}, fh)


def check_checkpoint(path: str | Path) -> None:
    """Raise unless ``path`` is a torch file of tensors and plain data (a Lightning checkpoint)."""
    from nasrank.runs.safe_torch import load_tensors

    raw = load_tensors(path, "training checkpoint", _REMEDY)
    if not isinstance(raw, dict) or "state_dict" not in raw:
        raise NasrankError(f"training checkpoint {path} is not a Lightning checkpoint (no state_dict); {_REMEDY}")


def check_state_folder(folder: str | Path) -> None:
    """Check every kept state and checkpoint in ``folder`` (before a search does any work)."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue  # a writer's temporary (never read)
        if entry.name.endswith(STATE_SUFFIX):
            read_state(entry.path)
        elif entry.name.endswith(CKPT_SUFFIX):
            check_checkpoint(entry.path)
