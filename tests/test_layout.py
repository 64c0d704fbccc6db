"""The package's layering, read from the source (ast): the command line sits on top.

* Nothing imports ``nasrank.commands`` except ``nasrank/cli.py`` and ``nasrank/commands/``
  themselves; benchmark scripts and tests use ``nasrank.experiments`` (a test that runs the
  command line imports ``nasrank.cli``).
* The layers below ``nasrank.experiments`` (rankers, searchers, spaces, store, ...) never import it.
* No import loop runs through ``nasrank.commands``.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "nasrank"


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every nasrank module that ``path`` imports, anywhere in the file (function-level too),
    with the packages whose ``__init__`` the import runs."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path) if path.is_relative_to(PACKAGE) else ""
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = here.split(".")
                pkg = pkg[: len(pkg) - node.level + (1 if path.name == "__init__.py" else 0)]
                base = ".".join(pkg + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for t in targets:
            if t == "nasrank" or t.startswith("nasrank."):
                parts = t.split(".")
                out.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
    return out & known


def _package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _graph() -> dict[str, set[str]]:
    known = {module_name(p) for p in _package_files()}
    return {module_name(p): imported_modules(p, known) - {module_name(p)} for p in _package_files()}


def _is_cli(mod: str) -> bool:
    return mod == "nasrank.cli" or mod == "nasrank.commands" or mod.startswith("nasrank.commands.")


#: front doors on top of nasrank.experiments besides the command line: the notebook API
TOP = ("nasrank.api",)


def test_only_the_cli_imports_commands():
    known = {module_name(p) for p in _package_files()}
    offenders = []
    for path in _package_files() + sorted((REPO / "benchmarks").glob("*.py")) + sorted((REPO / "tests").glob("*.py")):
        imports = imported_modules(path, known)
        if path.is_relative_to(PACKAGE) and _is_cli(module_name(path)):
            continue
        runs_cli = path.parent.name == "tests" and "nasrank.cli" in imports
        bad = sorted(m for m in imports if m.startswith("nasrank.commands"))
        if bad and not runs_cli:
            offenders.append(f"{path.relative_to(REPO)}: {', '.join(bad)}")
    assert offenders == []


def test_lower_layers_do_not_import_experiments():
    upward = {m: sorted(d for d in deps if d.startswith("nasrank.experiments"))
              for m, deps in _graph().items()
              if not _is_cli(m) and m not in TOP and not m.startswith("nasrank.experiments")}
    assert {m: d for m, d in upward.items() if d} == {}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_loop_through_commands():
    loops = [sorted(c) for c in _cycles(_graph()) if any(m.startswith("nasrank.commands") for m in c)]
    assert loops == []


def test_the_checks_can_fail():
    """The walker sees what it must: the old loop commands.common -> rankers -> cascade -> commands.common."""
    graph = {"nasrank.commands.common": {"nasrank.rankers"}, "nasrank.rankers": {"nasrank.rankers.cascade"},
             "nasrank.rankers.cascade": {"nasrank.commands.common", "nasrank.commands"}, "nasrank.commands": set()}
    assert _cycles(graph) == [{"nasrank.commands.common", "nasrank.rankers", "nasrank.rankers.cascade"}]
    cascade = imported_modules(PACKAGE / "rankers" / "cascade.py", {m for m in _graph()})
    assert "nasrank.registry" in cascade and "nasrank.rankers.base" in cascade and "nasrank.rankers" in cascade
    assert "nasrank.commands.common" in imported_modules(PACKAGE / "commands" / "compare.py", set(_graph()))


# -- the package root and its map ------------------------------------------------------------------
MAX_ROOT_MODULES = 10


def test_the_package_root_holds_at_most_10_modules():
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root


def map_paths(text: str) -> list[Path]:
    """Every path DEVELOPERS.md's layout map names: the first word of an entry (``cli.py``, ``runs/``,
    ``utils/complexity.py``, nested by indentation) and each ``*.py`` its description mentions."""
    import re

    start = text.index("```\nnasrank/")
    block = text[start + 4:text.index("```", start + 4)]
    stack: list[tuple[int, Path]] = [(-1, REPO)]
    here, out = REPO, []
    for line in block.splitlines():
        m = re.match(r"( *)(\S+)", line)
        if not m:
            continue
        indent, first = len(m.group(1)), m.group(2)
        rest = line[m.end():]
        if (first.endswith("/") or first.endswith(".py")) and indent <= stack[-1][0] + 4:
            while stack[-1][0] >= indent:
                stack.pop()
            path = stack[-1][1] / first
            out.append(path)
            here = path if first.endswith("/") else path.parent
            if first.endswith("/"):
                stack.append((indent, path))
        else:
            rest = line
        out += [here / name for name in re.findall(r"(?<![\w./])([\w/]+\.py)\b", rest)]
    return out


def test_every_module_in_the_layout_map_exists():
    named = map_paths((REPO / "DEVELOPERS.md").read_text())
    assert len(named) > 60 and REPO / "nasrank" / "runs" / "history.py" in named
    assert [str(p.relative_to(REPO)) for p in named if not p.exists()] == []


def test_the_map_check_can_fail():
    text = "```\nnasrank/\n  cli.py   x\n  runs/    run safety\n    lock.py   uses atomic.py\n  config.py  gone\n```\n"
    got = [str(p.relative_to(REPO)) for p in map_paths(text)]
    assert got == ["nasrank", "nasrank/cli.py", "nasrank/runs", "nasrank/runs/lock.py", "nasrank/runs/atomic.py",
                   "nasrank/config.py"]


def test_one_device_name_mapping():
    """Device names map to what runs there in one place (runtime/devices.py), not one copy per module."""
    holders = sorted(str(p.relative_to(REPO)) for p in _package_files() if '"cuda": "gpu"' in p.read_text())
    assert holders == ["nasrank/runtime/devices.py"]
