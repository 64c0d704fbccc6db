"""The baseline frontier: interpolation in log cost, bounds and ties, against hand-computed values."""
import math

import pytest

from nasrank.errors import NasrankError
from nasrank.evaluation.frontier import (LOWER_BOUND, UPPER_BOUND, bound_symbol, family_cost_at,
                                         improves_with_cost, matched_ratio, pareto_front)

COSTS = [10.0, 20.0, 40.0]
QUAL = [0.3, 0.5, 0.7]


def test_bracketed_is_linear_in_log_cost():
    # halfway in quality between 10 s and 20 s is the geometric mean sqrt(10*20)
    p = family_cost_at(COSTS, QUAL, 0.4)
    assert p.cost == pytest.approx(math.sqrt(200)) and p.extrapolated is None
    p = family_cost_at(COSTS, QUAL, 0.6)
    assert p.cost == pytest.approx(math.sqrt(800)) and p.extrapolated is None
    # a quarter of the way: exp(log 20 + 0.25 * log 2)
    assert family_cost_at(COSTS, QUAL, 0.55).cost == pytest.approx(20 * 2 ** 0.25)


def test_members_given_in_any_order():
    assert family_cost_at(COSTS[::-1], QUAL[::-1], 0.4).cost == pytest.approx(math.sqrt(200))


def test_tie_with_a_member_is_that_members_cost():
    p = family_cost_at(COSTS, QUAL, 0.5)
    assert p.cost == pytest.approx(20.0) and p.extrapolated is None
    p = family_cost_at(COSTS, QUAL, 0.3)  # the cheapest member exactly: something cheaper might tie too
    assert p.cost == pytest.approx(10.0) and p.extrapolated == UPPER_BOUND


def test_tied_members_the_cheaper_one_counts():
    p = family_cost_at([5.0, 10.0, 20.0], [0.3, 0.5, 0.5], 0.5)
    assert p.cost == pytest.approx(10.0) and p.extrapolated is None


def test_better_than_every_member_is_a_lower_bound():
    p = family_cost_at(COSTS, QUAL, 0.8)
    assert p.cost == pytest.approx(40.0) and p.extrapolated == LOWER_BOUND
    assert bound_symbol(p.extrapolated) == "≥"


def test_worse_than_the_cheapest_is_an_upper_bound():
    p = family_cost_at(COSTS, QUAL, 0.1)
    assert p.cost == pytest.approx(10.0) and p.extrapolated == UPPER_BOUND
    assert bound_symbol(p.extrapolated) == "≤" and bound_symbol(None) == ""


def test_non_monotone_family_is_read_on_its_pareto_front():
    costs, qual = [5.0, 10.0, 20.0, 40.0], [0.3, 0.6, 0.5, 0.7]
    # the 20 s member (0.5) is dominated by the 10 s one (0.6): the front is 5, 10, 40 s
    assert pareto_front(costs, qual) == [(5.0, 0.3), (10.0, 0.6), (40.0, 0.7)]
    # 0.55 lies between 5 and 10 s: frac 0.25/0.3
    assert family_cost_at(costs, qual, 0.55).cost == pytest.approx(5 * 2 ** (0.25 / 0.3))
    # 0.65 lies between 10 and 40 s on the front: halfway in log cost, 20 s (the old first-crossing
    # reading went 20 -> 40 s and gave 20 * 2**0.75 = 33.6 s, charging the family for its worse member)
    assert family_cost_at(costs, qual, 0.65).cost == pytest.approx(20.0)
    # the most expensive member is not the best one: a lower bound is still its cost
    assert family_cost_at([5.0, 10.0], [0.6, 0.4], 0.7) == family_cost_at([10.0, 5.0], [0.4, 0.6], 0.7)
    assert family_cost_at([5.0, 10.0], [0.6, 0.4], 0.7).cost == pytest.approx(10.0)
    assert family_cost_at([5.0, 10.0], [0.6, 0.4], 0.5) == family_cost_at([5.0, 10.0], [0.6, 0.4], 0.6)


def test_pareto_front_for_regret_and_equal_costs():
    # regret: lower is better; 20 s (1.5) is dominated by 10 s (1.0)
    assert pareto_front([5.0, 10.0, 20.0, 40.0], [2.0, 1.0, 1.5, 0.5], higher_is_better=False) == \
        [(5.0, 2.0), (10.0, 1.0), (40.0, 0.5)]
    assert pareto_front([10.0, 10.0, 20.0], [0.2, 0.4, 0.3]) == [(10.0, 0.4)]
    assert pareto_front([10.0, 20.0], [0.5, 0.5]) == [(10.0, 0.5)]  # a plateau: the cheaper member


