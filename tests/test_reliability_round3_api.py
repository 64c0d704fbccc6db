"""Issue 32, D8, D9 and the API's minor items: every bad input to the Python API is one
:class:`NasrankError` whose message names the argument (never a raw TypeError, ValueError or
AttributeError, and never a message about something else, such as a CSV); figure formats are
checked when the configuration is built, and a single string is one format."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import nasrank
from nasrank import CompareConfig, EvaluateConfig, ExecutorConfig, Output, RankerSpec, Scale, SearchConfig
from nasrank.errors import NasrankError
from nasrank.rankers.base import RunContext

OK = SearchConfig(budget_queries=1)


def _ev(**kw):
    return EvaluateConfig(**{"rankers": ["params"], "sample": 5, "output": "/tmp/nasrank-never-written", **kw})


def _cmp(**kw):
    return CompareConfig(**{"rankers": ["params"], "candidates": 5, "output": "/tmp/nasrank-never-written", **kw})


#: (id, the call, a word the message must contain: the argument it names)
BAD = [
    # RankerSpec
    ("spec-ints", lambda: RankerSpec(1, 2), "label"),
    ("spec-name-int", lambda: RankerSpec("a", 2), "name"),
    ("spec-label-empty", lambda: RankerSpec("", "params"), "label"),
    ("spec-name-empty", lambda: RankerSpec("a", ""), "name"),
    ("spec-options-str", lambda: RankerSpec("a", "params", "x=1"), "options"),
    ("spec-options-keys", lambda: RankerSpec("a", "params", {1: 2}), "options"),
    ("spec-parse-int", lambda: RankerSpec.parse(5), "ranker"),
    ("spec-name-list", lambda: RankerSpec("a", ["params"]), "name"),
    # Scale
    ("scale-channels-str", lambda: Scale(channels="abc"), "channels"),
    ("scale-channels-0", lambda: Scale(channels=0), "channels"),
    ("scale-channels-neg", lambda: Scale(channels=-3), "channels"),
    ("scale-channels-bool", lambda: Scale(channels=True), "channels"),
    ("scale-fraction-0", lambda: Scale(train_fraction=0), "train_fraction"),
    ("scale-fraction-big", lambda: Scale(train_fraction=1.5), "train_fraction"),
    ("scale-fraction-str", lambda: Scale(train_fraction="half"), "train_fraction"),
    ("scale-epochs-frac", lambda: Scale(epochs=2.5), "epochs"),
    ("scale-batch-nan", lambda: Scale(batch_size=float("nan")), "batch_size"),
    ("scale-image-list", lambda: Scale(image_size=[32]), "image_size"),
    ("scale-cells-dict", lambda: Scale(cells_per_stage={}), "cells_per_stage"),
    ("scale-of-typo", lambda: Scale.of({"chanels": 4}), "chanels"),
    ("scale-of-str", lambda: Scale.of("channels=4"), "scale"),
    # ExecutorConfig
    ("exec-kind", lambda: ExecutorConfig("gpu"), "executor"),
    ("exec-kind-int", lambda: ExecutorConfig(3), "executor"),
    ("exec-workers-0", lambda: ExecutorConfig("ray", workers=0), "workers"),
    ("exec-workers-str", lambda: ExecutorConfig("ray", workers="2"), "workers"),
    ("exec-workers-neg", lambda: ExecutorConfig("serial", workers=-1), "workers"),
    ("exec-workers-huge", lambda: ExecutorConfig("ray", workers=10 ** 9), "workers"),
    ("exec-gpus-neg", lambda: ExecutorConfig("ray", gpus_per_task=-1), "gpus_per_task"),
    ("exec-gpus-str", lambda: ExecutorConfig("ray", gpus_per_task="one"), "gpus_per_task"),
    ("exec-address-int", lambda: ExecutorConfig("ray", ray_address=5), "ray_address"),
    # Output
    ("out-folder-int", lambda: Output(folder=5), "folder"),
    ("out-folder-empty", lambda: Output(folder=""), "folder"),
    ("out-formats-bad", lambda: Output(formats="svgz"), "format"),
    ("out-formats-list", lambda: Output(formats=["png", "bmp"]), "format"),
    ("out-formats-int", lambda: Output(formats=5), "format"),
    ("out-formats-empty", lambda: Output(formats=[]), "format"),
    ("out-logs-str", lambda: Output(logs="yes"), "logs"),
    ("out-quiet-str", lambda: Output(quiet="no"), "quiet"),
    ("out-store-int", lambda: Output(store=5), "store"),
    # SearchConfig
    ("search-options-str", lambda: SearchConfig(searcher_options="eta=3"), "searcher_options"),
    ("search-options-list", lambda: SearchConfig(searcher_options=["eta"]), "searcher_options"),
    ("search-searcher-int", lambda: SearchConfig(searcher=5), "searcher"),
    ("search-searcher-empty", lambda: SearchConfig(searcher=""), "searcher"),
    ("search-budget-true", lambda: SearchConfig(budget_queries=True), "budget_queries"),
    ("search-budget-0", lambda: SearchConfig(budget_queries=0), "budget_queries"),
    ("search-budget-frac", lambda: SearchConfig(budget_queries=2.5), "budget_queries"),
    ("search-budget-str", lambda: SearchConfig(budget_queries="10"), "budget_queries"),
    ("search-budget-huge", lambda: SearchConfig(budget_queries=10 ** 12), "budget_queries"),
    ("search-seconds-neg", lambda: SearchConfig(budget_seconds=-1), "budget_seconds"),
    ("search-seconds-inf", lambda: SearchConfig(budget_seconds=float("inf")), "budget_seconds"),
    ("search-seconds-str", lambda: SearchConfig(budget_seconds="1h"), "budget_seconds"),
    ("search-seconds-bool", lambda: SearchConfig(budget_seconds=True), "budget_seconds"),
    ("search-scale-str", lambda: SearchConfig(scale="abc"), "scale"),
    ("search-scale-int", lambda: SearchConfig(scale=5), "scale"),
    ("search-scale-typo", lambda: SearchConfig(scale={"chanels": 3}), "chanels"),
    ("search-executor-int", lambda: SearchConfig(executor=5), "executor"),
    ("search-executor-name", lambda: SearchConfig(executor="gpu"), "executor"),
    ("search-output-int", lambda: SearchConfig(output=5), "output"),
    ("search-resume-str", lambda: SearchConfig(resume="yes"), "resume"),
    ("search-plot-str", lambda: SearchConfig(plot="false"), "plot"),
    ("search-record-str", lambda: SearchConfig(record="x"), "record"),
    ("search-ranker-int", lambda: SearchConfig(ranker=5), "ranker"),
    ("search-ranker-list", lambda: SearchConfig(ranker=["params", "flops"]), "ranker"),
    ("search-ranker-empty", lambda: SearchConfig(ranker=""), "ranker"),
    # EvaluateConfig
    ("eval-no-output", lambda: EvaluateConfig(["params"], sample=5), "output"),
    ("eval-no-rankers", lambda: _ev(rankers=[]), "rankers"),
    ("eval-rankers-int", lambda: _ev(rankers=5), "rankers"),
    ("eval-rankers-twice", lambda: _ev(rankers=["params", "params"]), "params"),
    ("eval-sample-0", lambda: _ev(sample=0), "sample"),
    ("eval-sample-word", lambda: _ev(sample="many"), "sample"),
    ("eval-sample-neg", lambda: _ev(sample=-1), "sample"),
    ("eval-sample-frac", lambda: _ev(sample=2.5), "sample"),
    ("eval-nothing", lambda: _ev(sample=None), "sample"),
    ("eval-both", lambda: _ev(archs_file="archs.txt"), "archs_file"),
    ("eval-archs-int", lambda: _ev(sample=None, archs_file=5), "archs_file"),
    ("eval-modes-typo", lambda: _ev(modes=["isoo"]), "modes"),
    ("eval-modes-int", lambda: _ev(modes=5), "modes"),
    ("eval-repeats-0", lambda: _ev(repeats=0), "repeats"),
    ("eval-repeats-str", lambda: _ev(repeats="2"), "repeats"),
    ("eval-seed-neg", lambda: _ev(seed=-1), "seed"),
    ("eval-seed-str", lambda: _ev(seed="x"), "seed"),
    ("eval-plots-str", lambda: _ev(plots="no"), "plots"),
    ("eval-space-cfg-str", lambda: _ev(space_cfg="channels=4"), "space_cfg"),
    # CompareConfig
    ("cmp-no-output", lambda: CompareConfig(["params"], candidates=5), "output"),
    ("cmp-candidates-0", lambda: _cmp(candidates=0), "candidates"),
    ("cmp-candidates-str", lambda: _cmp(candidates="5"), "candidates"),
    ("cmp-candidates-true", lambda: _cmp(candidates=True), "candidates"),
    ("cmp-no-rankers", lambda: _cmp(rankers=[]), "rankers"),
    ("cmp-common-str", lambda: _cmp(common="x=1"), "common"),
    ("cmp-baseline-int", lambda: _cmp(baseline=5), "baseline"),
    ("cmp-baseline-unknown", lambda: _cmp(baseline="nope"), "baseline"),
    ("cmp-seed-neg", lambda: _cmp(seed=-2), "seed"),
    ("cmp-resume-str", lambda: _cmp(resume="y"), "resume"),
    ("cmp-overwrite-int", lambda: _cmp(overwrite=1), "overwrite"),
    ("cmp-options-list", lambda: _cmp(searcher_options=[1]), "searcher_options"),
    ("cmp-searcher-int", lambda: _cmp(searcher=3), "searcher"),
    # the verbs
    ("search-config-str", lambda: nasrank.search("nb201", "random"), "config"),
    ("search-space-int", lambda: nasrank.search(123, OK), "space"),
    ("search-space-none", lambda: nasrank.search(None, OK), "space"),
    ("search-space-unknown", lambda: nasrank.search("nb999", OK), "nb999"),
    ("search-context-int", lambda: nasrank.search("nb201", OK, context=5), "context"),
    ("search-context-both", lambda: nasrank.search("nb201", OK, context=RunContext(), seed=1), "context"),
    ("search-unknown-option", lambda: nasrank.search("nb201", OK, bogus=1), "bogus"),
    ("search-benchmark-int", lambda: nasrank.search("nb201", OK, benchmark=5), "benchmark"),
    ("search-seed-str", lambda: nasrank.search("nb201", OK, seed="x"), "seed"),
    ("search-dataset-int", lambda: nasrank.search("nb201", OK, dataset=5), "dataset"),
    ("search-dataset-path", lambda: nasrank.search("nb201", OK, dataset="../../etc/passwd"), "dataset"),
    ("search-device", lambda: nasrank.search("nb201", OK, device="tpu"), "device"),
    ("search-progress-str", lambda: nasrank.search("nb201", OK, progress="yes"), "progress"),
    ("search-space-cfg-str", lambda: nasrank.search("nb201", OK, space_cfg="x"), "space_cfg"),
    ("search-data-dir-int", lambda: nasrank.search("nb201", OK, data_dir=5), "data_dir"),
    ("evaluate-config-search", lambda: nasrank.evaluate("nb201", SearchConfig()), "config"),
    ("compare-no-config", lambda: nasrank.compare("nb201"), "config"),
    ("compare-config-str", lambda: nasrank.compare("nb201", "x"), "config"),
]


@pytest.mark.parametrize("call, needle", [(c, n) for _, c, n in BAD], ids=[i for i, _, _ in BAD])
def test_every_bad_input_is_one_nasrank_error_naming_the_argument(call, needle):
    with pytest.raises(Exception) as info:
        call()
    assert type(info.value) is NasrankError or isinstance(info.value, NasrankError), \
        f"{type(info.value).__name__}: {info.value}"
    msg = str(info.value)
    assert needle in msg and "\n" not in msg, msg
    assert "CSV" not in msg or "csv" in needle.lower(), msg


def test_the_table_is_large():
    assert len(BAD) >= 85


# -- good inputs still work --------------------------------------------------------------------------------
def test_good_parts_are_accepted_as_plain_values():
    assert Output(formats="png").formats == ("png",)
    assert Output(formats="png,svg").formats == ("png", "svg")
    assert Output(formats=["PDF"]).formats == ("pdf",)
    assert SearchConfig(scale={"channels": 4}).scale == Scale(channels=4)
    assert SearchConfig(executor="serial").executor.kind == "serial"
    assert SearchConfig(output="x").output.folder == "x"
    assert SearchConfig(searcher_options=None).searcher_options == {}
    assert _ev(sample="all").sample == "all" and _ev(sample="12").sample == "12"
    assert _ev(modes="iso").modes == ("iso",)
    assert _cmp(baseline="params").baseline == "params"


def test_d9_a_single_format_string_is_one_format(tmp_path, nb201_csv):
    res = nasrank.search("nb201", SearchConfig(budget_queries=3, plot=True,
                                               output=Output(tmp_path / "run", formats="svg")),
                         benchmark=f"csv:{nb201_csv}")
    assert res.summary["n_evaluations"] == 3
    assert list((tmp_path / "run").glob("*.svg")), sorted(p.name for p in (tmp_path / "run").iterdir())


def _run_with_format(tmp_path, nb201_csv, name: str, fmt: str) -> Path:
    from test_reliability_round2_defects import cli_capped

    out = tmp_path / name
    r = cli_capped("search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--plot", "--output",
                   str(out), "--quiet", "--no-store", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    text = (out / "config.yaml").read_text()
    assert "format:\n- png\n" in text, text
    (out / "config.yaml").write_text(text.replace("format:\n- png\n", f"format: {fmt}\n"))
    return out


def test_d9_config_yaml_format_is_checked_before_the_search(tmp_path, nb201_csv):
    """A resumed run whose config.yaml says ``format: svgz`` spent its budget, then failed."""
    from test_reliability_round2_defects import cli_capped, one_error_line

    bad = _run_with_format(tmp_path, nb201_csv, "bad", "svgz")
    r = cli_capped("search", "--resume", str(bad), "--budget-queries", "4", "--quiet", "--no-store", cwd=tmp_path)
    one_error_line(r, "format")
    assert len((bad / "history.jsonl").read_text().splitlines()) == 2  # nothing spent


def test_d9_config_yaml_single_format_is_one_format(tmp_path, nb201_csv):
    """``format: svg`` failed as ['s', 'v', 'g'] after the search."""
    from test_reliability_round2_defects import cli_capped

    good = _run_with_format(tmp_path, nb201_csv, "good", "svg")
    r = cli_capped("search", "--resume", str(good), "--budget-queries", "4", "--quiet", "--no-store", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len((good / "history.jsonl").read_text().splitlines()) == 4
    assert list(good.glob("*.svg")), sorted(p.name for p in good.iterdir())


def test_minor_budget_queries_true_is_refused_on_the_command_line_path(nb201_csv):
    with pytest.raises(NasrankError, match="budget_queries"):
        nasrank.search("nb201", SearchConfig(budget_queries=True), benchmark=f"csv:{nb201_csv}")


# -- D11: scale options reach a user's ranker by one declared route ----------------------------------------
from nasrank.rankers.base import TimedRanker  # noqa: E402


class DeclaredChannels(TimedRanker):
    """A user's ranker that declares it takes the training scale: its score is the channels it got."""

    registry_name = "declared_channels"
    takes_training_scale = True

    def __init__(self, space, context=None, channels: int = 16, epochs: int = 1):
        super().__init__(space, context)
        self.channels, self.epochs = channels, epochs

    def compute_score(self, arch):
        return float(self.channels), {}


