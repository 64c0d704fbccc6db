"""``SupernetModule``: one-shot training of supernets through ``lightning.Trainer``.

The space (``space``, default ``nb201``) provides the weight-sharing network,
the samplers, the partition rules and the canonical representative through its
supernet contract (:mod:`nasrank.spaces.supernet_contract`); this module holds
no space-specific code.

Training (GUIDE §4, aw_nas defaults): every step draws ``archs_per_step=S``
architectures per supernet from the sampler (``uniform`` | ``fair`` |
``deiso``) and back-propagates ``loss/S`` of each, one after the other, into
the same gradients (so every shared parameter gets the average of the S
sub-networks' gradients without holding S graphs). Lightning then clips
(``Trainer(gradient_clip_val=5)``; each supernet's gradient norm separately,
see :meth:`SupernetModule.configure_gradient_clipping`) and steps SGD
(lr 0.05, momentum 0.9, wd 5e-4, cosine decay over the run by default).

Reduced sharing extent:

* ``canonical_routing=True``: every architecture runs the path of its
  isomorphism class's representative (``provider.representative``), so
  isomorphic cells share one path (and get identical scores);
* ``num_supernets=K``: K independent supernets; ``partition_of(arch, K, rule)``
  (the provider's) says which one owns an architecture. Each step trains every supernet on S
  architectures drawn from its own part only, so each supernet sees every
  batch (K supernets trained for E epochs cost about K times one).

The checkpoint (``trainer.save_checkpoint``) stores the config as
hyperparameters and, under ``"nasrank_supernet"``, the training wall seconds
and epochs so far; :func:`load_supernet` reads it back for the ``oneshot``
ranker (:mod:`nasrank.lightning_modules.supernet_checkpoint`: a checkpoint is data, checked before it
is built; :func:`export_supernet` writes a slim, weights-only copy).
:mod:`nasrank.lightning_modules.supernet_scoring` is the inference side (plain ``torch.no_grad``
forward passes on held-out images, no Trainer).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasrank.errors import NasrankError
from nasrank.runtime.devices import accelerator, torch_device  # noqa: F401 (torch_device re-exported)
from nasrank.lightning_modules.supernet_checkpoint import (  # noqa: F401 (re-exported: loading and exporting)
    CKPT_KEY, PACKED_KEY, export_supernet, load_supernet, pack_state, unpack_state)
from nasrank.lightning_modules.supernet_options import SupernetOptions
from nasrank.options import as_dict, make_options
from nasrank.spaces.base import Arch
from nasrank.spaces.supernet_contract import SupernetProvider, load_provider


class SupernetModule(L.LightningModule):
    """K supernets of one space trained by single-path sampling.

    Its options are declared once (:class:`~nasrank.lightning_modules.supernet_options.SupernetOptions`);
    all are stored as hyperparameters (and so in the checkpoint). ``dataset``, ``image_size``, ``train_fraction``,
    ``val_fraction``, ``split_seed``, ``batch_size``, ``epochs`` and ``seed``
    are not used by the module itself: they record how it was trained, so a
    ranker can rebuild the same held-out split.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__()
        opts = make_options(SupernetOptions, options, "supernet")  # the declaration checks each option
        self.provider = space_provider(opts.space)
        self.provider.check_partition(opts.num_supernets, opts.partition)
        self.provider.check_sampling(opts.sampling, opts.num_supernets)
        self.save_hyperparameters(as_dict(opts))
        self.supernets = nn.ModuleList(self.provider.build(opts.channels, opts.cells_per_stage, opts.num_classes)
                                       for _ in range(opts.num_supernets))
        self._samplers: list[Any] | None = None
        self.train_seconds = 0.0
        self.epochs_done = 0
        self.train_history: list[dict[str, float]] = []  # per epoch: mean train loss / acc of the sampled paths
        self._epoch_sums = [0.0, 0.0, 0]
        self._epoch_open = False  # an epoch has started and is not in train_history yet
        self._mark: float | None = None

    # -- routing --------------------------------------------------------------
    def route(self, arch: Arch) -> tuple[int, Arch]:
        """``(supernet index, arch whose path runs)`` for ``arch``."""
        hp = self.hparams
        k = self.provider.partition_of(arch, hp.num_supernets, hp.partition)
        return k, self.provider.representative(arch) if hp.canonical_routing else arch

    def forward(self, x: torch.Tensor, arch: Arch) -> torch.Tensor:
        k, path = self.route(arch)
        return self.supernets[k](x, path)

    # -- sampling -------------------------------------------------------------
    def samplers(self) -> list[Any]:
        """One sampler per supernet, seeded from ``seed`` (created on first use)."""
        if self._samplers is None:
            hp = self.hparams
            seeds = np.random.SeedSequence(hp.seed).spawn(hp.num_supernets)
            self._samplers = [self.provider.sampler(hp.sampling, np.random.default_rng(s), hp.num_supernets, k,
                                                    hp.partition) for k, s in enumerate(seeds)]
        return self._samplers

    def draw(self) -> list[tuple[int, Arch]]:
        """The ``(supernet, arch)`` pairs of one step: S archs per supernet."""
        return [(k, sampler()) for k, sampler in enumerate(self.samplers())
                for _ in range(self.hparams.archs_per_step)]

    # -- training -------------------------------------------------------------
    def _backward(self, loss: torch.Tensor) -> None:
        self.trainer.strategy.backward(loss, None)

    def training_step(self, batch: Sequence[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        self.optimizers().zero_grad(set_to_none=True)  # optimizer_zero_grad is a no-op (see there)
        pairs = self.draw()
        s = self.hparams.archs_per_step
        total, correct, last = 0.0, 0.0, None
        for i, (k, arch) in enumerate(pairs):
            _, path = self.route(arch)
            logits = self.supernets[k](x, path)
            loss = F.cross_entropy(logits, y)
            total += float(loss.detach())
            correct += float((logits.detach().argmax(1) == y).float().mean())
            if i < len(pairs) - 1:
                self._backward(loss / s)  # accumulate; the last one is left to Lightning
            else:
                last = loss / s
        n = len(pairs)
        self._epoch_sums = [self._epoch_sums[0] + total / n, self._epoch_sums[1] + correct / n,
                            self._epoch_sums[2] + 1]
        self.log("train_loss", total / n, prog_bar=True, on_step=False, on_epoch=True, batch_size=len(y))
        self.log("train_acc", correct / n, prog_bar=True, on_step=False, on_epoch=True, batch_size=len(y))
        return last

    def optimizer_zero_grad(self, epoch: int, batch_idx: int, optimizer: Any) -> None:
        """No-op: Lightning zeroes *after* ``training_step``, which would drop the S-1 backward
        passes done inside it; ``training_step`` zeroes the gradients itself, first."""

    def configure_gradient_clipping(self, optimizer: Any, gradient_clip_val: float | None = None,
                                    gradient_clip_algorithm: str | None = None) -> None:
        """Clip each supernet's gradient norm on its own (K supernets are K independent models)."""
        if not gradient_clip_val:
            return
        if gradient_clip_algorithm not in (None, "norm"):
            self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)
            return
        for sup in self.supernets:
            params = [p for p in sup.parameters() if p.grad is not None]
            if params:
                torch.nn.utils.clip_grad_norm_(params, gradient_clip_val)

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        opt = torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=hp.momentum, weight_decay=hp.weight_decay)
        if hp.lr_schedule == "constant":
            return opt
        total = max(1, int(self.trainer.estimated_stepping_batches))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # -- bookkeeping: wall seconds and epochs, stored in every checkpoint ----
    def on_train_epoch_start(self) -> None:
        self._mark = time.perf_counter()
        self._epoch_sums = [0.0, 0.0, 0]
        self._epoch_open = True

    def _epoch_record(self) -> dict[str, float]:
        loss, acc, steps = self._epoch_sums
        return {"epoch": int(self.trainer.current_epoch) + 1, "train_loss": loss / max(1, steps),
                "train_acc": acc / max(1, steps)}

    def _history_now(self) -> list[dict[str, float]]:
        """The per-epoch history, including the current epoch if it has steps but is not recorded yet."""
        hist = list(self.train_history)
        if self._epoch_open and self._epoch_sums[2]:
            hist.append(self._epoch_record())
        return hist

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        now = time.perf_counter()
        if self._mark is not None:
            self.train_seconds += now - self._mark
        self._mark = now

    def on_train_epoch_end(self) -> None:
        self.epochs_done = self.trainer.current_epoch + 1
        self.train_history = self._history_now()
        self._epoch_open = False

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        devices = max(1, int(getattr(self.trainer, "num_devices", 1) or 1)) if self._trainer is not None else 1
        checkpoint[CKPT_KEY] = {"train_seconds": float(self.train_seconds),
                                "train_device_seconds": float(self.train_seconds) * devices,
                                "epochs_done": int(self.epochs_done), "global_step": int(self.global_step),
                                "train_history": self._history_now(), "format": 1}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        info = checkpoint.get(CKPT_KEY, {})
        self.train_seconds = float(info.get("train_seconds", 0.0))
        self.epochs_done = int(info.get("epochs_done", 0))
        self.train_history = list(info.get("train_history", []))


