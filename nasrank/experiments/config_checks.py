"""Checks of the typed configurations' fields (:mod:`nasrank.experiments.config`), run when a
configuration is built: each bad value is one :class:`~nasrank.errors.NasrankError` that names the
argument (and its command-line flag), never a raw TypeError later in the run."""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from nasrank.errors import NasrankError
from nasrank.runs.limits import quote  # noqa: F401 (config.py quotes through here)

#: a dataset name that is not a known one must be a plain identifier (it names files and store keys)
_DATASET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def fail(where: str, want: str, value: Any) -> NasrankError:
    """``NasrankError("WHERE must be WANT, got VALUE")``."""
    return NasrankError(f"{where} must be {want}, got {quote(value)}")


def boolean(value: Any, where: str) -> bool:
    """``True`` or ``False`` (not ``"false"``, not ``1``)."""
    if not isinstance(value, bool):
        raise fail(where, "True or False", value)
    return value


def text(value: Any, where: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise fail(where, "a non-empty string", value)
    return value


def mapping(value: Any, where: str) -> dict[str, Any]:
    """A dict with string keys (None: empty); a copy."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise fail(where, "a mapping of option names to values (e.g. {'eta': 3})", value)
    return dict(value)


def count(value: Any, where: str, maximum: int, minimum: int = 1) -> int:
    """An int in ``[minimum, maximum]`` (not a bool, not 2.5, not ``"10"``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise fail(where, f"an integer from {minimum} to {maximum:,}", value)
    return value


def optional_count(value: Any, where: str, maximum: int, minimum: int = 1) -> int | None:
    """:func:`count`, or None."""
    return None if value is None else count(value, where, maximum, minimum)


def positive_number(value: Any, where: str, zero: bool = False) -> float:
    """A finite number > 0 (>= 0 with ``zero``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero):
        raise fail(where, "a finite number " + (">= 0" if zero else "> 0"), value)
    return float(value)


def path(value: Any, where: str, optional: bool = True) -> str | Path | None:
    """A file or folder path (a non-empty str or a Path), or None when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, Path) or (isinstance(value, str) and value.strip()):
        return value
    raise fail(where, "a path (a non-empty str or a pathlib.Path)", value)


def formats(value: Any) -> tuple[str, ...]:
    """Figure formats: ``"svg"``, ``"png,pdf"`` or a sequence of names, each png, pdf or svg."""
    from nasrank.evaluation.formats import FORMATS, parse_formats

    ok = isinstance(value, str) or (isinstance(value, Sequence) and all(isinstance(v, str) for v in value))
    try:
        if ok:
            return tuple(parse_formats(value))
    except NasrankError:
        pass
    raise fail("figure formats (Output.formats, --format, config.yaml format)",
               f"{', '.join(FORMATS)} (one, a comma-separated string or a list)", value)


def modes(value: Any) -> tuple[str, ...]:
    """Evaluation modes: one name or a sequence of names of :data:`nasrank.evaluation.criteria.MODES`."""
    from nasrank.evaluation.criteria import MODES

    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence) or not items or not all(isinstance(m, str) and m in MODES for m in items):
        raise fail("modes (--modes)", f"one or more of {', '.join(MODES)}", value)
    return tuple(items)


def sample(value: Any) -> int | str | None:
    """``None``, a positive int, ``"all"`` or a positive whole number as text (``--sample``)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise fail("sample (--sample)", "a positive integer or 'all'", value)


def seed(value: Any, where: str) -> int | None:
    """None, or an int from 0 to :data:`~nasrank.runs.limits.MAX_SEED`."""
    from nasrank.runs.limits import MAX_SEED

    return optional_count(value, where, MAX_SEED, minimum=0)


def dataset(value: Any) -> str:
    """A dataset name: a known one, or a plain identifier (letters, digits, ``_ . -``; no path)."""
    if not isinstance(value, str) or not _DATASET.fullmatch(value) or ".." in value:
        raise fail("dataset (--dataset)", "a dataset name such as cifar10 (letters, digits, '_', '.', '-'; "
                   "not a path)", value)
    return value


# -- the parts (frozen dataclasses: a normalised value is set with object.__setattr__) ---------------
def executor(cfg: Any) -> None:
    """An :class:`~nasrank.experiments.config.ExecutorConfig`'s fields."""
    from nasrank.runs.limits import MAX_WORKERS

    if isinstance(cfg.kind, str) or not callable(getattr(cfg.kind, "evaluate", None)):
        if cfg.kind not in ("serial", "ray"):
            raise fail("executor (--executor)", "'serial', 'ray' or an executor object", cfg.kind)
    count(cfg.workers, "workers (--workers)", MAX_WORKERS)
    if cfg.ray_address is not None:
        text(cfg.ray_address, "ray_address (--ray-address)")
    object.__setattr__(cfg, "gpus_per_task", positive_number(cfg.gpus_per_task, "gpus_per_task (--gpus-per-task)",
                                                             zero=True))


