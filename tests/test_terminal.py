"""Terminal output: a closed pipe exits quietly, the search summary prints no raw dict or None, tables fit
80 columns, third-party warnings are filtered."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "80", "NASRANK_STORE": "none"}


def test_closed_pipe_exits_quietly():
    p = subprocess.Popen([sys.executable, "-m", "nasrank.cli", "spaces"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=_env())
    p.stdout.close()  # like `| head` that has read all it wants before nasrank writes
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 1  # stopped, as `git log | head` or rich's own handler does
    assert err == "", err  # ... quietly: no traceback, no "Exception ignored"


def test_closed_pipe_during_plain_print_exits_quietly(tmp_path):
    script = tmp_path / "p.py"
    script.write_text("import sys\nfrom nasrank.cli import main\nsys.exit(main(['spaces', '--json']))\n")
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 1 and err == "", err


def test_search_summary_is_human_and_fits_80_columns(tmp_path, nb201_csv):
    out = subprocess.run([sys.executable, "-m", "nasrank.cli", "search", "--benchmark", f"csv:{nb201_csv}",
                          "--budget-queries", "3", "--quiet", "--output", str(tmp_path / "s")],
                         capture_output=True, text=True, env=_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "None" not in out.stdout and "{" not in out.stdout
    assert "provenance" in out.stdout and "nasrank 0." in out.stdout


def test_third_party_warnings_filtered():
    import logging
    import warnings

    from nasrank.runtime.quiet import RAY_AUTH_LOGGER, silence_third_party

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        silence_third_party()
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", FutureWarning)
        warnings.warn("You are using `torch.load` with `weights_only=False`", FutureWarning)
        warnings.warn("something else", UserWarning)
    assert [str(w.message) for w in seen] == ["something else"]
    rec = logging.LogRecord(RAY_AUTH_LOGGER, logging.WARNING, "", 0, "Token authentication is disabled ...", (), None)
    assert not logging.getLogger(RAY_AUTH_LOGGER).filter(rec)


def test_store_ls_fits_80_columns_and_explains_unstored_rankers(tmp_path, nb201_csv):
    store = tmp_path / "s.sqlite"
    run = [sys.executable, "-m", "nasrank.cli"]
    subprocess.run([*run, "search", "--benchmark", f"csv:{nb201_csv}", "--ranker", "params", "--budget-queries", "3",
                    "--quiet", "--store", str(store)], check=True, capture_output=True, env=_env(), timeout=300)
    out = subprocess.run([*run, "store", "ls", "--store", str(store)], capture_output=True, text=True, env=_env())
    assert out.returncode == 0 and max(len(line) for line in out.stdout.splitlines()) <= 80, out.stdout
    assert "params" in out.stdout and "--wide shows them" in out.stdout
    fear = subprocess.run([*run, "store", "ls", "--store", str(store), "--ranker", "fear"], capture_output=True,
                          text=True, env=_env())
    assert "no fear rows: FEAR with early rejection" in fear.stdout
