"""The ``oneshot`` ranker: score cells with a trained supernet (GUIDE §4).

It runs on every space that provides a supernet (``SearchSpace.supernet()``,
:mod:`nasrank.spaces.supernet_contract`): nb201, nb101 and darts built in.

Train the supernet once (``nasrank supernet train ... --output CKPT``), then
rank with ``--ranker oneshot --ranker-cfg supernet=CKPT``.

Score: the sub-network's negative mean cross-entropy (``metric="neg_loss"``)
or accuracy (``"acc"``, a fraction) on the first ``val_images`` images (all by
default) of the held-out split that the supernet was trained beside
(``ImageDataModule`` with the checkpoint's dataset, image size,
``val_fraction`` and ``split_seed``), in batches of ``batch_size``. With
``bn_recalibrate_batches=B`` (default 2) BN statistics are re-estimated per
architecture on B fixed training batches of ``batch_size`` images (drawn with
the run's seed) and the held-out images are scored in eval mode;
``bn_recalibrate_batches=0`` uses batch statistics (train mode) instead.

The defaults are the protocol measured best in ``benchmarks/oneshot_nb201.py``
(docs/results.md, one-shot section): on 200-epoch supernets, recalibrated BN with the
negative loss on all 508 held-out images of the reduced CIFAR-10 subset
(batches of 254) ranked better than batch-statistics BN, than accuracy and
than 192 images, at about twice the scoring cost of batch statistics.

Cost (``Evaluation.seconds``), exactly:

* scoring: the wall time of each ``evaluate`` call (including the one-off
  loading of the checkpoint and images on the first call), split equally
  among the architectures of that call;
* training (``charge_training=True``): the supernet's training wall seconds,
  as stored in the checkpoint, are divided among the architectures this
  ranker scores over its lifetime. Since that number is only known at the
  end, the whole training cost is charged to the first ``evaluate`` call,
  split equally among its architectures; later calls pay scoring only. The
  sum over the ranker's lifetime is thus exactly ``train_seconds + scoring``,
  and when all architectures come in one call (``nasrank evaluate``) each
  pays ``train_seconds / N`` plus its share of scoring. ``info`` carries
  ``train_seconds``, ``archs_scored`` (lifetime, so far) and
  ``amortized_train_seconds = train_seconds / archs_scored``, the per-arch
  share over the lifetime so far.

``device_seconds`` is computed the same way from the checkpoint's
``train_device_seconds`` and the scoring wall time (one device).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from nasrank.errors import NasrankError
from nasrank.options import non_negative_int, option, positive_int
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace


def _checkpoint(value: Any, name: str, owner: str) -> str:
    if not value:
        raise NasrankError("ranker 'oneshot' needs supernet=CKPT (a checkpoint from `nasrank supernet train`)")
    return str(value)


def _val_images(value: Any, name: str, owner: str) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise NasrankError(f"{owner}: val_images must be a positive integer, got {value!r}")
    return value


@dataclass
class OneShotOptions:
    """The ``oneshot`` ranker's options."""

    supernet: str | None = option(None, "the checkpoint of `nasrank supernet train` (required)", check=_checkpoint)
    metric: str = option("neg_loss", "sub-network score: held-out acc or neg_loss", choices=("acc", "neg_loss"))
    val_images: int | None = option(None, "held-out images scored (None: all)", check=_val_images)
    batch_size: int = option(254, "scoring batch size", check=positive_int)
    bn_recalibrate_batches: int = option(2, "training batches that re-estimate BatchNorm statistics",
                                         check=non_negative_int)
    charge_training: bool = option(True, "charge each candidate its share of the supernet's training")


