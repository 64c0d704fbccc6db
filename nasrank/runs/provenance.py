"""Where a result came from: versions, git commit, hardware, device, command line and date.

:func:`provenance` is written into every ``summary.json``, ``compare.json``,
``report.json`` and ``analysis.json`` under the key ``"provenance"``, so that a
number can be traced to the code and machine that produced it. :func:`result_provenance`
is the same record for a benchmark script's result (``benchmarks/results/*.json``), in the
shape every such file holds: ``command``, ``git`` (commit, tree modified), ``machine``
(with its load), ``date``, ``seeds`` and ``sample``.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

#: distributions whose versions are recorded (import name -> distribution name)
PACKAGES = {"nasrank": "nasrank", "torch": "torch", "lightning": "lightning", "numpy": "numpy"}


_COMMAND: list[str] | None = None


def set_command(argv: list[str]) -> None:
    """Record the command line being run (``nasrank.cli.main`` calls this with its arguments)."""
    global _COMMAND
    _COMMAND = ["nasrank", *argv]


def command_line() -> str:
    """The command line of this process, shell-quoted."""
    args = _COMMAND if _COMMAND is not None else [Path(sys.argv[0]).name, *sys.argv[1:]]
    return " ".join(shlex.quote(str(a)) for a in args)


def script_command_line() -> str:
    """Like :func:`command_line`, but a script keeps its path (``python benchmarks/x.py ...``, repo-relative)."""
    if _COMMAND is not None:
        return command_line()
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    repo = Path(__file__).resolve().parents[2]  # nasrank/runs/provenance.py -> the checkout
    if script is None or not script.is_file():
        return command_line()
    shown = script.relative_to(repo) if script.is_relative_to(repo) else script
    return " ".join(shlex.quote(str(a)) for a in ["python", str(shown), *sys.argv[1:]])


def version() -> str:
    """The nasrank version (the installed distribution's, else the package's ``__version__``)."""
    import nasrank

    return getattr(nasrank, "__version__", None) or _dist_version("nasrank") or "unknown"


def _dist_version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (None: not installed). The ``Version:`` line of
    its ``*.dist-info/METADATA`` on ``sys.path`` is read directly, which spares a tabular run the
    import of :mod:`importlib.metadata` (and of :mod:`email`); anything else asks importlib.metadata."""
    found = _metadata_version(dist)
    if found is not None:
        return found
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _metadata_version(dist: str) -> str | None:
    import re

    want = re.sub(r"[-_.]+", "_", dist).lower()
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, dot, ext = name.rpartition(".")
            if ext != "dist-info" or re.sub(r"[-_.]+", "_", stem.split("-")[0]).lower() != want:
                continue
            try:
                with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as fh:
                    for line in fh:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break  # the headers end at the first blank line
            except OSError:
                pass
    return None


def versions() -> dict[str, str | None]:
    """Versions of nasrank, torch, lightning, numpy and Python (``None`` for a package not installed)."""
    out: dict[str, str | None] = {"nasrank": version()}
    for mod, dist in PACKAGES.items():
        if mod != "nasrank":
            loaded = sys.modules.get(mod)
            out[mod] = getattr(loaded, "__version__", None) if loaded is not None else None
            out[mod] = str(out[mod]) if out[mod] is not None else _dist_version(dist)
    out["python"] = platform.python_version()
    return out


@lru_cache(maxsize=1)
def git_state() -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the repository holding the nasrank source, or ``None``."""
    src = Path(__file__).resolve().parent.parent
    try:  # one git process: "# branch.oid SHA" and a line per modified tracked file
        out = subprocess.run(["git", "-C", str(src), "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
                             capture_output=True, text=True, timeout=5, check=True).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    sha = next((line.split()[2] for line in out if line.startswith("# branch.oid ")), "")
    dirty = any(line and not line.startswith("#") for line in out)
    return {"commit": sha, "dirty": dirty} if len(sha) == 40 else None


def hardware() -> dict[str, Any]:
    """CPU count (machine and this process's affinity), platform, and the GPU's name (``None`` if none)."""
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    gpu = None
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        gpu = f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    return {"cpu_count": os.cpu_count(), "cpu_affinity": affinity, "platform": platform.platform(),
            "processor": cpu_model(), "gpu": gpu}


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else the machine type (e.g. ``x86_64``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(device: str | None = None) -> dict[str, Any]:
    """Everything that identifies how a result was produced (JSON-ready).

    ``device`` is the requested device (``auto``/``cpu``/``gpu``); ``device_used``
    says what that resolves to on this machine.
    """
    hw = hardware()
    used = None
    if device is not None:
        used = "gpu" if device in ("gpu", "auto") and hw["gpu"] else "cpu"
    git = git_state()
    return {
        "versions": versions(),
        "git_commit": None if git is None else git["commit"],
        "git_dirty": None if git is None else git["dirty"],
        "git": None if git is None else {"commit": git["commit"], "tree_modified": git["dirty"]},
        "machine": machine(),
        "hardware": hw,
        "device": device,
        "device_used": used,
        "device_name": (hw["gpu"] if used == "gpu" else hw["processor"]) if used else None,
        "command": command_line(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def machine() -> dict[str, Any]:
    """The machine running this process and its load: hardware, Python and torch, ``loadavg`` (1/5/15 min)."""
    hw = hardware()
    torch = sys.modules.get("torch")
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {**hw, "hostname": platform.node(), "python": platform.python_version(),
            "torch": getattr(torch, "__version__", None) if torch is not None else None,
            "torch_threads": torch.get_num_threads() if torch is not None else None, "loadavg": load}


def result_provenance(seeds: Any = None, sample: Any = None, **extra: Any) -> dict[str, Any]:
    """The ``provenance`` block of a benchmark result: command, git, machine (with load), date, seeds, sample.

    ``seeds`` and ``sample`` say what the numbers are over (e.g. ``[0, 1, 2]`` and ``"the first 264
    cells of the fixed 1,000-cell sample"``); ``extra`` adds keys (e.g. ``loadavg_end``).
    """
    git = git_state()
    return {"command": script_command_line(),
            "git": None if git is None else {"commit": git["commit"], "tree_modified": git["dirty"]},
            "machine": machine(), "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": versions(), "seeds": seeds, "sample": sample, **extra}
