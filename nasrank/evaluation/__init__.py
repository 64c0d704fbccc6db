"""Evaluation of rankers: the NAS ranking criteria of Ning et al."""
from nasrank.evaluation.criteria import (
    K_FRACTIONS,
    MODES,
    aggregate_by_class,
    best_worst_rank_at,
    criteria_by_mode,
    kendall_tau,
    kendall_tau_top,
    pearson,
    precision_at_bottom,
    precision_at_top,
    ranking_criteria,
    spearman,
)

__all__ = [
    "K_FRACTIONS",
    "MODES",
    "aggregate_by_class",
    "best_worst_rank_at",
    "criteria_by_mode",
    "kendall_tau",
    "kendall_tau_top",
    "pearson",
    "precision_at_bottom",
    "precision_at_top",
    "ranking_criteria",
    "spearman",
]
