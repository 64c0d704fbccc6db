"""One self-contained HTML page (``nasrank report --html``): tables, figures and text blocks, no
script, no server, no external resource.

SVG figures are inlined (their XML declaration, DOCTYPE and metadata dropped, every ``id`` prefixed
so that several figures' clip paths and markers never collide); a figure that exists only as a PNG
is embedded as a ``data:`` URI. Every ``href``/``src`` of the page is a ``data:`` URI or a
``#fragment`` (:func:`external_references` checks that).
"""
from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1rem;margin-top:1.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.t,th.t{text-align:left}
figure{margin:1rem 0;border:1px solid #eee;padding:.5rem}figure svg,figure img{max-width:100%;height:auto}
figcaption{font-size:.8rem;color:#555}
pre{background:#f7f7f7;padding:.5rem;font-size:.8rem;overflow-x:auto}
nav a{margin-right:1rem}.note{color:#555;font-size:.85rem}
"""


@dataclass
class Section:
    """One ``<h2>`` part of the page: its title and its HTML body (built with the helpers below)."""

    title: str
    body: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "s-" + re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


def esc(value: Any) -> str:
    """``value`` as escaped text (floats with 4 significant digits, None as ``-``)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return html.escape(f"{value:.4g}")
    return html.escape(str(value))


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], headers: Sequence[str] | None = None,
          text_columns: Iterable[str] = ()) -> str:
    """An HTML table of ``rows`` (``columns`` in order; ``text_columns`` left-aligned)."""
    text = set(text_columns)
    head = "".join(f'<th class="{"t" if c in text else ""}">{esc(h)}</th>'
                   for c, h in zip(columns, headers or columns))
    body = "".join("<tr>" + "".join(f'<td class="{"t" if c in text else ""}">{esc(r.get(c))}</td>' for c in columns)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def pre(text: str) -> str:
    """Preformatted text (a configuration file, a JSON block)."""
    return f"<pre>{html.escape(text)}</pre>"


def inline_svg(text: str, prefix: str) -> str:
    """An SVG file's markup for inlining: no XML declaration, DOCTYPE, comments or metadata; every ``id``
    (and each ``#id`` / ``url(#id)`` that refers to it) prefixed with ``prefix``."""
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})" if m.group(1) in ids else m.group(0),
                  text)
    return re.sub(r'(href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"'
                  if m.group(2) in ids else m.group(0), text).strip()


def figure(path: Path, prefix: str, caption: str = "") -> str:
    """A ``<figure>``: ``path``'s SVG inlined, else its PNG as a data URI; its manifest's title as caption."""
    path = Path(path)
    manifest = path.with_suffix(".figure.json")
    title = ""
    if manifest.is_file():
        try:
            title = str(json.loads(manifest.read_text(encoding="utf-8")).get("title") or "")
        except (ValueError, OSError):
            title = ""
    svg = path.with_suffix(".svg")
    if svg.is_file():
        body = inline_svg(svg.read_text(encoding="utf-8"), prefix)
    else:
        data = base64.b64encode(path.with_suffix(".png").read_bytes()).decode("ascii")
        body = f'<img alt="{esc(path.name)}" src="data:image/png;base64,{data}">'
    text = " — ".join(t for t in (caption, title.replace("\n", " ")) if t)
    return f'<figure data-figure="{esc(path.stem)}">{body}<figcaption>{esc(text)}</figcaption></figure>'


def page(title: str, sections: Sequence[Section], subtitle: str = "") -> str:
    """The whole document: a title, a table of contents, then each section."""
    nav = "".join(f'<a href="#{s.anchor}">{esc(s.title)}</a>' for s in sections)
    parts = [f'<h2 id="{s.anchor}">{esc(s.title)}</h2>' + "".join(s.body) for s in sections]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>"
            + (f'<p class="note">{esc(subtitle)}</p>' if subtitle else "")
            + f"<nav>{nav}</nav>" + "".join(parts) + "</body></html>\n")


def external_references(document: str) -> list[str]:
    """Every ``src``/``href`` (also ``xlink:href``) of ``document`` that is not a ``data:`` URI or a ``#fragment``."""
    refs = re.findall(r'\b(?:src|href)\s*=\s*["\']([^"\']*)["\']', document)
    return [r for r in refs if not (r.startswith("data:") or r.startswith("#"))]
