"""Where each official data file comes from, and the folder layout the reader of each expects.

One entry per item (``SOURCES``): the data sets read with ``--data-dir`` (their readers are in
``nasrank/lightning_modules/datasets.py``) and the benchmark files read with ``--benchmark``
(``nasrank/benchmarks/``). ``files`` are the paths, relative to the item's ``folder``, that the reader
opens; ``md5`` holds the published checksum of a file where one is published. ``archive`` is set for
the items with a stable public URL: ``nasrank data download`` fetches, verifies and unpacks it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nasrank.errors import NasrankError, did_you_mean


@dataclass(frozen=True)
class Archive:
    """A downloadable archive: its URL, file name, published md5 and approximate size."""
    url: str
    name: str
    md5: str
    size_mb: int


@dataclass(frozen=True)
class Source:
    """One official item: what it is, how nasrank reads it, its layout and where it comes from."""
    key: str
    title: str
    read_by: str  #: the flag that points nasrank at it
    folder: str  #: the folder (or, for a single file, "") the reader expects under DIR
    files: tuple[str, ...]  #: what the reader opens, relative to ``folder`` (``*`` matches a part of a name)
    origin: str  #: where to get it
    md5: dict[str, str] = field(default_factory=dict)  #: published checksums, by file
    archive: Archive | None = None
    min_count: int = 0  #: how many files matching a pattern (records) the published item holds


_CIFAR10_MD5 = {"data_batch_1": "c99cafc152244af753f735de768cd75f", "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
                "data_batch_3": "54ebc095f3ab1f0389bbae665268c751", "data_batch_4": "634d18415352ddfa80567beed471001a",
                "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb", "test_batch": "40351d587109b95175f43aff81a1287e",
                "batches.meta": "5ff9c542aee3614f3951f8cda6e48888"}
_CIFAR100_MD5 = {"train": "16019d7e3df5f24257cddd939b257f8d", "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
                 "meta": "7973b15100ade9c7d40fb424638fde48"}

SOURCES: dict[str, Source] = {s.key: s for s in (
    Source("cifar10", "CIFAR-10, python version (Krizhevsky 2009)", "--data-dir DIR (--dataset cifar10)",
           "cifar-10-batches-py", tuple(_CIFAR10_MD5),
           "https://www.cs.toronto.edu/~kriz/cifar.html", _CIFAR10_MD5,
           Archive("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "cifar-10-python.tar.gz",
                   "c58f30108f718f92721af3b95e74349a", 163)),
    Source("cifar100", "CIFAR-100, python version (Krizhevsky 2009)", "--data-dir DIR --dataset cifar100",
           "cifar-100-python", tuple(_CIFAR100_MD5),
           "https://www.cs.toronto.edu/~kriz/cifar.html", _CIFAR100_MD5,
           Archive("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", "cifar-100-python.tar.gz",
                   "eb9058c3a382ffc7106e4002c42a8d85", 161)),
    Source("imagenet16", "ImageNet16-120: downsampled ImageNet at 16x16 (Chrabaszcz et al. 2017), the first "
           "120 classes", "--data-dir DIR --dataset ImageNet16-120", "ImageNet16",
           tuple(f"train_data_batch_{i}" for i in range(1, 11)) + ("val_data",),
           "image-net.org, 'Downsampled ImageNet 16x16' (an ImageNet account is needed; no public URL): "
           "unpack Imagenet16_train and Imagenet16_val into ImageNet16/"),
    Source("nb201", "NAS-Bench-201 benchmark file (Dong & Yang 2020)", "--benchmark nb201:FILE", "",
           ("NAS-Bench-201-v1_*.pth",),
           "github.com/D-X-Y/NAS-Bench-201 (README: the v1_0 or v1_1 .pth; read by pip 'nas-bench-201', "
           "needs torch >= 2.6)"),
    Source("nats_tss", "NATS-Bench topology directory (Dong et al. 2021), the 'simple' archive unpacked",
           "--benchmark nats:DIR/NATS-tss-v1_0-3ffb9-simple", "NATS-tss-v1_0-3ffb9-simple",
           ("meta.pickle.pbz2", "*.pickle.pbz2"),
           "github.com/D-X-Y/NATS-Bench (README: NATS-tss-v1_0-3ffb9-simple.tar; read by pip 'nats_bench')",
           min_count=15625),
    Source("nb101", "NAS-Bench-101 as a CSV table (Ying et al. 2019)", "--space nb101 --benchmark csv:FILE", "",
           ("*.csv",),
           "export the official nasbench_only108.tfrecord (github.com/google-research/nasbench) to CSV "
           "columns matrix (49 bits), ops (7 comma-separated labels) and val_acc (%)"),
    Source("nb301", "NAS-Bench-301 / DARTS cells as a CSV table (Siems et al. 2020)",
           "--space darts --benchmark csv:FILE", "", ("*.csv",),
           "export the NAS-Bench-301 training data (github.com/automl/nasbench301) to CSV columns "
           "genotype (the DARTS Genotype(...) string) and val_acc (%)"),
)}

#: the CSV columns that tell which table a CSV is (nasrank data check)
TABLE_COLUMNS = {"nb101": ("matrix", "ops"), "nb301": ("genotype",)}


def source(key: str) -> Source:
    """The entry named ``key``; an unknown name is one error with the choices."""
    if key not in SOURCES:
        raise NasrankError(f"unknown data item {key!r}{did_you_mean(key, list(SOURCES))}; "
                           f"choose one of: {', '.join(SOURCES)}")
    return SOURCES[key]


def downloadable() -> list[str]:
    """The items with a stable public URL."""
    return [k for k, s in SOURCES.items() if s.archive is not None]
