"""``IndexBatches``: mini-batches gathered by index from tensors that already sit on the training device.

It replaces a ``DataLoader`` over a ``TensorDataset`` where the whole split fits on the device: one
gather per batch (no per-sample indexing and collation, no host-to-device copy per step). The
shuffle consumes the global torch generator exactly as ``DataLoader(shuffle=True)`` does (one
draw for the loader's base seed, one for the sampler's), and the permutation is drawn on the CPU
from that seed, so a seeded run sees the same batches as it did through a ``DataLoader``.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch


def _draw_seed() -> int:
    """One int64 from the global CPU generator (what ``DataLoader`` and ``RandomSampler`` draw)."""
    return int(torch.empty((), dtype=torch.int64).random_().item())


class IndexBatches:
    """Batches ``tuple(t[idx] for t in tensors)`` over the first dimension, optionally shuffled per pass.

    ``len()`` is the number of batches (the last one may be short). Each pass draws a new order,
    at its first batch.
    """

    def __init__(self, tensors: Sequence[torch.Tensor], batch_size: int, shuffle: bool = False) -> None:
        if not tensors:
            raise ValueError("IndexBatches needs at least one tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError("IndexBatches: tensors differ in their first dimension")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.tensors = tuple(tensors)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.n = n

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        # a generator: nothing is drawn until the first batch is asked for (Lightning calls iter()
        # once just to check that the loader is iterable)
        _draw_seed()  # the DataLoader iterator's base seed (drawn even when not shuffling)
        if not self.shuffle:
            for start in range(0, self.n, self.batch_size):
                yield tuple(t[start:start + self.batch_size] for t in self.tensors)
            return
        g = torch.Generator().manual_seed(_draw_seed())  # the RandomSampler's seed
        order = torch.randperm(self.n, generator=g).to(self.tensors[0].device)  # one copy per pass
        for start in range(0, self.n, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield tuple(t.index_select(0, idx) for t in self.tensors)
