"""NDS ResNet and ResNeXt-A spaces, CIFAR form (Radosavovic et al. 2019).

Three stages with strides 1, 2, 2, each with its own depth ``d`` and width
``w`` (and, for ResNeXt-A, bottleneck ratio ``b`` and groups ``g``).
The choice sets are aw_nas's (``sample``/``mutate``/``neighbours`` stay on
them); an architecture may hold other positive values, because the official
NDS files sample from ranges, and those still build and round-trip.

Text forms (``to_string``/``from_string``), fields ``|``-separated, one value
per stage::

    nds_resnet:   ds=1,2,4|ws=16,32,64
    nds_resnexta: ds=1,2,4|ws=16,32,64|bs=0.25,0.5,1|gs=1,2,4

(``bs`` printed with ``%g``: ``0.25``, ``0.5``, ``1``.)
"""
from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from nasrank import validate
from nasrank.errors import NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.base import SearchSpace, TailCells

NUM_STAGES = 3
STRIDES: tuple[int, ...] = (1, 2, 2)
STEM_WIDTH = 16

RESNET_DEPTHS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16, 24)
RESNET_WIDTHS: tuple[int, ...] = (16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256)
RESNEXT_DEPTHS: tuple[int, ...] = (1, 2, 4, 8, 16)
RESNEXT_WIDTHS: tuple[int, ...] = (16, 32, 64, 128, 256)
RESNEXT_BOTS: tuple[float, ...] = (0.25, 0.5, 1.0)
RESNEXT_GROUPS: tuple[int, ...] = (1, 2, 4)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


@dataclass(frozen=True, order=True)
class NdsArch:
    """Per-stage depths ``ds`` and widths ``ws``; for ResNeXt also bottleneck
    ratios ``bs`` and groups ``gs`` (empty for ResNet)."""

    ds: tuple[int, ...]
    ws: tuple[int, ...]
    bs: tuple[float, ...] = ()
    gs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("ds", "ws", "bs", "gs"):  # lists become tuples (hashable)
            try:
                object.__setattr__(self, name, tuple(getattr(self, name)))
            except TypeError:
                raise NasrankError(f"invalid NDS arch: {name} must be a sequence, got {getattr(self, name)!r}") from None
        bad = None
        if len(self.ds) != NUM_STAGES or len(self.ws) != NUM_STAGES:
            bad = f"ds and ws need {NUM_STAGES} values each"
        elif not all(_is_int(v) and v >= 1 for v in self.ds + self.ws):
            bad = "depths and widths must be positive integers"
        elif bool(self.bs) != bool(self.gs) or (self.bs and (len(self.bs) != NUM_STAGES or len(self.gs) != NUM_STAGES)):
            bad = f"bs and gs need {NUM_STAGES} values each (or neither, for ResNet)"
        elif not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 < b <= 16 for b in self.bs):
            bad = "bottleneck ratios must be numbers in (0, 16]"
        elif not all(_is_int(g) and g >= 1 for g in self.gs):
            bad = "groups must be positive integers"
        if bad:
            raise NasrankError(f"invalid NDS arch {self._text()}: {bad}")

    @property
    def is_resnext(self) -> bool:
        return bool(self.bs)

    def _text(self) -> str:
        def j(vals: Sequence[Any], fmt: str = "") -> str:
            try:
                return ",".join(format(v, fmt) for v in vals)
            except (TypeError, ValueError):
                return repr(vals)
        s = f"ds={j(self.ds)}|ws={j(self.ws)}"
        if self.bs or self.gs:
            s += f"|bs={j(self.bs, 'g')}|gs={j(self.gs)}"
        return s

    def __str__(self) -> str:
        return self._text()

    @classmethod
    def create(cls, ds: Sequence[Any], ws: Sequence[Any], bs: Sequence[Any] = (), gs: Sequence[Any] = ()) -> "NdsArch":
        """From sequences; integral floats (``4.0``) are accepted for ``ds``/``ws``/``gs``."""
        def ints(vals: Sequence[Any]) -> tuple:
            return tuple(int(v) if isinstance(v, float) and v.is_integer() else v for v in vals)
        return cls(ints(ds), ints(ws), tuple(float(b) if isinstance(b, (int, float)) and not isinstance(b, bool)
                                             else b for b in bs), ints(gs))

    def bottleneck_width(self, stage: int, width_mult: float = 1.0) -> int:
        """Stage ``stage``'s bottleneck width: round(w·b), rounded to the nearest
        multiple of g (at least g), so the grouped 3×3 conv is valid."""
        w = scaled(self.ws[stage], width_mult)
        g = self.gs[stage]
        wb = max(1, int(round(w * self.bs[stage])))
        return max(g, int(round(wb / g)) * g)


def scaled(w: int, width_mult: float) -> int:
    return max(1, int(round(w * width_mult)))


