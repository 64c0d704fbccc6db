"""The README's quoted results agree with the JSON that holds them (benchmarks/claims.yaml; issue 25).

A quoted result is a number with a decimal point in the README's "## Measured results" section,
outside code spans and headings (benchmarks/claims.py says why and how to add one).
"""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("benchmarks_claims", ROOT / "benchmarks" / "claims.py")
claims = importlib.util.module_from_spec(_spec)
sys.modules["benchmarks_claims"] = claims  # dataclasses look their module up here
_spec.loader.exec_module(claims)

README = (ROOT / "README.md").read_text()
CLAIMS = claims.load_claims()


def _bump(q: "claims.Quoted") -> str:
    """The number with its last digit moved by one unit (9 -> 8, else +1), sign and format kept."""
    last = int(q.text[-1])
    return q.text[:-1] + str(last - 1 if last == 9 else last + 1)


def test_claims_every_quoted_number_has_an_agreeing_entry():
    problems = claims.check(README, CLAIMS)
    assert not problems, "\n".join(problems)


def test_claims_cover_a_real_number_of_results():
    quoted = claims.quoted_numbers(README)
    assert len(quoted) > 400 and len(CLAIMS) >= len(quoted)


def test_claims_fail_when_any_quoted_number_is_changed_by_one_unit():
    quoted = claims.quoted_numbers(README)
    survivors, cache = [], {}
    for q in quoted:
        mutated = README[:q.start] + _bump(q) + README[q.end:]
        if not claims.check(mutated, CLAIMS, cache):
            survivors.append(f"{q.text} at offset {q.start}")
    assert not survivors, f"changes the check does not see: {survivors[:10]}"


def test_claims_fail_on_a_number_without_an_entry_and_on_a_wrong_source(tmp_path):
    a, b = claims.section_bounds(README)
    extra = README[:b] + "\nA new measurement: 0.123 of something.\n" + README[b:]
    assert any("0.123 has no entry" in p for p in claims.check(extra, CLAIMS))
    wrong = [dict(c) for c in CLAIMS]
    entry = next(c for c in wrong if c.get("path") == "table/synflow/spearman")
    entry["path"] = "table/synflow/kendall_tau"
    assert any("table/synflow/kendall_tau" in p for p in claims.check(README, wrong))


def test_claims_rule_scope():
    text = "## Measured results\nSpearman 0.819 (`0.5` in code), 20 seeds, 2026-11-23.\n### 3.14 heading\n## Next\n0.7"
    assert [q.text for q in claims.quoted_numbers(text)] == ["0.819"]
    q = claims.quoted_numbers("## Measured results\nfrom −0.06 to +0.41, 1,060.5 s\n")
    assert [(x.text, x.value) for x in q] == [("−0.06", -0.06), ("+0.41", 0.41), ("1,060.5", 1060.5)]


@pytest.mark.parametrize("path,agg,expected", [("runs/*/x", "min", 1.0), ("runs/*/x", "max", 3.0),
                                               ("runs/*/x", "mean", 2.0)])
def test_claims_paths_with_a_star_aggregate(path, agg, expected):
    data = {"runs": {"a": {"x": 1.0}, "b": {"x": 3.0}}}
    got = claims._lookup(data, path)
    assert claims.AGG[agg](got) == expected
    assert claims._lookup({"a/b": {"c": [5, 6]}}, "a~1b/c/-1") == 6
