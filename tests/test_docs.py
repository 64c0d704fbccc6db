"""The README is short and links out; every link in the documents resolves (file and heading), and each
section lives in one document (issue 33)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "DEVELOPERS.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_").replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)  # a '#' in a code block is no heading
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, flags=re.M)}


def links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [a or b for a, b in LINK.findall(text)]


def test_readme_is_short_and_has_its_sections():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    for section in ("## Two commands", "## A five-minute tutorial", "## Which ranker when", "## Headline results",
                    "## Getting the data", "## Documentation"):
        assert section in text, section
    assert "make demo" in text and "make test" in text and "nasrank data download cifar10" in text


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(doc):
    bad = []
    for target in links(doc):
        if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        if not path.exists():
            bad.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            bad.append(f"{target}: no heading #{anchor} in {path.relative_to(ROOT)}")
    assert not bad, bad


def test_the_link_check_can_fail(tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text("# Top (`x.py`)\n```\n# not a heading\n```\n[a](a.md#top-xpy) [b](a.md#not-a-heading) ![c](c.png)\n")
    assert links(doc) == ["a.md#top-xpy", "a.md#not-a-heading", "c.png"]
    assert anchors(doc) == {"top-xpy"}


def test_one_place_for_each_section():
    """The long sections moved out of the README live in one document each."""
    homes = {"Trust and safety": "docs/security.md", "Measured results": "docs/results.md",
             "Contracts": "docs/contracts.md", "Commands": "docs/guide.md"}
    for heading, home in homes.items():
        holders = [str(p.relative_to(ROOT)) for p in DOCS if re.search(f"^#+ {re.escape(heading)}$", p.read_text(), re.M)]
        assert holders == [home], (heading, holders)


def test_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_searcher_of_the_plugin_guide_runs(tmp_path, monkeypatch, capsys):
    """docs/plugins.md's HillClimb, as written there, searches from the command line."""
    import json

    from nasrank.cli import main

    text = (ROOT / "docs" / "plugins.md").read_text()
    code = re.search(r"```python\n(# my_searcher\.py\n.*?)```", text, flags=re.S).group(1)
    (tmp_path / "my_searcher.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    line = re.search(r"nasrank search --space nb201 --searcher my_searcher:HillClimb.*?--output runs/hill", text,
                     flags=re.S).group(0)
    argv = line.replace("\\\n", " ").split()[1:]
    argv[argv.index("--output") + 1] = str(tmp_path / "hill")
    assert main(argv + ["--quiet"]) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "hill" / "summary.json").read_text())
    assert summary["n_evaluations"] == 200 and summary["searcher"] == "my_searcher:HillClimb"
