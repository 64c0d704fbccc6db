"""The Trainer settings, declared once: every component that trains a network inherits them.

The training rankers' options (:class:`~nasrank.rankers.training.TrainingOptions`) inherit this
group, :class:`~nasrank.lightning_modules.classification.ClassificationModule` takes the optimiser
part and :func:`~nasrank.lightning_modules.classification.make_trainer` the Trainer part.
No torch import: ``nasrank rankers`` reads it without loading torch.
"""
from __future__ import annotations

from dataclasses import dataclass

from nasrank.options import number_in, option


@dataclass
class TrainerSettings:
    """SGD and Trainer settings: lr, momentum, nesterov, weight decay, precision, clipping."""

    lr: float = option(0.1, "SGD learning rate (cosine-annealed)", check=number_in(0.0, low_open=True))
    momentum: float = option(0.9, "SGD momentum", check=number_in(0.0))
    nesterov: bool = option(True, "Nesterov momentum (off when momentum is 0)")
    weight_decay: float = option(5e-4, "SGD weight decay", check=number_in(0.0))
    precision: str = option("32-true", "Lightning precision (32-true, bf16-mixed, 16-mixed ...)")
    gradient_clip_val: float | None = option(None, "clip gradients to this norm (None: no clipping)",
                                             check=number_in(0.0, optional=True))
