"""The README's quoted results, checked against the JSON that holds each one (``benchmarks/claims.yaml``).

**What counts as a quoted result.** Every number written with a decimal point (``0.819``, ``−0.125``,
``4.81×``, ``94.0%``, both ends of ``0.31–0.55``) in the README's ``## Measured results`` section,
outside code spans (`` `...` ``) and headings. Integers (counts, seeds, epochs, sizes, dates) are not
required to have an entry, but may have one. Every quoted result needs an entry, and every entry must
agree with its source.

**An entry** (one line of ``claims.yaml``)::

    - {at: "| synflow | 264 | 0.819", json: zero_shot_nb201_run2.json, path: table/synflow/spearman}

``at`` is README text that *ends with* the number (long enough to be unique, short enough to stay on
one line); the number is the last one in ``at``. The source is ``json`` (a file in
``benchmarks/results/``) with ``path`` (keys and list indices joined by ``/``), or ``file`` (a repo
file in which the number's text must appear, e.g. a constant in code). A key that holds ``/`` is
written ``~1`` in a path, as in JSON Pointer. Options: ``scale`` (the JSON
value is multiplied by it first, e.g. 1000 for seconds quoted as ms, 100 for fractions quoted as %),
``tol`` (default: half a unit of the number's last digit, i.e. the JSON value must round to it),
``abs: true`` (compare magnitudes, for a README that writes the sign in words), ``agg`` (``mean``,
``min`` or ``max`` over a path with ``*`` steps, e.g. ``runs/*/ratio`` with ``agg: min`` for the low
end of a quoted range), ``minus`` / ``over`` (another path of the same JSON: the quoted number is the
difference or the ratio of the two). A string value in the JSON must contain the number's text.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CLAIMS = ROOT / "benchmarks" / "claims.yaml"
SECTION = "## Measured results"

#: a number with an optional sign; the decimal ones are the quoted results
NUMBER = re.compile(r"(?<![\w.])([−+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])")


@dataclass(frozen=True)
class Quoted:
    """One number in the README: its text, value, decimals and span (offsets into the README)."""
    text: str
    value: float
    decimals: int
    start: int
    end: int


def _parse(m: re.Match) -> Quoted:
    sign = -1.0 if m.group(1) in ("−", "-") else 1.0
    whole = m.group(2).replace(",", "")
    frac = m.group(3) or ""
    value = sign * float(f"{whole}.{frac}" if frac else whole)
    return Quoted(m.group(0), value, len(frac), m.start(), m.end())


def section_bounds(readme: str) -> tuple[int, int]:
    """Start and end offsets of the ``## Measured results`` section."""
    start = readme.index(SECTION)
    nxt = re.search(r"^## ", readme[start + len(SECTION):], flags=re.M)
    return start, (start + len(SECTION) + nxt.start()) if nxt else len(readme)


def _masked(readme: str) -> str:
    """The README with code spans and heading lines blanked (same length, so offsets stay)."""
    out = re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)), readme)
    return re.sub(r"^#.*$", lambda m: " " * len(m.group(0)), out, flags=re.M)


def quoted_numbers(readme: str) -> list[Quoted]:
    """Every quoted result (a decimal number) in the Measured results section, in order."""
    a, b = section_bounds(readme)
    masked = _masked(readme)
    return [q for q in (_parse(m) for m in NUMBER.finditer(masked, a, b)) if q.decimals > 0]


def load_claims(path: Path = CLAIMS) -> list[dict[str, Any]]:
    """The entries of ``claims.yaml`` (a list of one-line mappings)."""
    claims = yaml.safe_load(path.read_text()) or []
    for c in claims:
        if "at" not in c or not ({"json", "file"} & set(c)):
            raise ValueError(f"claims.yaml: an entry needs 'at' and 'json' or 'file': {c}")
    return claims


AGG = {"mean": lambda v: sum(v) / len(v), "min": min, "max": max}


