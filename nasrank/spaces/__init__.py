"""Search spaces. Importing this package registers the built-in spaces."""
from nasrank.spaces.base import Arch, SearchSpace
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

__all__ = ["Arch", "SearchSpace", "Nb201Arch", "Nb201Space"]