def parse_nds(text: str, resnext: bool) -> NdsArch:
    """Parse ``ds=..|ws=..`` (ResNet) or ``ds=..|ws=..|bs=..|gs=..`` (ResNeXt)."""
    want = ("ds", "ws", "bs", "gs") if resnext else ("ds", "ws")
    example = "ds=1,2,4|ws=16,32,64" + ("|bs=0.25,0.5,1|gs=1,2,4" if resnext else "")
    if not isinstance(text, str):
        raise NasrankError(f"NDS arch string must be a str, got {type(text).__name__}: {text!r}")
    fields: dict[str, list[str]] = {}
    for part in text.strip().split("|"):
        name, sep, vals = part.partition("=")
        name = name.strip()
        if not sep or name not in want or name in fields:
            raise NasrankError(f"malformed NDS arch string {text!r}: bad field {part!r}; expected e.g. {example!r}")
        fields[name] = [v.strip() for v in vals.split(",")]
    if tuple(fields) != want:
        raise NasrankError(f"malformed NDS arch string {text!r}: expected the fields {', '.join(want)} in that "
                           f"order, e.g. {example!r}")
    out: dict[str, tuple] = {}
    for name, vals in fields.items():
        if len(vals) != NUM_STAGES:
            raise NasrankError(f"malformed NDS arch string {text!r}: {name} needs {NUM_STAGES} values, got {len(vals)}")
        try:
            out[name] = tuple(float(v) if name == "bs" else int(v) for v in vals)
        except ValueError:
            raise NasrankError(f"malformed NDS arch string {text!r}: {name} has a non-numeric value") from None
    return NdsArch(**out)


# -- networks -------------------------------------------------------------------------------------------------
def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out)]


class ResBlock(nn.Module):
    """A residual block: ``f(x) + shortcut(x)`` then ReLU; the shortcut is a
    1×1 conv + BN when the width or the resolution changes."""

    def __init__(self, f: nn.Module, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.f = f
        self.proj = nn.Sequential(*conv_bn(c_in, c_out, 1, stride)) if c_in != c_out or stride != 1 else None
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.f(x) + (self.proj(x) if self.proj is not None else x))


def basic_block(c_in: int, c_out: int, stride: int) -> ResBlock:
    """ResNet basic block: 3×3 conv-BN-ReLU, 3×3 conv-BN."""
    f = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), nn.ReLU(inplace=False), *conv_bn(c_out, c_out, 3))
    return ResBlock(f, c_in, c_out, stride)


def bottleneck_block(c_in: int, c_out: int, stride: int, c_b: int, groups: int) -> ResBlock:
    """ResNeXt block: 1×1 conv-BN-ReLU, grouped 3×3 (strided) conv-BN-ReLU, 1×1 conv-BN."""
    f = nn.Sequential(*conv_bn(c_in, c_b, 1), nn.ReLU(inplace=False),
                      *conv_bn(c_b, c_b, 3, stride, groups), nn.ReLU(inplace=False),
                      *conv_bn(c_b, c_out, 1))
    return ResBlock(f, c_in, c_out, stride)


class NdsNetwork(nn.Module):
    """Stem (3×3 conv 16, BN, ReLU), 3 stages (strides 1, 2, 2), average pooling, linear."""

    def __init__(self, arch: NdsArch, num_classes: int = 10, width_mult: float = 1.0, max_depth: int | None = None,
                 in_channels: int = 3) -> None:
        super().__init__()
        c = scaled(STEM_WIDTH, width_mult)
        self.stem = nn.Sequential(*conv_bn(in_channels, c, 3), nn.ReLU(inplace=False))
        stages = []
        for i in range(NUM_STAGES):
            w = scaled(arch.ws[i], width_mult)
            d = arch.ds[i] if max_depth is None else min(arch.ds[i], max_depth)
            blocks = []
            for j in range(d):
                stride = STRIDES[i] if j == 0 else 1
                if arch.is_resnext:
                    blocks.append(bottleneck_block(c, w, stride, arch.bottleneck_width(i, width_mult), arch.gs[i]))
                else:
                    blocks.append(basic_block(c, w, stride))
                c = w
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.classifier(self.pool(x).flatten(1))


# -- spaces ---------------------------------------------------------------------------------------------------
def _neighbour_choices(value: float, choices: Sequence[float]) -> list[float]:
    """The choices next to ``value``: one index down and up, or, off the grid,
    the nearest choices below and above."""
    if value in choices:
        i = list(choices).index(value)
        return [choices[j] for j in (i - 1, i + 1) if 0 <= j < len(choices)]
    i = bisect.bisect_left(list(choices), value)
    return [choices[j] for j in (i - 1, i) if 0 <= j < len(choices)]


