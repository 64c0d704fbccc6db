"""``CachedTailModule``: trains a network's tail on its frozen prefix's outputs, cached on the training device.

FEAR's stage 2 freezes everything but the tail and runs the frozen prefix in eval mode on
un-augmented images, so the prefix's output for each image is fixed. This module computes it once,
on the device the Trainer put the module on (in batches, under ``torch.no_grad``), keeps it there,
and serves the tail's training batches by index from it (:class:`IndexBatches`): no ``DataLoader``,
no host round trip, and no second Trainer for the prediction pass.
"""
from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from nasrank.lightning_modules.batches import IndexBatches
from nasrank.lightning_modules.classification import ClassificationModule


class CachedTailModule(ClassificationModule):
    """``ClassificationModule`` over ``tail(*prefix(x))`` whose inputs are ``prefix(x)``, computed once per split.

    ``images`` maps a split name (``"train"``, ``"val"``) to its ``(x, y)`` tensors (any device);
    ``batch_size`` is the training batch, ``eval_batch_size`` the validation batch and
    ``feature_batch_size`` the batch of the caching pass. ``cache_seconds`` is the time spent
    caching. The remaining keyword arguments go to :class:`ClassificationModule` (``trainable``
    names the tail's modules).
    """

    def __init__(self, prefix: nn.Module, tail: nn.Module, images: dict[str, tuple[torch.Tensor, torch.Tensor]],
                 batch_size: int, eval_batch_size: int | None = None, feature_batch_size: int | None = None,
                 **kw: Any) -> None:
        super().__init__(tail, **kw)
        self.prefix = prefix
        self.images = images
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or max(batch_size, 512)
        self.feature_batch_size = feature_batch_size or max(batch_size, 256)
        self.cache_seconds = 0.0
        self._cache: dict[str, tuple[torch.Tensor, ...]] = {}

    def cached(self, split: str) -> tuple[torch.Tensor, ...]:
        """``(*prefix(x), y)`` of ``split`` on this module's device (computed on first use)."""
        if split not in self._cache:
            t0 = time.perf_counter()
            x, y = self.images[split]
            self.prefix.eval()
            parts: list[tuple[torch.Tensor, ...]] = []
            with torch.no_grad():
                for start in range(0, len(x), self.feature_batch_size):
                    out = self.prefix(x[start:start + self.feature_batch_size].to(self.device))
                    parts.append(tuple(out))
            feats = tuple(torch.cat([p[i] for p in parts]) for i in range(len(parts[0])))
            self._cache[split] = (*feats, y.to(self.device))
            self.cache_seconds += time.perf_counter() - t0
        return self._cache[split]

    def train_dataloader(self) -> IndexBatches:
        return IndexBatches(self.cached("train"), self.batch_size, shuffle=True)

    def val_dataloader(self) -> IndexBatches:
        return IndexBatches(self.cached("val"), self.eval_batch_size)
