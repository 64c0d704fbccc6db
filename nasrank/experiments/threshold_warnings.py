"""Warnings about threshold rankers (FEAR): a threshold missed often, or a cost above the baseline's;
and cost ratios as words ("7.2× cheaper", "3.1× dearer")."""
from __future__ import annotations

from typing import Any, Mapping

#: a threshold ranker that misses its threshold on more than this share of its candidates is warned about
MISSED_WARN_FRACTION = 0.10


def is_threshold_ranker(config: Any) -> bool:
    """Whether a ranker's configuration (a cascade's stages included) has a ``threshold``."""
    if isinstance(config, Mapping):
        return "threshold" in config or any(is_threshold_ranker(v) for v in config.values())
    return False


def missed_warning(label: str, run: Mapping[str, Any]) -> str | None:
    """``label missed its threshold on M of N candidates`` when that is more than 10% (else None)."""
    from nasrank.runs.outcomes import Outcomes

    counts = Outcomes.from_counts(run)
    if counts.missed_fraction() <= MISSED_WARN_FRACTION:
        return None
    return (f"{label} missed its threshold on {counts.missed} of {counts.trained} candidates "
            f"({100 * counts.missed_fraction():.0f}%): their scores come from an unconverged stage 1; lower the "
            "threshold (or use the --preset of this scale) or raise max_stage1_epochs")


def ratio_text(ratio: float | None) -> str:
    """``baseline cost / this cost`` as words: ``7.2× cheaper``, ``3.1× dearer``, ``same cost``."""
    if ratio is None or ratio != ratio:
        return "-"
    if ratio <= 0:
        return "-"
    if abs(ratio - 1.0) < 0.005:
        return "same cost"
    value = ratio if ratio > 1 else 1.0 / ratio
    number = f"{value:.2g}" if value < 10 else f"{value:.0f}"
    return f"{number}× {'cheaper' if ratio > 1 else 'dearer'}"


def compare_warnings(runs: Mapping[str, Mapping[str, Any]], baseline: str) -> list[str]:
    """Every threshold ranker of a compare that missed its threshold often or cost more than ``baseline``."""
    out = []
    base = runs.get(baseline, {})
    for label, run in runs.items():
        if not is_threshold_ranker(run.get("config")) and not run.get("n_not_reached"):
            continue
        missed = missed_warning(label, run)
        if missed:
            out.append(missed)
        ratio = run.get("cost_ratio_vs_baseline")
        if label != baseline and ratio is not None and ratio < 1:
            out.append(f"{label} cost {ratio_text(ratio).replace('dearer', 'more')} than the baseline {baseline} "
                       f"({run.get('total_cost_seconds', 0):.4g} s against {base.get('total_cost_seconds', 0):.4g} "
                       "s): at this scale its threshold is slow to reach; lower it (or use the --preset of "
                       "this scale)")
    return out
