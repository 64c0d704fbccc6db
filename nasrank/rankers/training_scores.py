"""Scoring protocols of the ``train`` ranker: what a trained network is ranked by, and what it costs.

Every protocol reads one *pass* (a forward pass without augmentation over a fixed image set, through
``trainer.validate``) or no pass at all:

=========================  ============================================  ==============================
protocol                   score                                         extra cost after training
=========================  ============================================  ==============================
``val_acc`` (default)      top-1 on the held-out split (``val_fraction``)  one pass over the held-out split
``val_neg_loss``           −cross-entropy on the held-out split           the same pass
``test_acc``               top-1 on the data set's test split             one pass over the test split
``train_acc_last``         running top-1 of the last training epoch       none (measured while training)
``train_eval_acc``         top-1 on a fixed training subset, no augment.  one pass over ``train_eval_images``
``train_eval_neg_loss``    −cross-entropy on that subset                  the same pass
``heldout_all_acc``        top-1 on every image not used for training     one pass over held-out + test
                           (held-out split + the test split)
``heldout_all_neg_loss``   −cross-entropy on those images                 the same pass
=========================  ============================================  ==============================

The training subset is the first ``train_eval_images`` of a permutation of the training split drawn
with the ranker's ``split_seed``: the same images for every candidate.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from nasrank.lightning_modules.batches import IndexBatches

#: protocol -> (pass it reads, metric); pass None: no pass (the last epoch's running accuracy)
PROTOCOLS: dict[str, tuple[str | None, str]] = {
    "val_acc": ("val", "acc"), "val_neg_loss": ("val", "neg_loss"), "test_acc": ("test", "acc"),
    "train_acc_last": (None, "acc"),
    "train_eval_acc": ("train_eval", "acc"), "train_eval_neg_loss": ("train_eval", "neg_loss"),
    "heldout_all_acc": ("heldout_all", "acc"), "heldout_all_neg_loss": ("heldout_all", "neg_loss"),
}
PASSES = ("val", "test", "train_eval", "heldout_all")


def pass_tensors(dm: Any, name: str, train_eval_images: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(x, y)`` images of pass ``name`` (on the CPU; no augmentation)."""
    if name in ("val", "test"):
        x, y = dm.split(name).tensors
        return x, y
    if name == "heldout_all":
        (xv, yv), (xt, yt) = dm.split("val").tensors, dm.split("test").tensors
        return torch.cat([xv, xt]), torch.cat([yv, yt])
    if name == "train_eval":
        x, y = dm.split("train").tensors
        idx = np.random.default_rng(seed).permutation(len(y))[:train_eval_images]
        idx_t = torch.from_numpy(np.sort(idx))
        return x[idx_t], y[idx_t]
    raise ValueError(f"unknown scoring pass {name!r}")


def run_pass(trainer: Any, module: Any, tensors: tuple[torch.Tensor, torch.Tensor],
             batch_size: int) -> dict[str, float]:
    """Accuracy and mean cross-entropy of ``module`` over ``tensors`` (one ``trainer.validate``)."""
    device = trainer.strategy.root_device
    loader = IndexBatches(tuple(t.to(device) for t in tensors), batch_size)
    metrics = trainer.validate(module, dataloaders=loader, verbose=False)[0]
    return {"acc": float(metrics["val_acc"]), "neg_loss": -float(metrics["val_loss"])}


def score_protocols(trainer: Any, module: Any, dm: Any, passes: list[str], *, train_eval_images: int,
                    seed: int, batch_size: int) -> tuple[dict[str, float], dict[str, float]]:
    """Run ``passes``; returns ``({protocol: value}, {pass: wall seconds})`` for every protocol they give.

    ``train_acc_last`` is always included (it costs nothing) when the module recorded an epoch.
    """
    values: dict[str, float] = {}
    seconds: dict[str, float] = {}
    if module.epoch_train_acc:
        values["train_acc_last"] = float(module.epoch_train_acc[-1])
    for p in passes:
        t0 = time.perf_counter()
        out = run_pass(trainer, module, pass_tensors(dm, p, train_eval_images, seed), batch_size)
        seconds[p] = time.perf_counter() - t0
        for proto, (needs, metric) in PROTOCOLS.items():
            if needs == p:
                values[proto] = out[metric]
    return values, seconds


def passes_for(protocols: list[str]) -> list[str]:
    """The passes (in a fixed order) that ``protocols`` need."""
    need = {PROTOCOLS[p][0] for p in protocols}
    return [p for p in PASSES if p in need]
