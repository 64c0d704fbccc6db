"""The ``fear`` ranker (Dey et al. 2021, "FEAR: A Simple Lightweight Method to Rank Architectures").

Stage 1 trains the whole network with the regular recipe (cosine over the
full ``schedule_epochs`` horizon, gradient clipping 5) until the *training*
top-1 accuracy reaches ``threshold``: the running accuracy over the current
epoch, checked at each epoch's end, or every ``check_every_steps`` optimizer
steps when given. Time-to-threshold is recorded in seconds, epochs and
optimizer steps.

Stage 2 freezes everything except ``fear_tail(space, model, tail_cells)`` (the
freeze point; NB201 default: the last four cells, the final BN-ReLU and the
classifier) and trains the tail for
``stage2_epochs`` (batch 1024, lr 0.1, cosine). The score is the best
training top-1 of stage 2 (``score_split="train"``), the tail's held-out
accuracy after stage 2 (``"val"``) or ``exp(-held-out loss)`` (``"val_loss"``).
``record_protocols=True`` records the held-out accuracy and loss whatever the score.

``stage2="cached"`` (default): the frozen prefix runs in eval mode on the
un-augmented training images once, on the training device, and the features
stay there; the tail is trained on them, batched by index, in the same
Lightning run (:class:`~nasrank.lightning_modules.cached_tail.CachedTailModule`).
The cut is found
by ``torch.fx`` tracing with the tail modules (and fully frozen sub-modules)
as leaves, so every value that crosses from prefix to tail is cached (e.g.
both inputs of a DARTS cell). A network that cannot be traced falls back to
``"exact"`` (recorded in ``info["stage2_fallback"]``). ``stage2="exact"``
is the authors' variant: full forward passes through the frozen prefix
(eval-mode BatchNorm) with the usual augmentation.

Scores (higher is better; documented order):

* reached the threshold: stage-2 accuracy in ``[0, 1]``;
* did not reach it within ``max_stage1_epochs``: ``-1 + best stage-1
  epoch training accuracy`` in ``[-1, 0)``, no stage 2 (``info["reached"]``
  is False);
* early-rejected (stage 1 ran longer than ``reject_ratio × t_min``, where
  ``t_min`` is the fastest time-to-threshold this ranker has seen, in
  ``reject_by`` units: ``"seconds"`` or ``"steps"``): ``-2.0``, no stage 2,
  ``info["rejected"] = True``; its partial stage-1 time is charged.

Cost: ``seconds`` is the measured wall time of both stages (build, Trainer
setup and feature caching included); ``device_seconds = seconds × devices``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import lightning as L
import torch
from torch import nn

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.lightning_modules.cached_tail import CachedTailModule
from nasrank.lightning_modules.classification import ClassificationModule, trainer_devices
from nasrank.rankers.base import Evaluation, RunContext
from nasrank.options import number_in, option, optional_positive_int, positive_int, truthy
from nasrank.rankers.training import TrainingOptions, TrainingRankerBase
from nasrank.registry import RANKERS
from nasrank.rankers.fear_tail import check_tail_cells, fear_tail
from nasrank.spaces.base import Arch, SearchSpace

#: the authors' stage-1 training-accuracy thresholds
DEFAULT_THRESHOLDS = {"cifar10": 0.6, "cifar100": 0.3, "ImageNet16-120": 0.2}
REJECTED_SCORE = -2.0
#: stage-2 scores: best training top-1, held-out top-1, exp(-held-out cross-entropy)
STAGE2_SCORES = ("train", "val", "val_loss")


def val_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Stage 2's held-out accuracy and loss from a ``trainer.validate`` result."""
    return {"stage2_val_acc": float(metrics["val_acc"]), "stage2_val_loss": float(metrics["val_loss"])}


