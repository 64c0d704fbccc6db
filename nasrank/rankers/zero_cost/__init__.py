"""Zero-cost measures, one module per measure (``<name>.py`` defines ``MEASURE``, a
:class:`~nasrank.rankers.zero_cost._engine.Measure`, and registers the ranker of that name).

A module whose name does not start with ``_`` is a measure: :func:`nasrank.catalog.zero_cost_measures`
lists them without importing them (no torch), :mod:`nasrank.rankers.zero_cost._registry` imports
them for the engine and the ``zero_shot`` ranker. Adding a measure is one new file here.
Importing this package imports nothing else.
"""
