"""Options declared once per component: a dataclass whose fields are the options.

A ranker (or the supernet trainer) declares its options as a dataclass, each field made with
:func:`option` (default, one line of help, and the check that turns a raw value, e.g. parsed
from ``--ranker-cfg``, into a valid one)::

    @dataclass
    class TabularOptions:
        epochs: int = option(200, "training epochs whose accuracy is the score", check=positive_int)
        metric: str = option("test", "benchmark metric", choices=("test", "valid"))

and names it in its ``Options`` class attribute. Everything else is read from that one place:
:func:`make_options` (unknown keys fail with "did you mean", each value is checked),
``Ranker.config()`` and so the result-store key (:func:`as_dict`), ``registry.accepted_options``
(``--ranker-cfg`` checking), ``nasrank rankers NAME`` (:func:`describe`) and the ``supernet train``
flags. Declarations compose by inheritance (a subclass adds fields or overrides a default), and a
group of options shared by several components (the Trainer settings) is one dataclass inherited
where it is used.
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import MISSING, dataclass
from typing import Any, Callable, Sequence

from nasrank import validate
from nasrank.errors import NasrankError, did_you_mean

Check = Callable[[Any, str, str], Any]  #: (value, option name, owner) -> the checked value


def option(default: Any = None, help: str = "", *, check: Check | None = None,
           choices: Sequence[Any] | None = None, flag: bool = True) -> Any:
    """A dataclass field declaring one option (a mutable default is copied per instance); ``flag``:
    whether a command that turns a declaration into flags (``supernet train``) offers it."""
    meta = {"help": help, "check": check, "choices": None if choices is None else tuple(choices), "flag": flag}
    if isinstance(default, (dict, list, set)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


# -- checks (each returns the value it accepts) ---------------------------------------------
def positive_int(value: Any, name: str, owner: str) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # numpy integers too
    return validate.integer(value, name, owner)


def optional_positive_int(value: Any, name: str, owner: str) -> int | None:
    return validate.optional_integer(value, name, owner)


def non_negative_int(value: Any, name: str, owner: str) -> int:
    return validate.integer(value, name, owner, minimum=0)


def number_in(low: float | None = None, high: float | None = None, low_open: bool = False,
              optional: bool = False) -> Check:
    """A check for a finite number in ``[low, high]`` (``(low, high]`` with ``low_open``); ``optional``: None passes."""
    def check(value: Any, name: str, owner: str) -> float | None:
        if optional and value is None:
            return None
        return validate.number(value, name, owner, low, high, low_open=low_open)

    return check


def boolean(value: Any, name: str, owner: str) -> bool:
    if not isinstance(value, bool):
        raise NasrankError(f"{owner}: {name} must be true or false, got {value!r}")
    return value


def truthy(value: Any, name: str, owner: str) -> bool:
    """Any value, as a bool (a flag option)."""
    return bool(value)


def mapping(value: Any, name: str, owner: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NasrankError(f"{owner}: {name} must be a mapping, got {value!r}")
    return dict(value)


# -- reading a declaration ------------------------------------------------------------------
@dataclass(frozen=True)
class OptionSpec:
    """One declared option, as listed by ``nasrank rankers NAME``."""

    name: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None


def specs(decl: type) -> list[OptionSpec]:
    """The options a declaration (a dataclass type) holds, in declaration order."""
    out = []
    for f in dataclasses.fields(decl):
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else None)
        out.append(OptionSpec(f.name, default, f.metadata.get("help", ""), f.metadata.get("choices")))
    return out


def names(decl: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(decl))


def make_options(decl: type, given: dict[str, Any], owner: str) -> Any:
    """An instance of ``decl`` from ``given`` (defaults for the rest): unknown keys and bad values
    (each value, given or default, goes through its option's check) are one clear error."""
    known = names(decl)
    unknown = sorted(k for k in given if k not in known)
    if unknown:
        hint = did_you_mean(unknown[0], known) if len(unknown) == 1 else ""
        raise NasrankError(f"{owner} does not take option(s) {', '.join(unknown)}{hint}; "
                           f"valid options: {', '.join(sorted(known))}")
    values = {}
    defaults = decl()
    for f in dataclasses.fields(decl):
        value = given[f.name] if f.name in given else getattr(defaults, f.name)
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise NasrankError(f"{owner}: unknown {f.name} {value!r}{did_you_mean(str(value), [str(c) for c in choices])}"
                               f"; expected one of: {', '.join(map(str, choices))}")
        check = f.metadata.get("check")
        values[f.name] = check(value, f.name, owner) if check is not None else value
    return decl(**values)


def as_dict(options: Any) -> dict[str, Any]:
    """The options as JSON-ready values (the config a report shows and the result store hashes)."""
    out = {}
    for f in dataclasses.fields(options):
        v = getattr(options, f.name)
        out[f.name] = v if isinstance(v, (int, float, str, bool, type(None), list, tuple)) else repr(v)
    return out


def subset(options: Any, decl: type) -> Any:
    """The part of ``options`` that ``decl`` (a group it inherits, e.g. the Trainer settings) declares."""
    return decl(**{n: getattr(options, n) for n in names(decl)})


def describe(decl: type | None) -> list[dict[str, Any]]:
    """``[{"name", "default", "help", "choices"}]`` of a declaration (``[]`` for none)."""
    return [] if decl is None else [dataclasses.asdict(s) for s in specs(decl)]


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``'a=1,b={"x":1,"y":2}'`` -> ``['a=1', 'b={"x":1,"y":2}']`` (no split inside brackets or quotes)."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts
