"""Search spaces: the :class:`SearchSpace` contract here; the built-in spaces
(``nasrank.spaces.nb201``, ``nb101``, ``darts``, ``nds``) are declared in
:mod:`nasrank.catalog` and imported by the registry when one is first asked for."""
from nasrank.spaces.base import Arch, SearchSpace

__all__ = ["Arch", "SearchSpace"]
