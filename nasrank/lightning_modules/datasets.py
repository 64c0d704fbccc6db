"""Readers for CIFAR-10, CIFAR-100 and ImageNet16-120 in their official on-disk formats.

Each reader returns uint8 arrays ``x`` of shape (N, 3, H, W) and int64 labels.
``data_dir`` may be the dataset folder itself or its parent. A missing file
raises :class:`~nasrank.errors.MissingFileError` naming the expected path.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasrank.runs.safe_pickle import load_numpy_pickle
from nasrank.errors import MissingFileError, NasrankError


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    folder: str
    num_classes: int
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


DATASETS: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo("cifar10", "cifar-10-batches-py", 10, 32,
                           (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": DatasetInfo("cifar100", "cifar-100-python", 100, 32,
                            (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "ImageNet16-120": DatasetInfo("ImageNet16-120", "ImageNet16", 120, 16,
                                  (122.68 / 255, 116.66 / 255, 104.01 / 255), (63.22 / 255, 61.26 / 255, 65.09 / 255)),
}


def dataset_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise NasrankError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    return DATASETS[name]


def _unpickle(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingFileError(path, "dataset file")
    with path.open("rb") as fh:
        try:
            d = load_numpy_pickle(fh, encoding="latin1")  # arrays only: a planted pickle cannot run code
        except Exception as exc:
            raise NasrankError(f"cannot read dataset file {path}: {exc}") from None
    if not isinstance(d, dict):
        raise NasrankError(f"cannot read dataset file {path}: expected a dict, got {type(d).__name__}")
    # the official files are Python 2 pickles: keys may come back as bytes
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}


def _folder(data_dir: str | Path | None, info: DatasetInfo) -> Path:
    if data_dir is None:
        raise NasrankError(f"dataset {info.name!r} needs --data-dir: a folder holding {info.folder}/")
    root = Path(data_dir)
    if root.name == info.folder:
        return root
    if (root / info.folder).is_dir():
        return root / info.folder
    raise MissingFileError(root / info.folder, f"{info.name} folder")


def _images(d: dict[str, Any], path: Path, size: int) -> np.ndarray:
    if "data" not in d:
        raise NasrankError(f"dataset file {path} has no 'data' entry")
    x = np.asarray(d["data"], dtype=np.uint8)
    return x.reshape(-1, 3, size, size)


def _files(name: str, folder: Path) -> tuple[list[Path], list[Path], str]:
    """``(train files, test files, label key)`` of dataset ``name`` in its official ``folder``."""
    if name == "cifar10":
        return [folder / f"data_batch_{i}" for i in range(1, 6)], [folder / "test_batch"], "labels"
    if name == "cifar100":
        return [folder / "train"], [folder / "test"], "fine_labels"
    return [folder / f"train_data_batch_{i}" for i in range(1, 11)], [folder / "val_data"], "labels"


def check_dataset(name: str, data_dir: str | Path | None, needed_by: str | None = None) -> Path:
    """The folder of dataset ``name`` under ``data_dir``, once every file a reader opens is there
    (nothing is read: a check before any work). ``needed_by`` names who needs it in the error."""
    info = dataset_info(name)
    if data_dir is None and needed_by:
        raise NasrankError(f"{needed_by} reads the {name} images: give --data-dir (a folder holding "
                           f"{info.folder}/ in its official format)")
    folder = _folder(data_dir, info)
    train, test, _ = _files(name, folder)
    for p in train + test:  # name the first missing file
        if not p.is_file():
            raise MissingFileError(p, f"{name} file")
    return folder


def read_arrays(name: str, data_dir: str | Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)`` of dataset ``name`` read from ``data_dir``."""
    info = dataset_info(name)
    folder = check_dataset(name, data_dir)  # name the first missing file before reading anything
    train, test, label_key = _files(name, folder)

    def read(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for p in paths:
            d = _unpickle(p)
            if label_key not in d:
                raise NasrankError(f"dataset file {p} has no {label_key!r} entry")
            xs.append(_images(d, p, info.image_size))
            ys.append(np.asarray(d[label_key], dtype=np.int64))
        x, y = np.concatenate(xs), np.concatenate(ys)
        if name == "ImageNet16-120":  # labels 1..1000; keep the first 120 classes
            keep = (y >= 1) & (y <= 120)
            x, y = x[keep], y[keep] - 1
        return x, y

    xtr, ytr = read(train)
    xte, yte = read(test)
    return xtr, ytr, xte, yte
