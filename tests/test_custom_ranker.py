"""examples/custom_ranker.py: a user's own ranker, from Python and by import path on the command line."""
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # `examples` is importable from the repo root

from examples.custom_ranker import ConvCount, main as example_main  # noqa: E402
from nasrank.cli import main  # noqa: E402
from nasrank.registry import SPACES  # noqa: E402


def test_the_score_is_the_weighted_conv_count():
    space = SPACES.create("nb201")
    arch = space.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    ev = ConvCount(space, conv3x3=3.0).evaluate([arch])[0]
    assert ev.score == 3.0 * 2 + 1.0 * 1 - space.features(arch)["n_dead_ops"] and ev.status == "ok"
    assert ConvCount(space).config() == {"conv3x3": 2.0, "conv1x1": 1.0}  # the store's key holds the options


def test_example_ranks_against_the_embedded_table(tmp_path):
    taus = example_main([str(tmp_path / "out")])
    assert set(taus) == {"mine", "params"} and all(np.isfinite(list(taus.values())))
    assert taus["mine"] > 0.3  # a real, if crude, proxy: it ranks the 100 cells far better than chance
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["rankers"]["mine"]["config"] == {"conv3x3": 3, "conv1x1": 1.0}


def test_the_cli_takes_it_by_import_path(tmp_path, capsys):
    rc = main(["evaluate", "--space", "nb201", "--benchmark", "embedded", "--sample", "20", "--output",
               str(tmp_path / "cli"), "--rankers", "mine=examples.custom_ranker:ConvCount", "--ranker-cfg",
               "mine.conv3x3=3"])
    assert rc == 0, capsys.readouterr().err
    rows = (tmp_path / "cli" / "scores.csv").read_text().splitlines()
    assert rows[0].startswith("arch,ranker,") and len(rows) == 21 and all(",mine," in r for r in rows[1:])
