"""Baseline rankers that every report includes: #params and #FLOPs."""
from __future__ import annotations

from typing import Any

from nasrank.spaces.build_options import check_build_kwargs
from nasrank.registry import RANKERS
from nasrank.rankers.base import RunContext, TimedRanker
from nasrank.spaces.base import Arch, SearchSpace
from nasrank.utils.complexity import count_flops, count_params


@RANKERS.register("params")
class ParamsRanker(TimedRanker):
    """Score = number of parameters of the built network (more is ranked higher)."""

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **build_kwargs: Any) -> None:
        super().__init__(space, context)
        check_build_kwargs(space, build_kwargs, f"ranker {self.registry_name!r}")
        self.build_kwargs = build_kwargs

    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        import torch

        with torch.device("meta"):
            model = self.space.build(arch, **self.build_kwargs)
        n = count_params(model)
        return float(n), {"params": n}


@RANKERS.register("flops")
class FlopsRanker(TimedRanker):
    """Score = forward FLOPs of one input (``torch.utils.flop_counter``)."""

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **build_kwargs: Any) -> None:
        super().__init__(space, context)
        check_build_kwargs(space, build_kwargs, f"ranker {self.registry_name!r}")
        self.build_kwargs = build_kwargs

    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        import torch

        with torch.device("meta"):
            model = self.space.build(arch, **self.build_kwargs)
        flops = count_flops(model, self.space.input_shape(1))
        return float(flops), {"flops": flops}
