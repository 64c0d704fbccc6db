"""A ranker that answers from a :class:`~nasrank.store.ResultStore` and stores what it computes.

``with_store(ranker, store)`` wraps a ranker (or returns it unchanged when there is no
store, or when its scores depend on what it evaluated before).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from nasrank.rankers.base import Evaluation, Ranker
from nasrank.spaces.base import Arch, SearchSpace
from nasrank.store import ResultStore, StoreScope, ranker_scope


class StoredRanker(Ranker):
    """A ranker that answers from a :class:`ResultStore` and stores what it computes.

    ``evaluate(archs)`` looks every architecture up by ``space.key(arch)``
    under the inner ranker's current :class:`StoreScope`. Known ones are
    returned as stored, with ``info["cached"] = True``, and **charged their
    recorded cost** (``seconds``/``device_seconds`` as first measured): a
    search that reuses stored results spends its budget exactly as the
    original run did, so comparisons between runs stay honest and a rerun
    reproduces the original trajectory. The new ones are computed by the
    inner ranker ``chunk`` at a time (default one by one) and each result is
    committed as soon as it returns, so an interrupted run keeps them.

    Counters of what this process really spent: :attr:`n_fresh`,
    :attr:`fresh_seconds` (cost charged by the fresh evaluations),
    :attr:`fresh_wall_seconds` (wall time spent inside the inner ranker),
    :attr:`n_cached` and :attr:`cached_seconds` (recorded cost of the reused
    ones). Under Ray each worker counts its own; the ``cached`` flag in the
    history is the reliable record.

    Name, config, config hash, context and space are the inner ranker's, so
    histories and reports look the same with or without the store; other
    attributes are forwarded to the inner ranker.
    """

    def __init__(self, ranker: Ranker, store: ResultStore, chunk: int = 1, store_invalid: bool = True) -> None:
        if isinstance(ranker, StoredRanker):
            ranker = ranker.inner
        self.inner = ranker
        self.store = store
        self.chunk = max(1, int(chunk))
        self.store_invalid = store_invalid
        self.n_fresh = 0
        self.n_cached = 0
        self.fresh_seconds = 0.0
        self.fresh_wall_seconds = 0.0
        self.cached_seconds = 0.0

    # -- the inner ranker's identity -------------------------------------------
    @property
    def space(self) -> SearchSpace:  # type: ignore[override]
        return self.inner.space

    @property
    def context(self):  # type: ignore[override]
        return self.inner.context

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def registry_name(self) -> str:  # type: ignore[override]
        return self.inner.registry_name

    @property
    def supported_spaces(self):  # type: ignore[override]
        return self.inner.supported_spaces

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return self.inner.deterministic

    @property
    def uses_benchmark(self) -> bool:  # type: ignore[override]
        return self.inner.uses_benchmark

    @property
    def takes_training_scale(self) -> bool:  # type: ignore[override]
        return self.inner.takes_training_scale

    def config(self) -> dict[str, Any]:
        return self.inner.config()

    def config_hash(self) -> str:
        return self.inner.config_hash()

    def __getattr__(self, item: str) -> Any:
        if item == "inner" or item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.inner, item)

    def scope(self) -> StoreScope:
        return ranker_scope(self.inner)

    def stats(self) -> dict[str, Any]:
        """What this process computed and what it reused."""
        return {"n_fresh": self.n_fresh, "n_cached": self.n_cached, "fresh_seconds": self.fresh_seconds,
                "fresh_wall_seconds": self.fresh_wall_seconds, "cached_seconds": self.cached_seconds,
                "store": str(self.store.path)}

    # -- evaluation ----------------------------------------------------------
    def evaluate(self, archs: Sequence[Arch],
                 on_result: Callable[[int, Evaluation], None] | None = None) -> list[Evaluation]:
        """Stored results for known archs, fresh ones for the rest (stored as they finish).

        ``on_result(i, evaluation)`` is called once per position ``i`` as
        its result becomes available (cached ones first), e.g. for a
        progress bar.
        """
        archs = list(archs)
        space = self.inner.space
        scope = self.scope()
        keys = [str(space.key(a)) for a in archs]
        found = self.store.get_many(scope, keys)
        out: list[Evaluation | None] = [None] * len(archs)
        todo: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            ev = found.get(k)
            if ev is None:
                todo.setdefault(k, []).append(i)
                continue
            out[i] = Evaluation(ev.score, ev.seconds, ev.device_seconds, {**ev.info, "cached": True}, ev.status)
            self.n_cached += 1
            self.cached_seconds += ev.seconds
            if on_result:
                on_result(i, out[i])
        pending = list(todo)
        config = self.inner.config()
        for c in range(0, len(pending), self.chunk):
            chunk_keys = pending[c:c + self.chunk]
            chunk_archs = [archs[todo[k][0]] for k in chunk_keys]
            t0 = time.perf_counter()
            results = self.inner.evaluate(chunk_archs)
            self.fresh_wall_seconds += time.perf_counter() - t0
            if len(results) != len(chunk_archs):
                raise RuntimeError(f"ranker {self.name!r} returned {len(results)} results for {len(chunk_archs)} archs")
            for k, arch, ev in zip(chunk_keys, chunk_archs, results):
                if ev.valid or self.store_invalid:
                    self.store.put(scope, k, str(space.canonical_key(arch)), space.to_string(arch), ev, config)
                self.n_fresh += 1
                self.fresh_seconds += ev.seconds
                for j, i in enumerate(todo[k]):
                    out[i] = ev if j == 0 else Evaluation(ev.score, ev.seconds, ev.device_seconds, dict(ev.info),
                                                                  ev.status)
                    if on_result:
                        on_result(i, out[i])
        return out  # type: ignore[return-value]


def with_store(ranker: "Ranker", store: ResultStore | None) -> "Ranker":
    """``StoredRanker(ranker, store)``, or ``ranker`` itself when ``store`` is None.

    A ranker whose score depends on what it evaluated before (``depends_on_history``:
    FEAR with early rejection, a cascade) is never served from the store: a stored
    result would carry another run's rejection state.
    """
    if store is None or getattr(ranker, "depends_on_history", False):
        return ranker
    unkeyed = _unkeyed_component(ranker)
    if unkeyed is not None:
        import sys

        print(f"nasrank: warning: {unkeyed}: its source file cannot be found, so its results could not be told "
              "from an edited version's; they are not stored (declare a class attribute `version` to store "
              "them)", file=sys.stderr)
        return ranker
    return StoredRanker(ranker, store)


def _unkeyed_component(ranker: "Ranker") -> str | None:
    """The ranker or space (``"ranker pkg.mod:Class"``) whose code cannot be fingerprinted, or None."""
    from nasrank.utils.fingerprint import component_identity

    for kind, obj in (("ranker", ranker), ("space", ranker.space)):
        ident = component_identity(type(obj))
        if ident is not None and "version" not in ident and ident.get("code") is None:
            return f"{kind} {ident['component']}"
    return None
