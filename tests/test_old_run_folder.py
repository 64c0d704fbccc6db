"""A run folder written before config.yaml became the one config file (it has config.json, made by
the code of commit a4a0f9a) still resumes, to the same history as a fresh run of the whole budget."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from nasrank.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "old_format_run"
OPTIONS = ["--benchmark", "embedded", "--searcher", "evolution", "--searcher-cfg", "population_size=4,sample_size=2",
           "--ranker-cfg", "seconds_per_query=2.0", "--seed", "3"]


def _history(folder: Path) -> list[tuple[str, float, float]]:
    rows = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines() if line.strip()]
    return [(r["arch"], r["score"], r["seconds"]) for r in rows]


@pytest.mark.parametrize("keep_yaml", [True, False])
def test_old_format_run_folder_resumes_to_the_same_history(tmp_path, keep_yaml):
    """With its config.yaml (a finished old run), or with config.json only (an interrupted one)."""
    assert (FIXTURE / "config.json").is_file() and len(_history(FIXTURE)) == 6
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    if not keep_yaml:
        (old / "config.yaml").unlink()
    assert main(["search", "--resume", str(old), "--budget-queries", "10", "--quiet", "--no-store"]) == 0
    fresh = tmp_path / "fresh"
    assert main(["search", *OPTIONS, "--budget-queries", "10", "--quiet", "--no-store", "--no-logs",
                 "--output", str(fresh)]) == 0
    assert not (fresh / "config.json").exists()
    assert len(_history(old)) == 10
    assert _history(old) == _history(fresh)
    assert _history(old)[:6] == _history(FIXTURE)
    resumed = yaml.safe_load((old / "config.yaml").read_text())  # the folder now has the new file
    assert resumed["ranker-cfg"] == {"seconds_per_query": 2.0} and resumed["budget-queries"] == 10