def test_improves_with_cost():
    assert improves_with_cost([5.0, 10.0, 20.0], [0.3, 0.5, 0.5])
    assert not improves_with_cost([5.0, 10.0, 20.0], [0.3, 0.6, 0.5])  # the costliest ranks worse than 10 s
    assert not improves_with_cost([5.0, 10.0], [0.5, 0.5])  # flat: no improvement at all
    assert improves_with_cost([5.0, 10.0, 20.0], [2.0, 1.0, 0.4], higher_is_better=False)
    assert not improves_with_cost([5.0, 10.0, 20.0], [0.4, 1.0, 0.2], higher_is_better=False)


def test_lower_is_better_for_regret():
    regrets = [3.0, 1.0, 0.5]
    p = family_cost_at(COSTS, regrets, 2.0, higher_is_better=False)
    assert p.cost == pytest.approx(math.sqrt(200)) and p.extrapolated is None
    assert family_cost_at(COSTS, regrets, 0.0, higher_is_better=False).extrapolated == LOWER_BOUND
    assert family_cost_at(COSTS, regrets, 4.0, higher_is_better=False).extrapolated == UPPER_BOUND


def test_matched_ratio_divides_by_the_rankers_cost():
    ratio, ext = matched_ratio(COSTS, QUAL, cost=7.0, quality=0.4)
    assert ratio == pytest.approx(math.sqrt(200) / 7) and ext is None
    ratio, ext = matched_ratio(COSTS, QUAL, cost=8.0, quality=0.9)
    assert ratio == pytest.approx(5.0) and ext == LOWER_BOUND


def test_unreadable_cases_give_none():
    assert family_cost_at([10.0], [0.5], 0.5) is None  # one member
    assert family_cost_at([10.0, float("nan"), 20.0], [0.5, 0.6, None], 0.5) is None  # one usable member
    assert family_cost_at(COSTS, QUAL, float("nan")) is None
    assert matched_ratio(COSTS, QUAL, cost=0.0, quality=0.5) == (None, None)
    assert matched_ratio(COSTS, QUAL, cost=5.0, quality=None) == (None, None)


def test_bad_family_input_raises_one_clear_error():
    with pytest.raises(NasrankError, match="differ in length"):
        family_cost_at([1.0, 2.0], [0.1], 0.1)



def test_members_without_a_place_on_the_log_axis_are_left_out():
    assert family_cost_at([0.0, 2.0], [0.1, 0.2], 0.15) is None  # one usable member left
    p = family_cost_at([0.0, 10.0, 20.0], [0.9, 0.3, 0.5], 0.4)
    assert p.cost == pytest.approx(math.sqrt(200)) and p.extrapolated is None


def test_ratio_at_equal_regret_is_na_when_the_familys_regret_does_not_fall():
    """A family whose regret rises with cost gives no ratio at equal regret, only the reason."""
    import numpy as np

    from nasrank.evaluation.seed_stats import RunTable
    from nasrank.evaluation.sweep_summary import REGRET_NA, summarize_sweep

    def table(cost, scores, true):
        recs = [{"score": s, "seconds": cost, "true_acc": t, "info": {}} for s, t in zip(scores, true)]
        return RunTable.from_records(recs)

    true = [90.0, 91.0, 92.0, 93.0, 94.0]
    good, bad = [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]
    tables = {s: {"a": table(5, good, true), "b": table(10, bad, true), "r": table(2, good, true)} for s in (0, 1)}
    out = summarize_sweep(tables, family=["a", "b"], n_boot=20)
    assert out["matched"]["r"]["cost_ratio_at_equal_regret"]["na"] == REGRET_NA
    assert out["matched"]["r"]["cost_ratio_at_equal_regret"]["mean"] is None
    assert np.isfinite(out["matched"]["r"]["cost_ratio_at_equal_spearman"]["mean"])
    tables = {s: {"a": table(5, bad, true), "b": table(10, good, true), "r": table(2, good, true)} for s in (0, 1)}
    assert "na" not in summarize_sweep(tables, family=["a", "b"], n_boot=20)["matched"]["r"][
        "cost_ratio_at_equal_regret"]
