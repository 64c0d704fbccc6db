"""NASLib's NB201 op-index keys map to the official cell strings (benchmarks/zero_shot_naslib.py)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from zero_shot_naslib import nb201_string  # noqa: E402


def test_edges_are_ordered_by_target_node_then_source():
    # edges (1,2) (1,3) (1,4) (2,3) (2,4) (3,4); ops skip, none, conv3x3, conv1x1, avgpool
    assert nb201_string("(0, 1, 2, 3, 4, 0)") == \
        "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|"


def test_every_key_maps_to_a_distinct_cell():
    import itertools

    strings = {nb201_string(str(k)) for k in itertools.product(range(5), repeat=6)}
    assert len(strings) == 5 ** 6
