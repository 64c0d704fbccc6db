"""The baseline frontier: what a family of baselines costs to reach a given quality.

A *family* is a set of runs of one ranker that differ only in how much they
spend (shortened training for 5, 10, 20, 40 epochs). Each member is a point
``(cost, quality)``: its mean cost per candidate and a ranking quality
(Spearman, Kendall, or the winner's regret, where lower is better).

:func:`family_cost_at` reads the frontier: the cheapest cost at which the family
reaches quality ``q``. The members are ordered by cost and joined by straight
lines in ``(log cost, quality)``; the answer is the first point along that path
where the quality reaches ``q``:

* ``q`` lies between two consecutive members (the first segment whose upper
  end reaches ``q``): ``log c = log c_i + (q - q_i) / (q_j - q_i) * (log c_j - log c_i)``;
  ``extrapolated`` is ``None``;
* ``q`` equals the quality of a member that the path reaches from below (a tie):
  that member's cost, not extrapolated;
* the cheapest member is already as good as ``q`` or better (a tie with it
  included, common for a regret of 0): the family reaches ``q`` at some cost at
  most that member's, so its cost is returned with ``extrapolated="upper_bound"``
  (nothing cheaper was measured);
* no member reaches ``q``: the family needs more than it was given; the cost of
  its most expensive member is returned with ``extrapolated="lower_bound"``.

Members with equal quality (a plateau) never bracket a quality strictly between
them; the path just moves on, so the cheaper of tied members is the one chosen.
A non-monotone family (longer training ranking worse) is read the same way:
the *first* crossing, i.e. the cheapest cost at which the family is seen to
reach ``q``, which favours the family (it can only lower the ratio).

:func:`matched_ratio` divides that cost by a ranker's own cost: above 1, the
ranker is cheaper than the family at equal quality. A ``lower_bound`` family
cost gives a ratio that is a lower bound (printed ``≥``); an ``upper_bound`` one
a ratio that is an upper bound (``≤``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from nasrank.errors import NasrankError

#: the values of ``extrapolated`` besides ``None`` (bracketed or tied)
LOWER_BOUND = "lower_bound"
UPPER_BOUND = "upper_bound"


@dataclass(frozen=True)
class FrontierPoint:
    """The family's cost at a quality, and whether it was read off beyond the members."""

    cost: float
    extrapolated: str | None = None


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def family_cost_at(costs: Sequence[float], qualities: Sequence[float], q: float,
                   higher_is_better: bool = True) -> FrontierPoint | None:
    """The family's cost at quality ``q`` (see the module docstring); ``None`` if it cannot be read.

    ``costs`` and ``qualities`` are the members' (mean) cost per candidate and
    quality, in any order. Members with a missing, non-finite or non-positive
    cost (no place on a log axis) or quality are left out; fewer than two
    usable members, or a non-finite ``q``, give ``None``.
    """
    if len(costs) != len(qualities):
        raise NasrankError(f"family costs and qualities differ in length ({len(costs)} vs {len(qualities)})")
    pts = [(float(c), float(v)) for c, v in zip(costs, qualities) if _finite(c) and c > 0 and _finite(v)]
    if len(pts) < 2 or not _finite(q):
        return None
    sign = 1.0 if higher_is_better else -1.0
    pts = sorted(((c, sign * v) for c, v in pts), key=lambda p: p[0])  # stable: ties in cost keep input order
    q = sign * float(q)
    c0, v0 = pts[0]
    if v0 >= q:
        return FrontierPoint(c0, UPPER_BOUND)
    for (ci, vi), (cj, vj) in zip(pts, pts[1:]):
        if vi < q <= vj:
            frac = (q - vi) / (vj - vi)
            return FrontierPoint(math.exp(math.log(ci) + frac * (math.log(cj) - math.log(ci))))
    return FrontierPoint(max(c for c, _ in pts), LOWER_BOUND)


def matched_ratio(family_costs: Sequence[float], family_qualities: Sequence[float], cost: float, quality: float,
                  higher_is_better: bool = True) -> tuple[float | None, str | None]:
    """(family cost at ``quality`` / ``cost``, extrapolated) for one ranker; ``(None, None)`` if unreadable."""
    if not _finite(cost) or cost <= 0:
        return None, None
    point = family_cost_at(family_costs, family_qualities, quality, higher_is_better)
    if point is None:
        return None, None
    return point.cost / cost, point.extrapolated


def bound_symbol(extrapolated: str | None) -> str:
    """``≥`` for a lower bound, ``≤`` for an upper bound, ``""`` otherwise (for tables)."""
    return {LOWER_BOUND: "≥", UPPER_BOUND: "≤"}.get(extrapolated or "", "")
