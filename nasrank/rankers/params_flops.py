"""Baseline rankers that every report includes: #params and #FLOPs."""
from __future__ import annotations

from typing import Any

from nasrank.spaces.build_options import check_build_kwargs
from nasrank.registry import RANKERS
from nasrank.rankers.base import RunContext, TimedRanker
from nasrank.spaces.base import Arch, SearchSpace


class _BuiltNetworkRanker(TimedRanker):
    """A ranker that measures the network built on the meta device (no weights, no data)."""

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **build_kwargs: Any) -> None:
        super().__init__(space, context)
        check_build_kwargs(space, build_kwargs, f"ranker {self.registry_name!r}")
        self.build_kwargs = build_kwargs

    def config(self) -> dict[str, Any]:
        """The build options are the whole config: they change the network, hence the score."""
        return {**super().config(), **dict(sorted(self.build_kwargs.items()))}

    def _build_on_meta(self, arch: Arch):
        import torch

        from nasrank.runtime.interrupts import deferred

        with deferred(), torch.device("meta"):  # a Ctrl-C here would leave torch's mode stack short
            return self.space.build(arch, **self.build_kwargs)


@RANKERS.register("params")
class ParamsRanker(_BuiltNetworkRanker):
    """Score = number of parameters of the built network (more is ranked higher)."""

    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        from nasrank.utils.complexity import count_params  # torch: only when a network is counted

        n = count_params(self._build_on_meta(arch))
        return float(n), {"params": n}


@RANKERS.register("flops")
class FlopsRanker(_BuiltNetworkRanker):
    """Score = forward FLOPs of one input (``torch.utils.flop_counter``)."""

    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        from nasrank.runtime.interrupts import deferred
        from nasrank.utils.complexity import count_flops  # torch: only when a network is counted

        with deferred():  # FlopCounterMode is a torch dispatch mode: the same hazard as the meta build
            flops = count_flops(self._build_on_meta(arch), self.space.input_shape(1))
        return float(flops), {"flops": flops}
