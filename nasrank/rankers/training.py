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

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import lightning as L
from torch import nn

from nasrank.errors import NasrankError, did_you_mean
from nasrank.lightning_modules.classification import ClassificationModule, make_trainer, trainer_devices
from nasrank.lightning_modules.data import ImageDataModule
from nasrank.lightning_modules.settings import TrainerSettings
from nasrank.options import number_in, option, optional_positive_int, positive_int, subset, truthy
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.rankers.training_fidelity import ContinuedTraining
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace


@dataclass
class TrainingOptions(TrainerSettings):
    """The options every training ranker takes: its scale (network, data) and the Trainer settings."""

    channels: int | None = option(None, "network width given to space.build (None: the space's default)",
                                  check=optional_positive_int)
    cells_per_stage: int | None = option(None, "cells per stage given to space.build", check=optional_positive_int)
    image_size: int | None = option(None, "resize the images to this size (None: native)", check=optional_positive_int)
    train_fraction: float = option(1.0, "fraction of the training split used", check=number_in(0.0, 1.0, low_open=True))
    val_fraction: float = option(0.1, "held-out fraction of the training split", check=number_in(0.0, 1.0, low_open=True))
    batch_size: int = option(256, "training batch size", check=positive_int)
    split_seed: int = option(0, "seed of the train / held-out split")
    seed: int | None = option(None, "training seed (None: the run's --seed)")
    log_dir: str | None = option(None, "training logs folder (None: the run's logs/)")
    checkpoint_dir: str | None = option(None, "save Lightning checkpoints here (None: none)")


class TrainingRankerBase(Ranker):
    """Data, network building and Trainer options shared by the training rankers."""

    deterministic = False  # wall-time cost; scores are seeded but float order may vary by device
    takes_training_scale = True
    Options = TrainingOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        if self.context.data_dir is None:
            raise NasrankError(f"the {self.registry_name!r} ranker trains networks: give --data-dir "
                               f"(a folder holding the {self.context.dataset} dataset in its official format)")
        from nasrank.lightning_modules.datasets import check_dataset

        check_dataset(self.context.dataset, self.context.data_dir)  # every file there, before any training
        self._dms: dict[tuple, ImageDataModule] = {}

    @property
    def trainer_settings(self) -> TrainerSettings:
        """This ranker's Trainer settings (the group its options inherit)."""
        return subset(self.options, TrainerSettings)

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
        settings = dataclasses.replace(self.trainer_settings, lr=lr or self.lr)
        return ClassificationModule(model, settings, schedule_epochs=schedule_epochs,
                                    steps_per_epoch=self.steps_per_epoch(batch_size), trainable=trainable)

    def trainer(self, max_epochs: int | None, callbacks=(), name: str = "run", max_steps: int = -1,
                gradient_clip_val: float | None = None) -> L.Trainer:
        from nasrank.lightning_modules.logs import make_loggers

        logger = make_loggers(self.log_dir or self.context.log_dir, self.registry_name, name)
        ckpt = None if self.checkpoint_dir is None else f"{self.checkpoint_dir}/{self.registry_name}/{name}"
        settings = self.trainer_settings
        if gradient_clip_val is not None:
            settings = dataclasses.replace(settings, gradient_clip_val=gradient_clip_val)
        return make_trainer(self.context, max_epochs, settings, max_steps=max_steps, callbacks=callbacks,
                            logger=logger, checkpoint_dir=ckpt)

    def run_name(self, arch: Arch) -> str:
        import hashlib

        return hashlib.sha1(self.space.to_string(arch).encode()).hexdigest()[:10]


@dataclass
class TrainOptions(TrainingOptions):
    """The ``train`` ranker's options."""

    epochs: int = option(12, "training epochs", check=positive_int)
    schedule_epochs: float | None = option(None, "cosine horizon in epochs (None: epochs)",
                                           check=number_in(0.0, low_open=True, optional=True))
    score_split: str = option("val", "older spelling of score: val (val_acc) or test (test_acc)",
                              choices=("val", "test"))
    score: str | None = option(None, "scoring protocol (val_acc, val_neg_loss, test_acc, train_acc_last, ...; "
                                     "None: <score_split>_acc)")
    record_protocols: bool = option(False, "run every scoring pass and record every protocol's value", check=truthy)
    train_eval_images: int = option(2048, "fixed training images of the train_eval_* protocols", check=positive_int)


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

    Options = TrainOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        from nasrank.rankers.training_scores import PROTOCOLS

        super().__init__(space, context, **options)
        score = self.options.score if self.options.score is not None else f"{self.score_split}_acc"
        if score not in PROTOCOLS:
            raise NasrankError(f"ranker {self.registry_name!r}: unknown score protocol {score!r}; expected one of "
                               f"{', '.join(PROTOCOLS)}{did_you_mean(score, PROTOCOLS)}")
        self.set_option("score", score)  # config() and the store key name the protocol that ran
        self.score_protocol = score

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
