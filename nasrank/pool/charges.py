"""What a pool record scores and charges under a scoring protocol, with FEAR's rejection replayed, and
per rung (read by the ``recorded`` ranker and by the search-savings statistics)."""
from __future__ import annotations

import math
from typing import Any

from nasrank.errors import NasrankError

REJECTED_SCORE = -2.0
FEAR_PROTOCOLS = ("train", "val", "val_loss")


def fear_stage2_score(info: dict[str, Any], protocol: str) -> float:
    """FEAR's stage-2 score under ``protocol`` (as ``rankers.fear.stage2_score``): best training top-1,
    held-out top-1, or exp(-held-out loss)."""
    if protocol == "val":
        return float(info["stage2_val_acc"])
    if protocol == "val_loss":
        return math.exp(-float(info["stage2_val_loss"]))
    return float(info["stage2_train_acc"])


def scoring_pass(protocol: str) -> str | None:
    """The pass a ``train`` protocol reads, from its name (``rankers.training_scores.PROTOCOLS``:
    ``<pass>_acc`` / ``<pass>_neg_loss``; ``train_acc_last`` reads none)."""
    if protocol == "train_acc_last":
        return None
    for suffix in ("_neg_loss", "_acc"):
        if protocol.endswith(suffix):
            return protocol[: -len(suffix)]
    raise NasrankError(f"recorded: unknown scoring protocol {protocol!r}")


def protocol_score(entry: Any, protocol: str | None, kind: str) -> tuple[float, float]:
    """``(score, charge)`` of ``entry`` under ``protocol`` (``kind``: the recorded ranker's name)."""
    if protocol is None:
        return entry.score, entry.seconds
    info = entry.info
    if kind == "fear":
        if protocol not in FEAR_PROTOCOLS:
            raise NasrankError(f"recorded: a fear record's protocol is one of {', '.join(FEAR_PROTOCOLS)}")
        if entry.status != "ok":
            return entry.score, entry.seconds
        return fear_stage2_score(info, protocol), entry.seconds
    protocols = info.get("protocols")
    if not isinstance(protocols, dict) or protocol not in protocols:
        raise NasrankError(f"recorded: this record has no protocol {protocol!r} (recorded: "
                           f"{', '.join(sorted(protocols or {})) or 'none'}); score the pool with record_protocols=true")
    needed = scoring_pass(protocol)
    spare = sum(s for p, s in (info.get("protocol_seconds") or {}).items() if p != needed)
    wall = entry.wall_seconds or entry.seconds
    return float(protocols[protocol]), max(0.0, entry.seconds - spare * entry.seconds / wall)


def stage1_used(entry: Any, reject_by: str) -> float:
    """A FEAR record's stage-1 length in ``reject_by`` units (steps, or CPU seconds)."""
    info = entry.info
    key = "stage1_steps" if reject_by == "steps" else "stage1_process_seconds"
    return float(info.get(key, info.get("stage1_seconds", 0.0)))


def rejected_charge(entry: Any, limit: float, reject_by: str, check_every: int | None) -> float:
    """What a FEAR candidate costs when rejected at ``limit``: its charge without stage 2, less the part of
    stage 1 after the first check point past the limit (pro-rated by stage-1 length)."""
    info = entry.info
    used = stage1_used(entry, reject_by)
    every = int(check_every or 1) if reject_by == "steps" else 0
    stop = (math.floor(limit / every) + 1) * every if every else limit
    share = min(1.0, stop / used) if used else 1.0
    s1 = float(info.get("stage1_process_seconds", info.get("stage1_seconds", 0.0)))
    s2 = float(info.get("stage2_process_seconds", info.get("stage2_seconds", 0.0)) or 0.0)
    return max(0.0, entry.seconds - s2 - s1 * (1.0 - share))


def rung_charge(rung: Any, protocol: str | None, kind: str) -> float:
    """One rung's own charge (its training since the previous rung and its scoring), under ``protocol``."""
    if protocol is None:
        return rung.added_seconds
    from types import SimpleNamespace

    wall = rung.wall_seconds or rung.seconds
    own = SimpleNamespace(score=rung.score, info=rung.info, status=rung.status, seconds=rung.added_seconds,
                          wall_seconds=rung.added_seconds * wall / rung.seconds if rung.seconds else None)
    return protocol_score(own, protocol, kind)[1]


def final_rung(entry: Any, protocol: str | None, kind: str) -> tuple[float, float]:
    """``(score, charge)`` of a rung run read as one training run of its last rung's length: the last
    rung's score, charged the training of every rung, the scoring passes of the last one only."""
    last = max(entry.rungs)
    score = protocol_score(entry.rungs[last], protocol, kind)[0]
    if protocol is None:
        return score, entry.seconds
    charge = 0.0
    for b, r in sorted(entry.rungs.items()):
        if b == last:
            charge += rung_charge(r, protocol, kind)
            continue
        ratio = r.seconds / r.wall_seconds if r.wall_seconds else 1.0
        charge += max(0.0, r.added_seconds - ratio * sum((r.info.get("protocol_seconds") or {}).values()))
    return score, charge
