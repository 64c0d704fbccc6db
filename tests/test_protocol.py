"""The NB201/NATS benchmark protocol: search on valid/12-epoch accuracy, report test; recorded training times
as the cost; a CSV without a dataset column; a benchmark smaller than the space warns once."""
from __future__ import annotations

import csv
import json

import pytest

from nasrank.benchmarks import load_benchmark
from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.rankers.base import RunContext
from nasrank.rankers.tabular import TabularRanker
from nasrank.spaces.nb201 import Nb201Space

INDICES = (0, 11, 284)  # the fixture's records


@pytest.fixture(scope="module")
def official(nats_dir):
    from nats_bench import create

    return create(str(nats_dir), "tss", fast_mode=True, verbose=False)


@pytest.fixture(scope="module")
def nats_bench(nats_dir):
    return load_benchmark(f"nats:{nats_dir}", Nb201Space())


def _info(api, i, ds, hp):
    return api.get_more_info(i, ds, hp=hp, is_random=False)


@pytest.mark.parametrize("metric,hp", [("valid", "12"), ("valid", "200"), ("test", "12"), ("test", "200")])
def test_tabular_scores_the_official_metric_and_charges_the_recorded_time(official, nats_bench, metric, hp):
    space = nats_bench.space
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        ranker = TabularRanker(space, RunContext(benchmark=nats_bench, dataset=ds), metric=metric, epochs=int(hp))
        for i in INDICES:
            arch = space.from_string(official.meta_archs[i])
            src = "cifar10-valid" if (ds, metric) == ("cifar10", "valid") else ds  # NB201: cifar10 has no valid half
            want = _info(official, i, src, hp)
            ev = ranker.evaluate_one(arch)
            assert ev.score == pytest.approx(want[f"{metric}-accuracy"])
            assert ev.seconds == pytest.approx(want["train-all-time"]) and ev.info["cost"] == "recorded"
            # what is reported is always the test accuracy after 200 epochs
            assert nats_bench.true_accuracy(arch, ds) == pytest.approx(_info(official, i, ds, "200")["test-accuracy"])


def test_valid_and_test_differ_and_12_differs_from_200(official, nats_bench):
    arch = nats_bench.space.from_string(official.meta_archs[11])
    vals = {(m, e): nats_bench.metric_accuracy(arch, "cifar10", m, e) for m in ("valid", "test") for e in (12, 200)}
    assert len(set(vals.values())) == 4, vals  # four different signals, not one reused


def test_evaluate_on_the_protocol_writes_search_signal_and_reported_accuracy(tmp_path, official, nats_dir):
    out = tmp_path / "e"
    assert main(["evaluate", "--benchmark", f"nats:{nats_dir}", "--rankers", "tabular", "--sample", "all",
                 "--ranker-cfg", "metric=valid,epochs=12", "--output", str(out), "--no-plots", "--quiet"]) == 0
    rows = list(csv.DictReader((out / "scores.csv").open()))
    assert len(rows) == 3
    by_arch = {official.meta_archs[i]: i for i in INDICES}
    for r in rows:
        i = by_arch[r["arch"]]
        assert float(r["score"]) == pytest.approx(_info(official, i, "cifar10-valid", "12")["valid-accuracy"])
        assert float(r["true_acc"]) == pytest.approx(_info(official, i, "cifar10", "200")["test-accuracy"])
        assert float(r["seconds"]) == pytest.approx(_info(official, i, "cifar10-valid", "12")["train-all-time"])


def test_search_summary_states_the_protocol_and_warns_once_about_coverage(tmp_path, nats_dir, capsys):
    out = tmp_path / "s"
    assert main(["search", "--benchmark", f"nats:{nats_dir}", "--ranker-cfg", "metric=valid,epochs=12",
                 "--budget-queries", "4", "--output", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.count("covers 3 of 15,625 nb201 architectures") == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["search_metric"] == "valid@12"
    assert "modelled training time" in summary["cost"]  # most samples are not in the 3 records
    assert summary["reported"].startswith("true_acc: test accuracy")


def test_missing_metric_is_one_clear_error(nb201_csv, capsys):
    bench = load_benchmark(f"csv:{nb201_csv}", Nb201Space())
    with pytest.raises(NasrankError, match="has no valid@12 accuracy"):
        TabularRanker(bench.space, RunContext(benchmark=bench), metric="valid", epochs=12)
    with pytest.raises(NasrankError, match="unknown metric 'val'"):
        TabularRanker(bench.space, RunContext(benchmark=bench), metric="val")


def test_csv_with_epoch_columns_serves_12_epoch_search(tmp_path):
    from conftest import shared

    path = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv")
    bench = load_benchmark(f"csv:{path}", Nb201Space())
    row = next(csv.DictReader(path.open()))
    arch = bench.space.from_string(row["arch"])
    assert bench.true_accuracy(arch) == float(row["test_acc_200ep"])  # reported: the longest schedule
    ranker = TabularRanker(bench.space, RunContext(benchmark=bench), metric="test", epochs=12)
    ev = ranker.evaluate_one(arch)
    assert ev.score == float(row["test_acc_12ep"]) and ev.seconds == float(row["train_seconds_12ep"])


def test_plain_csv_without_dataset_column_serves_any_dataset(tmp_path, nb201_csv):
    small = tmp_path / "my_cifar100.csv"
    lines = nb201_csv.read_text().splitlines()[:41]
    small.write_text("\n".join(lines) + "\n")
    out = tmp_path / "e"
    assert main(["evaluate", "--benchmark", f"csv:{small}", "--dataset", "cifar100", "--rankers", "params",
                 "--sample", "all", "--output", str(out), "--no-plots", "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["dataset"] == "cifar100" and report["n_archs"] == 40
    # a table that names its datasets still refuses the others
    named = tmp_path / "named.csv"
    named.write_text(lines[0] + ",dataset\n" + "\n".join(f"{ln},cifar10" for ln in lines[1:5]) + "\n")
    assert main(["evaluate", "--benchmark", f"csv:{named}", "--dataset", "cifar100", "--rankers", "params",
                 "--sample", "all", "--output", str(tmp_path / "n"), "--no-plots", "--quiet"]) == 2
