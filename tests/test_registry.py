"""The registries: built-ins known without importing them, one reader of constructor options,
and the declarations in nasrank.catalog checked against the classes they name."""
from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest

from nasrank import catalog
from nasrank.errors import NasrankError
from nasrank.registry import RANKERS, SEARCHERS, SPACES, Registry, accepted_options, check_kwargs

FAMILIES = [(SPACES, catalog.SPACES), (RANKERS, catalog.RANKERS), (SEARCHERS, catalog.SEARCHERS)]


@pytest.mark.parametrize("registry,entries", FAMILIES, ids=["spaces", "rankers", "searchers"])
def test_catalog_matches_the_classes(registry, entries):
    """Every declared name is registered by its module, with the declared summary and attributes,
    and every built-in module registers nothing that is not declared."""
    for name, (module, summary, attrs) in entries.items():
        cls = registry.get(name)
        assert cls.__module__ == module and cls.registry_name == name
        assert (cls.__doc__ or "").strip().splitlines()[0] == summary, name
        for key in registry.described:
            assert getattr(cls, key, None) == attrs.get(key), (name, key)  # an absent attribute is None
    for module in {m for m, _, _ in entries.values()}:
        importlib.import_module(module)
    assert set(registry._items) - set(entries) == set()  # nothing undeclared (tests register none here)


def test_describe_does_not_import():
    code = ("import sys; from nasrank.registry import RANKERS, SPACES; "
            "d = SPACES.describe('nb201'); r = RANKERS.describe('oneshot'); "
            "assert d['canonical_classes'] == 6466 and r['supported_spaces'] is None and r['requires'] == ('supernet',); "
            "assert 'nasrank.spaces.nb201' not in sys.modules and 'nasrank.rankers.oneshot' not in sys.modules; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_parser_and_listings_do_not_import_torch():
    """``nasrank --help``, ``nasrank rankers`` and ``nasrank spaces`` stay fast: no torch."""
    code = ("import sys, io, contextlib; from nasrank.cli import build_parser, main; build_parser(); "
            "assert 'torch' not in sys.modules, 'build_parser'; "
            "buf = io.StringIO(); ctx = contextlib.redirect_stdout(buf); ctx.__enter__(); "
            "main(['rankers']); main(['spaces']); main(['spaces', 'nb201', '--json']); ctx.__exit__(None, None, None); "
            "assert 'synflow' in buf.getvalue() and '15,625' in buf.getvalue(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_fresh_registry_lists_the_builtins_in_its_error():
    """An unknown name names the choices even when no component module was ever imported."""
    code = ("from nasrank.registry import RANKERS\n"
            "try:\n    RANKERS.get('synflw')\nexcept Exception as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "unknown ranker 'synflw' (did you mean 'synflow'?); choose one of: az_complexity, " in out.stdout
    assert "cascade, ensemble, epe_nas, fear" in out.stdout
    assert "synflow" in out.stdout and "tabular" in out.stdout
    empty = Registry("widget")
    with pytest.raises(NasrankError, match="unknown widget 'x'; no widget is registered"):
        empty.get("x")


class _Base:
    positional_args = ("space",)

    def __init__(self, space, alpha: int = 1) -> None:
        self.alpha = alpha


class _Forwarding(_Base):
    def __init__(self, space, beta: str = "b", **kw: Any) -> None:
        super().__init__(space, **kw)


class _Root:
    positional_args = ("space",)

    def __init__(self, space) -> None:
        self.space = space


class _Keeping(_Root):
    def __init__(self, space, **build_kwargs: Any) -> None:
        super().__init__(space)


class _NotForwarding(_Base):
    def __init__(self, space, gamma: float = 0.5) -> None:
        super().__init__(space)


def test_accepted_options_follow_the_constructor_chain():
    fwd = accepted_options(_Forwarding)
    assert fwd.names == ("beta", "alpha") and not fwd.open and fwd.defaults == {"beta": "b", "alpha": 1}
    assert accepted_options(_Keeping).open  # no base option to pass **build_kwargs to: any key
    nf = accepted_options(_NotForwarding)
    assert nf.names == ("gamma",) and not nf.open  # the base's alpha is not reachable
    check_kwargs(_Forwarding, {"alpha": 2, "beta": "x"}, "thing")
    check_kwargs(_Keeping, {"anything": 1}, "thing")
    with pytest.raises(NasrankError, match="thing does not take option\\(s\\) alpha; valid options: gamma"):
        check_kwargs(_NotForwarding, {"alpha": 2}, "thing")


def test_builtin_options_and_declared_training_scale():
    fear, train, params = RANKERS.get("fear"), RANKERS.get("train"), RANKERS.get("params")
    assert {"threshold", "tail_cells", "channels", "batch_size"} <= set(accepted_options(fear).names)
    assert {"epochs", "channels", "train_fraction"} <= set(accepted_options(train).names)
    assert not accepted_options(fear).open and accepted_options(params).open
    assert fear.takes_training_scale and train.takes_training_scale
    assert not any(RANKERS.get(n).takes_training_scale for n in ("params", "flops", "synflow", "tabular", "oneshot"))
    assert accepted_options(SEARCHERS.get("random")).names == ("seed", "executor", "batch_size")
    with pytest.raises(NasrankError, match="ranker 'fear' does not take option\\(s\\) bogus"):
        check_kwargs(fear, {"bogus": 1}, "ranker 'fear'")


def test_parallel_variant_is_asked_of_the_searcher():
    from nasrank.execution.ray_executor import searcher_for_executor

    assert searcher_for_executor("random", {}, 4) == ("random", {"batch_size": 4})
    assert searcher_for_executor("random", {"batch_size": 2}, 4) == ("random", {"batch_size": 2})
    assert searcher_for_executor("evolution", {"population_size": 8}, 3) == (
        "evolution_async", {"workers": 3, "population_size": 8})
    assert searcher_for_executor("local", {"improvement": "first"}, 3) == ("local", {"improvement": "first"})


def test_supported_spaces_checked_when_a_ranker_is_built():
    from nasrank.rankers.base import RunContext
    from nasrank.spaces.darts import DartsSpace
    from nasrank.spaces.nds import NdsResNetSpace

    with pytest.raises(NasrankError, match="ranker 'oneshot' does not support space 'nds_resnet': it needs a space "
                                           "that provides a supernet"):
        RANKERS.create("oneshot", NdsResNetSpace(), RunContext(), supernet="x.ckpt")
    # support comes from the space's supernet contract, not from a list of names
    assert RANKERS.get("oneshot").supported_spaces is None and DartsSpace().supernet() is not None
