"""--help reads as plain text with examples that parse, lists every searcher, and `nasrank spaces NAME`
shows what an architecture string looks like (issue 33)."""
from __future__ import annotations

import argparse
import shlex

import pytest

from nasrank import catalog
from nasrank.cli import build_parser, main
from nasrank.commands.help_text import EXAMPLES, plain
from nasrank.registry import SPACES


def _parsers(p: argparse.ArgumentParser, words: tuple[str, ...] = ()):
    yield words, p
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, child in a.choices.items():
                yield from _parsers(child, words + (name,))


PARSERS = dict(_parsers(build_parser()))


def test_plain_removes_rest_markup():
    assert plain("``nasrank evaluate`` in :mod:`nasrank.evaluation.bias` and :func:`~a.b.c`") == \
        "nasrank evaluate in nasrank.evaluation.bias and c"
    assert plain("see `CIFAR <https://x.org>`_") == "see CIFAR (https://x.org)"


@pytest.mark.parametrize("words", sorted(PARSERS), ids=lambda w: " ".join(w) or "nasrank")
def test_help_has_no_markup(words):
    text = PARSERS[words].format_help()
    assert "``" not in text and ":mod:" not in text and ":func:" not in text and ":class:" not in text, text


def test_every_command_with_work_to_do_has_examples():
    shown = {w for w, p in PARSERS.items() if p.epilog and "examples:" in p.epilog}
    assert {(), ("search",), ("evaluate",), ("compare",), ("report",), ("analyze",), ("data",),
            ("supernet", "train"), ("store",), ("spaces",), ("rankers",)} <= shown
    assert "examples:\n  nasrank search --space nb201" in PARSERS[("search",)].format_help()


@pytest.mark.parametrize("line", [x for lines in EXAMPLES.values() for x in lines])
def test_every_example_parses(line):
    argv = shlex.split(line, comments=True)
    assert argv[0] == "nasrank"
    args = build_parser().parse_args(argv[1:])
    assert callable(args.func)


@pytest.mark.parametrize("command", [("search",), ("compare",)])
def test_every_searcher_is_listed(command):
    text = " ".join(PARSERS[command].format_help().split())
    for name in catalog.SEARCHERS:
        assert f"{name} |" in text or f"| {name}" in text, name
    assert len(catalog.SEARCHERS) == 7


@pytest.mark.parametrize("name", sorted(catalog.SPACE_FORMATS))
def test_space_formats_are_the_classes(name):
    fmt, ops, example = catalog.SPACE_FORMATS[name]
    space = SPACES.create(name)
    assert space.to_string(space.from_string(example)) == example
    if space.ops:
        assert tuple(space.ops) == ops
    else:  # NDS: the choices of each per-stage field
        assert ops == tuple(f"{k}: {', '.join(map(str, c))}" for k, c in space.choices)
    # the pool space is made from a pool folder; its text form is its base space's (docs/pool.md)
    assert set(catalog.SPACE_FORMATS) == set(catalog.SPACES) - {"pool"}


def test_spaces_name_shows_format_ops_and_example(capsys):
    assert main(["spaces", "nb201"]) == 0
    out = capsys.readouterr().out
    assert "format    |op~0|+|op~0|op~1|+|op~0|op~1|op~2|" in out
    assert "ops       none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3" in out
    assert f"example   {catalog.SPACE_FORMATS['nb201'][2]}" in out and "15,625 (6,466 isomorphism classes)" in out
    assert main(["spaces", "nds_resnet"]) == 0
    assert "choices   ds: 1, 2, 3, 4, 6, 8, 12, 16, 24; ws: 16" in capsys.readouterr().out


def test_listings_show_no_markup(capsys):
    assert main(["rankers"]) == 0
    out = capsys.readouterr().out
    assert "``" not in out and "evolution_async" in out and "tabular         Score = the benchmark's metric" in out
    assert main(["rankers", "tabular"]) == 0
    assert "``" not in capsys.readouterr().out
