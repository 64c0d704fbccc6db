"""Presets: one name for a network scale and the FEAR thresholds that go with it (``--preset``).

A threshold that suits the benchmark's networks is out of reach of a tiny one: at 4 channels and
8 px FEAR needed 18-30 epochs to reach 0.3 and cost 7x a 3-epoch training (issue 33). A preset
sets both together; a flag given explicitly (``--channels``, ``--ranker-cfg fear.threshold=...``)
overrides it.

========  =====================================  ===========================================
preset    network (channels, cells/stage, px)   FEAR threshold (training top-1 of stage 1)
========  =====================================  ===========================================
tiny      4, 1, 8 px                             0.2 (not calibrated: a smoke test)
cpu       8, 1, 16 px                            0.3 (calibrated: fear_vs_training_seeds.json)
full      16, 5, the dataset's own (32 px CIFAR)  per dataset (cifar10 0.6, cifar100 0.3, ...)
========  =====================================  ===========================================
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

from nasrank.errors import NasrankError


@dataclass(frozen=True)
class Preset:
    """A network scale (``Scale`` fields; None: the ranker's or dataset's own) and FEAR's options."""

    name: str
    scale: dict[str, Any]
    fear: dict[str, Any]
    note: str


PRESETS: dict[str, Preset] = {
    "tiny": Preset("tiny", {"channels": 4, "cells_per_stage": 1, "image_size": 8}, {"threshold": 0.2},
                   "a smoke test: seconds per network on a CPU; FEAR's threshold 0.2 is not calibrated here"),
    "cpu": Preset("cpu", {"channels": 8, "cells_per_stage": 1, "image_size": 16}, {"threshold": 0.3},
                  "the CPU scale FEAR was calibrated at (benchmarks/results/fear_vs_training_seeds.json)"),
    "full": Preset("full", {"channels": 16, "cells_per_stage": 5, "image_size": None}, {"threshold": None},
                   "the benchmark's networks at the dataset's resolution; FEAR's per-dataset thresholds"),
}

#: the rankers a preset's ``fear`` options go to
THRESHOLD_RANKERS = ("fear",)


def preset(name: str | None) -> Preset | None:
    """The preset called ``name`` (None: none); an unknown name is one clear error."""
    if name is None:
        return None
    if name not in PRESETS:
        raise NasrankError(f"unknown --preset {name!r}; expected one of {', '.join(PRESETS)}")
    return PRESETS[name]


def preset_scale(name: str | None, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (the scale flags typed) completed with the preset's values it leaves out."""
    p = preset(name)
    if p is None:
        return dict(given)
    return {**{k: v for k, v in p.scale.items() if v is not None}, **given}


def with_preset(specs: Sequence, common: dict[str, Any], name: str | None) -> list:
    """The ranker specs with the preset's FEAR options added wherever FEAR runs (a cascade's stage
    too), unless that ranker's options or the ``common`` ones already set them."""
    p = preset(name)
    if p is None:
        return list(specs)
    extra = {k: v for k, v in p.fear.items() if v is not None and k not in common}
    if not extra:
        return list(specs)
    out = []
    for spec in specs:
        options = dict(spec.options)
        if spec.stages is None and spec.name in THRESHOLD_RANKERS:
            options = {**extra, **options}
        elif spec.stages is not None:
            for stage, key in zip(spec.stages, ("first_cfg", "second_cfg")):
                if stage in THRESHOLD_RANKERS:
                    options[key] = {**extra, **dict(options.get(key) or {})}
        out.append(dataclasses.replace(spec, options=options))
    return out