class NdsSpace(SearchSpace):
    """Shared code of the two NDS spaces (see the module docstring).

    ``build`` scale knobs: ``width_mult`` (1.0; scales the stem and every
    width, bottleneck widths re-rounded to the groups) and ``max_depth``
    (``None``; caps every stage's depth) for cheap CPU runs.
    """

    #: (field, choices) in text order
    choices: tuple[tuple[str, tuple], ...] = ()
    block_type: str = ""

    def __init__(self, width_mult: float = 1.0, max_depth: int | None = None, num_classes: int = 10) -> None:
        owner = f"space {self.registry_name!r}"
        self.width_mult = validate.number(width_mult, "width_mult", owner, 0.0, low_open=True)
        self.max_depth = validate.optional_integer(max_depth, "max_depth", owner)
        self.num_classes = validate.integer(num_classes, "num_classes", owner)

    @property
    def resnext(self) -> bool:
        return len(self.choices) == 4

    # -- text forms ---------------------------------------------------------
    def to_string(self, arch: NdsArch) -> str:
        return str(arch)

    def from_string(self, text: str) -> NdsArch:
        return parse_nds(text, self.resnext)

    def _check_kind(self, arch: NdsArch) -> NdsArch:
        if arch.is_resnext != self.resnext:
            raise NasrankError(f"NDS arch {arch} does not belong to space {self.registry_name!r}")
        return arch

    def in_grid(self, arch: NdsArch) -> bool:
        """Whether every value of ``arch`` lies in this space's choice sets."""
        return all(v in ch for name, ch in self.choices for v in getattr(arch, name))

    # -- search moves -------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> NdsArch:
        vals = {name: tuple(ch[int(i)] for i in rng.integers(0, len(ch), size=NUM_STAGES)) for name, ch in self.choices}
        return NdsArch(**vals)

    def _with(self, arch: NdsArch, name: str, stage: int, value: Any) -> NdsArch:
        vals = {n: list(getattr(arch, n)) for n, _ in self.choices}
        vals[name][stage] = value
        return NdsArch(**{n: tuple(v) for n, v in vals.items()})

    def neighbours(self, arch: NdsArch) -> list[NdsArch]:
        self._check_kind(arch)
        out = []
        for name, ch in self.choices:
            for stage in range(NUM_STAGES):
                for v in _neighbour_choices(getattr(arch, name)[stage], ch):
                    out.append(self._with(arch, name, stage, v))
        return out

    def mutate(self, arch: NdsArch, rng: np.random.Generator) -> NdsArch:
        nbrs = self.neighbours(arch)
        return nbrs[int(rng.integers(0, len(nbrs)))]

    def all_archs(self) -> None:
        return None  # 1.26 M / 11.4 M archs: enumerate with itertools.product over ``choices`` if needed

    def iter_archs(self) -> Any:
        """Iterate over every on-grid arch (lazy; ``size`` of them)."""
        per_field = [list(itertools.product(ch, repeat=NUM_STAGES)) for _, ch in self.choices]
        for combo in itertools.product(*per_field):
            yield NdsArch(**{name: vals for (name, _), vals in zip(self.choices, combo)})

    # -- networks -----------------------------------------------------------
    def build(self, arch: NdsArch, num_classes: int | None = None, width_mult: float | None = None,
              max_depth: int | None = None, **_: Any) -> nn.Module:
        self._check_kind(arch)
        return NdsNetwork(arch, num_classes=num_classes or self.num_classes,
                          width_mult=width_mult or self.width_mult,
                          max_depth=max_depth if max_depth is not None else self.max_depth)

    def fear_cells(self, model: nn.Module) -> TailCells:
        """The blocks of the last stage (default: its second half, at least one), then the classifier."""
        blocks = list(model.stages[-1])
        return TailCells(blocks, [model.classifier], max(1, len(blocks) // 2))

    def features(self, arch: NdsArch) -> dict[str, float]:
        feats = super().features(arch)
        feats["depth"] = float(sum(arch.ds))
        for i in range(NUM_STAGES):
            feats[f"d{i + 1}"] = float(arch.ds[i])
            feats[f"w{i + 1}"] = float(arch.ws[i])
        return feats


@SPACES.register("nds_resnet")
class NdsResNetSpace(NdsSpace):
    """NDS ResNet (basic blocks): d ∈ {1,2,3,4,6,8,12,16,24}, w ∈ {16,...,256} (12
    widths) per stage: (9·12)³ = 1,259,712 archs. Text form ``ds=1,2,4|ws=16,32,64``."""

    choices = (("ds", RESNET_DEPTHS), ("ws", RESNET_WIDTHS))
    block_type = "res_basic_block"
    size = (len(RESNET_DEPTHS) * len(RESNET_WIDTHS)) ** NUM_STAGES
    size_is_estimate = False


@SPACES.register("nds_resnexta")
class NdsResNeXtASpace(NdsSpace):
    """NDS ResNeXt-A (bottleneck blocks): d ∈ {1,2,4,8,16}, w ∈ {16,32,64,128,256},
    b ∈ {0.25,0.5,1}, g ∈ {1,2,4} per stage: (5·5·3·3)³ = 11,390,625 archs.
    Text form ``ds=1,2,4|ws=16,32,64|bs=0.25,0.5,1|gs=1,2,4``."""

    choices = (("ds", RESNEXT_DEPTHS), ("ws", RESNEXT_WIDTHS), ("bs", RESNEXT_BOTS), ("gs", RESNEXT_GROUPS))
    block_type = "res_bottleneck_block"
    size = (len(RESNEXT_DEPTHS) * len(RESNEXT_WIDTHS) * len(RESNEXT_BOTS) * len(RESNEXT_GROUPS)) ** NUM_STAGES
    size_is_estimate = False
