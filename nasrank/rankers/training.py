"""The ``train`` ranker: regular (shortened) training, scored by a chosen protocol (held-out accuracy by default).

Cost is measured: ``seconds`` is the wall time of building, training and
scoring the network on this machine; ``device_seconds = seconds × devices``
(the Trainer always holds one device, so they are equal today; the product
is kept so that multi-device runs stay comparable).

Scale knobs (shared with ``fear``): ``channels`` and ``cells_per_stage`` go to
``space.build``; ``image_size``, ``train_fraction``, ``val_fraction`` and
``batch_size`` to the :class:`~nasrank.lightning_modules.ImageDataModule`.
"""
from __future__ import annotations

import time
from typing import Any

import lightning as L
from torch import nn

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.lightning_modules.classification import ClassificationModule, make_trainer, trainer_devices
from nasrank.lightning_modules.data import ImageDataModule
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.rankers.training_fidelity import ContinuedTraining
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace


class TrainingRankerBase(Ranker):
    """Data, network building and Trainer options shared by the training rankers."""

    deterministic = False  # wall-time cost; scores are seeded but float order may vary by device
    takes_training_scale = True

    def __init__(self, space: SearchSpace, context: RunContext | None = None, *, channels: int | None = None,
                 cells_per_stage: int | None = None, image_size: int | None = None, train_fraction: float = 1.0,
                 val_fraction: float = 0.1, batch_size: int = 256, lr: float = 0.1, momentum: float = 0.9,
                 nesterov: bool = True, weight_decay: float = 5e-4, precision: str = "32-true",
                 gradient_clip_val: float | None = None, split_seed: int = 0, seed: int | None = None,
                 log_dir: str | None = None, checkpoint_dir: str | None = None) -> None:
        super().__init__(space, context)
        if self.context.data_dir is None:
            raise NasrankError(f"the {self.registry_name!r} ranker trains networks: give --data-dir "
                               f"(a folder holding the {self.context.dataset} dataset in its official format)")
        owner = f"ranker {self.registry_name!r}"
        self.channels = validate.optional_integer(channels, "channels", owner)
        self.cells_per_stage = validate.optional_integer(cells_per_stage, "cells_per_stage", owner)
        self.image_size = validate.optional_integer(image_size, "image_size", owner)
        self.train_fraction = validate.number(train_fraction, "train_fraction", owner, 0.0, 1.0, low_open=True)
        self.val_fraction = validate.number(val_fraction, "val_fraction", owner, 0.0, 1.0, low_open=True)
        self.batch_size = validate.integer(batch_size, "batch_size", owner)
        self.lr = validate.number(lr, "lr", owner, 0.0, low_open=True)
        self.momentum = validate.number(momentum, "momentum", owner, 0.0)
        weight_decay = validate.number(weight_decay, "weight_decay", owner, 0.0)
        gradient_clip_val = validate.optional_number(gradient_clip_val, "gradient_clip_val", owner, low=0.0)
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.precision = precision
        self.gradient_clip_val = gradient_clip_val
        self.split_seed = split_seed
        self.seed = seed
        self.log_dir = log_dir
        self.checkpoint_dir = checkpoint_dir
        self._dms: dict[tuple, ImageDataModule] = {}

    @classmethod
    def options(cls) -> set[str]:
        """Every constructor option of this ranker (its own and the shared ones)."""
        from nasrank.registry import accepted_options

        return set(accepted_options(cls).names)

    @classmethod
    def check_options(cls, kw: dict[str, Any]) -> None:
        unknown = sorted(set(kw) - cls.options())
        if unknown:
            raise NasrankError(f"ranker {cls.registry_name!r} does not take option(s) {', '.join(unknown)}; "
                               f"valid options: {', '.join(sorted(cls.options()))}")

    # -- shared helpers -------------------------------------------------------
    def datamodule(self, batch_size: int | None = None, augment: bool = True) -> ImageDataModule:
        """The DataModule at this ranker's scale (cached per batch size / augmentation)."""
        key = (batch_size or self.batch_size, augment)
        if key not in self._dms:
            self._dms[key] = ImageDataModule(
                self.context.dataset, self.context.data_dir, batch_size=key[0], val_fraction=self.val_fraction,
                train_fraction=self.train_fraction, image_size=self.image_size, augment=augment,
                split_seed=self.split_seed)
            self._dms[key].setup()
        return self._dms[key]

    def steps_per_epoch(self, batch_size: int | None = None) -> int:
        n = len(self.datamodule().split("train"))
        b = batch_size or self.batch_size
        return -(-n // b)

    def build(self, arch: Arch) -> nn.Module:
        scale: dict[str, Any] = {}
        if self.channels is not None:
            scale["channels"] = self.channels
        if self.cells_per_stage is not None:
            scale["cells_per_stage"] = self.cells_per_stage
        return self.space.build(arch, num_classes=self.datamodule().num_classes, **scale)

    def seed_run(self) -> None:
        L.seed_everything(self.context.seed if self.seed is None else self.seed, workers=False, verbose=False)

    def module(self, model: nn.Module, schedule_epochs: float | None, batch_size: int | None = None,
               trainable: list[nn.Module] | None = None, lr: float | None = None) -> ClassificationModule:
        return ClassificationModule(model, lr=lr or self.lr, momentum=self.momentum, nesterov=self.nesterov,
                                    weight_decay=self.weight_decay, schedule_epochs=schedule_epochs,
                                    steps_per_epoch=self.steps_per_epoch(batch_size), trainable=trainable)

    def trainer(self, max_epochs: int | None, callbacks=(), name: str = "run", max_steps: int = -1,
                gradient_clip_val: float | None = None) -> L.Trainer:
        from nasrank.lightning_modules.logs import make_loggers

        logger = make_loggers(self.log_dir or self.context.log_dir, self.registry_name, name)
        ckpt = None if self.checkpoint_dir is None else f"{self.checkpoint_dir}/{self.registry_name}/{name}"
        clip = self.gradient_clip_val if gradient_clip_val is None else gradient_clip_val
        return make_trainer(self.context, max_epochs, max_steps=max_steps, precision=self.precision,
                            gradient_clip_val=clip, callbacks=callbacks, logger=logger, checkpoint_dir=ckpt)

    def run_name(self, arch: Arch) -> str:
        import hashlib

        return hashlib.sha1(self.space.to_string(arch).encode()).hexdigest()[:10]


@RANKERS.register("train")
class TrainRanker(ContinuedTraining, TrainingRankerBase):
    """Regular training for ``epochs`` (cosine over ``schedule_epochs``, default ``epochs``), then a score.

    ``score`` names the scoring protocol (see :mod:`nasrank.rankers.training_scores` for each one and
    what it costs): ``val_acc`` (default: held-out top-1), ``val_neg_loss``, ``test_acc``,
    ``train_acc_last`` (free: the last epoch's running training accuracy), ``train_eval_acc`` /
    ``train_eval_neg_loss`` (one pass without augmentation over ``train_eval_images`` fixed training
    images), ``heldout_all_acc`` / ``heldout_all_neg_loss`` (every image not used for training:
    held-out split + test split). ``score_split="test"`` is the older spelling of ``score="test_acc"``.
    ``record_protocols=True`` runs every pass and records every protocol's value in
    ``info["protocols"]`` and each pass's wall seconds in ``info["protocol_seconds"]`` (the charged
    ``seconds`` then include all passes). info: ``epochs``, ``steps``, ``train_acc`` (last epoch),
    ``score_protocol`` and the chosen protocol's value under its name.
    """

    option_attributes = {"score": "score_protocol"}

    def __init__(self, space: SearchSpace, context: RunContext | None = None, epochs: int = 12,
                 schedule_epochs: float | None = None, score_split: str = "val", score: str | None = None,
                 record_protocols: bool = False, train_eval_images: int = 2048, **kw: Any) -> None:
        from nasrank.rankers.training_scores import PROTOCOLS

        self.check_options(kw)
        super().__init__(space, context, **kw)
        owner = f"ranker {self.registry_name!r}"
        epochs = validate.integer(epochs, "epochs", owner)
        schedule_epochs = validate.optional_number(schedule_epochs, "schedule_epochs", owner, low=0.0, low_open=True)
        if score_split not in ("val", "test"):
            raise NasrankError(f"score_split must be 'val' or 'test', got {score_split!r}")
        score = score if score is not None else f"{score_split}_acc"
        if score not in PROTOCOLS:
            raise NasrankError(f"{owner}: unknown score protocol {score!r}; expected one of {', '.join(PROTOCOLS)}")
        self.epochs = epochs
        self.schedule_epochs = schedule_epochs
        self.score_split = score_split
        self.score_protocol = score
        self.record_protocols = bool(record_protocols)
        self.train_eval_images = validate.integer(train_eval_images, "train_eval_images", owner)

    def evaluate_one(self, arch: Arch) -> Evaluation:
        from nasrank.rankers.training_scores import PASSES, passes_for, score_protocols

        t0 = time.perf_counter()
        dm = self.datamodule()
        self.seed_run()
        module = self.module(self.build(arch), self.schedule_epochs or self.epochs)
        trainer = self.trainer(self.epochs, name=self.run_name(arch))
        trainer.fit(module, datamodule=dm)
        passes = list(PASSES) if self.record_protocols else passes_for([self.score_protocol])
        values, pass_seconds = score_protocols(trainer, module, dm, passes, train_eval_images=self.train_eval_images,
                                               seed=self.split_seed, batch_size=dm.eval_batch_size)
        value = float(values.get(self.score_protocol, float("nan")))
        dt = time.perf_counter() - t0
        info: dict[str, Any] = {"epochs": int(trainer.current_epoch), "steps": int(trainer.global_step),
                                "train_acc": module.epoch_train_acc[-1] if module.epoch_train_acc else None,
                                "score_protocol": self.score_protocol, self.score_protocol: value, "devices": trainer_devices(trainer)}
        if self.record_protocols:
            info["protocols"], info["protocol_seconds"] = values, pass_seconds
        if value != value:
            info["invalid"] = "nan"
        return Evaluation(value, dt, dt * info["devices"], info)