def space_provider(space: str) -> SupernetProvider:
    """The supernet provider of the space registered as ``space`` (or ``pkg.mod:Class``); a clear error
    when the space has none."""
    from nasrank.registry import SPACES

    return load_provider(SPACES.create(space))


class SaveAtEpochs(L.Callback):
    """Save a checkpoint after each epoch in ``epochs`` to ``pattern.format(epoch=E)``."""

    def __init__(self, epochs: Iterable[int], pattern: str) -> None:
        self.epochs = sorted({int(e) for e in epochs})
        self.pattern = pattern
        self.saved: list[str] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        done = trainer.current_epoch + 1
        if done in self.epochs:
            pl_module.epochs_done = done  # the module's own hook runs after the callbacks'
            path = self.pattern.format(epoch=done)
            trainer.save_checkpoint(path, weights_only=False)  # said: else Lightning logs that it was not
            self.saved.append(path)


def train_supernet(output: str | Path, *, data_dir: str | Path | None, epochs: int, device: str = "auto",
                   progress: bool = False, save_epochs: Iterable[int] = (), log_dir: str | Path | None = None,
                   **config: Any) -> dict[str, Any]:
    """Train a :class:`SupernetModule` with ``lightning.Trainer`` and save it to ``output``.

    ``config`` holds the module's hyperparameters (sampling, num_supernets,
    channels, ..., seed, dataset, image_size, train_fraction, batch_size).
    ``save_epochs`` adds intermediate checkpoints ``<output stem>-ep<E>.ckpt``.
    ``log_dir``: per-epoch train loss/accuracy as ``<log_dir>/supernet/<output stem>/metrics.csv``
    (and TensorBoard when installed). Returns a summary (paths, seconds, final train loss/acc).
    """
    from nasrank.lightning_modules.data import ImageDataModule

    from nasrank.runs.atomic import check_writable

    if not isinstance(epochs, int) or epochs < 1:
        raise NasrankError(f"epochs must be a positive integer, got {epochs!r}")
    make_options(SupernetOptions, {**config, "epochs": epochs}, "supernet train")  # one error naming a bad option
    space_provider(config.get("space", "nb201"))  # a space without a supernet fails before any data loads
    output = check_writable(output, "supernet checkpoint (--output)")  # a folder is refused before training
    seed = int(config.get("seed", 0))
    L.seed_everything(seed, verbose=False)
    dm = ImageDataModule(config.get("dataset", "cifar10"), data_dir, batch_size=config.get("batch_size", 512),
                         val_fraction=config.get("val_fraction", 0.1),
                         train_fraction=config.get("train_fraction", 1.0), image_size=config.get("image_size"),
                         augment=config.get("augment", True), split_seed=config.get("split_seed", 0))
    module = SupernetModule(**{**config, "epochs": epochs, "num_classes": dm.num_classes})
    pattern = str(output.with_name(f"{output.stem}-ep{{epoch}}{output.suffix or '.ckpt'}"))
    saver = SaveAtEpochs([e for e in save_epochs if 0 < int(e) < epochs], pattern)
    from nasrank.runtime.devices import check_device

    check_device(device)  # gpu without a GPU: one clear line, not Lightning's traceback
    _quiet_lightning()
    from nasrank.lightning_modules.logs import make_loggers

    logger = make_loggers(log_dir, "supernet", output.stem)
    trainer = L.Trainer(accelerator=accelerator(device), devices=1, max_epochs=epochs,
                        gradient_clip_val=module.hparams.grad_clip, logger=logger, enable_checkpointing=False,
                        enable_model_summary=False, enable_progress_bar=progress, callbacks=[saver],
                        num_sanity_val_steps=0, limit_val_batches=0)
    stopped = _fit_or_stop(trainer, module, dm, output)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    return {"output": str(output), "checkpoints": [*saver.saved, str(output)], "epochs": epochs,
            **({"stopped_by": stopped, "epochs_done": module.epochs_done} if stopped else {}),
            "logs": None if not logger else str(Path(log_dir) / "supernet" / output.stem),
            "train_seconds": module.train_seconds, "global_step": int(trainer.global_step), **metrics}


