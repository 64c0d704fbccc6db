"""The baseline frontier: what a family of baselines costs to reach a given quality.

A *family* is a set of runs of one ranker that differ only in how much they
spend (shortened training for 5, 10, 20, 40 epochs). Each member is a point
``(cost, quality)``: its mean cost per candidate and a ranking quality
(Spearman, Kendall, or the winner's regret, where lower is better).

:func:`pareto_front` states the family's frontier: at each cost, the best quality
that any member at or below that cost reaches. In cost order, a member is on the
front when it beats every cheaper member; a member that ranks worse than a
cheaper one (longer training ranking worse) is dominated and never read.

:func:`family_cost_at` reads the front: the cheapest cost at which the family
reaches quality ``q``. Consecutive front members are joined by straight lines
in ``(log cost, quality)`` (a member between two measured budgets is assumed to
reach an intermediate quality: this reading favours the family, since the
literal step reading would charge it the next member's whole cost):

* ``q`` lies between two consecutive front members:
  ``log c = log c_i + (q - q_i) / (q_j - q_i) * (log c_j - log c_i)``;
  ``extrapolated`` is ``None``;
* ``q`` equals a front member's quality (a tie): that member's cost, not
  extrapolated;
* the cheapest member is already as good as ``q`` or better (a tie with it
  included, common for a regret of 0): the family reaches ``q`` at some cost at
  most that member's, so its cost is returned with ``extrapolated="upper_bound"``
  (nothing cheaper was measured);
* no member reaches ``q``: the family needs more than it was given; the cost of
  its most expensive member is returned with ``extrapolated="lower_bound"``.

Members with equal quality (a plateau) never bracket a quality strictly between
them: the cheaper of tied members is on the front.

:func:`improves_with_cost` says whether the family's quality does improve with
cost at all (each costlier member at least as good as the one before, the
costliest strictly better than the cheapest); a ratio at equal quality on a
family that does not is reported as "n/a", not as a number.

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


def _usable(costs: Sequence[float], qualities: Sequence[float], sign: float) -> list[tuple[float, float]]:
    """Members with a place on the log-cost axis, as ``(cost, sign × quality)`` sorted by cost (stable)."""
    if len(costs) != len(qualities):
        raise NasrankError(f"family costs and qualities differ in length ({len(costs)} vs {len(qualities)})")
    pts = [(float(c), sign * float(v)) for c, v in zip(costs, qualities) if _finite(c) and c > 0 and _finite(v)]
    return sorted(pts, key=lambda p: p[0])


def pareto_front(costs: Sequence[float], qualities: Sequence[float],
                 higher_is_better: bool = True) -> list[tuple[float, float]]:
    """The members on the family's front, cheapest first, as ``(cost, quality)``.

    A member is on the front when it is strictly better than every cheaper member (of members
    with equal cost, the better one). Members without a place on the log-cost axis are left out.
    """
    sign = 1.0 if higher_is_better else -1.0
    front: list[tuple[float, float]] = []
    for c, v in _usable(costs, qualities, sign):
        if front and front[-1][0] == c and v > front[-1][1]:
            front.pop()
        if not front or v > front[-1][1]:
            front.append((c, v))
    return [(c, sign * v) for c, v in front]


def improves_with_cost(costs: Sequence[float], qualities: Sequence[float], higher_is_better: bool = True) -> bool:
    """Whether each costlier member is at least as good as the one before it and the costliest beats the cheapest."""
    sign = 1.0 if higher_is_better else -1.0
    pts = _usable(costs, qualities, sign)
    return len(pts) >= 2 and all(b[1] >= a[1] for a, b in zip(pts, pts[1:])) and pts[-1][1] > pts[0][1]


def family_cost_at(costs: Sequence[float], qualities: Sequence[float], q: float,
                   higher_is_better: bool = True) -> FrontierPoint | None:
    """The family's cost at quality ``q`` on its front (see the module docstring); ``None`` if unreadable.

    ``costs`` and ``qualities`` are the members' (mean) cost per candidate and
    quality, in any order. Members with a missing, non-finite or non-positive
    cost (no place on a log axis) or quality are left out; fewer than two
    usable members, or a non-finite ``q``, give ``None``.
    """
    sign = 1.0 if higher_is_better else -1.0
    usable = _usable(costs, qualities, sign)
    if len(usable) < 2 or not _finite(q):
        return None
    pts = [(c, sign * v) for c, v in pareto_front(costs, qualities, higher_is_better)]
    q = sign * float(q)
    c0, v0 = pts[0]
    if v0 >= q:
        return FrontierPoint(c0, UPPER_BOUND)
    for (ci, vi), (cj, vj) in zip(pts, pts[1:]):
        if vi < q <= vj:
            frac = (q - vi) / (vj - vi)
            return FrontierPoint(math.exp(math.log(ci) + frac * (math.log(cj) - math.log(ci))))
    return FrontierPoint(max(c for c, _ in usable), LOWER_BOUND)


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
