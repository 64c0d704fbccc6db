"""Issue 15 item 8: one malformed DARTS line cannot exhaust memory."""
from __future__ import annotations

import time
import tracemalloc

import pytest

from nasrank.errors import NasrankError
from nasrank.spaces.darts import parse_genotype

CELL = "[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), " \
       "('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 2)]"


def _genotype(concat: str) -> str:
    return f"Genotype(normal={CELL}, normal_concat={concat}, reduce={CELL}, reduce_concat=range(2, 6))"


def test_range_bounds_are_checked_before_the_list_is_built():
    assert str(parse_genotype(_genotype("range(2, 6)"))).startswith("Genotype(")
    tracemalloc.start()
    try:
        with pytest.raises(NasrankError, match="normal_concat"):
            parse_genotype(_genotype("range(2, 3000000)"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000
    t0 = time.perf_counter()
    for bad in ("range(2, 10**13)", "range(2, 9999999999999)", "range(2, 6, 0)", "range('a')", "range(2.5, 6)",
                "range(*[2, 6])", "range(2, 6, x=1)"):
        with pytest.raises(NasrankError):
            parse_genotype(_genotype(bad))
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("text", ["Genotype(normal=" + "[" * 5000 + "]" * 5000 + ")", "x" * 1_000_000,
                                  "Genotype(" + "(" * 300 + ")" * 300 + ")"])
def test_deep_or_huge_text_is_one_short_error(text):
    with pytest.raises(NasrankError) as info:
        parse_genotype(text)
    assert len(str(info.value)) < 600
