"""Zero-shot rankers (zero-cost proxies) for any space whose networks are built by ``space.build``.

Protocol (``../shared/GUIDE.md`` §3, Abdelfattah et al. 2021): a freshly
initialised network (``space.build`` under ``torch.manual_seed(seed)``, the
caller's RNG state restored afterwards), BN in
train mode, ``batch_size`` real training images drawn by
``ImageDataModule.fixed_batches(seed=seed)``, the score averaged over ``seeds``
seeds (``context.seed + i``) and over ``n_batches`` batches (each batch is
scored on its own). Per-weight scores are summed over the Conv and Linear
layers (weights only, no biases).

=============  ================================================================
measure        definition
=============  ================================================================
grad_norm      Σ_layers ‖∂L/∂W‖₂ (cross-entropy loss L)
snip           Σ |W ⊙ ∂L/∂W|
plain          Σ W ⊙ ∂L/∂W
fisher         Σ_layers Σ_channels 0.5·mean_batch(Σ_space a·∂L/∂a)² · fan_in, a = Conv/Linear
               output; fan_in = weight.shape[1:].numel(): the reference code (zero-cost-nas)
               broadcasts each channel's value to the channel's weights before summing.
               ``fisher_mode="channel"`` drops the fan-in factor (the literal per-channel sum).
grasp          Σ −W ⊙ (H g), g = ∂L/∂W, H g by double backward (one forward)
jacob_cov      J = ∂(Σ output)/∂x per sample, C = corrcoef(J), eigenvalues v:
               −Σ (log(v + 1e-5) + 1/(v + 1e-5))
relu_logdet    NASWOT: K = Σ_ReLUs c cᵀ + (1−c)(1−c)ᵀ over the binary codes c of each
               ReLU's output; logdet K (slogdet)
synflow        data-free: float64, |W|, BN replaced by identity, one all-ones input;
               Σ |W ⊙ ∂(Σ output)/∂W|. The model is never modified: |W| is passed as
               float64 copies through ``torch.func.functional_call`` (the signs are
               therefore "restored" trivially) and the BN modules are swapped back.
=============  ================================================================

Shared passes (:func:`compute_measures`): one forward pass serves grad_norm, snip,
plain, fisher (activation-gradient hooks), relu_logdet (ReLU forward hooks),
jacob_cov (a second backward of Σ output to the input, from the same forward)
and grasp (the first backward is taken with ``create_graph`` and H g is one more
backward); synflow has its own data-free pass on the same network instance.
Every measure gives exactly the value of its single-measure run (the tests check
it to 1e-6 relative).

Degenerate networks (e.g. an NB201 cell with no input→output path) give finite
but meaningless values (0 for the gradient measures) or NaN/−inf (jacob_cov:
constant Jacobian rows; relu_logdet: singular K); the reason is in
``info["reason"]`` and :class:`TimedRanker` marks ``info["invalid"]``.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasrank.spaces.build_options import check_build_kwargs
from nasrank.errors import NasrankError
from nasrank.options import option, positive_int
from nasrank.rankers.base import RunContext, TimedRanker
from nasrank.registry import RANKERS
from nasrank.spaces.base import Arch, SearchSpace

MEASURES: tuple[str, ...] = ("grad_norm", "snip", "grasp", "fisher", "plain", "synflow", "jacob_cov", "relu_logdet")
#: measures read from the first-order backward of the loss
_LOSS_GRAD = ("grad_norm", "snip", "plain", "fisher", "grasp")
#: measures that need real images
_DATA = ("grad_norm", "snip", "grasp", "fisher", "plain", "jacob_cov", "relu_logdet")
#: fisher: "weight" = the reference code (channel value × fan-in), "channel" = plain per-channel sum
FISHER_MODES = ("weight", "channel")
_WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)

WeightsFrom = str | Path | Callable[[Arch, nn.Module], Any] | None


# --------------------------------------------------------------------------
# device and weights helpers
# --------------------------------------------------------------------------
def resolve_device(name: str | torch.device | None) -> torch.device:
    """The ``torch.device`` zero-shot scoring runs on (no Trainer): :func:`nasrank.runtime.devices.torch_device`."""
    from nasrank.runtime.devices import torch_device

    return torch_device(name)


def read_state_dict(path: str | Path, with_sha256: bool = False) -> Any:
    """``torch.load(path)``: a state dict, or a dict holding one under ``"state_dict"``; with ``with_sha256``,
    ``(state dict, sha256 of the bytes it was read from)`` (the result store keys on those bytes)."""
    import hashlib
    import io

    p = Path(path)
    if not p.is_file():
        from nasrank.errors import MissingFileError

        raise MissingFileError(p, "weights file (weights_from)")
    data = p.read_bytes()
    try:  # weights_only: tensors and plain containers only, a planted pickle cannot run code
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        from nasrank.errors import unreadable_pickle

        raise NasrankError(f"cannot read weights file {p} as a state dict: {unreadable_pickle(exc)}") from None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise NasrankError(f"weights file {p} holds a {type(obj).__name__}, not a state dict")
    return (obj, hashlib.sha256(data).hexdigest()) if with_sha256 else obj


def apply_weights(model: nn.Module, arch: Arch, weights_from: WeightsFrom,
                  cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load ``weights_from`` into ``model`` (``strict=False``); return what was loaded.

    ``weights_from`` is a path (read once per ``cache``) or a callable
    ``(arch, model) -> state_dict | None`` (``None``: it loaded the weights itself).
    """
    if weights_from is None:
        return {}
    if callable(weights_from):
        sd = weights_from(arch, model)
        if sd is None:
            return {"weights_from": "callable"}
    else:
        key = str(weights_from)
        if cache is not None and key in cache:
            sd = cache[key]
        else:
            sd = read_state_dict(key)
            if cache is not None:
                cache[key] = sd
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    res = model.load_state_dict(sd, strict=False)
    return {"weights_missing": len(res.missing_keys), "weights_unexpected": len(res.unexpected_keys)}


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The Conv and Linear layers whose weights the per-weight scores sum over."""
    return [m for m in model.modules() if isinstance(m, _WEIGHT_LAYERS) and m.weight is not None]


@contextlib.contextmanager
def _bn_removed(model: nn.Module) -> Iterator[None]:
    """Temporarily replace every BatchNorm module by ``nn.Identity`` (restored afterwards)."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    try:
        for parent in list(model.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.modules.batchnorm._BatchNorm):
                    swapped.append((parent, name, child))
                    setattr(parent, name, nn.Identity())
        yield
    finally:
        for parent, name, child in reversed(swapped):
            setattr(parent, name, child)