def output(cfg: Any) -> None:
    """An :class:`~nasrank.experiments.config.Output`'s fields; ``formats`` becomes a tuple of names."""
    path(cfg.folder, "output folder (Output.folder, --output)")
    object.__setattr__(cfg, "formats", formats(cfg.formats))
    boolean(cfg.logs, "Output.logs")
    boolean(cfg.quiet, "Output.quiet")
    if isinstance(cfg.store, (bool, int, float, list, tuple, dict)):
        raise fail("Output.store (--store)", "None, a path or a ResultStore", cfg.store)


# -- whole configurations (their parts are checked by their own types) -------------------------------
def budgets(cfg: Any) -> None:
    """``budget_queries`` / ``budget_seconds`` (or a compare's ``candidates``) of a search or compare."""
    from nasrank.runs.limits import MAX_QUERIES

    if hasattr(cfg, "candidates"):
        count(cfg.candidates, "candidates (--candidates)", MAX_QUERIES)
        return
    optional_count(cfg.budget_queries, "budget_queries (--budget-queries)", MAX_QUERIES)
    if cfg.budget_seconds is not None:
        cfg.budget_seconds = positive_number(cfg.budget_seconds, "budget_seconds (--budget-seconds)")


def flags(cfg: Any, *names: str) -> None:
    """Each named field is True or False."""
    for name in names:
        boolean(getattr(cfg, name), f"{name} (of {type(cfg).__name__})")


def searcher(cfg: Any) -> None:
    """``searcher`` (a name) and ``searcher_options`` (a mapping; copied)."""
    text(cfg.searcher, "searcher (--searcher)")
    cfg.searcher_options = mapping(cfg.searcher_options, "searcher_options (--searcher-cfg)")


def rankers(specs: Sequence[Any], what: str) -> None:
    """At least one ranker, each label once."""
    if not specs:
        raise NasrankError(f"{what} needs at least one ranker (rankers=[...]; --rankers)")
    labels = [s.label for s in specs]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise NasrankError(f"rankers (--rankers) lists {', '.join(dup)} more than once (give each a label: "
                           "RankerSpec(label, name) or LABEL=NAME)")


def needs_folder(cfg: Any) -> None:
    """An evaluate or compare writes its files to ``output.folder``: it must be given."""
    if cfg.output.folder is None:
        raise NasrankError(f"{type(cfg).__name__} needs an output folder (output='DIR' or Output(folder=...); "
                           "--output)")


def selection(cfg: Any) -> None:
    """An evaluate's ``sample`` / ``archs_file`` (exactly one), ``modes``, ``repeats``, ``seed``, ``space_cfg``."""
    from nasrank.runs.limits import MAX_REPEATS

    cfg.sample = sample(cfg.sample)
    cfg.archs_file = path(cfg.archs_file, "archs_file (--archs)")
    if (cfg.sample is None) == (cfg.archs_file is None):
        raise NasrankError("give exactly one of sample (--sample N|all) and archs_file (--archs FILE), "
                           f"got sample={quote(cfg.sample)}, archs_file={quote(cfg.archs_file)}")
    cfg.modes = modes(cfg.modes)
    count(cfg.repeats, "repeats (--repeats)", MAX_REPEATS)
    seed(cfg.seed, "seed (--seed)")
    if cfg.space_cfg is not None:
        cfg.space_cfg = mapping(cfg.space_cfg, "space_cfg (--space-cfg)")


# -- where the scale goes -------------------------------------------------------------------------
_WARNED: set[str] = set()


def warn_unreached_scale(specs: Sequence[Any], scale: Any) -> None:
    """Print a warning (once per process) for each given scale option (``--channels`` ...) that no ranker of
    ``specs`` receives; a ranker that names it but does not declare it is told how to
    (``takes_training_scale``). A ranker that cannot be found is left for the run to report."""
    import dataclasses
    import sys

    from nasrank.experiments.config import resolve_options
    from nasrank.registry import RANKERS, accepted_options

    given = scale.given()
    if not given:
        return
    reached: set[str] = set()
    named: dict[str, list[str]] = {}
    for spec in specs:
        try:
            _, opts = resolve_options(dataclasses.replace(spec, options={}), scale)
            leaves = [opts["first_cfg"], opts["second_cfg"]] if spec.stages else [opts]
            for o in leaves:
                reached |= set(o) | set(o.get("build_kwargs") or {})
            for leaf in spec.leaves():
                for k in set(accepted_options(RANKERS.get(leaf)).names) & set(given):
                    named.setdefault(k, []).append(leaf)
        except Exception:  # noqa: BLE001 - a ranker that cannot be built is the run's error to report, not a warning's
            return
    for k in sorted(set(given) - reached):
        flag = "--" + k.replace("_", "-")
        takers = named.get(k, [])
        hint = (f"; {', '.join(map(repr, takers))} has a {k!r} option of its own (--ranker-cfg {takers[0]}.{k}=VALUE); "
                f"a ranker of yours gets the scale by declaring takes_training_scale = True, or = ({k!r},)"
                if takers else "")
        msg = (f"{flag} (scale.{k}) reaches no ranker ({', '.join(s.label for s in specs)}): it is ignored{hint}")
        if msg not in _WARNED:
            _WARNED.add(msg)
            print(f"nasrank: warning: {msg}", file=sys.stderr)
