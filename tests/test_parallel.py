"""The Ray executor and the asynchronous evolution (one local Ray instance with 2 workers for the module)."""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from nasrank.cli import main
from nasrank.errors import NasrankError
from nasrank.rankers.base import Evaluation, Ranker, RunContext
from nasrank.registry import RANKERS, SEARCHERS
from nasrank.searchers import Budget

pytestmark = pytest.mark.ray


class DieOnceRanker(Ranker):
    """Kills its worker process on the first attempt (a marker file remembers it), then scores."""

    def __init__(self, space, context=None, marker: str = "") -> None:
        super().__init__(space, context)
        self.marker = marker

    def evaluate_one(self, arch):
        if not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)
        return Evaluation(float(arch.count("nor_conv_3x3")), 0.0, 0.0, {"pid": os.getpid()})


class ProbeRanker(Ranker):
    """Score = #conv3x3; info says where and with how many torch threads it ran."""

    def evaluate_one(self, arch):
        import torch

        return Evaluation(float(arch.count("nor_conv_3x3")), 1.0, 1.0,
                          {"pid": os.getpid(), "threads": torch.get_num_threads()})


class FailingRanker(Ranker):
    def evaluate_one(self, arch):
        raise NasrankError(f"cannot score {arch}")


@pytest.fixture(scope="module")
def ray_ex():
    import ray  # the [ray] extra is part of `make test`'s install

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the test rankers live here
    from nasrank.execution.ray_executor import RayExecutor

    ex = RayExecutor(workers=2, max_retries=2).start()
    yield ex
    ex.close()


def tabular(bench):
    return RANKERS.create("tabular", bench.space, RunContext(benchmark=bench))


def test_missing_ray_is_a_clear_error(monkeypatch):
    from nasrank.execution.ray_executor import RayExecutor

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(NasrankError, match=r"pip install \"nasrank\[ray\]\""):
        RayExecutor(workers=2)


def test_bad_workers():
    from nasrank.execution.ray_executor import RayExecutor

    with pytest.raises(NasrankError, match="workers"):
        RayExecutor(workers=0)


def test_random_search_identical_to_serial(ray_ex, nb201_bench):
    from nasrank.execution.ray_executor import searcher_for_executor

    ranker = tabular(nb201_bench)
    serial = SEARCHERS.create("random", nb201_bench.space, ranker, seed=7).run(Budget(queries=40))
    name, cfg = searcher_for_executor("random", {}, ray_ex.workers)
    assert cfg == {"batch_size": 2}
    par = SEARCHERS.create(name, nb201_bench.space, ranker, seed=7, executor=ray_ex, **cfg).run(Budget(queries=40))
    assert len(par) == 40
    assert [(r.arch, r.score, r.seconds, r.true_acc) for r in par] == \
           [(r.arch, r.score, r.seconds, r.true_acc) for r in serial]


def test_evaluate_in_order_one_thread_per_worker(ray_ex, nb201_bench):
    space = nb201_bench.space
    archs = space.sample_many(8, np.random.default_rng(1))
    evs = ray_ex.evaluate(ProbeRanker(space), archs)
    assert [e.score for e in evs] == [float(a.count("nor_conv_3x3")) for a in archs]
    assert {e.info["threads"] for e in evs} == {1}
    assert all(e.info["pid"] != os.getpid() for e in evs)
    assert ray_ex.evaluate(ProbeRanker(space), []) == []


def test_ranker_error_keeps_its_type(ray_ex, nb201_bench):
    space = nb201_bench.space
    with pytest.raises(NasrankError, match="cannot score"):
        ray_ex.evaluate(FailingRanker(space), space.sample_many(2, np.random.default_rng(4)))


def test_submit_wait_one_and_evaluate_async(ray_ex, nb201_bench):
    space = nb201_bench.space
    ranker = ProbeRanker(space)
    archs = space.sample_many(5, np.random.default_rng(5))
    for i, a in enumerate(archs):
        ray_ex.submit(ranker, a, token=i)
    assert ray_ex.pending == 5
    got = dict(ray_ex.wait_one() for _ in range(5))
    assert ray_ex.pending == 0 and sorted(got) == list(range(5))
    assert [got[i].score for i in range(5)] == [float(a.count("nor_conv_3x3")) for a in archs]
    out = dict(ray_ex.evaluate_async(ranker, archs))
    assert [out[i].score for i in range(5)] == [got[i].score for i in range(5)]
    with pytest.raises(NasrankError, match="no evaluation pending"):
        ray_ex.wait_one()


