"""examples/custom_space.py: a user's own space, searched from Python and from the command line."""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # `examples` is importable from the repo root

from examples.custom_space import TinyCnnSpace, main as example_main  # noqa: E402
from nasrank.cli import main  # noqa: E402
from nasrank.errors import NasrankError  # noqa: E402


def test_space_contract():
    space, rng = TinyCnnSpace(), np.random.default_rng(0)
    archs = space.sample_many(60, rng)
    assert len({space.key(a) for a in archs}) == 60
    for a in archs:
        assert space.from_string(space.to_string(a)) == a
        nbrs = space.neighbours(a)
        assert a not in nbrs and len(set(nbrs)) == len(nbrs) and nbrs == space.neighbours(a)
        m = space.mutate(a, rng)
        assert m != a and m in nbrs
    model = space.build(space.from_string("16k3-32k5-8k3"), num_classes=7)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 7)
    assert space.size == 6 + 36 + 216


@pytest.mark.parametrize("bad", ["", "k3", "16k3-", "64k3", "16k7", "16k3-16k3-16k3-16k3", "16x3", "016k3"])
def test_malformed_strings(bad):
    with pytest.raises(NasrankError, match="TinyCnnSpace"):
        TinyCnnSpace().from_string(bad)


def test_example_runs_all_searchers_with_zero_shot_and_train(cifar10_dir, capsys):
    results = example_main([str(cifar10_dir), "4"])
    space = TinyCnnSpace()
    assert {s for s, _ in results} == {"random", "evolution", "local"}
    assert {r for _, r in results} == {"synflow" if ("random", "synflow") in results else "params", "train"}
    for (searcher, ranker), best in results.items():
        space.from_string(best.arch)
        assert math.isfinite(best.score)
        if ranker == "train":
            assert 0.0 <= best.score <= 1.0
    assert capsys.readouterr().out.count("best ") == 6


@pytest.mark.parametrize("searcher", ["random", "evolution", "local"])
def test_cli_search_with_import_path(tmp_path, searcher):
    out = tmp_path / searcher
    rc = main(["search", "--space", "examples.custom_space:TinyCnnSpace", "--searcher", searcher, "--ranker", "params",
               "--budget-queries", "8", "--seed", "1", "--output", str(out), "--quiet"])
    assert rc == 0
    hist = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    assert len(hist) == 8 and len({h["arch"] for h in hist}) == 8
    summary = json.loads((out / "summary.json").read_text())
    assert summary["space"] == "tiny_cnn" and summary["n_evaluations"] == 8
    assert TinyCnnSpace().from_string(summary["best_arch"])
    best = max(hist, key=lambda h: h["score"])
    assert summary["best_arch"] == best["arch"]
