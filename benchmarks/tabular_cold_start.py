"""Cold start of the tabular path: a whole `nasrank search` process against a bare `import numpy`.

The command is the one a newcomer runs first (issue 33 item 8):

    nasrank search --space nb201 --searcher evolution --ranker tabular --benchmark embedded \
        --budget-queries 300 --seed 0 --output DIR

Each pair runs ``python -c "import numpy"`` and then the search (a fresh DIR each time), both as
new processes with the same interpreter and environment; the ratio is taken pair by pair, so a
machine whose speed drifts between pairs still gives a fair figure, and the median is quoted.
Wall time is ``time.perf_counter`` around the process; user and system CPU time and peak memory
come from ``os.wait4``. One warm-up pair comes first and is not counted: it writes the byte code
(``PYTHONDONTWRITEBYTECODE`` is cleared, as for an installed package) and fills a private result
store, so that the counted searches are reruns served from the store, as a user's second run is;
``--fresh-store`` gives every search an empty store instead (300 evaluations and inserts).
A last run reports which of torch, lightning and scipy the search process imported.

    python benchmarks/tabular_cold_start.py [--pairs 10] [--figures LABEL=FILE ...]

``--figures LABEL=FILE`` (repeatable) adds a text file of whole-process figures measured outside
this script (e.g. paired runs of the same two commands with ``/usr/bin/time``, or of an earlier
commit's code) to the JSON under ``whole_process_figures[LABEL]``, as given.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, write_result  # noqa: E402

SEARCH = ["search", "--space", "nb201", "--searcher", "evolution", "--ranker", "tabular", "--benchmark",
          "embedded", "--budget-queries", "300", "--seed", "0"]
HEAVY = ("torch", "lightning", "scipy")


def _env(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["NASRANK_STORE"] = str(store)
    return env


def timed(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """One process: wall, user and system seconds, peak memory (MiB), exit status."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "max_rss_mib": usage.ru_maxrss / 1024, "rc": proc.returncode}


def imported_heavy(env: dict[str, str], out: Path) -> list[str]:
    """Which of :data:`HEAVY` a search process imports (run through ``nasrank.cli.main``)."""
    code = ("import sys; from nasrank.cli import main; rc = main(sys.argv[1:]); "
            f"print([m for m in {HEAVY!r} if m in sys.modules]); sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code, *SEARCH, "--output", str(out), "--quiet"], env=env,
                         capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1].replace("'", '"'))


def summary(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=10, help="counted pairs (default 10)")
    ap.add_argument("--fresh-store", action="store_true", help="an empty result store for every search")
    ap.add_argument("--figures", action="append", default=[], metavar="LABEL=FILE",
                    help="a text file of whole-process figures to include under LABEL (repeatable)")
    ap.add_argument("--name", default="tabular_cold_start", help="benchmarks/results/NAME.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nasrank_cold_") as tmp:
        root = Path(tmp)
        baseline = [sys.executable, "-c", "import numpy"]
        rows = []
        for i in range(args.pairs + 1):  # pair 0 is the warm-up
            store = root / (f"store{i}.sqlite" if args.fresh_store else "store.sqlite")
            env = _env(store)
            base = timed(baseline, env)
            run = timed([sys.executable, "-m", "nasrank.cli", *SEARCH, "--output", str(root / f"run{i}")], env)
            if run["rc"] != 0:
                raise SystemExit(f"the search failed (exit status {run['rc']})")
            if i:
                rows.append({"numpy": base, "search": run, "ratio_wall": run["wall_s"] / base["wall_s"]})
            print(f"pair {i}{' (warm-up)' if not i else ''}: search {run['wall_s']:.3f} s, "
                  f"numpy {base['wall_s']:.3f} s, ratio {run['wall_s'] / base['wall_s']:.2f}")
        heavy = imported_heavy(_env(root / "store.sqlite"), root / "check")
    ratios = [r["ratio_wall"] for r in rows]
    payload = {
        "what": "wall time of a whole `nasrank search` process (tabular ranker, embedded table, 300 queries) "
                "over a bare `python -c 'import numpy'`, paired, ratio per pair",
        "command": "nasrank " + " ".join(SEARCH) + " --output DIR",
        "baseline": "python -c 'import numpy'",
        "store": "an empty store per search" if args.fresh_store else
                 "a private store filled by the warm-up: the counted searches are served from it",
        "pairs": args.pairs, "warmup_pairs": 1,
        "ratio_wall": summary(ratios),
        "search": {k: summary([r["search"][k] for r in rows]) for k in ("wall_s", "user_s", "sys_s", "max_rss_mib")},
        "numpy": {k: summary([r["numpy"][k] for r in rows]) for k in ("wall_s", "user_s", "sys_s", "max_rss_mib")},
        "imports_torch_lightning_scipy": heavy,
        "goal": "ratio_wall median <= 3 (issue 33 item 8; about 30 before)",
        "runs": rows,
    }
    if args.figures:
        payload["whole_process_figures"] = {}
        for item in args.figures:
            label, eq, path = item.partition("=")
            if not eq:
                raise SystemExit(f"--figures {item!r}: expected LABEL=FILE")
            payload["whole_process_figures"][label] = Path(path).read_text()
    print(f"ratio (median of {args.pairs} pairs): {payload['ratio_wall']['median']:.2f}; imported: {heavy or 'none'}")
    write_result(args.name, payload, seeds=[0], sample="one command, the same each run")


if __name__ == "__main__":
    main()
