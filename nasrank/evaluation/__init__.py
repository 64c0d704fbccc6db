"""Evaluation of rankers: the NAS ranking criteria of Ning et al.

The criteria (``spearman``, ``ranking_criteria``, ...) are imported from
:mod:`nasrank.evaluation.criteria` on first use, so that a light submodule
(``nasrank.evaluation.formats``) loads without scipy.
"""
from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    """``nasrank.evaluation.spearman`` and the other criteria, imported when first asked for."""
    if name in __all__:
        from nasrank.evaluation import criteria

        return getattr(criteria, name)
    raise AttributeError(f"module 'nasrank.evaluation' has no attribute {name!r}")
