"""The supernet contract: what a space provides so that the one-shot estimator (OSE) runs on it.

A space that supports one-shot estimation names a :class:`SupernetProvider`
subclass in its class attribute ``supernet_provider`` (``"pkg.module:Class"``,
so that listing spaces imports no torch) or overrides
:meth:`SearchSpace.supernet`. The provider gives:

* :meth:`~SupernetProvider.build`: the weight-sharing network;
  ``net(x, arch)`` runs the sub-network of any architecture of the space;
* :meth:`~SupernetProvider.sampler`: the training samplers (``samplings``:
  ``uniform`` and ``fair`` at least, ``deiso`` where the space has
  isomorphism classes);
* :meth:`~SupernetProvider.partition_of` and
  :meth:`~SupernetProvider.check_partition`: how ``K`` supernets split the
  space (reduced sharing; ``partition_rules``, the first is the default);
* :meth:`~SupernetProvider.representative`: the architecture whose path an
  architecture runs under canonical routing (one per isomorphism class).

``nasrank supernet train|export|info`` and the ``oneshot`` ranker use nothing
else, so every space with a provider gets them. The scale knobs are common to
all providers: ``channels`` (the first cell's width) and ``cells_per_stage``
(cells per resolution stage; three stages).
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from nasrank.errors import NasrankError

if TYPE_CHECKING:
    from torch import nn

    from nasrank.spaces.base import Arch, SearchSpace

HASH_RULE = "hash"


class SupernetProvider(ABC):
    """A space's one-shot supernet: network, samplers, partition rules, canonical routing."""

    #: sampler names this space supports (``uniform`` first)
    samplings: tuple[str, ...] = ("uniform", "fair")
    #: partition rules for ``num_supernets=K`` (the first is the default)
    partition_rules: tuple[str, ...] = (HASH_RULE,)

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    @abstractmethod
    def build(self, channels: int, cells_per_stage: int, num_classes: int) -> nn.Module:
        """A fresh weight-sharing network; ``forward(x, arch)`` runs ``arch``'s sub-network."""

    @abstractmethod
    def sampler(self, mode: str, rng: np.random.Generator, num_parts: int = 1, part: int = 0,
                rule: str | None = None) -> Callable[[], Arch]:
        """A stream of training architectures of part ``part`` of ``num_parts``."""

    def representative(self, arch: Arch) -> Arch:
        """The member of ``arch``'s isomorphism class whose path it runs under canonical routing."""
        return arch

    def partition_of(self, arch: Arch, num_parts: int, rule: str | None = None) -> int:
        """The part (0..num_parts-1) owning ``arch``; default rule ``hash``: SHA-1 of the canonical key
        mod K (a balanced random split in which a whole isomorphism class lies in one part)."""
        if num_parts <= 1:
            return 0
        rule = rule or self.partition_rules[0]
        if rule != HASH_RULE:
            raise NasrankError(f"unknown partition rule {rule!r}; expected one of {', '.join(self.partition_rules)}")
        return hash_part(str(self.space.canonical_key(arch)), num_parts)

    def check_partition(self, num_parts: int, rule: str | None) -> None:
        """Raise :class:`NasrankError` for an unusable ``(K, rule)`` pair."""
        if not isinstance(num_parts, (int, np.integer)) or isinstance(num_parts, bool) or num_parts < 1:
            raise NasrankError(f"num_supernets must be a positive integer, got {num_parts!r}")
        if rule is not None and rule not in self.partition_rules:
            raise NasrankError(f"unknown partition rule {rule!r} for space {self.space.registry_name!r}; "
                               f"expected one of {', '.join(self.partition_rules)}")

    def check_sampling(self, mode: str, num_parts: int = 1) -> None:
        """Raise :class:`NasrankError` for a sampler the space does not have (or that cannot be split)."""
        if mode not in self.samplings:
            raise NasrankError(f"unknown sampling {mode!r} for space {self.space.registry_name!r}; expected one of "
                               f"{', '.join(self.samplings)}")
        if mode == "fair" and num_parts > 1:
            raise NasrankError("fair sampling permutes ops over the whole space; it cannot be restricted to "
                               f"one of num_supernets={num_parts} parts: use uniform or deiso")

    def describe(self) -> dict[str, Any]:
        return {"samplings": list(self.samplings), "partition_rules": list(self.partition_rules)}


def hash_part(key: str, num_parts: int) -> int:
    """SHA-1 of ``key`` mod ``num_parts``."""
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") % num_parts


class RejectInPart:
    """``draw()`` repeated until ``partition_of(arch) == part`` (for K supernets over a space too large to list)."""

    def __init__(self, draw: Callable[[], Any], provider: SupernetProvider, num_parts: int, part: int,
                 rule: str | None) -> None:
        if not 0 <= part < max(1, num_parts):
            raise NasrankError(f"part {part} is not one of num_supernets={num_parts}")
        self.draw, self.provider, self.num_parts, self.part, self.rule = draw, provider, num_parts, part, rule

    def __call__(self) -> Any:
        while True:
            arch = self.draw()
            if self.provider.partition_of(arch, self.num_parts, self.rule) == self.part:
                return arch


def load_provider(space: SearchSpace) -> SupernetProvider:
    """``space.supernet()``, or a clear error naming the space when it has none."""
    provider = space.supernet()
    if provider is None:
        raise NasrankError(f"space {space.registry_name!r} provides no supernet (SearchSpace.supernet() is None): "
                           "one-shot estimation needs a weight-sharing network for it; see examples/custom_supernet.py")
    return provider
