"""The options of a supernet run, declared once (no torch import: ``nasrank supernet train --help`` reads it).

Every field is a hyperparameter of :class:`~nasrank.lightning_modules.supernet.SupernetModule` (stored
in the checkpoint, so a ranker can rebuild the same network and held-out split) and, unless its
``flag`` is off, a ``nasrank supernet train`` flag of the same name (``--no-augment`` for a flag that
is on by default). ``dataset``, ``image_size``, ``train_fraction``, ``val_fraction``, ``split_seed``,
``batch_size``, ``epochs`` and ``seed`` are not used by the module itself: they record how it was
trained.
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Any, Callable

from nasrank.options import number_in, option
from nasrank.runs import limits


def at_most(maximum: int, optional: bool = False) -> Callable[[Any, str, str], int | None]:
    """A check for an integer from 1 to ``maximum`` (a bound of :mod:`nasrank.runs.limits`: a checkpoint's
    hyper-parameters are read from a file, and a typed 100000 must not run for hours)."""
    def check(value: Any, name: str, owner: str) -> int | None:
        if optional and value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return limits.count(value, f"{owner}: {name}", maximum)

    return check


def _seed(value: Any, name: str, owner: str) -> int:
    return limits.count(value, f"{owner}: {name}", limits.MAX_SEED, minimum=0)


@dataclass
class SupernetOptions:
    """How a supernet is built and trained."""

    space: str = option("nb201", "search space with a supernet (nb201, nb101, darts, or a user's space that "
                                 "provides one)")
    sampling: str = option("uniform", "uniform | fair | deiso (uniform over isomorphism classes; nb201 and nb101)")
    archs_per_step: int = option(1, "architectures per step (gradients averaged)",
                                 check=at_most(limits.MAX_ARCHS_PER_STEP))
    num_supernets: int = option(1, "K supernets, each owning a part of the space",
                                check=at_most(limits.MAX_SUPERNETS))
    partition: str | None = option(None, "rule splitting the space among K supernets (nb201: edge (default) | "
                                         "hash; others: hash)")
    canonical_routing: bool = option(False, "run every cell through its isomorphism class representative's path")
    epochs: int = option(1, "training epochs", check=at_most(limits.MAX_EPOCHS))
    lr: float = option(0.05, "SGD learning rate", check=number_in(0.0, low_open=True))
    momentum: float = option(0.9, "SGD momentum", check=number_in(0.0))
    weight_decay: float = option(5e-4, "SGD weight decay", check=number_in(0.0))
    lr_schedule: str = option("cosine", "cosine | constant", choices=("cosine", "constant"))
    grad_clip: float = option(5.0, "Trainer gradient_clip_val (per supernet)", check=number_in(0.0))
    batch_size: int = option(512, "training batch size", check=at_most(limits.MAX_BATCH_SIZE))
    channels: int = option(16, "network width", check=at_most(limits.MAX_SUPERNET_CHANNELS))
    cells_per_stage: int = option(5, "cells per stage", check=at_most(limits.MAX_SUPERNET_CELLS))
    image_size: int | None = option(None, "resize images (default: native)",
                                    check=at_most(limits.MAX_IMAGE_SIZE, optional=True))
    train_fraction: float = option(1.0, "fraction of the training split used", check=number_in(0.0, 1.0, low_open=True))
    val_fraction: float = option(0.1, "held-out fraction (the ranker scores on it)",
                                 check=number_in(0.0, 1.0, low_open=True))
    augment: bool = option(True, "random crop / flip")
    dataset: str = option("cifar10", "cifar10 | cifar100 | ImageNet16-120")
    seed: int = option(0, "seed of the samplers and the weights", check=_seed)
    num_classes: int = option(10, "classes of the dataset (read from it)", flag=False,
                              check=at_most(limits.MAX_CLASSES))
    split_seed: int = option(0, "seed of the train / held-out split", flag=False, check=_seed)
