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

from nasrank.options import number_in, option, optional_positive_int, positive_int


@dataclass
class SupernetOptions:
    """How a supernet is built and trained."""

    space: str = option("nb201", "search space with a supernet (nb201, nb101, darts, or a user's space that "
                                 "provides one)")
    sampling: str = option("uniform", "uniform | fair | deiso (uniform over isomorphism classes; nb201 and nb101)")
    archs_per_step: int = option(1, "architectures per step (gradients averaged)", check=positive_int)
    num_supernets: int = option(1, "K supernets, each owning a part of the space", check=positive_int)
    partition: str | None = option(None, "rule splitting the space among K supernets (nb201: edge (default) | "
                                         "hash; others: hash)")
    canonical_routing: bool = option(False, "run every cell through its isomorphism class representative's path")
    epochs: int = option(1, "training epochs", check=positive_int)
    lr: float = option(0.05, "SGD learning rate", check=number_in(0.0, low_open=True))
    momentum: float = option(0.9, "SGD momentum", check=number_in(0.0))
    weight_decay: float = option(5e-4, "SGD weight decay", check=number_in(0.0))
    lr_schedule: str = option("cosine", "cosine | constant", choices=("cosine", "constant"))
    grad_clip: float = option(5.0, "Trainer gradient_clip_val (per supernet)", check=number_in(0.0))
    batch_size: int = option(512, "training batch size", check=positive_int)
    channels: int = option(16, "network width", check=positive_int)
    cells_per_stage: int = option(5, "cells per stage", check=positive_int)
    image_size: int | None = option(None, "resize images (default: native)", check=optional_positive_int)
    train_fraction: float = option(1.0, "fraction of the training split used", check=number_in(0.0, 1.0, low_open=True))
    val_fraction: float = option(0.1, "held-out fraction (the ranker scores on it)",
                                 check=number_in(0.0, 1.0, low_open=True))
    augment: bool = option(True, "random crop / flip")
    dataset: str = option("cifar10", "cifar10 | cifar100 | ImageNet16-120")
    seed: int = option(0, "seed of the samplers and the weights")
    num_classes: int = option(10, "classes of the dataset (read from it)", flag=False)
    split_seed: int = option(0, "seed of the train / held-out split", flag=False)
