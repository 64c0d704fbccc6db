"""What every zero-shot ranker shares: options, data, seeds, building, and the one-measure ranker.

Protocol (``../shared/GUIDE.md`` §3, Abdelfattah et al. 2021): a freshly initialised network
(``space.build`` under ``torch.manual_seed(seed)``, the caller's RNG state restored
afterwards), BN in train mode, ``batch_size`` real training images drawn by
``ImageDataModule.fixed_batches(seed=seed)``, the score averaged over ``seeds`` seeds
(``context.seed + i``) and over ``n_batches`` batches (each scored on its own; a data-free
measure once per seed).
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from nasrank.errors import NasrankError
from nasrank.options import as_dict, option, positive_int
from nasrank.rankers.base import RunContext, TimedRanker
from nasrank.rankers.zero_cost._engine import compute_measures
from nasrank.rankers.zero_cost._registry import get_measure
from nasrank.rankers.zero_cost._weights import apply_weights, resolve_device
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace
from nasrank.spaces.build_options import check_build_kwargs

FISHER_MODES = ("weight", "channel")


def _build_kwargs(value: Any, name: str, owner: str) -> dict[str, Any]:
    if value is not None and not isinstance(value, dict):
        raise NasrankError(f"build_kwargs must be a dict of space.build options, got {value!r}")
    return dict(value or {})


@dataclass
class ZeroShotOptions:
    """The options every zero-shot ranker takes."""

    batch_size: int = option(128, "images per batch", check=positive_int)
    n_batches: int = option(1, "batches per measure", check=positive_int)
    seeds: int = option(3, "initialisations averaged", check=positive_int)
    build_kwargs: dict[str, Any] = option({}, "space.build options (e.g. channels)", check=_build_kwargs)
    weights_from: Any = option(None, "load weights before scoring: a checkpoint path or a callable(arch, model)")
    fisher_mode: str = option("weight", "fisher per weight or per channel", choices=FISHER_MODES)


def with_measure_options(base: type, decls: Sequence[type], name: str) -> type:
    """``base`` extended by the measures' own option declarations."""
    decls = [d for d in decls if d is not None]
    return dataclasses.make_dataclass(name, [], bases=(base, *decls)) if decls else base