class NamedChannels(DeclaredChannels):
    """Declares only the scale options it takes, by name."""

    takes_training_scale = ("channels",)


class SilentChannels(DeclaredChannels):
    """Takes ``channels`` but declares nothing: it does not get the scale, and the user is told."""

    takes_training_scale = False


def _path(cls) -> str:
    return f"{__name__}:{cls.__name__}"


@pytest.mark.parametrize("cls", [DeclaredChannels, NamedChannels])
def test_d11_a_declared_scale_reaches_a_users_ranker(cls, nb201_csv):
    from nasrank.experiments.config import resolve_options

    name, opts = resolve_options(RankerSpec("mine", _path(cls)), Scale(channels=4, epochs=3))
    assert opts["channels"] == 4
    assert ("epochs" in opts) == (cls is DeclaredChannels)
    res = nasrank.search("nb201", SearchConfig(ranker=RankerSpec("mine", _path(cls)), budget_queries=2,
                                               scale=Scale(channels=4)), benchmark=f"csv:{nb201_csv}")
    assert res.history.records[0].score == 4.0


def test_d11_a_scale_option_that_reaches_no_ranker_is_warned(capsys):
    SearchConfig(ranker=RankerSpec("mine", _path(SilentChannels)), budget_queries=2, scale=Scale(channels=4))
    err = capsys.readouterr().err
    assert "warning" in err and "--channels" in err and "takes_training_scale" in err, err
    CompareConfig(["synflow", "tabular"], candidates=3, output="/tmp/never", scale=Scale(epochs=3, channels=8))
    err = capsys.readouterr().err
    assert "--epochs" in err and "--channels" not in err, err  # synflow builds its network at --channels
    SearchConfig(ranker="train", budget_queries=2, scale=Scale(channels=4, epochs=2))
    assert "warning" not in capsys.readouterr().err


# -- minor items through the command line ------------------------------------------------------------------
def test_minor_report_lists_a_folder_named_twice_once(tmp_path, nb201_csv, capsys):
    from nasrank.cli import main

    run = tmp_path / "A"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "2", "--quiet", "--no-store",
                 "--output", str(run)]) == 0
    (tmp_path / "link").symlink_to(run)
    assert main(["report", str(run), str(run), str(tmp_path / "A" / "."), str(tmp_path / "link"),
                 "--output", str(tmp_path / "rep")]) == 0
    rows = json.loads((tmp_path / "rep" / "report.json").read_text())["runs"]
    assert len(rows) == 1, rows


def test_minor_a_dataset_is_a_name_not_a_path(tmp_path, nb201_csv, capsys):
    from nasrank.cli import main

    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--dataset", "../../etc/passwd", "--budget-queries",
                 "1", "--quiet", "--no-store", "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "--dataset" in err and err.count("\n") == 1, err
    assert not (tmp_path / "run" / "history.jsonl").exists()


def test_minor_budget_of_true_queries_is_refused():
    from nasrank.searchers.base import Budget

    with pytest.raises(NasrankError, match="budget of queries"):
        Budget(queries=True)