def test_async_evolution_on_ray(ray_ex, nb201_bench):
    ranker = tabular(nb201_bench)
    h = SEARCHERS.create("evolution_async", nb201_bench.space, ranker, seed=3, executor=ray_ex,
                         population_size=10, sample_size=3).run(Budget(queries=60))
    assert len(h) == 60 and len({r.arch for r in h}) == 60
    assert [r.step for r in h] == list(range(60))
    assert np.allclose(np.cumsum([r.seconds for r in h]), [r.cumulative_seconds for r in h])
    assert h.best().true_acc > 92.0


def test_async_evolution_with_one_worker_is_evolution(nb201_bench):
    ranker = tabular(nb201_bench)
    for seed in (0, 1):
        sync = SEARCHERS.create("evolution", nb201_bench.space, ranker, seed=seed).run(Budget(queries=80))
        asyn = SEARCHERS.create("evolution_async", nb201_bench.space, ranker, seed=seed).run(Budget(queries=80))
        assert [r.arch for r in asyn] == [r.arch for r in sync]


def test_async_evolution_budgets_without_ray(nb201_bench):
    """Several workers' worth of proposals in flight (evaluated inline): budgets still hold."""
    ranker = tabular(nb201_bench)
    space = nb201_bench.space
    h = SEARCHERS.create("evolution_async", space, ranker, seed=0, workers=4).run(Budget(queries=50))
    assert len(h) == 50 and len({r.arch for r in h}) == 50
    h = SEARCHERS.create("evolution_async", space, ranker, seed=0, workers=4).run(Budget(seconds=60_000))
    assert h.total_seconds >= 60_000
    assert h.total_seconds - sum(r.seconds for r in h.records[-4:]) < 60_000  # overshoot < one round of workers
    with pytest.raises(NasrankError, match="workers"):
        SEARCHERS.create("evolution_async", space, ranker, workers=0)


def test_async_evolution_resume(nb201_bench, tmp_path):
    from nasrank.runs.history import History

    ranker = tabular(nb201_bench)
    space = nb201_bench.space
    SEARCHERS.create("evolution_async", space, ranker, seed=0, workers=2).run(Budget(queries=30), History(tmp_path))
    first = [r.arch for r in History.load(tmp_path)]
    h = SEARCHERS.create("evolution_async", space, ranker, seed=0, workers=2).run(
        Budget(queries=45), History(tmp_path, resume=True))
    assert len(h) == 45 and [r.arch for r in h][:30] == first and len({r.arch for r in h}) == 45
    assert len(History.load(tmp_path)) == 45


@pytest.mark.parametrize("searcher", ["random", "evolution"])
def test_cli_search_with_ray(ray_ex, tmp_path, nb201_csv, searcher):
    out = tmp_path / searcher
    rc = main(["search", "--space", "nb201", "--searcher", searcher, "--ranker", "tabular", "--benchmark",
               f"csv:{nb201_csv}", "--budget-queries", "30", "--seed", "2", "--executor", "ray", "--workers", "2",
               "--searcher-cfg", "population_size=10,sample_size=3" if searcher == "evolution" else "batch_size=2",
               "--output", str(out), "--quiet"])
    assert rc == 0
    lines = (out / "history.jsonl").read_text().splitlines()
    assert len(lines) == 30 and len({json.loads(x)["arch"] for x in lines}) == 30
    assert json.loads((out / "summary.json").read_text())["n_evaluations"] == 30


def test_gpu_request_per_task(ray_ex, nb201_bench):
    from nasrank.execution.ray_executor import RayExecutor

    space = nb201_bench.space
    ex = RayExecutor(workers=2, gpus_per_task=0.5).start()  # attaches to the running instance
    assert ex._task_options(ProbeRanker(space))["num_gpus"] == 0  # this machine has no GPU
    ex._gpus = 2.0  # as if the cluster had two
    assert ex._task_options(ProbeRanker(space, RunContext(device="auto")))["num_gpus"] == 0.5
    assert ex._task_options(ProbeRanker(space, RunContext(device="cpu")))["num_gpus"] == 0
    assert ex._task_options(ProbeRanker(space))["max_retries"] == 2
    with pytest.raises(NasrankError, match="gpus_per_task"):
        RayExecutor(workers=2, gpus_per_task=0)


# worker deaths last: the workers they kill are restarted lazily (seconds each)
def test_dead_worker_is_retried(ray_ex, nb201_bench, tmp_path):
    space = nb201_bench.space
    archs = space.sample_many(3, np.random.default_rng(2))
    marker = tmp_path / "died"
    evs = ray_ex.evaluate(DieOnceRanker(space, marker=str(marker)), archs)
    assert marker.exists()  # one attempt died ...
    assert int(marker.read_text()) not in {e.info["pid"] for e in evs}  # ... and was run again elsewhere
    assert [e.score for e in evs] == [float(a.count("nor_conv_3x3")) for a in archs]