# --------------------------------------------------------------------------
# the measures
# --------------------------------------------------------------------------
def _sum_float(ts: Sequence[torch.Tensor]) -> float:
    return float(sum(float(t) for t in ts)) if ts else 0.0


def synflow_score(model: nn.Module, input_shape: Sequence[int]) -> float:
    """SynFlow of ``model`` (which is left exactly as it was)."""
    layers = weight_layers(model)
    ids = {id(m.weight) for m in layers}
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with _bn_removed(model):
        params = {n: p.detach().double().abs().requires_grad_(id(p) in ids) for n, p in model.named_parameters()}
        buffers = {n: (b.detach().double() if b.is_floating_point() else b) for n, b in model.named_buffers()}
        x = torch.ones(tuple(input_shape), dtype=torch.float64, device=device)
        out = torch.func.functional_call(model, {**params, **buffers}, (x,))
        name_of = {id(p): n for n, p in model.named_parameters()}
        ws = [params[name_of[id(m.weight)]] for m in layers]
        grads = torch.autograd.grad(out.sum(), ws, allow_unused=True)
    return float(sum(float((w.detach() * g).abs().sum()) for w, g in zip(ws, grads) if g is not None))


def jacob_cov_from(jac: torch.Tensor) -> tuple[float, str | None]:
    """The jacob_cov score of per-sample input gradients ``jac`` (N × ...)."""
    j = jac.reshape(jac.shape[0], -1).detach().double().cpu().numpy()
    if not np.all(np.isfinite(j)):
        return float("nan"), "non-finite input gradients"
    with np.errstate(all="ignore"):
        corr = np.corrcoef(j)
    if not np.all(np.isfinite(corr)):
        return float("nan"), "constant Jacobian rows (the output does not depend on the input)"
    try:
        v = np.linalg.eigvalsh(corr)
    except np.linalg.LinAlgError as exc:
        return float("nan"), f"eigenvalues did not converge: {exc}"
    k = 1e-5
    with np.errstate(all="ignore"):
        s = float(-np.sum(np.log(v + k) + 1.0 / (v + k)))
    return s, (None if math.isfinite(s) else "eigenvalues of the Jacobian correlation below -1e-5")


