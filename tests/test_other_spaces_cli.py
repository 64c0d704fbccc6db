"""The CLI and rankers on the non-NB201 spaces (issue 9): DARTS search, NB101 evaluate, fear on NDS ResNet."""
from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from conftest import shared
from nasrank.cli import main
from nasrank.rankers import RunContext
from nasrank.registry import RANKERS, SPACES


pytestmark = pytest.mark.usefixtures("one_thread")


def test_search_darts_evolution_synflow(tmp_path, cifar10_dir):
    out = tmp_path / "run"
    rc = main(["search", "--space", "darts", "--searcher", "evolution", "--ranker", "synflow",
               "--ranker-cfg", "seeds=1,batch_size=16", "--space-cfg", "channels=4,layers=3",
               "--dataset", "cifar10", "--data-dir", str(cifar10_dir), "--budget-queries", "6",
               "--searcher-cfg", "population_size=3,sample_size=2", "--output", str(out), "--quiet", "--no-store"])
    assert rc == 0
    lines = (out / "history.jsonl").read_text().splitlines()
    assert len(lines) == 6
    space = SPACES.create("darts")
    for line in lines:
        rec = json.loads(line)
        space.from_string(rec["arch"])  # every recorded architecture is a valid DARTS genotype
        assert rec["ranker"] == "synflow" and math.isfinite(rec["score"])


def test_evaluate_nb101_params_all(tmp_path):
    table = shared("nb101", "nb101_cifar10_500.csv")
    out = tmp_path / "eval"
    rc = main(["evaluate", "--space", "nb101", "--benchmark", f"csv:{table}", "--rankers", "params",
               "--sample", "all", "--output", str(out), "--no-store", "--no-plots", "--quiet"])
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    from nasrank.benchmarks import load_benchmark

    n_table = len(load_benchmark(f"csv:{table}", SPACES.create("nb101")).archs("cifar10"))
    with table.open(newline="") as fh:
        assert 0 < n_table <= sum(1 for _ in csv.DictReader(fh)) == 500
    assert report["n_archs"] == n_table
    rho = report["rankers"]["params"]["criteria"]["iso"]["spearman"]
    assert rho is not None and math.isfinite(rho) and -1 <= rho <= 1


def test_fear_on_nds_resnet_tiny(cifar10_dir):
    space = SPACES.create("nds_resnet", width_mult=0.25, max_depth=1)
    arch = space.from_string("ds=1,1,1|ws=16,16,32")
    ctx = RunContext(dataset="cifar10", data_dir=str(cifar10_dir), device="cpu", seed=0)
    # threshold 0.05 (below chance) so stage 1 stops after its first check and stage 2 runs on the tail
    r = RANKERS.create("fear", space, ctx, threshold=0.05, max_stage1_epochs=2, stage2_epochs=1,
                       check_every_steps=2, image_size=16, train_fraction=0.1, batch_size=64, stage2_batch_size=256)
    (e,) = r.evaluate([arch])
    assert e.info["reached"] and not e.info["rejected"]
    assert e.info["stage1_steps"] > 0 and e.info["stage2_steps"] > 0
    assert e.info["stage2"] == "cached"  # the NDS network traces at the fear_tail cut
    assert 0.0 <= e.score <= 1.0 and e.seconds > 0