def _lookup(data: Any, path: str) -> Any:
    """The value at ``path`` (``a/b/0/c``); a ``*`` step maps over every key or item (a list comes back)."""
    keys = str(path).split("/")
    for i, key in enumerate(keys):
        if key == "*":
            items = data.values() if isinstance(data, dict) else data
            rest = "/".join(keys[i + 1:])
            return [_lookup(x, rest) if rest else x for x in items]
        key = key.replace("~1", "/").replace("~0", "~")  # a key holding "/" is written "~1" (as in JSON Pointer)
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


def _source_value(claim: dict[str, Any], cache: dict[str, Any]) -> Any:
    if "file" in claim:
        return (ROOT / claim["file"]).read_text()
    name = claim["json"]
    if name not in cache:
        cache[name] = json.loads((RESULTS / name).read_text())
    got = _lookup(cache[name], claim["path"])
    if isinstance(got, list):
        if claim.get("agg") not in AGG:
            raise KeyError(f"a '*' path needs agg: {'|'.join(AGG)}")
        got = AGG[claim["agg"]]([float(x) for x in got if x is not None])
    if "minus" in claim:
        got = float(got) - float(_lookup(cache[name], claim["minus"]))
    if "over" in claim:
        got = float(got) / float(_lookup(cache[name], claim["over"]))
    return got


def check_claim(claim: dict[str, Any], readme: str, cache: dict[str, Any]) -> tuple[list[tuple[int, int]], str | None]:
    """The README spans the entry covers, and what is wrong with it (``None`` when it agrees)."""
    at = claim["at"]
    hits, i = [], readme.find(at)
    while i != -1:
        hits.append(i)
        i = readme.find(at, i + 1)
    if not hits:
        return [], f"text not in the README: {at!r}"
    nums = list(NUMBER.finditer(at))
    if not nums:
        return [], f"no number in {at!r}"
    q = _parse(nums[-1])
    spans = [(h + q.start, h + q.end) for h in hits]
    try:
        got = _source_value(claim, cache)
    except (KeyError, IndexError, TypeError, ValueError, FileNotFoundError) as exc:
        return spans, f"{at!r}: {claim.get('json', claim.get('file'))}:{claim.get('path', '')} not found ({exc!r})"
    text = q.text.lstrip("+−-")
    if isinstance(got, str) or "file" in claim:
        return spans, None if text in str(got) else f"{at!r}: {text} not in {claim.get('json', claim.get('file'))}"
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return spans, f"{at!r}: {claim.get('json')}:{claim['path']} is not a number ({type(got).__name__})"
    value = float(got) * float(claim.get("scale", 1))
    mine = q.value
    if claim.get("abs"):
        value, mine = abs(value), abs(mine)
    tol = float(claim.get("tol", 0.5 * 10 ** -q.decimals + 1e-9))
    if abs(value - mine) > tol:
        return spans, f"{at!r}: README {q.text}, {claim.get('json')}:{claim['path']} = {value:.6g} (tol {tol:g})"
    return spans, None


def check(readme: str, claims: list[dict[str, Any]], cache: dict[str, Any] | None = None) -> list[str]:
    """Every problem: entries that disagree or lost their text, and quoted results with no entry.

    ``cache`` (file name -> parsed JSON) may be shared between calls on the same results.
    """
    cache = {} if cache is None else cache
    problems, covered = [], set()
    for claim in claims:
        spans, problem = check_claim(claim, readme, cache)
        covered.update(spans)
        if problem:
            problems.append(problem)
    for q in quoted_numbers(readme):
        if (q.start, q.end) not in covered:
            line = readme.count("\n", 0, q.start) + 1
            ctx = readme[max(0, q.start - 40):q.end].replace("\n", " ")
            problems.append(f"README line {line}: {q.text} has no entry in claims.yaml (…{ctx})")
    return problems


def main() -> int:
    problems = check((ROOT / "README.md").read_text(), load_claims())
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