class _Hooks:
    """Forward hooks for fisher (Conv/Linear outputs) and relu_logdet (ReLU outputs)."""

    def __init__(self, model: nn.Module, fisher: bool, relu: bool, fisher_mode: str = "weight") -> None:
        self.fisher_mode = fisher_mode
        self.handles: list[Any] = []
        self.fisher_on = False
        self.fisher_terms: list[torch.Tensor] = []
        self.K: torch.Tensor | None = None
        self.relu_seconds = 0.0
        if fisher:
            for m in weight_layers(model):
                self.handles.append(m.register_forward_hook(self._fisher_fwd))
        if relu:
            for m in model.modules():
                if isinstance(m, nn.ReLU):
                    self.handles.append(m.register_forward_hook(self._relu_fwd))

    def _fisher_fwd(self, module: nn.Module, inp: Any, out: torch.Tensor) -> None:
        if not out.requires_grad:
            return
        act = out.detach()
        fan_in = module.weight[0].numel() if self.fisher_mode == "weight" else 1

        def on_grad(g: torch.Tensor) -> None:
            if not self.fisher_on:
                return
            g = g.detach()
            prod = act * g
            g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
            # the reference code broadcasts each channel's value to the channel's weights
            # (weight.shape[1:]) before summing: a fan-in factor per layer
            self.fisher_terms.append(g_nk.pow(2).mean(0).mul(0.5).sum() * fan_in)

        out.register_hook(on_grad)

    def _relu_fwd(self, module: nn.Module, inp: Any, out: torch.Tensor) -> None:
        t0 = time.perf_counter()
        c = (out.detach().reshape(out.shape[0], -1) > 0).float()
        n = c.shape[1]
        cc = (c @ c.t()).double()
        r = c.sum(1).double()
        k = 2.0 * cc - r[:, None] - r[None, :] + n  # c cᵀ + (1−c)(1−c)ᵀ
        self.K = k if self.K is None else self.K + k
        self.relu_seconds += time.perf_counter() - t0

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()


