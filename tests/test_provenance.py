"""Provenance: every summary.json, compare.json, report.json and analysis.json says where it came from."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from nasrank.cli import main

KEYS = {"versions", "git_commit", "git_dirty", "hardware", "device", "device_used", "device_name", "command", "date"}
VERSION_KEYS = {"nasrank", "torch", "lightning", "numpy", "python"}


def _check(prov: dict, command_word: str) -> None:
    assert KEYS <= set(prov), KEYS - set(prov)
    assert VERSION_KEYS <= set(prov["versions"]) and all(prov["versions"][k] for k in VERSION_KEYS)
    assert re.fullmatch(r"[0-9a-f]{40}", prov["git_commit"])  # the tests run inside the repository
    hw = prov["hardware"]
    assert hw["cpu_count"] >= 1 and "gpu" in hw
    assert prov["git"]["commit"] == prov["git_commit"] and len(prov["machine"]["loadavg"]) == 3  # as every result
    assert prov["command"].startswith(f"nasrank {command_word}")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", prov["date"])


def test_every_output_file_carries_provenance(tmp_path, nb201_csv):
    bench = f"csv:{nb201_csv}"
    assert main(["search", "--benchmark", bench, "--budget-queries", "5", "--output", str(tmp_path / "s"),
                 "--quiet", "--device", "cpu"]) == 0
    prov = json.loads((tmp_path / "s" / "summary.json").read_text())["provenance"]
    _check(prov, "search")
    assert prov["device"] == "cpu" and prov["device_used"] == "cpu"
    assert main(["compare", "--benchmark", bench, "--rankers", "params,flops", "--candidates", "4",
                 "--output", str(tmp_path / "c")]) == 0
    _check(json.loads((tmp_path / "c" / "compare.json").read_text())["provenance"], "compare")
    assert main(["evaluate", "--benchmark", bench, "--rankers", "params", "--sample", "20", "--output",
                 str(tmp_path / "e"), "--no-plots", "--quiet"]) == 0
    _check(json.loads((tmp_path / "e" / "report.json").read_text())["provenance"], "evaluate")
    assert main(["analyze", "--scores", str(tmp_path / "e" / "scores.csv"), "--benchmark", bench,
                 "--output", str(tmp_path / "a"), "--no-plots"]) == 0
    _check(json.loads((tmp_path / "a" / "analysis.json").read_text())["provenance"], "analyze")
    assert main(["report", str(tmp_path / "s"), str(tmp_path / "c"), "--output", str(tmp_path / "r")]) == 0
    _check(json.loads((tmp_path / "r" / "report.json").read_text())["provenance"], "report")


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "nasrank.cli", "--version"], capture_output=True, text=True)
    import nasrank

    assert out.returncode == 0 and out.stdout.strip() == f"nasrank {nasrank.__version__}"
