"""The documents' quoted results agree with the JSON that holds them (benchmarks/claims.yaml; issues 25, 33).

A quoted result is a number with a decimal point in docs/results.md or in the README's
"## Headline results" section, outside code spans and headings (benchmarks/claims.py says why and how
to add one; an entry's ``file`` names its document, default docs/results.md).
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

CLAIMS = claims.load_claims()
DOCS = {doc: (ROOT / doc).read_text() for doc in claims.documents(CLAIMS)}
RESULTS_DOC = DOCS[claims.DEFAULT_DOC]


def _bump(q: "claims.Quoted") -> str:
    """The number with its last digit moved by one unit (9 -> 8, else +1), sign and format kept."""
    last = int(q.text[-1])
    return q.text[:-1] + str(last - 1 if last == 9 else last + 1)


def test_claims_every_quoted_number_has_an_agreeing_entry():
    assert set(DOCS) >= {"README.md", "docs/results.md"}
    problems = claims.check_all(CLAIMS)
    assert not problems, "\n".join(problems)


def test_claims_cover_a_real_number_of_results():
    quoted = claims.quoted_numbers(RESULTS_DOC)
    assert len(quoted) > 400 and len(CLAIMS) >= len(quoted)
    headline = claims.quoted_numbers(DOCS["README.md"], "README.md")
    assert len(headline) >= 5  # the README's headline table is checked too


@pytest.mark.parametrize("doc", ["docs/results.md", "README.md"])
def test_claims_fail_when_any_quoted_number_is_changed_by_one_unit(doc):
    text = DOCS[doc]
    survivors, cache = [], {}
    for q in claims.quoted_numbers(text, doc):
        mutated = text[:q.start] + _bump(q) + text[q.end:]
        if not claims.check(mutated, CLAIMS, cache, doc):
            survivors.append(f"{q.text} at offset {q.start}")
    assert not survivors, f"changes the check does not see in {doc}: {survivors[:10]}"


def test_claims_fail_on_a_number_without_an_entry_and_on_a_wrong_source(tmp_path):
    extra = RESULTS_DOC + "\nA new measurement: 0.123 of something.\n"
    assert any("0.123 has no entry" in p for p in claims.check(extra, CLAIMS))
    wrong = [dict(c) for c in CLAIMS]
    entry = next(c for c in wrong if c.get("path") == "table/synflow/spearman" and "file" not in c)
    entry["path"] = "table/synflow/kendall_tau"
    assert any("table/synflow/kendall_tau" in p for p in claims.check(RESULTS_DOC, wrong))


def test_claims_file_key_picks_the_document():
    """An entry checks the document its ``file`` names (default docs/results.md), and a README number
    outside its headline section needs none."""
    readme = "# x\nabout 0.5 of it\n## Headline results\n| a | 0.819 |\n## Next\n0.7\n"
    entry = {"at": "| a | 0.819", "file": "README.md", "json": "zero_shot_nb201_run2.json",
             "path": "table/synflow/spearman"}
    assert claims.check(readme, [entry], doc="README.md") == []
    assert claims.check(readme, [], doc="README.md")[0].startswith("README.md line 4: 0.819 has no entry")
    bad = dict(entry, path="table/synflow/kendall_tau")
    assert "kendall_tau" in claims.check(readme, [bad], doc="README.md")[0]
    # the same entry without ``file`` belongs to docs/results.md, where its text is missing
    assert claims.check(readme, [{k: v for k, v in entry.items() if k != "file"}], doc="README.md")
    assert "text not in docs/results.md" in claims.check("nothing", [dict(entry, file="docs/results.md")])[0]
    assert claims.documents([entry, {"at": "x", "file": "docs/other.md", "json": "a"}]) == [
        "README.md", "docs/other.md", "docs/results.md"]
    assert "no '## Headline results' section" in claims.check("# x\n", [], doc="README.md")[0]


def test_claims_source_key_reads_a_repo_file():
    entry = {"at": "R² 0.995", "source": "nasrank/spaces/nb201.py"}
    assert claims.check("cost model R² 0.995\n", [entry]) == []
    wrong = {"at": "R² 0.421", "source": "nasrank/spaces/nb201.py"}
    assert "0.421 not in nasrank/spaces/nb201.py" in claims.check("cost model R² 0.421\n", [wrong])[0]


def test_claims_rule_scope():
    text = "Spearman 0.819 (`0.5` in code), 20 seeds, 2026-11-23.\n### 3.14 heading\n## Next\n0.7"
    assert [q.text for q in claims.quoted_numbers(text)] == ["0.819", "0.7"]  # docs/results.md: all of it
    readme = "0.3 before\n## Headline results\nSpearman 0.819 (`0.5` in code)\n## Next\n0.7"
    assert [q.text for q in claims.quoted_numbers(readme, "README.md")] == ["0.819"]
    q = claims.quoted_numbers("from −0.06 to +0.41, 1,060.5 s\n")
    assert [(x.text, x.value) for x in q] == [("−0.06", -0.06), ("+0.41", 0.41), ("1,060.5", 1060.5)]


@pytest.mark.parametrize("path,agg,expected", [("runs/*/x", "min", 1.0), ("runs/*/x", "max", 3.0),
                                               ("runs/*/x", "mean", 2.0)])
def test_claims_paths_with_a_star_aggregate(path, agg, expected):
    data = {"runs": {"a": {"x": 1.0}, "b": {"x": 3.0}}}
    got = claims._lookup(data, path)
    assert claims.AGG[agg](got) == expected
    assert claims._lookup({"a/b": {"c": [5, 6]}}, "a~1b/c/-1") == 6
