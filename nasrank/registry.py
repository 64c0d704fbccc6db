"""Name -> class registries for spaces, rankers, searchers and benchmarks.

Every component registers itself by name so it can be chosen from the command
line and from Python. ``create(name, **cfg)`` checks the keyword arguments
against the constructor, so a typo in a config fails loudly.
"""
from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from typing import Any, Callable, Generic, TypeVar

from nasrank.errors import NasrankError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of classes of one family (e.g. all rankers)."""

    def __init__(self, kind: str, base: str | None = None) -> None:
        self.kind = kind
        self.base = base  # "pkg.mod:Class" every import path must subclass (imported on first use)
        self._items: dict[str, type[T]] = {}
        self._lazy: dict[str, str] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: ``@RANKERS.register("synflow")``."""

        def deco(cls: type[T]) -> type[T]:
            if name in self._items and self._items[name] is not cls:
                raise NasrankError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = cls
            cls.registry_name = name  # type: ignore[attr-defined]
            return cls

        return deco

    def register_lazy(self, module: str, *names: str) -> None:
        """Declare that importing ``module`` registers ``names`` (imported on first use,
        so heavy dependencies such as Lightning load only when needed)."""
        for n in names:
            self._lazy.setdefault(n, module)

    def names(self) -> list[str]:
        return sorted(set(self._items) | set(self._lazy))

    def __contains__(self, name: str) -> bool:
        return name in self._items or name in self._lazy

    def get(self, name: str) -> type[T]:
        """Return the class registered as ``name``, or import ``pkg.mod:Class``."""
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            importlib.import_module(self._lazy[name])
            if name in self._items:
                return self._items[name]
        if ":" in name:
            return self._import(name)
        raise NasrankError(
            f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            f" (or give an import path 'package.module:Class')"
        )

    def _import(self, name: str) -> type[T]:
        """``pkg.mod:Class``, checked to be a subclass of the family's base class before it is returned."""
        if not _IMPORT_PATH.fullmatch(name):
            raise NasrankError(f"malformed {self.kind} import path {name!r}; expected 'package.module:Class'")
        mod_name, _, attr = name.partition(":")
        try:
            try:
                mod = importlib.import_module(mod_name)
            except ModuleNotFoundError as exc:
                if exc.name != mod_name.split(".")[0] or os.getcwd() in sys.path:
                    raise
                sys.path.append(os.getcwd())  # a user's module in the working directory
                mod = importlib.import_module(mod_name)
        except ImportError as exc:
            raise NasrankError(f"cannot import {self.kind} {name!r}: {exc}") from None
        if not hasattr(mod, attr):
            raise NasrankError(f"{self.kind} {name!r}: module {mod_name} has no {attr!r}")
        obj = getattr(mod, attr)
        base = self._base_class()
        if base is not None and not (inspect.isclass(obj) and issubclass(obj, base)):
            raise NasrankError(f"{self.kind} {name!r} is not a {base.__name__} subclass "
                               f"(it is {type(obj).__name__} {getattr(obj, '__qualname__', '')!s}); "
                               f"an import path must name a {self.kind} class")
        return obj

    def _base_class(self) -> type | None:
        if self.base is None:
            return None
        mod_name, _, attr = self.base.partition(":")
        return getattr(importlib.import_module(mod_name), attr)

    def create(self, name: str, *args: Any, **cfg: Any) -> T:
        """Instantiate ``name`` with ``cfg``; unknown keys raise a clear error."""
        cls = self.get(name)
        check_kwargs(cls, cfg, f"{self.kind} {name!r}")
        return cls(*args, **cfg)


def check_kwargs(cls: type, cfg: dict[str, Any], what: str) -> None:
    """Raise :class:`NasrankError` if ``cfg`` has keys ``cls`` does not accept."""
    sig = inspect.signature(cls.__init__)
    params = sig.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = {n for n, p in params.items() if n != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        raise NasrankError(
            f"{what} does not take option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(allowed))}"
        )


#: ``package.module:Class``: dotted identifiers, one colon, a class name
_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")

SPACES: Registry = Registry("space", "nasrank.spaces.base:SearchSpace")
RANKERS: Registry = Registry("ranker", "nasrank.rankers.base:Ranker")
SEARCHERS: Registry = Registry("searcher", "nasrank.searchers.base:Searcher")
