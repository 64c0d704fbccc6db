"""MeCo's per-module feature correlation (shared by ``meco`` and ``meco_opt``)."""
from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable

import torch
from torch import nn

from nasrank.rankers.zero_cost._engine import PassState, Result


def min_corr_eigenvalue(fea: torch.Tensor) -> float | None:
    """λ_min of the channel correlation of one sample's feature map ``fea`` (C × ...): NaN/inf
    entries set to 0 as the authors do; None when the whole matrix was undefined (constant channels)."""
    f = fea.reshape(fea.shape[0], -1)
    with warnings.catch_warnings():  # one value per channel: "degrees of freedom <= 0", an undefined matrix
        warnings.simplefilter("ignore", UserWarning)
        corr = torch.corrcoef(f)
    bad = ~torch.isfinite(corr)
    if bool(bad.all()):
        return None
    corr[bad] = 0
    return _smallest_eigenvalue(corr)


def _smallest_eigenvalue(corr: torch.Tensor) -> float:
    """λ_min of a symmetric matrix; when the float32 solver does not converge (ill-conditioned
    correlations of trained networks), in float64; NaN when that fails too."""
    for dtype in (corr.dtype, torch.float64):
        try:
            return float(torch.linalg.eigvalsh(corr.to(dtype)).min())
        except torch.linalg.LinAlgError:
            continue
    return math.nan


def meco_hooks(model: nn.Module, state: PassState, name: str,
               pick: Callable[[torch.Tensor], tuple[torch.Tensor, float] | None]) -> list[Any]:
    """A forward hook on every module (the network itself included, as in the authors' code):
    ``pick(first sample's feature map) -> (rows, factor)`` chooses the channels; each module's
    factor·λ_min goes to ``state.scratch[name]`` (None for an undefined correlation)."""
    terms: list[float | None] = []
    state.scratch[name] = terms
    state.hook_seconds.setdefault(name, 0.0)

    def fwd(module: nn.Module, inp: Any, out: Any) -> None:
        if not isinstance(out, torch.Tensor) or out.dim() < 2:
            return
        t0 = time.perf_counter()
        chosen = pick(out[0].detach())
        if chosen is not None:
            rows, factor = chosen
            v = min_corr_eigenvalue(rows)
            terms.append(None if v is None else v * factor)
        state.hook_seconds[name] += time.perf_counter() - t0

    return [m.register_forward_hook(fwd) for m in model.modules()]


def meco_result(state: PassState, name: str) -> Result:
    terms = state.scratch.get(name) or []
    vals = [t for t in terms if t is not None]
    if not vals:
        return float("nan"), "every module's features are constant (their correlation is undefined)"
    if any(math.isnan(v) for v in vals):
        return float("nan"), "the eigenvalue solver did not converge on a module's feature correlation (float32 nor float64)"
    return float(sum(vals)), None
