"""The inference side of the one-shot supernet: held-out scores of sub-networks under a protocol.

A scoring protocol has three knobs (the ``oneshot`` ranker's options):

* **held-out images**: the first ``n`` images of the held-out split, in
  batches of ``batch_size``;
* **BN statistics**: batch statistics (train mode: each held-out batch is
  normalised by its own mean and variance) or *recalibrated* (per
  architecture, the BN running statistics are reset, re-estimated as a
  cumulative average over fixed training batches, then the held-out images
  are scored in eval mode). Recalibration changes BN buffers only, never a
  weight;
* **metric**: ``acc`` (fraction correct) or ``neg_loss`` (negative mean
  cross-entropy); both come from one pass.

:func:`score_batches` keeps the per-batch counts, so a benchmark can also
measure how well two halves of the held-out set agree (the scoring noise).
Plain ``torch.no_grad`` forward passes; no Trainer.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasrank.errors import NasrankError
from nasrank.lightning_modules.supernet import SupernetModule
from nasrank.spaces.base import Arch

METRICS = ("acc", "neg_loss")


def reset_bn_stats(model: nn.Module) -> None:
    """Forget BN running statistics and use a cumulative average for the next passes."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            m.reset_running_stats()
            m.momentum = None


@torch.no_grad()
def score_batches(module: SupernetModule, archs: Sequence[Arch], images: torch.Tensor, labels: torch.Tensor,
                  *, batch_size: int = 512, recal_batches: Sequence[torch.Tensor] = (),
                  device: torch.device | str = "cpu") -> np.ndarray:
    """Per arch and held-out batch: ``[correct, summed cross-entropy, images]``, shape ``(archs, batches, 3)``.

    BN runs in train mode (batch statistics) unless ``recal_batches`` is
    given (see the module docstring). The module is left in train mode.
    """
    if batch_size < 1:
        raise NasrankError(f"batch_size must be a positive integer, got {batch_size!r}")
    device = torch.device(device)
    module.to(device)
    x_all, y_all = images.to(device), labels.to(device)
    recal = [b.to(device) for b in recal_batches]
    n = len(y_all)
    starts = range(0, n, batch_size)
    out = np.zeros((len(archs), len(starts), 3), dtype=np.float64)
    for i, arch in enumerate(archs):
        k, path = module.route(arch)
        net = module.supernets[k]
        net.train()
        if recal:
            reset_bn_stats(net)
            for xb in recal:
                net(xb, path)
            net.eval()
        for j, start in enumerate(starts):
            xb, yb = x_all[start:start + batch_size], y_all[start:start + batch_size]
            logits = net(xb, path)
            out[i, j] = (int((logits.argmax(1) == yb).sum()), float(F.cross_entropy(logits, yb, reduction="sum")),
                         len(yb))
        net.train()
    return out


def scores_from_batches(counts: np.ndarray, metrics: Sequence[str] = ("acc",)) -> dict[str, list[float]]:
    """``{metric: per-arch score}`` from :func:`score_batches` counts (summed over the batches given)."""
    for m in metrics:
        if m not in METRICS:
            raise NasrankError(f"unknown metric {m!r}; expected one of {', '.join(METRICS)}")
    tot = counts.sum(axis=1)
    n = tot[:, 2]
    by = {"acc": tot[:, 0] / n, "neg_loss": -tot[:, 1] / n}
    return {m: [float(v) for v in by[m]] for m in metrics}


def score_archs(module: SupernetModule, archs: Sequence[Arch], images: torch.Tensor, labels: torch.Tensor,
                *, batch_size: int = 512, metrics: Sequence[str] = ("acc",), recal_batches: Sequence[torch.Tensor] = (),
                device: torch.device | str = "cpu") -> dict[str, list[float]]:
    """Score each arch on ``images``, one pass for all ``metrics``. Returns ``{metric: scores}``."""
    for m in metrics:
        if m not in METRICS:
            raise NasrankError(f"unknown metric {m!r}; expected one of {', '.join(METRICS)}")
    counts = score_batches(module, archs, images, labels, batch_size=batch_size, recal_batches=recal_batches,
                           device=device)
    return scores_from_batches(counts, metrics)