def _fit_or_stop(trainer: L.Trainer, module: SupernetModule, dm: Any, output: Path) -> str | None:
    """``trainer.fit``, then save ``output``. SIGTERM (Lightning stops at the next step) or Ctrl-C during
    training still saves what was trained, as a checkpoint whose training record says so (``epochs_done``:
    the completed epochs, ``stopped_by``); returns ``"SIGTERM"``, or re-raises the KeyboardInterrupt."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    stopped = None
    try:
        trainer.fit(module, datamodule=dm)
    except SIGTERMException:
        stopped = "SIGTERM"
    except SystemExit:  # Lightning turns Ctrl-C into sys.exit(1) after its own shutdown
        if not trainer.interrupted:
            raise
        stopped = "SIGINT"
    if stopped is None:
        module.epochs_done = int(trainer.max_epochs or module.epochs_done)
        trainer.save_checkpoint(str(output), weights_only=False)
        return None
    from nasrank.runs.atomic import atomic_write

    ckpt: dict[str, Any] = {"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}
    module.on_save_checkpoint(ckpt)
    ckpt[CKPT_KEY]["stopped_by"] = stopped
    with atomic_write(output, "wb", what="supernet checkpoint") as fh:
        torch.save(ckpt, fh)
    if stopped == "SIGINT":
        import signal

        signal.signal(signal.SIGINT, signal.default_int_handler)  # Lightning left Ctrl-C ignored
        raise KeyboardInterrupt
    return stopped


def _quiet_lightning() -> None:
    import logging
    import warnings

    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda",
                 "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*GPU available but not used.*")
    warnings.filterwarnings("ignore", message=".*no `validation_step`.*")
    from nasrank.runtime.quiet import silence_third_party

    silence_third_party()