@RANKERS.register("oneshot")
class OneShotRanker(Ranker):
    """Rank cells by their sub-network's held-out loss or accuracy in a trained supernet."""

    supported_spaces = None
    requires = ("supernet",)
    deterministic = True

    Options = OneShotOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        from nasrank.errors import existing_file

        existing_file(self.supernet, "supernet checkpoint (ranker 'oneshot' supernet=)",
                      f"supernet checkpoint {self.supernet} is a folder; give the .ckpt file `nasrank supernet "
                      "train` wrote (ranker 'oneshot' supernet=)")
        self._loaded: tuple[Any, ...] | None = None
        self._supernet_sha: str | None = None  # the loaded checkpoint's, which keys the stored scores
        self.archs_scored = 0
        self.scoring_seconds = 0.0

    def config(self) -> dict[str, Any]:
        """Options plus the sha256 of the checkpoint's bytes (of the one loaded, once it is), so a retrained
        checkpoint at the same path never reuses stored scores, and a copy elsewhere does."""
        from nasrank.utils.fingerprint import file_sha256

        sha = self._supernet_sha or file_sha256(self.supernet, "supernet checkpoint (ranker 'oneshot' supernet=)")
        return {**super().config(), "supernet_sha256": sha}

    # -- loading --------------------------------------------------------------
    def _load(self) -> tuple[Any, ...]:
        """``(module, info, images, labels, recal batches, device)``, loaded once."""
        if self._loaded is None:
            from nasrank.lightning_modules.data import ImageDataModule
            from nasrank.lightning_modules.supernet import load_supernet, torch_device

            from nasrank.utils.fingerprint import file_sha256

            sha = file_sha256(self.supernet, "supernet checkpoint (ranker 'oneshot' supernet=)")
            # the checkpoint must be of the run's space: a space it names by import path is never imported
            module, info = load_supernet(self.supernet, space=type(self.space))
            self._supernet_sha = sha
            hp = module.hparams
            if hp.dataset != self.context.dataset:
                raise NasrankError(f"supernet {self.supernet} was trained on {hp.dataset!r}, but the run's dataset "
                                   f"is {self.context.dataset!r}")
            dm = ImageDataModule(hp.dataset, self.context.data_dir, batch_size=self.batch_size,
                                 val_fraction=hp.val_fraction, train_fraction=hp.train_fraction,
                                 image_size=hp.image_size, augment=False, split_seed=hp.split_seed)
            x, y = dm.split("val").tensors
            if self.val_images is not None:
                x, y = x[:self.val_images], y[:self.val_images]
            recal = [b for b, _ in dm.fixed_batches(self.batch_size, self.bn_recalibrate_batches,
                                                    seed=self.context.seed)] if self.bn_recalibrate_batches else []
            self._loaded = (module, info, x, y, recal, torch_device(self.context.device))
        return self._loaded

    @property
    def checkpoint_info(self) -> dict[str, Any]:
        """Training seconds, epochs and steps stored in the checkpoint (loads it if needed)."""
        return dict(self._load()[1])

    # -- scoring --------------------------------------------------------------
    def score_counts(self, archs: Sequence[Arch]) -> Any:
        """Per arch and held-out batch: ``[correct, summed loss, images]`` (no cost accounting;
        see :func:`~nasrank.lightning_modules.supernet_scoring.score_batches`)."""
        from nasrank.lightning_modules.supernet_scoring import score_batches

        module, _, x, y, recal, device = self._load()
        return score_batches(module, list(archs), x, y, batch_size=self.batch_size, recal_batches=recal,
                             device=device)

    def scores_by_metric(self, archs: Sequence[Arch],
                         metrics: Sequence[str] = ("acc", "neg_loss")) -> dict[str, list[float]]:
        """Raw scores for several metrics from one pass (no cost accounting; for benchmarks)."""
        from nasrank.lightning_modules.supernet_scoring import scores_from_batches

        return scores_from_batches(self.score_counts(archs), metrics)

    def evaluate(self, archs: Sequence[Arch],
                 on_result: Callable[[int, Evaluation], None] | None = None) -> list[Evaluation]:
        if not archs:
            return []
        t0 = time.perf_counter()
        scores = self.scores_by_metric(archs, (self.metric,))[self.metric]
        info = self._load()[1]
        dt = time.perf_counter() - t0
        n = len(archs)
        first = self.archs_scored == 0
        self.archs_scored += n
        self.scoring_seconds += dt
        train_s = float(info.get("train_seconds", 0.0))
        train_dev = float(info.get("train_device_seconds", train_s))
        share, share_dev = (train_s / n, train_dev / n) if (first and self.charge_training) else (0.0, 0.0)
        base = {"train_seconds": train_s, "scoring_seconds": dt / n, "archs_scored": self.archs_scored,
                "amortized_train_seconds": train_s / self.archs_scored, "supernet_epochs": info.get("epochs_done")}
        out = []
        for s in scores:
            ev_info = dict(base)
            if not math.isfinite(s):
                ev_info["invalid"] = "nan" if math.isnan(s) else "inf"
            out.append(Evaluation(float(s), dt / n + share, dt / n + share_dev, ev_info))
            if on_result is not None:
                on_result(len(out) - 1, out[-1])
        return out
