"""Helpers shared by the benchmark scripts: paths, machine description, JSON output."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NASRANK_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"

sys.path.insert(0, str(REPO))
from nasrank.runs.provenance import cpu_model, result_provenance  # noqa: E402  (one reader of the CPU model)


def machine() -> dict:
    """Where and when a measurement was taken."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = None
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "platform": platform.platform(), "cpu": cpu_model(),
            "python": sys.version.split()[0], "torch": torch.__version__, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "gpu": gpu, "loadavg": os.getloadavg(), "commit": commit}


def write_result(name: str, payload: dict, seeds=None, sample=None) -> Path:
    """Write ``benchmarks/results/<name>.json``: ``machine``, ``provenance`` (command, git, machine and
    load, date, ``seeds``, ``sample``; :func:`nasrank.runs.provenance.result_provenance`) and ``payload``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = dict(payload)
    prov = result_provenance(seeds=seeds, sample=sample)
    if "provenance" in payload:  # a re-analysis of an earlier measurement: keep the measurement's too
        prov["measurement"] = payload.pop("provenance")
    head = {"machine": machine(), "provenance": prov}
    path.write_text(json.dumps({**head, **payload}, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return path
