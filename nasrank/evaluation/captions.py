"""The caption every command figure carries (n, the benchmark, the scale) and its wrapping; no matplotlib
import, so that readers of run folders (``nasrank report``) can use it without loading a plotting stack."""
from __future__ import annotations

from typing import Any, Mapping


#: scale option -> how a caption writes its value
SCALE_TEXT = (("channels", "C={}"), ("cells_per_stage", "N={}"), ("image_size", "{} px"),
              ("train_fraction", "{:.0%} of the data"), ("epochs", "{} epochs"), ("batch_size", "batch {}"))


def scale_text(scale: Mapping[str, Any] | None) -> str:
    """``C=8, N=1, 16 px, 9 epochs`` from scale options (other keys ignored); ``defaults`` when none is set."""
    scale = scale or {}
    parts = [fmt.format(scale[k]) for k, fmt in SCALE_TEXT if scale.get(k) is not None]
    return ", ".join(parts) or "defaults"


def caption(n: int | None, unit: str, benchmark: str | None, dataset: str | None = None,
            scale: Mapping[str, Any] | str | None = None) -> str:
    """The line every command figure carries: ``n = 200 architectures · benchmark embedded (cifar10) · scale C=8``."""
    bench = "no benchmark" if not benchmark else f"benchmark {benchmark}" + (f" ({dataset})" if dataset else "")
    sc = scale if isinstance(scale, str) else scale_text(scale)
    return " · ".join(([f"n = {n} {unit}"] if n is not None else []) + [bench, f"scale {sc}"])


def set_suptitle(fig: Any, title: str | None, caption_line: str | None, fontsize: float = 10) -> None:
    """``title`` over ``caption_line`` (either may be empty) as the figure's suptitle."""
    text = "\n".join(t for t in (title, caption_line) if t)
    if text:
        fig.suptitle(text, fontsize=fontsize)


def wrap(text: str | None, width_chars: float) -> str | None:
    """``text`` in lines of at most ``width_chars`` characters, broken at its `` · `` first (a part
    longer than a line at its spaces)."""
    import textwrap

    if not text:
        return text
    width = max(40, int(width_chars))
    lines: list[str] = []
    for part in text.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.extend(textwrap.wrap(part, width, break_on_hyphens=False) or [part])
    return "\n".join(lines)