def compute_measures(model: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None,
                     measures: Sequence[str], input_shape: Sequence[int] | None = None,
                     fisher_mode: str = "weight",
                     ) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Compute ``measures`` for one network and one batch with shared passes.

    Returns ``(values, seconds, reasons)``: ``seconds`` attributes the wall time
    of each shared step equally to the measures that use it (they sum to the
    total); ``reasons`` explains NaN/inf values. ``model`` is put in train mode
    and its weights are left unchanged (BN running statistics do move).
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise NasrankError(f"unknown zero-shot measure(s) {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
    ms = [m for m in MEASURES if m in measures]
    vals: dict[str, float] = {}
    secs: dict[str, float] = {m: 0.0 for m in ms}
    reasons: dict[str, str] = {}

    def charge(dt: float, users: Sequence[str]) -> None:
        users = [u for u in users if u in secs]
        for u in users:
            secs[u] += dt / len(users)

    model.train()
    data_ms = [m for m in ms if m in _DATA]
    if data_ms:
        if x is None or y is None:
            raise NasrankError(f"zero-shot measure(s) {', '.join(data_ms)} need a batch of images")
        loss_ms = [m for m in ms if m in _LOSS_GRAD]
        want_jac = "jacob_cov" in ms
        t0 = time.perf_counter()
        layers = weight_layers(model)
        ws = [m.weight for m in layers]
        hooks = _Hooks(model, fisher="fisher" in ms, relu="relu_logdet" in ms, fisher_mode=fisher_mode)
        try:
            xin = x.detach().clone().requires_grad_(True) if want_jac else x
            out = model(xin)
            t_fwd = time.perf_counter() - t0 - hooks.relu_seconds
            charge(t_fwd, data_ms)
            charge(hooks.relu_seconds, ["relu_logdet"])
            if "relu_logdet" in ms:
                t1 = time.perf_counter()
                if hooks.K is None:
                    vals["relu_logdet"], reasons["relu_logdet"] = float("nan"), "the network has no ReLU"
                else:
                    sign, logabs = torch.linalg.slogdet(hooks.K)
                    v = float(logabs) if float(sign) > 0 else (float("-inf") if float(sign) == 0 else float("nan"))
                    vals["relu_logdet"] = v
                    if not math.isfinite(v):
                        reasons["relu_logdet"] = "K is singular: samples share their ReLU codes (no input→output path?)"
                charge(time.perf_counter() - t1, ["relu_logdet"])
            if loss_ms:
                t1 = time.perf_counter()
                loss = F.cross_entropy(out, y)
                hooks.fisher_on = True
                grads = torch.autograd.grad(loss, ws, allow_unused=True, create_graph="grasp" in ms,
                                            retain_graph=want_jac or "grasp" in ms)
                hooks.fisher_on = False
                gd = [torch.zeros_like(w) if g is None else g.detach() for w, g in zip(ws, grads)]
                charge(time.perf_counter() - t1, loss_ms)
                t1 = time.perf_counter()
                if "grad_norm" in ms:
                    vals["grad_norm"] = _sum_float([g.norm() for g in gd])
                if "snip" in ms:
                    vals["snip"] = _sum_float([(w.detach() * g).abs().sum() for w, g in zip(ws, gd)])
                if "plain" in ms:
                    vals["plain"] = _sum_float([(w.detach() * g).sum() for w, g in zip(ws, gd)])
                if "fisher" in ms:
                    vals["fisher"] = _sum_float(hooks.fisher_terms)
                charge(time.perf_counter() - t1, [m for m in loss_ms if m != "grasp"])
            if want_jac:
                t1 = time.perf_counter()
                (jac,) = torch.autograd.grad(out.sum(), xin, retain_graph="grasp" in ms)
                vals["jacob_cov"], why = jacob_cov_from(jac)
                if why:
                    reasons["jacob_cov"] = why
                charge(time.perf_counter() - t1, ["jacob_cov"])
            if "grasp" in ms:
                t1 = time.perf_counter()
                live = [(w, g, gf) for w, g, gf in zip(ws, gd, grads) if gf is not None and gf.requires_grad]
                z = sum((g * gf).sum() for _, g, gf in live) if live else None
                if z is not None and z.requires_grad:
                    hg = torch.autograd.grad(z, [w for w, _, _ in live], allow_unused=True)
                    vals["grasp"] = _sum_float([(-w.detach() * h).sum() for (w, _, _), h in zip(live, hg)
                                                if h is not None])
                else:
                    vals["grasp"] = 0.0
                charge(time.perf_counter() - t1, ["grasp"])
        finally:
            hooks.remove()
    if "synflow" in ms:
        t1 = time.perf_counter()
        shape = tuple(input_shape) if input_shape is not None else (1, *x.shape[1:])  # type: ignore[union-attr]
        vals["synflow"] = synflow_score(model, shape)
        charge(time.perf_counter() - t1, ["synflow"])
    for m, v in vals.items():
        if not math.isfinite(v) and m not in reasons:
            reasons[m] = "non-finite value (numerical overflow or a degenerate network)"
    return vals, secs, reasons


# --------------------------------------------------------------------------
# rankers
# --------------------------------------------------------------------------
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


@dataclass
class ZeroShotManyOptions(ZeroShotOptions):
    """The ``zero_shot`` ranker's options: which measures, and which is the score."""

    measures: Any = option(MEASURES, "measures computed (a list or comma-separated names)")
    primary: str = option("synflow", "the measure that is the score")


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
        measures = self.measures
        if isinstance(measures, str):
            measures = [m.strip() for m in measures.split(",")]
        if any(m in _DATA for m in measures):
            from nasrank.lightning_modules.datasets import check_dataset

            check_dataset(self.context.dataset, self.context.data_dir, f"the {self.registry_name!r} ranker")

    def config(self) -> dict[str, Any]:
        """The options, plus the sha256 of a ``weights_from`` file: new weights at the same path are a new
        result-store key. The file is read once, and the weights scored are the ones hashed."""
        cfg = super().config()
        if isinstance(self.weights_from, (str, Path)):
            key = str(self.weights_from)
            if self._weights_sha256 is None or key not in self._weights_cache:
                self._weights_cache[key], self._weights_sha256 = read_state_dict(key, with_sha256=True)
            cfg["weights_sha256"] = self._weights_sha256
        return cfg

    # -- helpers ------------------------------------------------------------
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

    def compute_all(self, arch: Arch, measures: Sequence[str]) -> tuple[dict[str, float], dict[str, Any]]:
        """Average of each measure over seeds × batches, with costs and reasons in ``info``."""
        info_img = self._dataset_info().image_size
        need_data = any(m in _DATA for m in measures)
        sums: dict[str, list[float]] = {m: [] for m in measures}
        secs: dict[str, float] = {m: 0.0 for m in measures}
        reasons: dict[str, str] = {}
        extra: dict[str, Any] = {}
        t_build = 0.0
        for i in range(self.seeds):
            seed = int(self.context.seed) + i
            t0 = time.perf_counter()
            model, winfo = self.build(arch, seed)
            extra.update(winfo)
            t_build += time.perf_counter() - t0
            batches = self.batches(seed) if need_data else [(None, None)]
            for b, (x, y) in enumerate(batches):
                # synflow is data-free: once per seed
                ms = [m for m in measures if m != "synflow" or b == 0]
                shape = (1, 3, info_img, info_img) if x is None else (1, *x.shape[1:])
                vals, s, why = compute_measures(model, x, y, ms, input_shape=shape, fisher_mode=self.fisher_mode)
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


class _SingleMeasure(ZeroShotBase):
    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        means, info = self.safe_compute_all(arch, self.measures)
        (m,) = self.measures
        info = {k: v for k, v in info.items() if k != "measure_seconds"}
        return means[m], info


def _single(name: str, doc: str) -> type[ZeroShotBase]:
    cls = type(f"{''.join(p.title() for p in name.split('_'))}Ranker", (_SingleMeasure,),
               {"measures": (name,), "__doc__": doc, "__module__": __name__})
    return RANKERS.register(name)(cls)


GradNormRanker = _single("grad_norm", "Zero-shot: Σ_layers ‖∂L/∂W‖₂ at initialisation.")
SnipRanker = _single("snip", "Zero-shot SNIP: Σ |W ⊙ ∂L/∂W|.")
GraspRanker = _single("grasp", "Zero-shot GraSP: Σ −W ⊙ (H g) by double backward.")
FisherRanker = _single("fisher", "Zero-shot Fisher: Σ per channel 0.5·mean_batch(Σ_space a·∂L/∂a)² × fan-in.")
PlainRanker = _single("plain", "Zero-shot plain: Σ W ⊙ ∂L/∂W.")
SynflowRanker = _single("synflow", "Zero-shot SynFlow (data-free, float64, |W|, BN removed).")
JacobCovRanker = _single("jacob_cov", "Zero-shot jacob_cov: −Σ(log(v+k)+1/(v+k)) of the input-Jacobian correlation.")
ReluLogdetRanker = _single("relu_logdet", "Zero-shot NASWOT: logdet of the ReLU-code kernel.")


@RANKERS.register("zero_shot")
class ZeroShotRanker(ZeroShotBase):
    """Several zero-shot measures at once from shared passes; the score is ``primary``.

    ``info["measures"]`` holds every measure's value and
    ``info["measure_seconds"]`` its share of the wall time.
    """

    Options = ZeroShotManyOptions

    def __init__(self, space: SearchSpace, context: RunContext | None = None, **options: Any) -> None:
        super().__init__(space, context, **options)
        measures = self.options.measures
        primary = self.primary
        if isinstance(measures, str):
            measures = [m.strip() for m in measures.split(",") if m.strip()]
        unknown = [m for m in measures if m not in MEASURES]
        if unknown or not measures:
            raise NasrankError(f"zero_shot: unknown measure(s) {', '.join(unknown) or '(none given)'}; "
                               f"choose from {', '.join(MEASURES)}")
        if primary not in measures:
            raise NasrankError(f"zero_shot: primary measure {primary!r} is not among measures {list(measures)}")
        self.set_option("measures", tuple(m for m in MEASURES if m in measures))

    def compute_score(self, arch: Arch) -> tuple[float, dict[str, Any]]:
        means, info = self.safe_compute_all(arch, self.measures)
        return means[self.primary], {"measures": means, **info}
