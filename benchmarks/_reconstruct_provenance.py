"""Add a ``provenance`` block, marked ``"reconstructed": true``, to result files written before
``nasrank.runs.provenance.result_provenance`` existed (issue 25). Run once from the repository root:

    python benchmarks/_reconstruct_provenance.py

What it knows and says: ``command`` is the script's documented command with the options the JSON
itself recorded (``command_note`` says what is not known); ``git.commit`` is the commit the JSON's
own ``machine`` block recorded, else the commit that added the file (``git log --diff-filter=A``),
with ``tree_modified`` unknown (``None``); ``machine`` is the machine block the JSON recorded
(``None`` where it recorded none). A file that already has ``provenance`` is left alone.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def _fear_pilot(d: dict) -> str:
    s = d["setup"]
    return ("python benchmarks/fear_pilot.py " + " ".join(
        f"--{k.replace('_', '-')} {s[k]}" for k in ("cells", "seed", "epochs", "thresholds", "stage2", "check_every")
        if k in s))


#: file -> (command, note on what the command leaves out)
COMMANDS = {
    "estimator_analysis_nb201.json": ("python benchmarks/estimator_analysis_nb201.py --trained-zs-cells 40",
                                      "options other than the defaults are inferred from the JSON (40 trained-ZSE "
                                      "cells); the exact flags were not recorded"),
    "estimator_analysis_nb201_scores.meta.json": ("python benchmarks/estimator_analysis_nb201.py",
                                                  "written by the run of estimator_analysis_nb201.json"),
    "fear_vs_training.json": ("python benchmarks/fear_vs_training.py (the single-seed version of 2026-11-23)",
                              "the script has since been rewritten for seed sweeps; its settings are under 'setup'"),
    "fear_vs_training_small_scale.json": ("see setup.command", "the nasrank compare command is under setup.command"),
    "fear_vs_training_seeds.json": (None, "the command the script recorded at the top level ('command')"),
    "oneshot_nb201.json": ("python benchmarks/oneshot_nb201.py train|score|sample|plot ...",
                           "several steps; each step's machine and arguments are under 'machines' ('step')"),
    "oneshot_nb201_pilot.json": ("python benchmarks/oneshot_nb201.py (the 2026-11-23 pilot version)",
                                 "the pilot's configuration is under 'scale' and 'notes'"),
    "oneshot_nb201_supernet.json": ("python benchmarks/oneshot_nb201.py export",
                                    "checkpoint and protocol are under 'checkpoint' and 'check_scores'"),
    "parallel_speedup.json": ("python benchmarks/parallel_speedup.py --ranker jacob_cov", "ranker from the JSON"),
    "training_overhead_cpu.json": ("python benchmarks/training_overhead.py --device cpu --scale cpu",
                                   "the remaining settings are under 'settings'"),
    "zero_shot_nb201.json": ("python benchmarks/zero_shot_nb201.py", "the settings are under 'protocol'"),
    "zero_shot_nb201_run2.json": ("python benchmarks/zero_shot_nb201.py --budget-min 24 "
                                  "--out benchmarks/results/zero_shot_nb201_run2.json",
                                  "budget from protocol.budget_min; other settings under 'protocol'"),
    "zero_shot_spaces.json": ("python benchmarks/zero_shot_spaces.py", "the settings are under 'protocol'"),
}


def added_by(path: Path) -> str | None:
    out = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", str(path.relative_to(REPO))],
                         cwd=REPO, capture_output=True, text=True).stdout.split()
    return out[-1] if out else None


def reconstruct(path: Path, d: dict) -> dict:
    name = path.name
    if name.startswith("fear_pilot_"):
        cmd, note = _fear_pilot(d), "options from 'setup' (vars(args))"
    else:
        cmd, note = COMMANDS[name]
    if name == "fear_vs_training_seeds.json":
        cmd = "python " + d["command"]
    if name == "fear_vs_training_small_scale.json":
        cmd = d["setup"]["command"]
    machine = d.get("machine") or (d.get("machines") or [None])[0]
    recorded = (machine or {}).get("commit")
    commit = recorded or added_by(path)
    return {"reconstructed": True, "command": cmd, "command_note": note,
            "git": {"commit": commit, "tree_modified": None,
                    "source": "the JSON's machine.commit" if recorded else "git log --diff-filter=A (the commit "
                              "that added the file; the run may be older)"},
            "machine": machine,
            "machine_note": None if machine else "the JSON recorded no machine",
            "date": (machine or {}).get("date") or d.get("date") or d.get("date_utc"),
            "seeds": None, "sample": None}


def main() -> None:
    for path in sorted(RESULTS.glob("*.json")):
        d = json.loads(path.read_text())
        if "provenance" in d:
            continue
        lines = path.read_text().splitlines()
        indent = len(lines[1]) - len(lines[1].lstrip(" ")) if len(lines) > 1 else None
        d = {"provenance": reconstruct(path, d), **d}
        path.write_text(json.dumps(d, indent=indent or None) + "\n")
        print("reconstructed", path.name)


if __name__ == "__main__":
    main()
