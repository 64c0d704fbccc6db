"""nasrank: neural architecture search with pluggable rankers.

``nasrank.search``, ``nasrank.evaluate`` and ``nasrank.compare`` (see :mod:`nasrank.api`) run
the commands of the same names from Python: a space, a typed configuration (``nasrank.SearchConfig``
...) and a run context in, result objects with ``.to_pandas()`` out.
"""
__version__ = "0.1.0"

_API = ("search", "evaluate", "compare", "SearchResult", "EvaluateResult", "CompareResult", "SearchConfig",
        "EvaluateConfig", "CompareConfig", "RankerSpec", "Scale", "ExecutorConfig", "Output")


def __getattr__(name: str):  # imported on first use: `import nasrank` stays light
    if name in _API:
        from nasrank import api

        return getattr(api, name)
    raise AttributeError(f"module 'nasrank' has no attribute {name!r}")
