"""The shape of the code, read from the source (ast): no function takes more than 8 parameters."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nasrank"
MAX_PARAMETERS = 8


def parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Every named parameter (positional-only, positional, keyword-only), less ``self`` / ``cls``;
    ``*args`` and ``**kwargs`` are not counted."""
    a = fn.args
    return [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs) if p.arg not in ("self", "cls")]


def offenders(root: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and len(parameters(node)) > MAX_PARAMETERS:
                out.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({len(parameters(node))})")
    return out


def test_no_function_takes_more_than_8_parameters():
    assert offenders() == []


def test_the_count_sees_keyword_only_parameters(tmp_path):
    (tmp_path / "m.py").write_text("def f(self, a, b, c, d, *, e, f, g, h, i, **kw): pass\n"
                                   "def g(a, b, c, d, e, f, g, h, *args, **kw): pass\n")
    assert offenders(tmp_path) == [f"{tmp_path.name}/m.py:1 f (9)"]