def stage2_score(info: dict[str, Any], score_split: str) -> float:
    """The score of a candidate that reached the threshold, in [0, 1] for every ``score_split``.

    ``val_loss`` scores ``exp(-loss)``: the order of the negative held-out loss, kept in (0, 1] so
    that a reached candidate still ranks above every not-reached (``[-1, 0)``) and rejected one.
    """
    if score_split == "val":
        return float(info["stage2_val_acc"])
    if score_split == "val_loss":
        return math.exp(-float(info["stage2_val_loss"]))
    return float(info["stage2_train_acc"])


class ThresholdStop(L.Callback):
    """Stops stage 1 when the running training top-1 reaches ``threshold`` (or the run is too slow).

    The running accuracy is the module's accuracy over the current epoch's
    batches so far; it is checked at each epoch's end, and also every
    ``check_every_steps`` optimizer steps when given. ``reject_after`` (in
    ``reject_by`` units, measured from the start of training) stops the run
    and marks it rejected.
    """

    def __init__(self, threshold: float, check_every_steps: int | None = None,
                 reject_after: float | None = None, reject_by: str = "seconds") -> None:
        self.threshold = threshold
        self.check_every_steps = check_every_steps
        self.reject_after = reject_after
        self.reject_by = reject_by
        self.reached = False
        self.rejected = False
        self.t0 = 0.0
        self.seconds = 0.0
        self.steps = 0
        self.epochs = 0.0
        self.acc_at_stop: float | None = None
        self.best_acc = 0.0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.t0 = time.perf_counter()

    def _mark(self, trainer: L.Trainer, module: ClassificationModule, batch_idx: int, epoch_end: bool) -> None:
        # reading the accuracy waits for the device, so the clock is read after the steps have run
        self.acc_at_stop = module.running_train_acc
        self.seconds = time.perf_counter() - self.t0
        self.steps = int(trainer.global_step)
        nb = trainer.num_training_batches
        frac = 1.0 if epoch_end or not nb or not math.isfinite(nb) else (batch_idx + 1) / nb
        self.epochs = trainer.current_epoch + frac

    def _check(self, trainer: L.Trainer, module: ClassificationModule, batch_idx: int, epoch_end: bool) -> None:
        acc = module.running_train_acc
        if epoch_end:
            self.best_acc = max(self.best_acc, acc)
        if acc >= self.threshold:
            self.reached = True
            self._mark(trainer, module, batch_idx, epoch_end)
            trainer.should_stop = True

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self.reached or self.rejected:
            return
        steps_in_epoch = batch_idx + 1
        if self.check_every_steps and steps_in_epoch % self.check_every_steps == 0:
            self._check(trainer, pl_module, batch_idx, epoch_end=False)  # type: ignore[arg-type]
            if self.reached:
                return
        if self.reject_after is not None:
            used = time.perf_counter() - self.t0 if self.reject_by == "seconds" else trainer.global_step
            if used > self.reject_after:
                self.rejected = True
                self._mark(trainer, pl_module, batch_idx, epoch_end=False)  # type: ignore[arg-type]
                trainer.should_stop = True

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # callbacks run before the module's own hook: the epoch counters are still intact
        if not (self.reached or self.rejected):
            self._check(trainer, pl_module, trainer.num_training_batches - 1, epoch_end=True)  # type: ignore[arg-type]


