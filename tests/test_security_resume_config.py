"""Issue 15 item 6 (command side) and the resume rows of the lists: a run folder's config.yaml (its one
config file) is checked before anything it names runs, and options given with --resume are never silently
dropped."""
from __future__ import annotations

import os

import pytest
import yaml

from nasrank.cli import main


@pytest.fixture()
def run(tmp_path, nb201_csv):
    out = tmp_path / "run"
    assert main(["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "5", "--seed", "5", "--quiet",
                 "--no-store", "--output", str(out)]) == 0
    return out


def _resume(out, *extra):
    return main(["search", "--resume", str(out), "--quiet", "--no-store", *extra])


def _edit(out, **changes):
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    cfg.update({k.replace("_", "-"): v for k, v in changes.items()})
    (out / "config.yaml").write_text(yaml.safe_dump(cfg))


def test_a_run_folder_has_one_config_file(run):
    assert (run / "config.yaml").is_file() and not (run / "config.json").exists()
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["seed"] == 5 and cfg["budget-queries"] == 5 and cfg["benchmark"].startswith("csv:")


def test_shared_config_cannot_run_a_command(run, tmp_path, capsys):
    marker = tmp_path / "pwned"
    _edit(run, space="subprocess:getoutput", space_cfg=[f"cmd=touch {marker}"])
    os.chown(run / "config.yaml", 12345, 12345)  # as if another user wrote it
    assert _resume(run) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "subprocess:getoutput" in err and "--trust-config" in err
    assert _resume(run, "--trust-config") == 2  # trusted or not, a function is not a space
    assert "not a SearchSpace subclass" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.parametrize("how", ["owner", "writable"])
def test_import_paths_need_trust_unless_the_user_created_the_config(run, capsys, how):
    _edit(run, space="nasrank.spaces.nb201:Nb201Space")
    if how == "owner":
        os.chown(run / "config.yaml", 12345, 12345)
    else:
        os.chmod(run / "config.yaml", 0o666)
    assert _resume(run, "--budget-queries", "6") == 2
    err = capsys.readouterr().err
    assert "nasrank.spaces.nb201:Nb201Space" in err and ("another user" in err or "writable" in err)
    assert _resume(run, "--budget-queries", "6", "--trust-config") == 0
    assert "runs what its config.yaml names: space 'nasrank.spaces.nb201:Nb201Space'" in capsys.readouterr().err


def test_own_config_with_import_path_is_shown_and_runs(run, capsys):
    _edit(run, space="nasrank.spaces.nb201:Nb201Space")
    os.chmod(run / "config.yaml", 0o644)
    os.chmod(run, 0o755)
    assert _resume(run, "--budget-queries", "6") == 0
    assert "nasrank.spaces.nb201:Nb201Space" in capsys.readouterr().err


def test_nats_benchmark_in_a_foreign_config_needs_trust(run, capsys, nats_dir):
    _edit(run, benchmark=f"nats:{nats_dir}")
    os.chown(run / "config.yaml", 12345, 12345)
    assert _resume(run) == 2
    assert "unpickles" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["{not yaml: [", "[1, 2]", '"x"', "\udcff".encode("utf-8", "surrogateescape"),
                                  "seed: abc", "space-cfg: channels=8", "ranker: 3", "budget_seconds: [1]"])
def test_corrupt_config_is_one_error(run, capsys, text):
    path = run / "config.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert _resume(run) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.yaml" in err, err


@pytest.mark.parametrize("extra,needle", [(["--seed", "3"], "--seed 3"), (["--ranker", "params"], "--ranker 'params'"),
                                          (["--searcher", "evolution"], "--searcher 'evolution'")])
def test_options_given_with_resume_are_not_silently_ignored(run, capsys, extra, needle):
    assert _resume(run, *extra) == 2
    err = capsys.readouterr().err
    assert needle in err and "config.yaml" in err


def test_same_options_and_budget_with_resume_are_fine(run, capsys):
    assert _resume(run, "--seed", "5", "--ranker", "tabular", "--budget-queries", "8") == 0
    assert len((run / "history.jsonl").read_text().splitlines()) == 8


def test_resume_of_a_file_or_missing_folder(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert _resume(tmp_path / "f") == 2
    assert "not a folder" in capsys.readouterr().err
    assert _resume(tmp_path / "missing") == 2
    assert "missing" in capsys.readouterr().err
