"""The implementation of ``nasrank.search`` / ``evaluate`` / ``compare`` (and of the commands): each
verb is a function of a space, a run context and its typed configuration (:mod:`.config`)::

    from nasrank.experiments import SearchConfig, make_context, make_space, search

    space = make_space("nb201")
    context = make_context(space, benchmark="embedded", dataset="cifar10")
    summary, history = search(space, context, SearchConfig(ranker="tabular", searcher="evolution",
                                                            budget_queries=100))

The public API (:mod:`nasrank.api`) wraps these in result objects.

Importing this package imports no ranker, searcher or torch; each function loads what it uses.
"""
from __future__ import annotations

from nasrank.experiments.analyze import analyze, analyze_rows, read_scores
from nasrank.experiments.build import make_context, make_ranker, make_space, parse_cfg, parse_ranker_list
from nasrank.experiments.compare import compare
from nasrank.experiments.config import (CompareCallbacks, CompareConfig, EvaluateConfig, ExecutorConfig, Output,
                                        RankerSpec, Scale, SearchConfig, resolve_options)
from nasrank.experiments.evaluate import evaluate, read_archs_file, sample_archs, score_all
from nasrank.experiments.report import report
from nasrank.experiments.search import search, summarize

__all__ = ["CompareCallbacks", "CompareConfig", "EvaluateConfig", "ExecutorConfig", "Output", "RankerSpec", "Scale",
           "SearchConfig", "analyze", "analyze_rows", "compare", "evaluate", "make_context", "make_ranker",
           "make_space", "parse_cfg", "parse_ranker_list", "read_archs_file", "read_scores", "report",
           "resolve_options", "sample_archs", "score_all", "search", "summarize"]
