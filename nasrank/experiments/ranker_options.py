"""``--ranker-cfg KEY=VALUE`` pairs onto the ``--rankers`` items: each ranker's own options, and the
common ones (re-exported by :mod:`nasrank.experiments.config`)."""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from nasrank.errors import NasrankError


def assign_options(pairs: dict[str, Any], items: Sequence[str], common: bool) -> tuple[list[Any], dict[str, Any]]:
    """``--ranker-cfg`` pairs (``NAME.KEY`` or ``KEY``) onto the ``--rankers`` items.

    ``NAME`` is a label, a ranker name (every item running it, cascade stages too) or ``cascade``;
    a label's options override its ranker's. A key without ``NAME.`` is returned as the common
    options when ``common``, else given to the one ranker (an error with several).
    """
    from nasrank.experiments.config import RankerSpec

    specs = [RankerSpec.parse(it) for it in items]
    per: dict[str, dict[str, Any]] = {}
    shared: dict[str, Any] = {}
    for k, v in pairs.items():
        name, dot, key = k.rpartition(".")
        if dot and not key:
            raise NasrankError(f"malformed --ranker-cfg key {k!r}; expected NAME.KEY=VALUE")
        if dot:
            per.setdefault(name, {})[key] = v
        elif common:
            shared[key] = v
        elif len(specs) == 1:
            per.setdefault(specs[0].label, {})[key] = v
        else:
            raise NasrankError(f"--ranker-cfg {k}={v!r}: write NAME.{k}=VALUE to say which ranker "
                               f"({', '.join(s.label for s in specs)}) it is for")
    known = {s.label for s in specs} | {s.name for s in specs} | {n for s in specs for n in s.leaves()}
    unknown = sorted(set(per) - known)
    if unknown:
        raise NasrankError(f"--ranker-cfg: ranker {', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'}"
                           f" not in --rankers ({', '.join(s.label for s in specs)})")
    return [_with_options(s, per) for s in specs], shared


def _with_options(spec: Any, per: dict[str, dict[str, Any]]) -> Any:
    own = {**per.get(spec.name, {}), **(per.get(spec.label, {}) if spec.label != spec.name else {})}
    if spec.stages:
        first, second = spec.stages
        own = {**per.get("cascade", {}), **own}
        for stage, key in ((first, "first_cfg"), (second, "second_cfg")):
            if per.get(stage):
                own[key] = {**per[stage], **own.get(key, {})}
    return dataclasses.replace(spec, options=own)
