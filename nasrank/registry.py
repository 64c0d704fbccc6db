"""Name -> class registries for spaces, rankers, searchers and benchmarks.

Every component is known by name so it can be chosen from the command line and
from Python. The built-in ones are declared in :mod:`nasrank.catalog` and
imported on first use (no import is needed to make them known); a user's class
registers itself with ``@RANKERS.register(name)`` or is named ``pkg.module:Class``.
``create(name, **cfg)`` checks the keyword arguments against the constructor
(:func:`accepted_options`), so a typo in a config fails loudly.
"""
from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from nasrank.errors import NasrankError, did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of classes of one family (e.g. all rankers).

    Built-in components are *declared* (:meth:`declare`: name, module, summary and
    the attributes listed in ``described``) and imported the first time one is asked
    for; a user's class registers itself with :meth:`register`.
    """

    def __init__(self, kind: str, described: Sequence[str] = (), base: str | None = None) -> None:
        self.kind = kind
        self.described = tuple(described)
        self.base = base  # "pkg.mod:Class" every import path must subclass (imported on first use)
        self._items: dict[str, type[T]] = {}
        self._lazy: dict[str, str] = {}
        self._declared: dict[str, dict[str, Any]] = {}

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
        so heavy dependencies such as torch load only when needed)."""
        for n in names:
            self._lazy.setdefault(n, module)

    def declare(self, name: str, module: str, summary: str, **attrs: Any) -> None:
        """Declare a component that ``module`` registers as ``name``, with what :meth:`describe`
        says about it before it is imported (``summary`` and the ``described`` attributes)."""
        self.register_lazy(module, name)
        self._declared[name] = {"summary": summary, **{k: attrs.get(k) for k in self.described}}

    def names(self) -> list[str]:
        return sorted(set(self._items) | set(self._lazy))

    def __contains__(self, name: str) -> bool:
        return name in self._items or name in self._lazy

    def describe(self, name: str) -> dict[str, Any]:
        """``{"summary": first docstring line, <described attributes>}`` of ``name``, without
        importing a declared component that has not been loaded yet."""
        if name not in self._items and name in self._declared:
            return dict(self._declared[name])
        cls = self.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        return {"summary": doc[0] if doc else "", **{k: getattr(cls, k, None) for k in self.described}}

    def get(self, name: str) -> type[T]:
        """Return the class registered as ``name``, or import ``pkg.mod:Class``."""
        if not isinstance(name, str):
            raise NasrankError(f"a {self.kind} is named by a string (a name or 'package.module:Class'), "
                               f"got {type(name).__name__} {str(name)[:80]}")
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            importlib.import_module(self._lazy[name])
            if name in self._items:
                return self._items[name]
        if ":" in name:
            return self._import(name)
        choices = f"choose one of: {', '.join(self.names())}" if self.names() else f"no {self.kind} is registered"
        raise NasrankError(f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}; {choices} "
                           "(or give an import path 'package.module:Class')")

    def _import(self, name: str) -> type[T]:
        """``pkg.mod:Class``, checked to be a subclass of the family's base class before it is returned."""
        if not _IMPORT_PATH.fullmatch(name):
            raise NasrankError(f"malformed {self.kind} import path {name!r}; expected 'package.module:Class'")
        mod_name, _, attr = name.partition(":")
        try:  # sys.path as it is: the working directory is never added (a folder's files are not code)
            mod = importlib.import_module(mod_name)
        except ImportError as exc:
            hint = ""
            if isinstance(exc, ModuleNotFoundError) and exc.name == mod_name.split(".")[0]:
                hint = ("; nasrank does not search the working directory: put the folder holding "
                        f"{exc.name} on PYTHONPATH")
            raise NasrankError(f"cannot import {self.kind} {name!r}: {exc}{hint}") from None
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


@dataclass(frozen=True)
class Options:
    """The keyword options a component's constructor accepts (see :func:`accepted_options`)."""

    names: tuple[str, ...]          #: named options, in the order the constructors list them
    defaults: dict[str, Any]        #: default of each named option that has one
    open: bool                      #: also takes arbitrary ``**kwargs`` (not passed on to a base class)

    def __contains__(self, name: str) -> bool:
        return name in self.names


