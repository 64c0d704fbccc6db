"""The bounds on sizes and counts read from the user, in one place (docs/security.md, "Trust and safety"
quotes them). Each guards memory or time that would otherwise grow with one typed number or one
line of a file, so that a typo or a hostile input is one clear error, not an OOM kill.
"""
from __future__ import annotations

from typing import IO, Any, Iterator

from nasrank.errors import NasrankError

#: compare --seeds: seeds in one sweep (each is a whole compare)
MAX_SEEDS = 10_000
#: --seed / --seeds values: what numpy and the result store's INTEGER column both hold
MAX_SEED = 2 ** 63 - 1
#: evaluate --repeats: scores per architecture and ranker
MAX_REPEATS = 10_000
#: compare --n-boot: bootstrap replicates
MAX_BOOT = 1_000_000
#: --budget-queries / compare --candidates: evaluations of one search (a ceiling, never preallocated)
MAX_QUERIES = 100_000_000
#: --workers: parallel evaluations
MAX_WORKERS = 4_096
#: --config FILE.yaml: bytes, and composed YAML nodes (aliases are refused outright)
MAX_CONFIG_BYTES = 1_000_000
#: one line of a CSV table or an --archs file, in characters
MAX_LINE_CHARS = 1_000_000
#: supernet train flags and a checkpoint's hyper-parameters (what a 180 KB file may ask to be built)
MAX_SUPERNET_CHANNELS = 1_024
MAX_SUPERNET_CELLS = 64            #: cells_per_stage
MAX_SUPERNETS = 64                 #: num_supernets (K supernets, each a full network)
MAX_ARCHS_PER_STEP = 256           #: forward/backward passes per training step and supernet
MAX_IMAGE_SIZE = 512               #: image_size (pixels per side)
MAX_BATCH_SIZE = 65_536            #: training / scoring batch size
MAX_EPOCHS = 100_000               #: supernet training epochs
MAX_CLASSES = 100_000              #: num_classes (the classifier's outputs)
#: how much of an offending value an error message quotes
QUOTE_CHARS = 120


def count(value: Any, flag: str, maximum: int, minimum: int = 1) -> int:
    """``value`` as an int in ``[minimum, maximum]``, else one :class:`NasrankError` naming ``flag``."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise NasrankError(f"{flag} must be an integer from {minimum} to {maximum:,}, got {quote(value)}")
    return value


def quote(value: Any) -> str:
    """``repr(value)`` cut to :data:`QUOTE_CHARS` characters (an error never prints a megabyte)."""
    text = repr(value)
    return text if len(text) <= QUOTE_CHARS else f"{text[:QUOTE_CHARS]}... ({len(text):,} characters)"


def short(text: object) -> str:
    """``str(text)`` cut to :data:`QUOTE_CHARS` characters, saying how long it was."""
    s = str(text)
    return s if len(s) <= QUOTE_CHARS else f"{s[:QUOTE_CHARS]}... ({len(s):,} characters)"


def bounded_lines(fh: IO[str], what: str) -> Iterator[str]:
    """The lines of the text file ``fh`` (newline kept), none over :data:`MAX_LINE_CHARS`: a longer
    one is one :class:`NasrankError` naming ``what`` and the line, raised before it is read whole."""
    n = 0
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        n += 1
        if len(line) > MAX_LINE_CHARS:
            raise NasrankError(f"{what}, line {n} is over {MAX_LINE_CHARS:,} characters; is it the right file?")
        yield line
#: sh / hyperband / asha eta: the ratio between rungs (eta ** rungs sizes a bracket)
MAX_ETA = 1_000
#: architectures a multi-fidelity bracket or a random-search batch draws ahead of evaluating them
MAX_DRAWN_AHEAD = 4_096
#: analyze --bins: complexity bins (each is a rank correlation over its architectures)
MAX_BINS = 1_000
