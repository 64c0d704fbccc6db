"""A persistent result store: every ranker evaluation, in one SQLite file, reused across runs.

One row per evaluation, keyed by::

    (space, arch_key, ranker, config_hash, dataset, seed)

* ``space``: the space's registry name, followed by its non-default
  constructor options, e.g. ``nb201`` or ``nb201(cells_per_stage=1,channels=8)``
  (a smaller network gives different scores, so it is a different space here).
* ``arch_key``: ``str(space.key(arch))``, the architecture's **own** key.
  Lookups use it, not the canonical (isomorphism-class) key: a ranker's score
  is invariant under isomorphism only if the ranker makes it so (#params is
  not: a dead conv still holds parameters; a ranker that builds the cell as
  written sees the dead edges too). Reusing a class member's result for
  another member would silently change such a ranker's scores. The
  ``canonical_key`` is stored beside it for analysis and for ``ls``.
* ``ranker`` and ``config_hash``: :meth:`Ranker.name` and
  :meth:`Ranker.config_hash` (the ranker's constructor options).
* ``dataset``: a dataset fingerprint (:func:`dataset_fingerprint`):
  ``"<name>:none"`` without a data folder, else ``"<name>:<hash>"`` where the
  hash covers the resolved data folder and the relative path, size and mtime
  of every file under it, so re-downloaded or edited data is a new key. The
  dataset name is part of it even without a folder (the number of classes
  follows the dataset). For rankers whose score is the benchmark itself
  (``uses_benchmark = True``, e.g. the ``tabular`` ranker) the benchmark's
  content fingerprint (:meth:`Benchmark.fingerprint`: a hash of its loaded
  rows, never its path) is hashed in as well, so an edited table, or another
  table at the same relative path, is a new key.
* ``seed``: ``context.seed`` at evaluation time. Always part of the key, even
  for deterministic rankers: a seed is an input, and a ranker that wrongly
  declares itself deterministic must not hand one seed's result to another.

Stored with it: ``score`` (NULL when NaN/inf, with the reason in
``invalid``), ``seconds``, ``device_seconds``, ``info`` (JSON), the
architecture string, the ranker config (JSON) and ``created`` (Unix time).

A built-in ranker's ``config()`` is its declared options (its ``Options`` dataclass, see
:mod:`nasrank.options`), so every option is in the key by construction. A user's ranker without a
declaration is read back from attributes named like its constructor's keyword arguments; one that
keeps an option under another name should declare its options (or override ``config``), or its
results under different options would share a key. ``space_id`` reads a space's options the same
way (attributes named like its constructor's arguments).

**Reuse and cost.** :class:`~nasrank.rankers.stored.StoredRanker` wraps any ranker: a stored result
comes back with ``info["cached"] = True`` and is charged the cost recorded
when it was computed, so a search's budget and reported cost do not depend
on what happened to be in the store; what this process really spent is in
``StoredRanker.stats()`` (``fresh_seconds``, ``n_fresh``, ...).

**Concurrency.** Several processes (searches, Ray workers on one machine)
may write at once: the database runs in WAL mode, every connection waits up
to ``timeout`` seconds for a lock (``busy_timeout``), and every write is one
short autocommit statement (``INSERT OR REPLACE``), so a killed process
loses at most the evaluation it was computing. WAL needs a local file
system (not NFS); Ray workers on other machines need their own store.

**Imports.** This module imports neither torch nor the rankers, so the
``nasrank store`` commands and ``add_store_args`` stay fast. The ranker that
reads and writes the store is :class:`nasrank.rankers.stored.StoredRanker`.

**Default location.** ``--store PATH``, else the environment variable
``NASRANK_STORE``, else ``~/.cache/nasrank/results.sqlite``.
``--no-store`` (or ``NASRANK_STORE=none``) disables it.
"""
from __future__ import annotations

import os

from nasrank.store.db import COLUMNS, ENV_VAR, SCHEMA_VERSION, ResultStore  # noqa: F401 (public names)
from nasrank.store.keys import (StoreScope, benchmark_fingerprint, dataset_fingerprint,  # noqa: F401
                                ranker_scope, space_id)

DEFAULT_STORE = "~/.cache/nasrank/results.sqlite"


def default_store_path() -> str | None:
    """``$NASRANK_STORE`` (``none``/``off`` disables), else ``~/.cache/nasrank/results.sqlite``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env.lower() in ("none", "off", "0", "false"):
        return None
    return env or DEFAULT_STORE