def _named(init: Callable, skip: Sequence[str]) -> list[inspect.Parameter]:
    return [p for n, p in inspect.signature(init).parameters.items()
            if n != "self" and n not in skip and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def declared_options(cls: type) -> type | None:
    """The dataclass declaring ``cls``'s options (its ``Options`` attribute), or None."""
    import dataclasses

    decl = getattr(cls, "Options", None)
    return decl if isinstance(decl, type) and dataclasses.is_dataclass(decl) else None


def accepted_options(cls: type) -> Options:
    """The options ``cls(*positional, **options)`` accepts: its declared ``Options`` (see
    :mod:`nasrank.options`), else (a user's class) read from its constructor's signature.

    The class's ``__init__`` contributes its named parameters, except the ones
    the family passes positionally (the class attribute ``positional_args``,
    e.g. a ranker's ``space`` and ``context``). Where it takes ``**kwargs`` and
    a base class's ``__init__`` has options of its own, they are passed on and
    that ``__init__`` contributes too, and so on down the MRO; a ``**kwargs``
    with no base options below it is open (any key accepted).
    """
    inits = tuple(c.__dict__.get("__init__") for c in cls.__mro__)  # a patched constructor is read again
    key = (cls, inits, getattr(cls, "Options", None), tuple(getattr(cls, "positional_args", ())))
    try:
        found = _ACCEPTED.get(key)
    except TypeError:  # something unhashable: read it each time
        return _read_accepted(cls)
    if found is None:
        found = _ACCEPTED[key] = _read_accepted(cls)
    return Options(found.names, dict(found.defaults), found.open)


#: accepted_options per class (a search asks it for every evaluation; reading a signature is slow)
_ACCEPTED: dict[tuple, Options] = {}


def _read_accepted(cls: type) -> Options:
    decl = declared_options(cls)
    if decl is not None:
        from nasrank import options

        specs = options.specs(decl)
        return Options(tuple(o.name for o in specs), {o.name: o.default for o in specs}, False)
    skip = tuple(getattr(cls, "positional_args", ()))
    inits = [c.__dict__["__init__"] for c in cls.__mro__ if c is not object and "__init__" in c.__dict__]
    names: list[str] = []
    defaults: dict[str, Any] = {}
    open_ = False
    for i, init in enumerate(inits):
        for p in _named(init, skip):
            if p.name not in names:
                names.append(p.name)
                if p.default is not inspect.Parameter.empty:
                    defaults[p.name] = p.default
        if not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(init).parameters.values()):
            break  # nothing is passed on to the base classes
        if not any(_named(later, skip) for later in inits[i + 1:]):
            open_ = True  # **kwargs kept by this class (e.g. a ranker's build_kwargs)
            break
    return Options(tuple(names), defaults, open_)


def check_kwargs(cls: type, cfg: dict[str, Any], what: str) -> None:
    """Raise :class:`NasrankError` if ``cfg`` has keys ``cls`` does not accept (with "did you mean")."""
    opts = accepted_options(cls)
    if opts.open:
        return
    unknown = sorted(k for k in cfg if k not in opts.names)
    if unknown:
        hint = did_you_mean(unknown[0], opts.names) if len(unknown) == 1 else ""
        raise NasrankError(f"{what} does not take option(s) {', '.join(unknown)}{hint}; "
                           f"valid options: {', '.join(sorted(opts.names))}")


#: ``package.module:Class``: dotted identifiers, one colon, a class name
_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")

SPACES: Registry = Registry("space", described=("size", "size_is_estimate", "canonical_classes", "supernet_provider"),
                            base="nasrank.spaces.base:SearchSpace")
RANKERS: Registry = Registry("ranker", described=("supported_spaces", "requires"), base="nasrank.rankers.base:Ranker")
SEARCHERS: Registry = Registry("searcher", base="nasrank.searchers.base:Searcher")


def _declare_builtins() -> None:
    from nasrank import catalog

    for registry, entries in ((SPACES, catalog.SPACES), (RANKERS, catalog.RANKERS), (SEARCHERS, catalog.SEARCHERS)):
        for name, (module, summary, attrs) in entries.items():
            registry.declare(name, module, summary, **attrs)


_declare_builtins()
