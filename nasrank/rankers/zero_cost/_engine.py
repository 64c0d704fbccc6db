"""The shared-pass engine: a :class:`Measure` declares the passes it needs, the engine runs each
pass once per network and batch and hands the results (a :class:`PassState`) to every measure.

Passes (``Measure.passes``):

=============  ====================================================================
``forward``    one forward pass of the batch through the network (train-mode BN); a
               measure's :meth:`Measure.hooks` are installed before it (activations)
``loss_grad``  ∂L/∂W of the cross-entropy loss for the Conv/Linear weights (implies forward)
``hessian``    the loss gradient taken with ``create_graph`` (GraSP's H g; implies loss_grad)
``input_grad`` per-sample input gradients ∂(Σ output)/∂x from the same forward (implies forward)
=============  ====================================================================

A measure with no pass works on its own (a data-free pass, a re-initialised copy of the
network from :meth:`PassState.model_with_init`, several mini-batches): the engine only
times it. ``seconds`` attributes the wall time of each shared pass equally to the measures
that use it (they sum to the total). Every measure gives exactly the value it gives alone
(tests/test_zero_cost_engine.py checks bit-identity).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasrank.errors import NasrankError
from nasrank.rankers.zero_cost._common import reinitialise, weight_layers

PASSES = ("forward", "loss_grad", "hessian", "input_grad")
_IMPLIES = {"loss_grad": ("forward",), "hessian": ("loss_grad", "forward"), "input_grad": ("forward",)}
Result = tuple[float, "str | None"]


@dataclass
class PassState:
    """What the shared passes produced for one network and one batch, read by the measures."""

    model: nn.Module
    x: torch.Tensor | None
    y: torch.Tensor | None
    input_shape: tuple[int, ...]
    options: Mapping[str, Any]
    seed: int = 0
    blocks: Sequence[nn.Module] | None = None
    out: torch.Tensor | None = None
    xin: torch.Tensor | None = None
    weights: list[torch.Tensor] = field(default_factory=list)
    grads: list[torch.Tensor] = field(default_factory=list)        #: detached, zeros where unused
    raw_grads: tuple[Any, ...] = ()                                  #: as autograd returned them
    jac: torch.Tensor | None = None
    phase: str = ""                                                  #: "loss_grad" during that backward
    hook_seconds: dict[str, float] = field(default_factory=dict)
    scratch: dict[str, Any] = field(default_factory=dict)            #: what a measure's hooks collected
    pristine: nn.Module | None = None

    def opt(self, name: str, default: Any = None) -> Any:
        """A measure option (the ranker's declared option of that name)."""
        return self.options.get(name, default)

    def model_with_init(self, init: str) -> nn.Module:
        """A fresh copy of the network as it was before any pass, re-initialised by ``init``
        (``"gaussian"``, ``"kaiming_fan_in"``) under ``seed``; the caller's RNG is left alone."""
        base = self.pristine if self.pristine is not None else self.model
        net = copy.deepcopy(base)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            reinitialise(net, init)
        return net.train()

    def blocks_in(self, net: nn.Module) -> list[nn.Module] | None:
        """``blocks`` (modules of ``model``) found at the same place in ``net`` (a copy of it)."""
        if not self.blocks:
            return None
        names = {id(m): n for n, m in self.model.named_modules()}
        return [net.get_submodule(names[id(b)]) for b in self.blocks if id(b) in names]


class SharedPass:
    """A pass several measures share that the engine does not know (e.g. AZ-NAS's block features on
    a re-initialised copy): run once per network and batch, its result in ``state.scratch[name]``."""

    name: ClassVar[str] = ""
    needs_data: ClassVar[bool] = True

    def run(self, state: PassState) -> Any:
        raise NotImplementedError


class Measure:
    """One zero-cost measure: its name, the passes it needs and how it reads them."""

    name: ClassVar[str] = ""
    passes: ClassVar[tuple[str, ...]] = ()
    #: computed once per seed (not per batch): it does not read the image batch
    data_free: ClassVar[bool] = False
    #: needs a copy of the untouched network (it calls ``state.model_with_init``)
    needs_pristine: ClassVar[bool] = False
    #: shared passes of their own (:class:`SharedPass`), run once for all measures naming them
    shared: ClassVar[tuple[SharedPass, ...]] = ()
    #: extra options, a dataclass of ``nasrank.options.option`` fields (None: none)
    Options: ClassVar[type | None] = None

    def hooks(self, model: nn.Module, state: PassState) -> list[Any]:
        """Install forward hooks before the shared forward; return their handles."""
        return []

    def compute(self, state: PassState) -> Result:
        """``(value, reason)``: the reason explains a NaN/inf value (None when finite)."""
        raise NotImplementedError


def needed_passes(measures: Sequence[Measure]) -> set[str]:
    out: set[str] = set()
    for m in measures:
        for p in m.passes:
            out.add(p)
            out.update(_IMPLIES.get(p, ()))
    return out


class _Clock:
    def __init__(self, names: Sequence[str]) -> None:
        self.secs = {n: 0.0 for n in names}

    def charge(self, dt: float, users: Sequence[str]) -> None:
        users = [u for u in users if u in self.secs]
        for u in users:
            self.secs[u] += dt / len(users)


def _shared_passes(state: PassState, ms: Sequence[Measure], passes: set[str], clock: _Clock) -> None:
    model, x, y = state.model, state.x, state.y
    users = {p: [m.name for m in ms if p in m.passes or any(p in _IMPLIES.get(q, ()) for q in m.passes)]
             for p in PASSES}
    t0 = time.perf_counter()
    state.weights = [m.weight for m in weight_layers(model)]
    state.xin = x.detach().clone().requires_grad_(True) if "input_grad" in passes else x
    state.out = model(state.xin)
    hook_total = sum(state.hook_seconds.values())
    clock.charge(time.perf_counter() - t0 - hook_total, users["forward"])
    for name, dt in state.hook_seconds.items():
        clock.charge(dt, [name])
    if "loss_grad" in passes:
        t1 = time.perf_counter()
        loss = F.cross_entropy(state.out, y)
        state.phase = "loss_grad"
        state.raw_grads = torch.autograd.grad(loss, state.weights, allow_unused=True,
                                              create_graph="hessian" in passes, retain_graph=True)
        state.phase = ""
        state.grads = [torch.zeros_like(w) if g is None else g.detach()
                       for w, g in zip(state.weights, state.raw_grads)]
        clock.charge(time.perf_counter() - t1, users["loss_grad"])
    if "input_grad" in passes:
        t1 = time.perf_counter()
        (state.jac,) = torch.autograd.grad(state.out.sum(), state.xin, retain_graph=True)
        clock.charge(time.perf_counter() - t1, users["input_grad"])


def _extra_passes(state: PassState, ms: Sequence[Measure], clock: _Clock) -> None:
    seen: dict[str, SharedPass] = {}
    for m in ms:
        for p in m.shared:
            seen.setdefault(p.name, p)
    for name, p in seen.items():
        t0 = time.perf_counter()
        state.scratch[name] = p.run(state)
        clock.charge(time.perf_counter() - t0, [m.name for m in ms if any(q.name == name for q in m.shared)])


def compute_measures(model: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None,
                     measures: Sequence[str], input_shape: Sequence[int] | None = None,
                     fisher_mode: str = "weight", options: Mapping[str, Any] | None = None,
                     context: Mapping[str, Any] | None = None,
                     ) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Compute ``measures`` for one network and one batch with shared passes.

    Returns ``(values, seconds, reasons)``; ``reasons`` explains NaN/inf values. ``options``:
    the measures' options (``fisher_mode`` is one); ``context``: ``seed`` (re-initialisations)
    and ``blocks`` (the network's cells, for block-wise measures). ``model`` is put in train
    mode and its weights are left unchanged (BN running statistics do move).
    """
    from nasrank.rankers.zero_cost._registry import MEASURES, get_measure

    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise NasrankError(f"unknown zero-shot measure(s) {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
    ms = [get_measure(m) for m in MEASURES if m in measures]
    ctx = dict(context or {})
    shape = tuple(input_shape) if input_shape is not None else (1, *x.shape[1:])  # type: ignore[union-attr]
    state = PassState(model, x, y, shape, {"fisher_mode": fisher_mode, **(options or {})},
                      seed=int(ctx.get("seed", 0)), blocks=ctx.get("blocks"))
    clock = _Clock([m.name for m in ms])
    passes = needed_passes(ms)
    model.train()
    if any(m.needs_pristine for m in ms):
        t0 = time.perf_counter()
        state.pristine = copy.deepcopy(model)
        clock.charge(time.perf_counter() - t0, [m.name for m in ms if m.needs_pristine])
    handles: list[Any] = []
    vals: dict[str, float] = {}
    reasons: dict[str, str] = {}
    try:
        if x is None or y is None:
            need = [m.name for m in ms if m.passes or any(p.needs_data for p in m.shared)]
            if need:
                raise NasrankError(f"zero-shot measure(s) {', '.join(need)} need a batch of images")
        if passes:
            for m in ms:
                if "forward" in needed_passes([m]):
                    handles += m.hooks(model, state)
            _shared_passes(state, ms, passes, clock)
        for h in handles:  # the measures' own forwards (zico, ...) must not reach the hooks
            h.remove()
        handles.clear()
        _extra_passes(state, ms, clock)
        for m in ms:
            t1 = time.perf_counter()
            v, why = m.compute(state)
            vals[m.name] = float(v)
            if why:
                reasons[m.name] = why
            clock.charge(time.perf_counter() - t1, [m.name])
    finally:
        for h in handles:
            h.remove()
    for m, v in vals.items():
        if not math.isfinite(v) and m not in reasons:
            reasons[m] = "non-finite value (numerical overflow or a degenerate network)"
    return vals, clock.secs, reasons
