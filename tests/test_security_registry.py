"""Issue 15 item 6 (library side): an import path must name a class of the registry's family.

``pkg.mod:Name`` resolves only to a subclass of SearchSpace / Ranker / Searcher; a function
such as ``os:getcwd`` or ``subprocess:getoutput`` is refused before it can be called.
"""
from __future__ import annotations

import pytest

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.registry import RANKERS, SEARCHERS, SPACES


@pytest.mark.parametrize("registry,name", [
    (SPACES, "subprocess:getoutput"), (SPACES, "os:getcwd"), (RANKERS, "os:getcwd"), (SEARCHERS, "os:system"),
    (RANKERS, "nasrank.spaces.nb201:Nb201Space"),  # a class, but of another family
    (SPACES, "nasrank.errors:NasrankError"), (RANKERS, "builtins:object"),
])
def test_import_path_must_be_a_subclass_of_the_family(registry, name):
    with pytest.raises(NasrankError, match=f"{registry.kind} .*{name}.* is not a"):
        registry.get(name)


@pytest.mark.parametrize("name", [":", "os:", ":getcwd", "a b:C", "os:get cwd", "../x:Y", "x::Y"])
def test_malformed_import_paths(name):
    with pytest.raises(NasrankError, match="import path"):
        SPACES.get(name)


def test_real_classes_still_resolve():
    from nasrank.rankers.base import Ranker
    from nasrank.spaces.nb201 import Nb201Space

    assert SPACES.get("nasrank.spaces.nb201:Nb201Space") is Nb201Space
    assert issubclass(RANKERS.get("nasrank.rankers.tabular:TabularRanker"), Ranker)


def test_create_refuses_before_calling(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    (tmp_path / "evilmod.py").write_text(f"def run(*a, **k):\n    open({str(marker)!r}, 'w')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(NasrankError, match="not a"):
        SPACES.create("evilmod:run", cmd="touch x")
    assert not marker.exists()


@pytest.mark.parametrize("argv,needle", [
    (["search", "--space", ":", "--budget-queries", "1"], "import path"),
    (["search", "--ranker", "os:getcwd", "--benchmark", "embedded", "--budget-queries", "1"], "not a"),
    (["search", "--space", "subprocess:getoutput", "--space-cfg", "cmd=true", "--budget-queries", "1"], "not a"),
])
def test_cli_one_line(argv, needle, capsys):
    assert main(argv + ["--no-store", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nasrank search: error:") and needle in err
