import pickle

import numpy as np
import pytest
import torch

from nasrank.errors import MissingFileError, NasrankError
from nasrank.lightning_modules import ImageDataModule, read_arrays
from nasrank.lightning_modules.data import random_crop_flip


def test_cifar10_subset_shapes(cifar10_dir):
    xtr, ytr, xte, yte = read_arrays("cifar10", cifar10_dir)
    assert xtr.shape == (5 * 1017, 3, 32, 32) and xtr.dtype == np.uint8
    assert xte.shape == (1017, 3, 32, 32)
    assert set(np.unique(ytr)) == set(range(10))
    counts = np.bincount(ytr)
    assert counts.min() >= 475 and counts.max() <= 537


def test_split_is_fixed_and_disjoint(cifar10_dir):
    a = ImageDataModule("cifar10", cifar10_dir, val_fraction=0.1, split_seed=0)
    b = ImageDataModule("cifar10", cifar10_dir / "cifar-10-batches-py", val_fraction=0.1, split_seed=0)
    assert len(a.split("val")) == len(b.split("val")) == 508
    assert torch.equal(a.split("val").tensors[0], b.split("val").tensors[0])
    x = a.split("train").tensors[0]
    assert abs(float(x.mean())) < 0.1 and 0.9 < float(x.std()) < 1.1  # normalised
    small = ImageDataModule("cifar10", cifar10_dir, train_fraction=0.25, image_size=16)
    assert len(small.split("train")) == round(0.25 * 4577)
    assert small.split("train").tensors[0].shape[-1] == 16


def _write_batch(path, keys_as_bytes: bool, n=8, label_key="labels", size=32):
    rng = np.random.default_rng(0)
    d = {"data": rng.integers(0, 255, (n, 3 * size * size), dtype=np.uint8), label_key: list(range(1, n + 1))}
    if keys_as_bytes:
        d = {k.encode(): v for k, v in d.items()}
    with open(path, "wb") as fh:
        pickle.dump(d, fh, protocol=2)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_official_key_types(tmp_path, as_bytes):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        _write_batch(folder / f"data_batch_{i}", as_bytes)
    _write_batch(folder / "test_batch", as_bytes)
    xtr, ytr, xte, _ = read_arrays("cifar10", tmp_path)
    assert xtr.shape == (40, 3, 32, 32) and xte.shape == (8, 3, 32, 32)


def test_imagenet16_filters_to_120_classes(tmp_path):
    folder = tmp_path / "ImageNet16"
    folder.mkdir()
    for i in range(1, 11):
        _write_batch(folder / f"train_data_batch_{i}", False, n=200, size=16)
    _write_batch(folder / "val_data", False, n=130, size=16)
    xtr, ytr, xte, yte = read_arrays("ImageNet16-120", tmp_path)
    assert xtr.shape[1:] == (3, 16, 16)
    assert ytr.min() == 0 and ytr.max() == 119 and len(yte) == 120


def test_missing_files_name_the_expected_path(tmp_path):
    with pytest.raises(MissingFileError, match="cifar-100-python"):
        read_arrays("cifar100", tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    _write_batch(folder / "data_batch_1", False)
    with pytest.raises(MissingFileError, match=r"cifar-10-batches-py/data_batch_2"):
        read_arrays("cifar10", tmp_path)
    with pytest.raises(NasrankError, match="unknown dataset 'mnist'"):
        read_arrays("mnist", tmp_path)
    with pytest.raises(NasrankError, match="--data-dir"):
        read_arrays("cifar10", None)


def test_augmentation_keeps_shape_and_changes_pixels():
    x = torch.randn(16, 3, 32, 32)
    y = random_crop_flip(x, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and not torch.equal(x, y)