class ZeroShotBase(TimedRanker):
    """Shared machinery: data, seeds, device, building and (optionally) loading weights."""

    measures: tuple[str, ...] = ()

    Options = ZeroShotOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        check_build_kwargs(space, self.build_kwargs, f"ranker {self.registry_name!r} build_kwargs")
        self._check_data()
        self._batches: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        self._weights_cache: dict[str, Any] = {}
        self._weights_sha256: str | None = None
        self._device: torch.device | None = None

    def _check_data(self) -> None:
        """A measure that reads images needs the dataset's files: checked before anything is scored."""
        from nasrank.rankers.zero_cost._registry import get_measure

        measures = self.measures
        if isinstance(measures, str):
            measures = [m.strip() for m in measures.split(",")]
        if any(not getattr(get_measure(m), "data_free", False) for m in measures):
            from nasrank.lightning_modules.datasets import check_dataset

            check_dataset(self.context.dataset, self.context.data_dir, f"the {self.registry_name!r} ranker")

    def config(self) -> dict[str, Any]:
        """The options, plus the sha256 of a ``weights_from`` file: new weights at the same path are a new
        result-store key. The file is read once, and the weights scored are the ones hashed."""
        from nasrank.rankers.zero_cost._weights import read_state_dict

        cfg = super().config()
        if isinstance(self.weights_from, (str, Path)):
            key = str(self.weights_from)
            if self._weights_sha256 is None or key not in self._weights_cache:
                self._weights_cache[key], self._weights_sha256 = read_state_dict(key, with_sha256=True)
            cfg["weights_sha256"] = self._weights_sha256
        return cfg

    @property
    def device(self) -> torch.device:
        if self._device is None:
            self._device = resolve_device(self.context.device)
        return self._device

    def _dataset_info(self) -> Any:
        from nasrank.lightning_modules.datasets import dataset_info

        return dataset_info(self.context.dataset)

    def batches(self, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The fixed image batches of ``seed``, on the device (cached per ranker)."""
        if seed not in self._batches:
            from nasrank.lightning_modules.data import ImageDataModule

            dm = ImageDataModule(self.context.dataset, self.context.data_dir)
            self._batches[seed] = [(x.to(self.device), y.to(self.device))
                                   for x, y in dm.fixed_batches(self.batch_size, self.n_batches, seed=seed)]
        return self._batches[seed]

    def build(self, arch: Arch, seed: int) -> tuple[nn.Module, dict[str, Any]]:
        """A freshly initialised network for ``seed`` (weights from ``weights_from`` if set)."""
        kw = {"num_classes": self._dataset_info().num_classes, **self.build_kwargs}
        with torch.random.fork_rng(devices=[]):  # leave the caller's RNG state alone
            torch.manual_seed(seed)
            model = self.space.build(arch, **kw)
        info = apply_weights(model, arch, self.weights_from, self._weights_cache)
        return model.to(self.device), info

    def _blocks(self, model: nn.Module) -> list[nn.Module] | None:
        """The network's cells for block-wise measures (AZ-NAS): the space's FEAR cells."""
        try:
            return list(self.space.fear_cells(model).cells) or None
        except Exception:  # a user's space without cells: the model's children
            return None

    def compute_all(self, arch: Arch, measures: Sequence[str]) -> tuple[dict[str, float], dict[str, Any]]:
        """Average of each measure over seeds × batches, with costs and reasons in ``info``."""
        img = self._dataset_info().image_size
        need_data = any(not get_measure(m).data_free for m in measures)
        sums: dict[str, list[float]] = {m: [] for m in measures}
        secs: dict[str, float] = {m: 0.0 for m in measures}
        reasons: dict[str, str] = {}
        extra: dict[str, Any] = {}
        opts = as_dict(self.options)
        t_build = 0.0
        for i in range(self.seeds):
            seed = int(self.context.seed) + i
            t0 = time.perf_counter()
            model, winfo = self.build(arch, seed)
            extra.update(winfo)
            t_build += time.perf_counter() - t0
            batches = self.batches(seed) if need_data else [(None, None)]
            ctx = {"seed": seed, "blocks": self._blocks(model)}
            for b, (x, y) in enumerate(batches):
                ms = [m for m in measures if b == 0 or not get_measure(m).data_free]
                shape = (1, 3, img, img) if x is None else (1, *x.shape[1:])
                vals, s, why = compute_measures(model, x, y, ms, input_shape=shape, fisher_mode=self.fisher_mode,
                                                options=opts, context=ctx)
                for m, v in vals.items():
                    sums[m].append(v)
                for m, v in s.items():
                    secs[m] += v
                reasons.update(why)
            del model
        for m in measures:
            secs[m] += t_build / len(measures)
        means = {m: float(np.mean(v)) if v else float("nan") for m, v in sums.items()}
        info: dict[str, Any] = {**extra, "measure_seconds": secs}
        bad = {m: r for m, r in reasons.items() if not math.isfinite(means.get(m, float("nan")))}
        if bad:
            info["reason"] = bad if len(measures) > 1 else next(iter(bad.values()))
        return means, info

    def safe_compute_all(self, arch: Arch, measures: Sequence[str]) -> tuple[dict[str, float], dict[str, Any]]:
        """:meth:`compute_all`, but running out of memory gives NaN scores (with the reason), not a crash."""
        try:
            return self.compute_all(arch, measures)
        except torch.OutOfMemoryError as exc:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            return {m: float("nan") for m in measures}, {"reason": f"out of memory: {str(exc).splitlines()[0]}"}


class SingleMeasure(ZeroShotBase):
    """A ranker whose score is one measure."""

    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        means, info = self.safe_compute_all(arch, self.measures)
        (m,) = self.measures
        info = {k: v for k, v in info.items() if k != "measure_seconds"}
        return means[m], info


def measure_ranker(measure: Any, module: str, doc: str | None) -> type[ZeroShotBase]:
    """Register the ranker of ``measure`` (defined in ``module``), named as the measure,
    documented by the module's docstring, with the measure's own options."""
    name = measure.name
    title = "".join(p.title() for p in name.split("_"))
    opts = with_measure_options(ZeroShotOptions, [measure.Options], f"{title}Options")
    cls = type(f"{title}Ranker", (SingleMeasure,),
               {"measures": (name,), "__doc__": doc, "__module__": module, "Options": opts})
    return RANKERS.register(name)(cls)
