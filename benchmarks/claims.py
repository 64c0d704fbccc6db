"""The documents' quoted results, checked against the JSON that holds each one (``benchmarks/claims.yaml``).

**What counts as a quoted result.** Every number written with a decimal point (``0.819``, ``−0.125``,
``4.81×``, ``94.0%``, both ends of ``0.31–0.55``) outside code spans (`` `...` ``) and headings, in
``docs/results.md`` (the whole file) and in the README's ``## Headline results`` section
(``SECTIONS``). Integers (counts, seeds, epochs, sizes, dates) are not required to have an entry, but
may have one. Every quoted result needs an entry, and every entry must agree with its source.

**An entry** (one line of ``claims.yaml``)::

    - {at: "| synflow | 264 | 0.819", json: zero_shot_nb201_run2.json, path: table/synflow/spearman}

``at`` is the document's text that *ends with* the number (long enough to be unique, short enough to
stay on one line); the number is the last one in ``at``. ``file`` names the document, relative to the
repository root (default ``docs/results.md``; ``file: README.md`` for a headline number). The source is
``json`` (a file in ``benchmarks/results/``) with ``path`` (keys and list indices joined by ``/``), or
``source`` (a repo file in which the number's text must appear, e.g. a constant in code). A key that
holds ``/`` is written ``~1`` in a path, as in JSON Pointer. Options: ``scale`` (the JSON value is
multiplied by it first, e.g. 1000 for seconds quoted as ms, 100 for fractions quoted as %), ``tol``
(default: half a unit of the number's last digit, i.e. the JSON value must round to it), ``abs: true``
(compare magnitudes, for a text that writes the sign in words), ``agg`` (``mean``, ``min`` or ``max``
over a path with ``*`` steps, e.g. ``runs/*/ratio`` with ``agg: min`` for the low end of a quoted
range), ``minus`` / ``over`` (another path of the same JSON: the quoted number is the difference or
the ratio of the two). A string value in the JSON must contain the number's text.
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
#: the document an entry without ``file`` belongs to
DEFAULT_DOC = "docs/results.md"
#: document -> the one section of it whose decimal numbers all need entries (a document not named here:
#: the whole of it)
SECTIONS = {"README.md": "## Headline results"}

#: a number with an optional sign; the decimal ones are the quoted results
NUMBER = re.compile(r"(?<![\w.])([−+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])")


@dataclass(frozen=True)
class Quoted:
    """One number in a document: its text, value, decimals and span (offsets into the document)."""
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


def section_bounds(text: str, section: str | None) -> tuple[int, int]:
    """Start and end offsets of ``section`` (a ``## `` heading line, up to the next one) in ``text``;
    ``None``: the whole text."""
    if section is None:
        return 0, len(text)
    start = text.index(section)
    nxt = re.search(r"^## ", text[start + len(section):], flags=re.M)
    return start, (start + len(section) + nxt.start()) if nxt else len(text)


def _masked(text: str) -> str:
    """The text with code spans and heading lines blanked (same length, so offsets stay)."""
    out = re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)), text)
    return re.sub(r"^#.*$", lambda m: " " * len(m.group(0)), out, flags=re.M)


def quoted_numbers(text: str, doc: str = DEFAULT_DOC) -> list[Quoted]:
    """Every quoted result (a decimal number) in the checked part of document ``doc``, in order."""
    a, b = section_bounds(text, SECTIONS.get(doc))
    masked = _masked(text)
    return [q for q in (_parse(m) for m in NUMBER.finditer(masked, a, b)) if q.decimals > 0]


def load_claims(path: Path = CLAIMS) -> list[dict[str, Any]]:
    """The entries of ``claims.yaml`` (a list of one-line mappings)."""
    claims = yaml.safe_load(path.read_text()) or []
    for c in claims:
        if "at" not in c or not ({"json", "source"} & set(c)):
            raise ValueError(f"claims.yaml: an entry needs 'at' and 'json' or 'source': {c}")
    return claims


def doc_of(claim: dict[str, Any]) -> str:
    """The document an entry quotes (``file``, default ``docs/results.md``)."""
    return str(claim.get("file", DEFAULT_DOC))


def documents(claims: list[dict[str, Any]]) -> list[str]:
    """Every document to check: the default one, the README and each one an entry names."""
    return sorted({DEFAULT_DOC, *SECTIONS, *(doc_of(c) for c in claims)})


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
    if "source" in claim:
        return (ROOT / claim["source"]).read_text()
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


def check_claim(claim: dict[str, Any], text: str, cache: dict[str, Any]) -> tuple[list[tuple[int, int]], str | None]:
    """The spans of ``text`` (the entry's document) the entry covers, and what is wrong with it
    (``None`` when it agrees)."""
    at, where = claim["at"], claim.get("json", claim.get("source"))
    hits, i = [], text.find(at)
    while i != -1:
        hits.append(i)
        i = text.find(at, i + 1)
    if not hits:
        return [], f"text not in {doc_of(claim)}: {at!r}"
    nums = list(NUMBER.finditer(at))
    if not nums:
        return [], f"no number in {at!r}"
    q = _parse(nums[-1])
    spans = [(h + q.start, h + q.end) for h in hits]
    try:
        got = _source_value(claim, cache)
    except (KeyError, IndexError, TypeError, ValueError, FileNotFoundError) as exc:
        return spans, f"{at!r}: {where}:{claim.get('path', '')} not found ({exc!r})"
    number = q.text.lstrip("+−-")
    if isinstance(got, str) or "source" in claim:
        return spans, None if number in str(got) else f"{at!r}: {number} not in {where}"
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return spans, f"{at!r}: {where}:{claim['path']} is not a number ({type(got).__name__})"
    value = float(got) * float(claim.get("scale", 1))
    mine = q.value
    if claim.get("abs"):
        value, mine = abs(value), abs(mine)
    tol = float(claim.get("tol", 0.5 * 10 ** -q.decimals + 1e-9))
    if abs(value - mine) > tol:
        return spans, f"{at!r}: {doc_of(claim)} {q.text}, {where}:{claim['path']} = {value:.6g} (tol {tol:g})"
    return spans, None


def check(text: str, claims: list[dict[str, Any]], cache: dict[str, Any] | None = None,
          doc: str = DEFAULT_DOC) -> list[str]:
    """Every problem of document ``doc`` (its ``text``): its entries that disagree or lost their text,
    and quoted results with no entry. Entries of other documents are ignored.

    ``cache`` (file name -> parsed JSON) may be shared between calls on the same results.
    """
    cache = {} if cache is None else cache
    section = SECTIONS.get(doc)
    if section is not None and section not in text:
        return [f"{doc}: no {section!r} section (benchmarks/claims.py SECTIONS)"]
    problems, covered = [], set()
    for claim in claims:
        if doc_of(claim) != doc:
            continue
        spans, problem = check_claim(claim, text, cache)
        covered.update(spans)
        if problem:
            problems.append(problem)
    for q in quoted_numbers(text, doc):
        if (q.start, q.end) not in covered:
            line = text.count("\n", 0, q.start) + 1
            ctx = text[max(0, q.start - 40):q.end].replace("\n", " ")
            problems.append(f"{doc} line {line}: {q.text} has no entry in claims.yaml (…{ctx})")
    return problems


def check_all(claims: list[dict[str, Any]]) -> list[str]:
    """The problems of every document (``documents``), read from the repository."""
    cache: dict[str, Any] = {}
    problems = []
    for doc in documents(claims):
        path = ROOT / doc
        if not path.is_file():
            problems.append(f"{doc}: no such document (named by claims.yaml)")
            continue
        problems += check(path.read_text(), claims, cache, doc)
    return problems


def main() -> int:
    problems = check_all(load_claims())
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
