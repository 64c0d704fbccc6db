"""Experiments as plain functions over names and dicts: what the commands, the benchmark
scripts and a notebook call.

    from nasrank.experiments import make_space, make_context, search, evaluate, compare

    space = make_space("nb201")
    context = make_context(space, benchmark="embedded", dataset="cifar10")
    summary, history = search(space, context, ranker="tabular", searcher="evolution", budget_queries=100)

Importing this package imports no ranker, searcher or torch; each function loads what it uses.
"""
from __future__ import annotations

from nasrank.experiments.analyze import analyze, analyze_rows, read_scores
from nasrank.experiments.build import make_context, make_ranker, make_space, parse_cfg, parse_ranker_list
from nasrank.experiments.compare import compare
from nasrank.experiments.evaluate import evaluate, read_archs_file, sample_archs, score_all
from nasrank.experiments.report import report
from nasrank.experiments.search import search, summarize

__all__ = ["analyze", "analyze_rows", "compare", "evaluate", "make_context", "make_ranker", "make_space",
           "parse_cfg", "parse_ranker_list", "read_archs_file", "read_scores", "report", "sample_archs",
           "score_all", "search", "summarize"]