# -- the prefix/tail cut for cached stage 2 -------------------------------------------------
def split_at_tail(model: nn.Module, tail: list[nn.Module]) -> tuple[torch.fx.GraphModule, torch.fx.GraphModule, int]:
    """Split ``model`` into ``prefix(x) -> (f1, ..., fk)`` and ``tail(f1, ..., fk) -> logits``.

    Traced with ``torch.fx``; the tail modules and every sub-module holding no
    tail module are leaves (their own code is not traced). Both graph modules
    share the original sub-modules, so training the tail trains ``model``.
    Raises on untraceable networks.
    """
    import torch.fx as fx

    names = {id(m): n for n, m in model.named_modules()}
    missing = [m for m in tail if id(m) not in names]
    if missing:
        raise NasrankError("the FEAR tail holds modules that are not part of the model")
    tail_names = {names[id(m)] for m in tail}
    tail_ids = {id(m) for m in tail}
    holds_tail = {n for n, m in model.named_modules() if any(id(s) in tail_ids for s in m.modules())}

    class _Tracer(fx.Tracer):
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return qualname in tail_names or qualname not in holds_tail or super().is_leaf_module(m, qualname)

    graph = _Tracer().trace(model)
    order = list(graph.nodes)
    per_sample: set = set()
    in_tail: set = set()
    for n in order:
        ins = n.all_input_nodes
        if n.op == "placeholder" or any(i in per_sample for i in ins):
            per_sample.add(n)
        if (n.op == "call_module" and n.target in tail_names) or any(i in in_tail for i in ins):
            in_tail.add(n)
    output = order[-1]
    if output.op != "output" or output not in in_tail:
        raise NasrankError("the model's output does not depend on its FEAR tail modules")
    boundary = [n for n in order if n not in in_tail and n in per_sample and any(u in in_tail for u in n.users)]

    pg = fx.Graph()
    env: dict = {}
    for n in order:
        if n in in_tail:
            continue
        env[n] = pg.node_copy(n, lambda x: env[x])
    pg.output(tuple(env[b] for b in boundary))
    prefix = fx.GraphModule(model, pg)
    prefix.graph.eliminate_dead_code()
    prefix.recompile()

    tg = fx.Graph()
    env = {}
    for i, b in enumerate(boundary):
        env[b] = tg.placeholder(f"f{i}")
    for n in order:
        if n in env:
            continue
        if n in in_tail or (n not in per_sample and n.op != "placeholder"):
            env[n] = tg.node_copy(n, lambda x: env[x])
    tail_net = fx.GraphModule(model, tg)
    tail_net.graph.eliminate_dead_code()
    tail_net.recompile()
    return prefix, tail_net, len(boundary)


def _reject_ratio(value: Any, name: str, owner: str) -> float | None:
    return validate.optional_number(value, "reject_ratio (null disables it)", owner, low=0.0, low_open=True)


@dataclass
class FearOptions(TrainingOptions):
    """The ``fear`` ranker's options (Trainer settings and scale inherited; clipping at 5 by default)."""

    gradient_clip_val: float | None = option(5.0, "clip gradients to this norm (None: no clipping)",
                                             check=number_in(0.0, optional=True))
    threshold: float | None = option(None, "training-accuracy threshold of stage 1 (None: per dataset: "
                                           "cifar10 0.6, cifar100 0.3, ImageNet16-120 0.2)")
    check_every_steps: int | None = option(None, "check the threshold every N steps (None: at epoch ends)",
                                           check=optional_positive_int)
    schedule_epochs: float = option(200, "cosine horizon of stage 1 in epochs", check=number_in(0.0, low_open=True))
    max_stage1_epochs: int = option(30, "cap on stage 1's epochs", check=positive_int)
    tail_cells: int | None = option(None, "the freeze point: how many of the last cells stage 2 trains "
                                          "(None: the space's default)")
    stage2: str = option("cached", "stage 2 on cached prefix features, or exact", choices=("cached", "exact"))
    stage2_epochs: int = option(10, "stage 2 epochs", check=positive_int)
    stage2_batch_size: int = option(1024, "stage 2 batch size", check=positive_int)
    stage2_lr: float = option(0.1, "stage 2 learning rate", check=number_in(0.0, low_open=True))
    stage2_augment: bool = option(True, "augment stage 2's images (exact only)")
    score_split: str = option("train", "the score: stage 2's train accuracy, held-out accuracy or held-out loss",
                              choices=STAGE2_SCORES)
    reject_ratio: float | None = option(4.0, "reject a candidate slower than this times the fastest to the "
                                             "threshold (None disables)", check=_reject_ratio)
    reject_by: str = option("seconds", "unit of early rejection", choices=("seconds", "steps"))
    record_protocols: bool = option(False, "record every stage-2 protocol's value", check=truthy)