def test_dead_worker_without_retries_is_a_clear_error(ray_ex, nb201_bench, tmp_path):
    from nasrank.execution.ray_executor import RayExecutor

    space = nb201_bench.space
    no_retry = RayExecutor(workers=2, max_retries=0)  # attaches to the running instance
    with pytest.raises(NasrankError, match="Ray could not evaluate"):
        no_retry.evaluate(DieOnceRanker(space, marker=str(tmp_path / "m")), space.sample_many(1, np.random.default_rng(3)))


def test_searcher_for_executor():
    from nasrank.execution.ray_executor import searcher_for_executor

    assert searcher_for_executor("random", {}, 4) == ("random", {"batch_size": 4})
    assert searcher_for_executor("random", {"batch_size": 8}, 4) == ("random", {"batch_size": 8})
    assert searcher_for_executor("evolution", {"population_size": 10}, 3) == (
        "evolution_async", {"population_size": 10, "workers": 3})
    assert searcher_for_executor("local", {"improvement": "first"}, 2) == ("local", {"improvement": "first"})


def _scores(path: Path) -> list[tuple[str, str, str, str]]:
    import csv

    with (path / "scores.csv").open(newline="") as fh:
        return [(r["arch"], r["ranker"], r["repeat"], r["score"]) for r in csv.DictReader(fh)]


@pytest.mark.usefixtures("one_thread")  # the same torch thread count as the Ray workers: the same floats
def test_evaluate_on_ray_equals_serial(ray_ex, nb201_csv, tmp_path):
    """``nasrank evaluate --executor ray --workers 2``: the serial run's scores, repeat by repeat (seeds differ)."""
    argv = ["evaluate", "--benchmark", f"csv:{nb201_csv}", "--space-cfg", "channels=4,cells_per_stage=1",
            "--rankers", "synflow,params", "--ranker-cfg", "synflow.seeds=1", "--sample", "6", "--repeats", "2",
            "--seed", "5", "--quiet", "--no-plots"]
    assert main(argv + ["--output", str(tmp_path / "serial")]) == 0
    with pytest.warns(UserWarning, match="without NVIDIA MPS"):
        assert main(argv + ["--output", str(tmp_path / "ray"), "--executor", "ray", "--workers", "2",
                            "--gpus-per-task", "0.5"]) == 0
    serial, par = _scores(tmp_path / "serial"), _scores(tmp_path / "ray")
    assert len(serial) == 2 * 2 * 6 and par == serial
    syn = [s for s in serial if s[1] == "synflow"]
    assert [s[3] for s in syn if s[2] == "0"] != [s[3] for s in syn if s[2] == "1"]  # the repeats are new seeds
    report = json.loads((tmp_path / "ray" / "report.json").read_text())
    assert report["rankers"]["synflow"]["n_fresh"] == 12


@pytest.mark.usefixtures("one_thread")
def test_compare_on_ray_equals_serial(ray_ex, nb201_csv, tmp_path):
    """``nasrank compare --executor ray --workers 2``: the same candidates, scores and outcome as serially."""
    from nasrank.runs.history import History

    argv = ["compare", "--rankers", "synflow,params", "--candidates", "7", "--seed", "3",
            "--benchmark", f"csv:{nb201_csv}", "--channels", "4", "--cells-per-stage", "1",
            "--ranker-cfg", "synflow.seeds=1", "--quiet"]
    assert main(argv + ["--output", str(tmp_path / "serial")]) == 0
    assert main(argv + ["--output", str(tmp_path / "ray"), "--executor", "ray", "--workers", "2"]) == 0
    for name in ("synflow", "params"):
        s, p = History.load(tmp_path / "serial" / name), History.load(tmp_path / "ray" / name)
        assert [(r.arch, r.score) for r in p] == [(r.arch, r.score) for r in s] and len(s) == 7
    rs, rp = (json.loads((tmp_path / d / "compare.json").read_text())["rankers"] for d in ("serial", "ray"))
    for name in ("synflow", "params"):
        for key in ("best_arch", "best_true_acc", "true_rank_of_best", "spearman", "kendall"):
            assert rp[name][key] == rs[name][key], (name, key)


def test_gpus_per_task_must_be_positive(tmp_path, nb201_csv, capsys):
    argv = ["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params", "--sample", "2", "--quiet",
            "--no-plots", "--output", str(tmp_path / "o"), "--executor", "ray", "--gpus-per-task", "0"]
    assert main(argv) == 2
    assert "gpus_per_task must be positive" in capsys.readouterr().err
