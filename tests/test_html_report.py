"""``nasrank report --html`` (issue 33): one self-contained page per run or sweep: the summary table,
every figure (SVG inline), the configuration, the provenance, the seeds with their CIs; no server,
no external resource. Opened in headless Chromium (Debian's ``chromium``) when it is installed."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from nasrank.cli import main
from nasrank.evaluation.html_report import external_references, inline_svg

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def sweep_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    assert main(["compare", "--benchmark", "embedded", "--rankers", "tabular,t5=tabular,t10=tabular",
                 "--ranker-cfg", "t5.epochs=5", "--ranker-cfg", "t10.epochs=10", "--frontier", "t5,t10",
                 "--seeds", "0-1", "--candidates", "5", "--output", str(root / "sweep"), "--quiet", "--no-store"]) == 0
    out = root / "rep"
    assert main(["report", str(root / "sweep"), "--output", str(out), "--html", "--quiet"]) == 0
    return root, out / "report.html"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _figures(doc: str) -> list[str]:
    return re.findall(r'<figure data-figure="([^"]+)">', doc)


def test_the_page_holds_every_part_and_no_external_resource(sweep_page):
    root, page = sweep_page
    doc = page.read_text(encoding="utf-8")
    parsed = Tags()
    parsed.feed(doc)
    headings = [t for t in parsed.text if t in ("Summary", "Seeds and confidence intervals", "Figures",
                                                  "Configuration", "Provenance")]
    assert len(set(headings)) == 5
    # every figure: the merged curves, the sweep's frontier and regret (SVG), each seed's cost_vs_accuracy
    assert sorted(_figures(doc)) == sorted(["report", "input0_frontier", "input0_regret_vs_cost",
                                            "cost_vs_accuracy", "cost_vs_accuracy"])
    svgs = re.findall(r"<svg\b.*?</svg>", doc, flags=re.S)
    assert len(svgs) == 3
    for svg in svgs:  # each inline SVG is well-formed XML
        assert ET.fromstring(svg).tag.endswith("svg")
    assert external_references(doc) == []
    for tag, attrs in parsed.tags:
        for key in ("src", "href", "xlink:href"):
            if key in attrs:
                assert attrs[key].startswith(("data:", "#")), (tag, attrs[key])
        assert tag not in ("script", "link", "iframe", "object")
    ids = re.findall(r'\bid="([^"]+)"', doc)
    assert len(ids) == len(set(ids)), "two figures share an id"
    text = " ".join(parsed.text)
    assert "1 [1, 1]" in text  # the sweep's Spearman, mean [95% CI]
    assert "seed 0" in doc and "95% percentile bootstrap" in text
    assert "epochs: 5" in text or '"epochs": 5' in text  # resolved configuration of t5
    assert "git_commit" in text or "versions" in text  # provenance


def test_inline_svg_drops_the_doctype_and_prefixes_ids():
    svg = ('<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/'
           '1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           '<metadata><rdf:RDF/></metadata><defs><clipPath id="p1"><rect/></clipPath></defs>'
           '<g clip-path="url(#p1)"><use xlink:href="#p1"/></g></svg>')
    out = inline_svg(svg, "f3-")
    assert out.startswith("<svg") and "DOCTYPE" not in out and "metadata" not in out and "w3.org/Graphics" not in out
    assert 'id="f3-p1"' in out and "url(#f3-p1)" in out and 'xlink:href="#f3-p1"' in out
    assert external_references(out) == []


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (Debian: apt-get install chromium)")
def test_headless_chromium_loads_every_figure(sweep_page, tmp_path):
    _, page = sweep_page
    probe = tmp_path / "probe.html"
    check = """<script>window.addEventListener('load', () => {
      const figs = [...document.querySelectorAll('figure')].map(f => {
        const e = f.querySelector('svg, img'); const r = e.getBoundingClientRect();
        const ok = e.tagName.toLowerCase() === 'img' ? (e.complete && e.naturalWidth > 0) : e.getBBox().width > 0;
        return {name: f.dataset.figure, w: r.width, h: r.height, ok: ok}; });
      const res = performance.getEntriesByType('resource').map(r => r.name);
      const pre = document.createElement('pre'); pre.id = 'probe';
      pre.textContent = JSON.stringify({figs: figs, resources: res}); document.body.appendChild(pre); });</script>"""
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", check + "</body>"), encoding="utf-8")
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000"]
    dom = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
    assert found, dom[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(result["figs"]) == 5 and all(f["ok"] and f["w"] > 200 and f["h"] > 150 for f in result["figs"]), result
    assert result["resources"] == []  # nothing fetched: no missing resource, nothing from the network
    shot = tmp_path / "page.png"
    subprocess.run(flags + ["--window-size=1280,3000", f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120)
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 3000)
    small = img.resize((128, 300))
    pixels = list(small.getdata())
    assert sum(p != (255, 255, 255) for p in pixels) / len(pixels) > 0.05  # tables and figures drawn, not blank
    assert len(set(pixels)) > 200  # the figures' colours, not text alone
