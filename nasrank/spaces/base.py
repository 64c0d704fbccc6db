"""The :class:`SearchSpace` contract that every space, built-in or user's, implements."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Hashable, Mapping, NamedTuple, Sequence

import numpy as np

if TYPE_CHECKING:  # torch loads only when a network is built
    from torch import nn

Arch = Any  # an immutable, hashable architecture object owned by its space


class TailCells(NamedTuple):
    """What FEAR's stage 2 may train in a built network (see :meth:`SearchSpace.fear_cells`)."""

    cells: list          #: the cells (blocks) that may be trained, in network order; FEAR trains the last few
    head: list           #: the modules after them that are always trained (e.g. the classifier)
    default: int         #: how many of ``cells`` FEAR trains unless told otherwise


class SearchSpace(ABC):
    """A family of architectures.

    Subclasses implement :meth:`sample`, :meth:`mutate`, :meth:`neighbours`,
    :meth:`build`, :meth:`to_string` and :meth:`from_string`. The rest has
    sensible defaults:

    * :meth:`key` is the text form (one key per architecture);
    * :meth:`canonical_key` defaults to :meth:`key`; spaces with isomorphic
      architectures override it so that isomorphic ones share one key.
    """

    #: registry name, set by ``@SPACES.register``
    registry_name: str = "custom"
    #: number of architectures (``None`` if unknown); see ``size_is_estimate``
    size: int | None = None
    size_is_estimate: bool = False
    #: default number of input channels / image size of ``build``
    num_classes: int = 10
    #: the op vocabulary of the space's architectures (features ``n_<op>`` count them); () if none
    ops: tuple[str, ...] = ()
    #: ``"pkg.module:Class"`` of the space's :class:`~nasrank.spaces.supernet_contract.SupernetProvider`
    #: (one-shot estimation), or None; read by :meth:`supernet` and, without importing, by ``nasrank spaces``
    supernet_provider: str | None = None

    # -- required -----------------------------------------------------------
    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Arch:
        """Draw one architecture uniformly (or by the space's prior)."""

    @abstractmethod
    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """Return a different architecture one small change away."""

    @abstractmethod
    def neighbours(self, arch: Arch) -> list[Arch]:
        """All architectures one small change away, in a fixed order."""

    @abstractmethod
    def build(self, arch: Arch, num_classes: int | None = None, **scale: Any) -> nn.Module:
        """Build a fresh ``nn.Module`` for ``arch`` (scale knobs are per space)."""

    @abstractmethod
    def to_string(self, arch: Arch) -> str:
        """The text form of ``arch`` (round-trips through :meth:`from_string`)."""

    @abstractmethod
    def from_string(self, text: str) -> Arch:
        """Parse the text form; raise :class:`~nasrank.errors.NasrankError` if malformed."""

    # -- defaults -----------------------------------------------------------
    def key(self, arch: Arch) -> Hashable:
        """A hashable key, unique per architecture."""
        return self.to_string(arch)

    def canonical_key(self, arch: Arch) -> Hashable:
        """A key shared by all architectures isomorphic to ``arch``."""
        return self.key(arch)

    def arch_from_row(self, row: Mapping[str, str]) -> Arch:
        """Read an architecture from a ground-truth table row (``arch`` column by default)."""
        if "arch" not in row:
            raise ValueError(f"table row has no 'arch' column (columns: {', '.join(row)})")
        return self.from_string(row["arch"])

    def features(self, arch: Arch) -> dict[str, float]:
        """Numeric features for bias analysis; at least ``params`` and ``flops``."""
        from nasrank.utils.complexity import count_flops, count_params

        model = self.build(arch)
        return {"params": float(count_params(model)), "flops": float(count_flops(model, self.input_shape()))}

    def input_shape(self, batch: int = 1) -> tuple[int, ...]:
        """Shape of one input batch for ``build``'s network."""
        return (batch, 3, 32, 32)

    def fear_cells(self, model: nn.Module) -> TailCells:
        """FEAR's freeze-point hook: the cells of ``model`` that FEAR's stage 2 may train, the modules
        it always trains, and how many cells by default (the ``fear`` ranker's ``tail_cells``
        picks another number; see :mod:`nasrank.rankers.fear_tail`).

        The default here: every child module is a cell, nothing else, one by default.
        """
        return TailCells(list(model.children()), [], 1)

    def supernet(self) -> Any:
        """The space's :class:`~nasrank.spaces.supernet_contract.SupernetProvider` (weight-sharing
        network, samplers, partition rules), or None when the space has no supernet. The default
        instantiates :attr:`supernet_provider`; a user's space may override this instead."""
        if not self.supernet_provider:
            return None
        import importlib

        module, _, attr = self.supernet_provider.partition(":")
        return getattr(importlib.import_module(module), attr)(self)

    def capability(self, name: str) -> Any:
        """The provider of an optional capability (``"supernet"``), or None: what
        :attr:`Ranker.requires <nasrank.rankers.base.Ranker.requires>` is checked against."""
        method = getattr(type(self), name, None)
        if name.startswith("_") or not callable(method):
            return None
        return getattr(self, name)()

    def modelled_training_seconds(self, arch: Arch, epochs: int = 200) -> float | None:
        """A model of the time the space's benchmark took to train ``arch`` for ``epochs`` (seconds),
        or None when the space has none (the ``tabular`` ranker then charges a fixed cost)."""
        return None

    def sample_many(self, n: int, rng: np.random.Generator, unique: bool = True) -> list[Arch]:
        """Sample ``n`` architectures (distinct keys when ``unique``)."""
        out: list[Arch] = []
        seen: set = set()
        tries = 0
        while len(out) < n:
            a = self.sample(rng)
            tries += 1
            k = self.key(a)
            if unique and k in seen:
                if tries > 100 * n + 1000:
                    break
                continue
            seen.add(k)
            out.append(a)
        return out

    def all_archs(self) -> Sequence[Arch] | None:
        """Every architecture, for small enumerable spaces; ``None`` otherwise."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.registry_name, "size": self.size, "size_is_estimate": self.size_is_estimate}

