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
from nasrank.provenance import cpu_model  # noqa: E402  (one reader of the CPU model)


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


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return path
