"""Options are declared once per component: an option added to a toy ranker's declaration, and nowhere
else, reaches --ranker-cfg checking (with "did you mean"), config(), the store key, `nasrank rankers`
and the run folder's config.yaml."""
from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from nasrank.cli import main

TOY = '''
from dataclasses import dataclass

from nasrank.options import option, positive_int
from nasrank.rankers.base import Ranker


@dataclass
class ToyOptions:
    """The toy's options: this declaration is the only place that names them."""

    sharpness: int = option(3, "how sharply the toy scores", check=positive_int)


class ToyRanker(Ranker):
    """A toy ranker: the architecture string's length times sharpness."""

    Options = ToyOptions

    def evaluate_one(self, arch):
        from nasrank.rankers.base import Evaluation

        return Evaluation(float(len(self.space.to_string(arch)) * self.sharpness), 0.0, 0.0, {})
'''
NAME = "toy_ranker_mod:ToyRanker"


@pytest.fixture()
def toy(tmp_path, monkeypatch):
    (tmp_path / "toy_ranker_mod.py").write_text(textwrap.dedent(TOY))
    monkeypatch.syspath_prepend(str(tmp_path))
    return NAME


def _search(tmp_path, *extra):
    return main(["search", "--ranker", NAME, "--benchmark", "embedded", "--budget-queries", "3", "--quiet",
                 "--no-store", "--no-logs", *extra])


def test_an_option_declared_once_is_seen_everywhere(toy, tmp_path, capsys):
    from nasrank.experiments.build import make_context, make_space
    from nasrank.registry import RANKERS

    # --ranker-cfg checking, with "did you mean"
    assert _search(tmp_path, "--ranker-cfg", "sharpnes=2") == 2
    err = capsys.readouterr().err
    assert "does not take option(s) sharpnes (did you mean 'sharpness'?)" in err and err.count("\n") == 1
    assert _search(tmp_path, "--ranker-cfg", "sharpness=0") == 2
    assert "sharpness must be a positive integer" in capsys.readouterr().err
    # config() and the store key
    space = make_space("nb201")
    ctx = make_context(space)
    default, sharp = RANKERS.create(toy, space, ctx), RANKERS.create(toy, space, ctx, sharpness=5)
    assert default.config() == {"sharpness": 3} and sharp.config() == {"sharpness": 5}
    assert default.config_hash() != sharp.config_hash()
    # `nasrank rankers NAME`
    assert main(["rankers", toy]) == 0
    out = capsys.readouterr().out
    assert "sharpness=3" in out and "how sharply the toy scores" in out
    assert main(["rankers", toy, "--json"]) == 0
    described = json.loads(capsys.readouterr().out)["options"]
    assert described == [{"name": "sharpness", "default": 3, "help": "how sharply the toy scores", "choices": None}]
    # the run folder's config.yaml, and the option really runs
    out_dir = tmp_path / "run"
    assert _search(tmp_path, "--ranker-cfg", "sharpness=5", "--output", str(out_dir)) == 0
    assert yaml.safe_load((out_dir / "config.yaml").read_text())["ranker-cfg"] == {"sharpness": 5}
    first = json.loads((out_dir / "history.jsonl").read_text().splitlines()[0])
    assert first["score"] == 5 * len(first["arch"])