@RANKERS.register("fear")
class FearRanker(TrainingRankerBase):
    """FEAR: train to a training-accuracy threshold, then train only the tail briefly.

    See the module docstring for the score scale and cost. Options beyond the
    shared scale knobs: ``threshold`` (default per dataset: cifar10 0.6,
    cifar100 0.3, ImageNet16-120 0.2), ``check_every_steps``,
    ``schedule_epochs`` (cosine horizon of stage 1, default 200),
    ``max_stage1_epochs`` (cap), ``tail_cells`` (the freeze point: how many of
    the last cells stage 2 trains; None = the space's default), ``stage2`` ("cached" | "exact"),
    ``stage2_epochs``, ``stage2_batch_size`` (1024), ``stage2_lr`` (0.1),
    ``stage2_augment`` (exact only), ``score_split`` ("train" | "val" | "val_loss"), ``record_protocols``,
    ``reject_ratio`` (4; None disables), ``reject_by`` ("seconds" | "steps").
    """

    Options = FearOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        threshold = self.options.threshold
        if threshold is None:
            if self.context.dataset not in DEFAULT_THRESHOLDS:
                raise NasrankError(f"fear has no default threshold for dataset {self.context.dataset!r}: "
                                   "give threshold=ACC (training top-1 in (0, 1))")
            threshold = DEFAULT_THRESHOLDS[self.context.dataset]
        threshold = validate.number(threshold, "threshold", "ranker 'fear' (a training accuracy)", 0.0, 1.0,
                                    low_open=True)
        self.set_option("threshold", float(threshold))
        if self.tail_cells is not None:
            check_tail_cells(self.tail_cells)  # against the network: per build, in evaluate_one
        self.depends_on_history = self.reject_ratio is not None  # t_min carries over between candidates
        #: fastest time-to-threshold seen by this ranker: {"seconds": s, "steps": n}
        self.t_min: dict[str, float] = {}

    @property
    def needs_val_pass(self) -> bool:
        """Whether stage 2 ends with a pass over the held-out split (a held-out score, or every protocol)."""
        return self.score_split != "train" or self.record_protocols

    # -- stage 1 --------------------------------------------------------------
    def reject_after(self) -> float | None:
        if self.reject_ratio is None or self.reject_by not in self.t_min:
            return None
        return self.reject_ratio * self.t_min[self.reject_by]

    def stage1(self, model: nn.Module, name: str) -> tuple[ThresholdStop, ClassificationModule, dict[str, Any]]:
        stop = ThresholdStop(self.threshold, self.check_every_steps, self.reject_after(), self.reject_by)
        module = self.module(model, self.schedule_epochs)
        trainer = self.trainer(self.max_stage1_epochs, callbacks=[stop], name=f"{name}-stage1")
        t0, c0 = time.perf_counter(), time.process_time()
        trainer.fit(module, datamodule=self.datamodule())
        info = {"stage1_seconds": time.perf_counter() - t0, "stage1_process_seconds": time.process_time() - c0,
                "stage1_steps": int(trainer.global_step),
                "stage1_epochs": stop.epochs if (stop.reached or stop.rejected) else float(trainer.current_epoch),
                "stage1_best_epoch_acc": max(module.epoch_train_acc, default=stop.best_acc),
                "devices": trainer_devices(trainer)}
        return stop, module, info

    # -- stage 2 --------------------------------------------------------------
    @property
    def stage2_settings(self):
        """The Trainer settings of stage 2: stage 1's with ``stage2_lr``."""
        import dataclasses

        return dataclasses.replace(self.trainer_settings, lr=self.stage2_lr)

    def tail(self, model: nn.Module) -> list[nn.Module]:
        """The modules stage 2 trains: :func:`~nasrank.rankers.fear_tail.fear_tail` at this ranker's freeze point."""
        return fear_tail(self.space, model, self.tail_cells)

    def stage2_exact(self, model: nn.Module, tail: list[nn.Module], name: str) -> dict[str, Any]:
        bs = self.stage2_batch_size
        module = ClassificationModule(model, self.stage2_settings, schedule_epochs=self.stage2_epochs,
                                      steps_per_epoch=self.steps_per_epoch(bs), trainable=tail)
        dm = self.datamodule(bs, augment=self.stage2_augment)
        trainer = self.trainer(self.stage2_epochs, name=f"{name}-stage2")
        trainer.fit(module, datamodule=dm)
        out: dict[str, Any] = {"stage2_train_acc": max(module.epoch_train_acc, default=0.0),
                               "stage2_steps": int(trainer.global_step)}
        if self.needs_val_pass:
            out.update(val_metrics(trainer.validate(module, datamodule=dm, verbose=False)[0]))
        return out

    def stage2_cached(self, model: nn.Module, tail: list[nn.Module], name: str) -> dict[str, Any]:
        """Stage 2 on the prefix's features, cached once on the training device (one Trainer)."""
        prefix, tail_net, n_cut = split_at_tail(model, tail)
        model.eval()
        dm = self.datamodule()
        splits = ("train", "val") if self.needs_val_pass else ("train",)
        images = {s: dm.split(s).tensors for s in splits}
        bs = self.stage2_batch_size
        module = CachedTailModule(prefix, tail_net, images, batch_size=bs, settings=self.stage2_settings,
                                  schedule_epochs=self.stage2_epochs,
                                  steps_per_epoch=-(-len(images["train"][1]) // bs), trainable=tail)
        trainer = self.trainer(self.stage2_epochs, name=f"{name}-stage2")
        trainer.fit(module)
        out: dict[str, Any] = {"stage2_train_acc": max(module.epoch_train_acc, default=0.0),
                               "stage2_steps": int(trainer.global_step), "stage2_cached_tensors": n_cut}
        if self.needs_val_pass:
            out.update(val_metrics(trainer.validate(module, verbose=False)[0]))
        out["stage2_cache_seconds"] = module.cache_seconds
        return out

    # -- one candidate ----------------------------------------------------------
    def evaluate_one(self, arch: Arch) -> Evaluation:
        t0 = time.perf_counter()
        self.datamodule()
        self.seed_run()
        name = self.run_name(arch)
        model = self.build(arch)
        tail = self.tail(model)  # a freeze point the network cannot honour fails before any training
        stop, module, info = self.stage1(model, name)
        info.update({"threshold": self.threshold, "reached": stop.reached, "rejected": stop.rejected,
                     "reject_after": self.reject_after(), "reject_by": self.reject_by})
        if stop.reached:
            info.update({"time_to_threshold_seconds": stop.seconds, "time_to_threshold_steps": stop.steps,
                         "time_to_threshold_epochs": stop.epochs, "stage1_train_acc": stop.acc_at_stop})
            for unit, v in (("seconds", stop.seconds), ("steps", float(stop.steps))):
                self.t_min[unit] = min(self.t_min.get(unit, math.inf), v)
            t2, c2 = time.perf_counter(), time.process_time()
            mode = self.stage2
            if mode == "cached":
                try:
                    info.update(self.stage2_cached(model, tail, name))
                except Exception as exc:  # untraceable network: the exact variant gives the same ranking
                    info["stage2_fallback"] = f"exact ({type(exc).__name__}: {exc})"[:300]
                    mode = "exact"
            if mode == "exact":
                info.update(self.stage2_exact(model, tail, name))
            info["stage2"] = mode
            info["stage2_seconds"] = time.perf_counter() - t2
            info["stage2_process_seconds"] = time.process_time() - c2
            score = stage2_score(info, self.score_split)
        elif stop.rejected:
            info["stage1_train_acc"] = stop.acc_at_stop
            score = REJECTED_SCORE
        else:
            score = -1.0 + float(info["stage1_best_epoch_acc"])
        info["t_min"] = dict(self.t_min)
        dt = time.perf_counter() - t0
        score = float(score)
        if not math.isfinite(score):
            info["invalid"] = "nan"
        status = "ok" if stop.reached else "rejected" if stop.rejected else "not_reached"
        return Evaluation(score, dt, dt * info["devices"], info, status)
