"""Typed run configurations: what ``search``, ``evaluate`` and ``compare`` run, as data.

Each verb takes one configuration (:class:`SearchConfig`, :class:`EvaluateConfig`,
:class:`CompareConfig`) built from the same parts:

* :class:`RankerSpec` ``(label, name, options)``: one ranker to run; ``name`` is a registered
  ranker, an import path, or ``cheap>expensive`` (a cascade); ``label`` is what results are
  reported under (``train20=train`` runs ``train`` as ``train20``);
* :class:`Scale`: the network and training scale (``--channels`` ...), given to every ranker
  that takes it;
* :class:`ExecutorConfig`: serial, or Ray with ``workers``.

:func:`resolve_options` is the one place that turns a spec, a scale and the options given to
every ranker into one ranker's options (for every verb); :func:`build_ranker` builds it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from nasrank.errors import NasrankError
from nasrank.experiments import config_checks as checks

#: the scale options that only change the built network (safe for rankers taking **build_kwargs)
BUILD_OPTIONS = ("channels", "cells_per_stage")


# -- the parts ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RankerSpec:
    """One ranker to run: ``label`` (how results name it), ``name`` (what runs) and its own ``options``.

    For a cascade (``name="cheap>expensive"``) ``options`` are the cascade's (``keep_fraction``...)
    plus ``first_cfg`` / ``second_cfg`` for its stages.
    """

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks.text(self.label, "RankerSpec label")
        checks.text(self.name, "RankerSpec name (a ranker name, an import path or CHEAP>EXPENSIVE)")
        object.__setattr__(self, "options", checks.mapping(self.options, "RankerSpec options"))

    @classmethod
    def parse(cls, item: str, options: dict[str, Any] | None = None) -> "RankerSpec":
        """``"train20=train"`` -> ``RankerSpec("train20", "train")``; ``"fear"`` -> ``RankerSpec("fear", "fear")``."""
        checks.text(item, "ranker (a name, LABEL=NAME or a RankerSpec)")
        label, eq, name = item.partition("=")
        return cls(label if eq else item, name if eq else item, dict(options or {}))

    @property
    def item(self) -> str:
        """The ``--rankers`` text of this spec."""
        return self.name if self.label == self.name else f"{self.label}={self.name}"

    @property
    def stages(self) -> tuple[str, str] | None:
        """``(cheap, expensive)`` for a cascade, else None."""
        if ">" not in self.name:
            return None
        first, second = self.name.split(">")
        return first, second

    def leaves(self) -> list[str]:
        """The registered rankers this spec builds (a cascade: ``cascade`` and its stages)."""
        return ["cascade", *self.stages] if self.stages else [self.name]


@dataclass(frozen=True)
class Scale:
    """The network and training scale; None = each ranker's own default."""

    channels: int | None = None
    cells_per_stage: int | None = None
    image_size: int | None = None
    train_fraction: float | None = None
    epochs: int | None = None
    batch_size: int | None = None

    def __post_init__(self) -> None:
        from nasrank import validate

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            opt = "--" + f.name.replace("_", "-")
            if f.name == "train_fraction":
                v = validate.number(v, f.name, f"scale {opt}", 0.0, 1.0, low_open=True)
            else:
                v = validate.integer(v, f.name, f"scale {opt}")
            object.__setattr__(self, f.name, v)

    @classmethod
    def of(cls, values: dict[str, Any] | None) -> "Scale":
        """From a mapping (None values and unknown keys are errors only when unknown)."""
        values = {k: v for k, v in checks.mapping(values, "scale (a Scale or a mapping)").items() if v is not None}
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise NasrankError(f"unknown scale option(s) {', '.join(unknown)}")
        return cls(**values)

    def given(self) -> dict[str, Any]:
        """The options that were given (not None)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ExecutorConfig:
    """Where evaluations run: ``"serial"``, ``"ray"`` (``workers`` at a time; ``gpus_per_task`` GPUs
    each where the cluster has them), or an executor object used as it is."""

    kind: Any = "serial"
    workers: int = 2
    ray_address: str | None = None
    gpus_per_task: float = 1.0

    def __post_init__(self) -> None:
        checks.executor(self)

    def make(self):
        """``(executor, owned)``: see :func:`nasrank.experiments.build.make_executor`."""
        from nasrank.experiments.build import make_executor

        return make_executor(self.kind, self.workers, self.ray_address, self.gpus_per_task)


@dataclass(frozen=True)
class Output:
    """Where a run writes and how: ``folder`` (None: nothing written), ``formats`` of its figures,
    ``logs`` (training logs under the folder), ``store`` (a result store, a path to one, or None),
    ``quiet`` (no progress)."""

    folder: str | Path | None = None
    formats: Sequence[str] = ("png",)
    logs: bool = True
    store: Any = None
    quiet: bool = False  # True: no progress (nasrank.runtime.progress)

    def __post_init__(self) -> None:
        checks.output(self)


def _spec(value: Any, where: str = "ranker") -> RankerSpec:
    if isinstance(value, RankerSpec):
        return value
    if not isinstance(value, str):
        raise checks.fail(where, "a ranker name, LABEL=NAME or a RankerSpec", value)
    return RankerSpec.parse(value)


def _specs(value: Any) -> list[RankerSpec]:
    if isinstance(value, str):
        from nasrank.experiments.build import parse_ranker_list

        value = parse_ranker_list(value, cascades=True)
    if not isinstance(value, (list, tuple)):
        raise checks.fail("rankers (--rankers)", "a list of ranker names or RankerSpecs (or 'a,b')", value)
    return [_spec(v, "rankers (--rankers) item") for v in value]


def _common_parts(cfg: Any) -> None:
    """Plain values for the shared parts (a dict scale, a folder, an executor name) become their types."""
    if isinstance(cfg.scale, dict) or cfg.scale is None:
        cfg.scale = Scale.of(cfg.scale)
    elif not isinstance(cfg.scale, Scale):
        raise checks.fail("scale", "a Scale or a mapping (e.g. {'channels': 8})", cfg.scale)
    if not isinstance(cfg.output, Output):
        checks.path(cfg.output, "output (a folder or an Output)")
        cfg.output = Output(cfg.output)
    if not isinstance(cfg.executor, ExecutorConfig):
        cfg.executor = ExecutorConfig(cfg.executor)


# -- the configurations ---------------------------------------------------------------------
@dataclass
class SearchConfig:
    """``search``: one searcher with one ranker until the budget is spent."""

    ranker: RankerSpec = field(default_factory=lambda: RankerSpec("tabular", "tabular"))
    searcher: str = "random"
    searcher_options: dict[str, Any] = field(default_factory=dict)
    budget_queries: int | None = None
    budget_seconds: float | None = None
    scale: Scale = field(default_factory=Scale)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    output: Output = field(default_factory=Output)
    resume: bool = False
    plot: bool = False
    #: the configuration as data, written to OUT/config.yaml when the run starts (None: not written)
    record: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.ranker = _spec(self.ranker)
        _common_parts(self)
        checks.warn_unreached_scale([self.ranker], self.scale)
        checks.searcher(self)
        checks.budgets(self)
        checks.flags(self, "resume", "plot")
        if self.record is not None:
            self.record = checks.mapping(self.record, "record")


@dataclass
class EvaluateConfig:
    """``evaluate``: score benchmark architectures (``sample`` of them, or those of ``archs_file``)."""

    rankers: list[RankerSpec] = field(default_factory=list)
    sample: int | str | None = None
    archs_file: str | Path | None = None
    modes: Sequence[str] = ("iso", "deiso", "iso2deiso")
    repeats: int = 1
    seed: int | None = None
    scale: Scale = field(default_factory=Scale)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    output: Output = field(default_factory=Output)
    plots: bool = True
    space_cfg: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.rankers = _specs(self.rankers)
        _common_parts(self)
        checks.rankers(self.rankers, "evaluate")
        checks.warn_unreached_scale(self.rankers, self.scale)
        checks.needs_folder(self)
        checks.selection(self)
        checks.flags(self, "plots")


@dataclass
class CompareConfig:
    """``compare``: the same search with every ranker, ``candidates`` new evaluations each.

    ``common`` options go to every ranker that takes them (``--ranker-cfg KEY=VALUE`` without
    ``NAME.``); each spec's own options override them.
    """

    rankers: list[RankerSpec] = field(default_factory=list)
    candidates: int = 0
    searcher: str = "random"
    searcher_options: dict[str, Any] = field(default_factory=dict)
    common: dict[str, Any] = field(default_factory=dict)
    scale: Scale = field(default_factory=Scale)
    baseline: str | None = None
    seed: int | None = None
    resume: bool = False
    overwrite: bool = False
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)
    output: Output = field(default_factory=Output)

    def __post_init__(self) -> None:
        self.rankers = _specs(self.rankers)
        _common_parts(self)
        checks.rankers(self.rankers, "compare")
        checks.warn_unreached_scale(self.rankers, self.scale)
        checks.needs_folder(self)
        checks.searcher(self)
        checks.budgets(self)
        self.common = checks.mapping(self.common, "common (--ranker-cfg KEY=VALUE)")
        if self.baseline is not None and self.baseline not in self.labels:
            raise NasrankError(f"baseline (--baseline) {checks.quote(self.baseline)} is not one of the rankers "
                               f"({', '.join(self.labels)})")
        checks.seed(self.seed, "seed (--seed)")
        checks.flags(self, "resume", "overwrite")

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.rankers]


@dataclass
class CompareCallbacks:
    """What ``compare`` reports as it runs: ``on_done(label, summary)`` after each ranker,
    ``on_record(label, n_done)`` after each evaluation, ``on_history_record(label, record, replayed)``
    as each record lands in a history (replayed ones too)."""

    on_done: Callable[[str, dict[str, Any]], None] | None = None
    on_record: Callable[[str, int], None] | None = None
    on_history_record: Callable[[str, Any, bool], None] | None = None


# -- options: the one resolver -------------------------------------------------------------------
from nasrank.experiments.ranker_options import assign_options  # noqa: E402,F401 (--ranker-cfg onto the rankers)


def check_common_options(common: dict[str, Any], specs: Sequence[RankerSpec], space=None) -> None:
    """Every common option must be taken by some listed ranker (a ranker keeping ``**kwargs`` for its
    network takes the space's build options)."""
    from nasrank.registry import RANKERS, accepted_options
    from nasrank.spaces.build_options import build_options

    accepted: set[str] = set()
    for name in {n for s in specs for n in s.leaves()}:
        opts = accepted_options(RANKERS.get(name))
        if opts.open:
            build = None if space is None else build_options(space)
            if build is None:
                return  # a ranker taking **kwargs it does not declare: any key may be its
            accepted |= build
        accepted |= set(opts.names)
    unused = sorted(set(common) - accepted)
    if unused:
        from nasrank.errors import did_you_mean

        hint = did_you_mean(unused[0], sorted(accepted)) if len(unused) == 1 else ""
        raise NasrankError(f"--ranker-cfg {', '.join(unused)}: no ranker in --rankers "
                           f"({', '.join(s.label for s in specs)}) takes {'it' if len(unused) == 1 else 'them'}{hint}")


def _scale_for(space, scale: Scale) -> dict[str, Any]:
    """The given scale without the build knobs ``space.build`` does not take (e.g. ``channels`` for nb101)."""
    from nasrank.spaces.build_options import build_options

    opts = None if space is None else build_options(space)
    return {k: v for k, v in scale.given().items() if k not in BUILD_OPTIONS or opts is None or k in opts}


def scale_taken(cls: type) -> frozenset[str]:
    """The scale options a ranker class declares it takes: all with ``takes_training_scale = True``, the
    named ones with ``takes_training_scale = ("channels", ...)``, none otherwise."""
    declared = getattr(cls, "takes_training_scale", False)
    if declared is True:
        return frozenset(f.name for f in dataclasses.fields(Scale))
    return frozenset(declared) if isinstance(declared, (tuple, list, set, frozenset)) else frozenset()


def _leaf_options(name: str, own: dict[str, Any], common: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
    """One (non-cascade) ranker's options: the scale and common options it takes, then its own.

    A ranker that declares ``takes_training_scale`` (True, or the names of the scale options it
    takes: :func:`scale_taken`) gets every declared scale option it takes; one that keeps
    ``**kwargs`` for its network (``params``, ``flops``) gets the build options; one with a
    ``build_kwargs`` option (zero-shot) gets them there (merged under its own ``build_kwargs``).
    """
    from nasrank.registry import RANKERS, accepted_options

    cls = RANKERS.get(name)
    opts = accepted_options(cls)
    taken = scale_taken(cls)
    training = bool(taken)
    out: dict[str, Any] = {}
    build = {k: v for k, v in scale.items() if k in BUILD_OPTIONS}
    for k, v in scale.items():
        if (k in taken and (k in opts or opts.open)) or (opts.open and k in BUILD_OPTIONS):
            out[k] = v
    for k, v in common.items():
        if k in opts or (opts.open and not training and k in BUILD_OPTIONS):
            out[k] = v
    out.update(own)
    if not training and "build_kwargs" in opts and build:  # zero-shot rankers: the network's scale only
        out["build_kwargs"] = {**build, **dict(own.get("build_kwargs") or {})}
    return out


def resolve_options(spec: RankerSpec, scale: Scale | None = None, common: dict[str, Any] | None = None,
                    space=None) -> tuple[str, dict[str, Any]]:
    """``(ranker name, options)`` that build ``spec`` at ``scale`` with the ``common`` options (the one
    resolver of every verb); a cascade's stages each get theirs under ``first_cfg`` / ``second_cfg``."""
    scale_opts = _scale_for(space, scale or Scale())
    common = dict(common or {})
    if spec.stages is None:
        return spec.name, _leaf_options(spec.name, spec.options, common, scale_opts)
    own = {k: v for k, v in spec.options.items() if k not in ("first_cfg", "second_cfg")}
    first, second = spec.stages
    return "cascade", {"first": first, "second": second, **own,
                       "first_cfg": _leaf_options(first, dict(spec.options.get("first_cfg") or {}), common, scale_opts),
                       "second_cfg": _leaf_options(second, dict(spec.options.get("second_cfg") or {}), common,
                                                   scale_opts)}


def build_ranker(spec: RankerSpec, space, context, scale: Scale | None = None, common: dict[str, Any] | None = None):
    """The ranker ``spec`` names, built with :func:`resolve_options`."""
    from nasrank.experiments.build import make_ranker

    name, options = resolve_options(spec, scale, common, space)
    return make_ranker(name, space, context, options)
