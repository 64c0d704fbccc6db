"""``ClassificationModule``: trains any ``nn.Module`` a space builds, and the Trainer factory.

The default recipe is NAS-Bench-201's: SGD (Nesterov, momentum 0.9), lr 0.1,
weight decay 5e-4, a cosine schedule stepped per optimizer step over
``schedule_epochs`` (default: the run's ``max_epochs``), batch 256 and
crop+flip augmentation (both from the DataModule). Every knob is a
constructor argument.

``trainable`` restricts training to some sub-modules (FEAR's stage 2): the
other parameters get ``requires_grad=False`` and the other modules are kept
in eval mode (frozen BatchNorm statistics) during training.

Every run goes through :func:`make_trainer` (one ``lightning.Trainer``);
there is no hand-written training loop in nasrank.
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn

from nasrank.errors import NasrankError
from nasrank.runtime.devices import accelerator
from nasrank.lightning_modules.settings import TrainerSettings



class ClassificationModule(L.LightningModule):
    """Cross-entropy classification of ``model`` with the NB201 recipe by default.

    Logs ``train_loss``/``train_acc`` (per epoch, running over its batches)
    and ``val_loss``/``val_acc``. Besides the logged metrics it keeps
    counters that callbacks may read at any step: ``epoch_correct``,
    ``epoch_seen`` (running over the current epoch) and ``epoch_train_acc``
    (one value per finished epoch); optimizer steps are ``trainer.global_step``.

    The training step never waits for the device: the correct count
    accumulates in a device tensor and ``epoch_seen`` comes from batch shapes.
    Reading ``epoch_correct`` (or ``running_train_acc``) is the one host sync;
    FEAR reads it only at its check points, and the module once per epoch end.

    A batch is ``(*inputs, labels)``: the model is called as ``model(*inputs)``
    (so a model over cached features may take several tensors).
    """

    def __init__(self, model: nn.Module, settings: TrainerSettings | None = None, schedule_epochs: float | None = None,
                 steps_per_epoch: int | None = None, min_lr: float = 0.0, label_smoothing: float = 0.0,
                 trainable: Sequence[nn.Module] | None = None) -> None:
        super().__init__()
        settings = settings or TrainerSettings()
        if settings.lr <= 0:
            raise NasrankError(f"learning rate must be positive, got {settings.lr}")
        self.model = model
        self.lr = settings.lr
        self.momentum = settings.momentum
        self.nesterov = settings.nesterov and settings.momentum > 0
        self.weight_decay = settings.weight_decay
        self.schedule_epochs = schedule_epochs
        self.steps_per_epoch = steps_per_epoch
        self.min_lr = min_lr
        self.label_smoothing = label_smoothing
        self.trainable = list(trainable) if trainable is not None else None
        if self.trainable is not None:
            keep = {id(p) for m in self.trainable for p in m.parameters()}
            for p in self.model.parameters():
                p.requires_grad_(id(p) in keep)
        self._correct: torch.Tensor | None = None  # correct predictions this epoch, on the device
        self.epoch_seen = 0
        self.epoch_train_acc: list[float] = []

    # -- helpers ------------------------------------------------------------
    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.model.parameters() if p.requires_grad]

    @property
    def epoch_correct(self) -> int:
        """Correct training predictions of the current epoch so far (reads the device counter: a host sync)."""
        return 0 if self._correct is None else int(self._correct)

    @property
    def running_train_acc(self) -> float:
        """Training top-1 over the batches of the current epoch so far."""
        return self.epoch_correct / self.epoch_seen if self.epoch_seen else 0.0

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(*inputs)

    def _step(self, batch: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Loss, correct count (a device tensor) and batch size (from the shape: no sync)."""
        *inputs, y = batch
        logits = self.model(*inputs)
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        correct = (logits.argmax(1) == y).sum()
        return loss, correct, int(y.shape[0])

    # -- training -----------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        self._correct = None
        self.epoch_seen = 0

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        if self.trainable is not None:  # frozen part in eval mode (BN statistics fixed)
            self.model.eval()
            for m in self.trainable:
                m.train()

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, correct, k = self._step(batch)
        self._correct = correct if self._correct is None else self._correct + correct
        self.epoch_seen += k
        self.log("train_loss", loss.detach(), on_step=False, on_epoch=True, batch_size=k)
        self.log("train_acc", correct / k, on_step=False, on_epoch=True, batch_size=k)
        return loss

    def on_train_epoch_end(self) -> None:
        if self.epoch_seen:
            self.epoch_train_acc.append(self.running_train_acc)

    def validation_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        loss, correct, k = self._step(batch)
        self.log("val_loss", loss, on_step=False, on_epoch=True, batch_size=k)
        self.log("val_acc", correct / k, on_step=False, on_epoch=True, batch_size=k)

    def test_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> None:
        loss, correct, k = self._step(batch)
        self.log("test_loss", loss, on_step=False, on_epoch=True, batch_size=k)
        self.log("test_acc", correct / k, on_step=False, on_epoch=True, batch_size=k)

    def _total_steps(self) -> int:
        trainer = self.trainer
        if self.steps_per_epoch is not None and self.schedule_epochs is not None:
            return max(1, int(math.ceil(self.steps_per_epoch * self.schedule_epochs)))
        total = trainer.estimated_stepping_batches  # over max_epochs (or max_steps)
        if self.schedule_epochs is not None and trainer.max_epochs and trainer.max_epochs > 0:
            total = total / trainer.max_epochs * self.schedule_epochs
        if not math.isfinite(total):
            raise NasrankError("a cosine schedule needs a finite horizon: give schedule_epochs or max_epochs")
        return max(1, int(math.ceil(total)))

    def configure_optimizers(self) -> Any:
        params = self.trainable_parameters()
        if not params:
            raise NasrankError("nothing to train: every parameter of the model is frozen")
        opt = torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, nesterov=self.nesterov,
                              weight_decay=self.weight_decay)
        total = self._total_steps()
        ratio = self.min_lr / self.lr

        def cosine(step: int) -> float:
            t = min(step, total) / total
            return ratio + (1.0 - ratio) * 0.5 * (1.0 + math.cos(math.pi * t))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def quiet_lightning() -> None:
    """Silence Lightning's per-run banner (GPU/TPU lines) and its data-loader hints."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning.pytorch.utilities.rank_zero",
                 "lightning.pytorch.accelerators.cuda"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*number of training batches.*smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=".*exists and is not empty.*")
    warnings.filterwarnings("ignore", message=".*but have no `val_dataloader`.*")
    warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode at the start of training.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated.*")


def make_trainer(context: Any = None, max_epochs: int | None = None, settings: TrainerSettings | None = None, *,
                 max_steps: int = -1, callbacks: Iterable[L.Callback] = (), logger: Any = False,
                 checkpoint_dir: str | Path | None = None, val_every_n_epochs: int | None = None,
                 **kwargs: Any) -> L.Trainer:
    """The one way nasrank builds a ``lightning.Trainer``.

    ``context`` (a :class:`~nasrank.rankers.base.RunContext`) gives the
    accelerator (``device``: auto | cpu | gpu) and ``progress``. One device;
    no logger and no checkpoints unless asked (``logger`` may be any Lightning
    logger or list of them; ``checkpoint_dir`` adds a ``ModelCheckpoint``).
    ``fit`` runs no validation unless ``val_every_n_epochs`` is given (rankers
    call ``trainer.validate`` once at the end). ``settings`` gives ``precision`` and
    ``gradient_clip_val``; other keyword arguments go to ``lightning.Trainer`` (step-level
    logging happens every ``log_every_n_steps``, default 50: the metrics nasrank logs are per epoch).
    """
    settings = settings or TrainerSettings()
    kwargs.setdefault("log_every_n_steps", 50)
    quiet_lightning()
    device = accelerator(getattr(context, "device", "auto"))
    cbs = list(callbacks)
    if checkpoint_dir is not None:
        from lightning.pytorch.callbacks import ModelCheckpoint

        cbs.append(ModelCheckpoint(dirpath=str(checkpoint_dir), save_last=True))
    return L.Trainer(
        accelerator=device, devices=1, precision=settings.precision, max_epochs=max_epochs,
        max_steps=max_steps,
        enable_progress_bar=bool(getattr(context, "progress", False)), logger=logger,
        enable_checkpointing=checkpoint_dir is not None, enable_model_summary=False,
        gradient_clip_val=settings.gradient_clip_val, num_sanity_val_steps=0, callbacks=cbs,
        check_val_every_n_epoch=val_every_n_epochs or 2**31 - 1, **kwargs)


def trainer_devices(trainer: L.Trainer) -> int:
    """Number of devices the trainer holds (for ``device_seconds = wall × devices``)."""
    try:
        return max(1, int(trainer.num_devices))
    except Exception:  # pragma: no cover - defensive
        return 1
