"""Censored "time to reach" statistics: the Kaplan-Meier survival curve and its median.

A search that never reaches a target within its budget is *censored* at the budget: it would
have needed more than ``budget`` queries, not none. Dropping those runs and taking the median
of the rest understates the time; the Kaplan-Meier median uses them.
"""
from __future__ import annotations

import math
from typing import Any, Sequence


def kaplan_meier(times: Sequence[float | None], budget: float) -> list[tuple[float, float]]:
    """``[(t, S(t))]`` at each event time: the fraction of runs not yet at the target after ``t``.

    ``times[i]`` is when run ``i`` reached the target, or ``None`` if it had not by ``budget``
    (censored there). A run reaching it exactly at ``budget`` counts as an event.
    """
    events = sorted(float(t) for t in times if t is not None)
    if any(t > budget for t in events):
        raise ValueError(f"an event time exceeds the budget {budget}")
    at_risk, surv, curve = len(times), 1.0, []
    i = 0
    while i < len(events):
        t, d = events[i], 0
        while i < len(events) and events[i] == t:
            d, i = d + 1, i + 1
        surv *= 1.0 - d / at_risk
        at_risk -= d
        curve.append((t, surv))
    return curve


def km_median(times: Sequence[float | None], budget: float) -> dict[str, Any]:
    """The Kaplan-Meier median time to reach the target, censored at ``budget``.

    Returns ``{"median": t or None, "censored_above": budget or None, "n": ..., "n_reached": ...,
    "text": "92" | "> 300"}``: ``median`` is the first event time where S(t) <= 0.5; when more
    than half the runs never reach the target, the median is only known to exceed ``budget``.
    """
    curve = kaplan_meier(times, budget)
    n_reached = sum(t is not None for t in times)
    median = next((t for t, s in curve if s <= 0.5 + 1e-12), None)
    out: dict[str, Any] = {"n": len(times), "n_reached": n_reached, "budget": budget,
                           "median": median, "censored_above": None if median is not None else budget,
                           "survival": [[t, s] for t, s in curve]}
    out["text"] = (f"{median:g}" if median is not None and math.isfinite(median) else f"> {budget:g}")
    return out
