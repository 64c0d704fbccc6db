"""Search spaces. Importing this package registers the built-in spaces."""
from nasrank.spaces.base import Arch, SearchSpace
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

__all__ = ["Arch", "SearchSpace", "Nb201Arch", "Nb201Space"]
from nasrank.spaces.nb101 import Nb101Arch, Nb101Space  # noqa: E402
from nasrank.spaces.darts import DartsArch, DartsSpace  # noqa: E402
from nasrank.spaces.nds import NdsArch, NdsResNeXtASpace, NdsResNetSpace  # noqa: E402

__all__ += ["Nb101Arch", "Nb101Space", "DartsArch", "DartsSpace", "NdsArch", "NdsResNetSpace", "NdsResNeXtASpace"]
