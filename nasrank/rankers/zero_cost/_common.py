"""Helpers the measures share: the weight layers, BN removal, re-initialisation, sums."""
from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch
from torch import nn

_WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
INITS = ("gaussian", "kaiming_fan_in")


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The Conv and Linear layers whose weights the per-weight scores sum over."""
    return [m for m in model.modules() if isinstance(m, _WEIGHT_LAYERS) and m.weight is not None]


def sum_float(ts: Sequence[torch.Tensor]) -> float:
    """Σ float(t), 0.0 for none (each term converted first: the order of the original sums)."""
    return float(sum(float(t) for t in ts)) if ts else 0.0


@contextlib.contextmanager
def bn_removed(model: nn.Module) -> Iterator[None]:
    """Temporarily replace every BatchNorm module by ``nn.Identity`` (restored afterwards)."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    try:
        for parent in list(model.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.modules.batchnorm._BatchNorm):
                    swapped.append((parent, name, child))
                    setattr(parent, name, nn.Identity())
        yield
    finally:
        for parent, name, child in reversed(swapped):
            setattr(parent, name, child)


@torch.no_grad()
def reinitialise(model: nn.Module, init: str) -> None:
    """Re-initialise ``model`` in place as the authors' code does before scoring.

    ``gaussian`` (Zen-NAS, SWAP): Conv/Linear weights N(0, 1), biases 0; ``kaiming_fan_in``
    (AZ-NAS): Kaiming-normal, fan-in, ReLU gain, biases 0. Both set affine BN to weight 1, bias 0.
    """
    for m in model.modules():
        if isinstance(m, _WEIGHT_LAYERS):
            if init == "gaussian":
                nn.init.normal_(m.weight)
            elif init == "kaiming_fan_in":
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            else:
                raise ValueError(f"unknown initialisation {init!r}; expected one of {INITS}")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def block_features(model: nn.Module, blocks: Sequence[nn.Module] | None, x: torch.Tensor) -> list[torch.Tensor]:
    """One forward of ``x``: the input of the first block (unless it is ``x`` itself) and the output
    of every block, with their graph (the blocks: the space's cells,
    ``SearchSpace.fear_cells(model).cells``; without them the model's top-level children)."""
    mods = list(blocks) if blocks else list(model.children())
    feats: list[torch.Tensor] = []

    def first_in(module: nn.Module, inp: tuple) -> None:
        if not feats and isinstance(inp[0], torch.Tensor) and inp[0] is not x:
            feats.append(inp[0])

    def out_hook(module: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        if isinstance(out, torch.Tensor):
            feats.append(out)

    handles = [mods[0].register_forward_pre_hook(first_in)] if mods else []
    handles += [m.register_forward_hook(out_hook) for m in mods]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return [f for f in feats if f.dim() == 4]
