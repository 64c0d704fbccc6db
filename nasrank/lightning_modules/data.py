"""``ImageDataModule``: a LightningDataModule over the official image datasets.

Train/held-out split: a fixed fraction of the training set (``val_fraction``,
chosen by ``split_seed``) is held out for validation and ranker scoring; the
official test set is the test split. Augmentation (random crop with 4-pixel
padding and horizontal flip) runs per batch on the device, after transfer.

Each split is moved to the training device once (per device) and served as
:class:`~nasrank.lightning_modules.batches.IndexBatches`: one gather per
batch, no per-sample collation and no host-to-device copy per step. The
shuffle draws what ``DataLoader(shuffle=True)`` drew, so seeded runs keep
their batches.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from nasrank.errors import NasrankError
from nasrank.lightning_modules.batches import IndexBatches
from nasrank.lightning_modules.datasets import dataset_info, read_arrays

_CACHE: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}


def load_arrays(name: str, data_dir: str | Path | None) -> tuple[np.ndarray, ...]:
    """``read_arrays`` with an in-process cache (rankers score many architectures)."""
    key = (name, str(Path(data_dir).resolve()) if data_dir else "")
    if key not in _CACHE:
        _CACHE[key] = read_arrays(name, data_dir)
    return _CACHE[key]


def random_crop_flip(x: torch.Tensor, pad: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crop after zero padding, and random horizontal flip, per image, as one gather over the batch.

    Offsets are uniform over ``0..2*pad`` in each direction and each image is flipped with
    probability 1/2, drawn on ``x``'s device (``generator``, if given, must live there). On the
    CPU the draws are the same as the former per-image loop's, so the output is too.
    """
    n, c, h, w = x.shape
    dev = x.device
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=dev)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=dev)
    flip = torch.rand(n, generator=generator, device=dev) < 0.5
    cols = torch.arange(w, device=dev).expand(n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols) + dx[:, None]  # (n, w) columns of the padded image
    rows = torch.arange(h, device=dev) + dy[:, None]  # (n, h)
    index = (rows[:, :, None] * (w + 2 * pad) + cols[:, None, :]).view(n, 1, h * w).expand(n, c, h * w)
    padded = F.pad(x, (pad, pad, pad, pad)).flatten(2)
    return padded.gather(2, index).view(n, c, h, w)


class ImageDataModule(L.LightningDataModule):
    """CIFAR-10 / CIFAR-100 / ImageNet16-120 with scale knobs for cheap runs.

    ``train_fraction`` keeps a fixed subset of the (non-held-out) training
    images; ``image_size`` resizes (bilinear) for cheaper networks.
    """

    def __init__(self, dataset: str = "cifar10", data_dir: str | Path | None = None, batch_size: int = 256,
                 val_fraction: float = 0.1, train_fraction: float = 1.0, image_size: int | None = None,
                 augment: bool = True, split_seed: int = 0) -> None:
        super().__init__()
        self.info = dataset_info(dataset)
        if not 0.0 <= val_fraction < 1.0:
            raise NasrankError(f"val_fraction must be in [0, 1), got {val_fraction}")
        if not 0.0 < train_fraction <= 1.0:
            raise NasrankError(f"train_fraction must be in (0, 1], got {train_fraction}")
        self.dataset = dataset
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.eval_batch_size = max(batch_size, 512)  #: the held-out and test batches (an attribute: set it)
        self.val_fraction = val_fraction
        self.train_fraction = train_fraction
        self.image_size = image_size
        self.augment = augment
        self.split_seed = split_seed
        self._splits: dict[str, TensorDataset] | None = None
        self._on_device: dict[tuple[str, str], tuple[torch.Tensor, ...]] = {}

    @property
    def num_classes(self) -> int:
        return self.info.num_classes

    def _normalise(self, x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x).float().div_(255.0)
        mean = torch.tensor(self.info.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.info.std).view(1, 3, 1, 1)
        t = (t - mean) / std
        if self.image_size and self.image_size != t.shape[-1]:
            t = F.interpolate(t, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return t

    def setup(self, stage: str | None = None) -> None:
        if self._splits is not None:
            return
        xtr, ytr, xte, yte = load_arrays(self.dataset, self.data_dir)
        rng = np.random.default_rng(self.split_seed)
        perm = rng.permutation(len(xtr))
        n_val = int(round(self.val_fraction * len(xtr)))
        val_idx, train_idx = np.sort(perm[:n_val]), perm[n_val:]
        n_train = max(1, int(round(self.train_fraction * len(train_idx))))
        train_idx = np.sort(train_idx[:n_train])
        self._splits = {
            "train": TensorDataset(self._normalise(xtr[train_idx]), torch.from_numpy(ytr[train_idx])),
            "val": TensorDataset(self._normalise(xtr[val_idx]), torch.from_numpy(ytr[val_idx])),
            "test": TensorDataset(self._normalise(xte), torch.from_numpy(yte)),
        }

    def split(self, name: str) -> TensorDataset:
        self.setup()
        assert self._splits is not None
        if len(self._splits[name]) == 0:
            raise NasrankError(f"the {name!r} split of {self.dataset} is empty (val_fraction={self.val_fraction})")
        return self._splits[name]

    def _device(self) -> torch.device:
        """The attached Trainer's device (CPU when used without a Trainer)."""
        trainer = getattr(self, "trainer", None)
        return trainer.strategy.root_device if trainer is not None else torch.device("cpu")

    def tensors_on(self, name: str, device: torch.device) -> tuple[torch.Tensor, ...]:
        """The split's ``(x, y)`` on ``device``, moved there once and kept."""
        key = (name, str(device))
        if key not in self._on_device:
            self._on_device[key] = tuple(t.to(device) for t in self.split(name).tensors)
        return self._on_device[key]

    def _loader(self, name: str, shuffle: bool, batch_size: int) -> IndexBatches:
        return IndexBatches(self.tensors_on(name, self._device()), batch_size, shuffle=shuffle)

    def train_dataloader(self) -> IndexBatches:
        return self._loader("train", True, self.batch_size)

    def val_dataloader(self) -> IndexBatches:
        return self._loader("val", False, self.eval_batch_size)

    def test_dataloader(self) -> IndexBatches:
        return self._loader("test", False, self.eval_batch_size)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        trainer = getattr(self, "trainer", None)
        if self.augment and trainer is not None and trainer.training:
            x, y = batch
            return random_crop_flip(x), y
        return batch

    def fixed_batches(self, batch_size: int = 128, n_batches: int = 1, seed: int = 0,
                      split: str = "train") -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``n_batches`` batches of real images drawn with ``seed`` (for zero-shot rankers)."""
        ds = self.split(split)
        n = len(ds)
        g = np.random.default_rng(seed)
        idx = g.permutation(n)
        need = batch_size * n_batches
        if need > n:
            idx = np.concatenate([idx, g.integers(0, n, need - n)])
        x, y = ds.tensors
        return [(x[idx[i * batch_size:(i + 1) * batch_size]], y[idx[i * batch_size:(i + 1) * batch_size]])
                for i in range(n_batches)]
