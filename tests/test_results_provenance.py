"""Every result file under benchmarks/results/ says where it came from (issue 25)."""
import json
from pathlib import Path

import pytest

from nasrank.runs.provenance import result_provenance

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
JSONS = sorted(RESULTS.glob("*.json"))


def test_there_are_results():
    assert len(JSONS) >= 10


@pytest.mark.parametrize("path", JSONS, ids=lambda p: p.name)
def test_every_result_json_has_provenance(path):
    if path.name.endswith(".figure.json"):
        return  # a figure's manifest, not a result
    prov = json.loads(path.read_text()).get("provenance")
    assert isinstance(prov, dict), f"{path.name}: no provenance block"
    assert prov.get("command"), f"{path.name}: provenance.command"
    assert prov.get("git") and prov["git"].get("commit"), f"{path.name}: provenance.git.commit"
    assert "machine" in prov and (prov["machine"] or prov.get("machine_note")), f"{path.name}: provenance.machine"
    if prov.get("reconstructed"):
        assert prov["reconstructed"] is True and prov.get("command_note"), path.name


def test_result_provenance_records_the_run():
    prov = result_provenance(seeds=[0, 1], sample="20 cells")
    assert prov["seeds"] == [0, 1] and prov["sample"] == "20 cells"
    assert len(prov["git"]["commit"]) == 40 and isinstance(prov["git"]["tree_modified"], bool)
    assert len(prov["machine"]["loadavg"]) == 3 and prov["machine"]["cpu_count"] >= 1
    assert prov["command"] and prov["date"].startswith("20")
