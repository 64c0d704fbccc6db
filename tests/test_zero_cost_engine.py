"""The shared-pass engine: every measure's value with all others equals its value alone, bit for bit;
a measure added as one file shows in ``nasrank rankers``, in ``zero_shot`` and in its store key."""
from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared
import torch

from nasrank.lightning_modules.data import ImageDataModule
from nasrank.rankers.zero_cost._engine import needed_passes
from nasrank.rankers.zero_cost._registry import get_measure
from nasrank.rankers.zero_shot import MEASURES, compute_measures
from nasrank.spaces.nb201 import Nb201Arch, Nb201Space

ROOT = Path(__file__).resolve().parents[1]
ARCH = Nb201Arch.from_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")


def test_shared_passes_give_each_measure_its_value_alone_bit_for_bit(cifar10_dir):
    space = Nb201Space(channels=8, cells_per_stage=1)
    (x, y), = ImageDataModule("cifar10", str(cifar10_dir)).fixed_batches(16, 1, seed=0)

    def run(ms):
        torch.manual_seed(0)
        model = space.build(ARCH)
        ctx = {"seed": 0, "blocks": list(space.fear_cells(model).cells)}
        return compute_measures(model, x, y, ms, options={"batch_size": 16}, context=ctx)

    together, secs, _ = run(MEASURES)
    assert set(together) == set(MEASURES) and all(secs[m] > 0 for m in MEASURES)
    for m in MEASURES:
        alone, _, _ = run([m])
        a, b = alone[m], together[m]
        assert a == b or (math.isnan(a) and math.isnan(b)), (m, a, b)


def test_every_measure_declares_known_passes():
    for m in MEASURES:
        measure = get_measure(m)
        assert measure.name == m
        assert needed_passes([measure]) <= {"forward", "loss_grad", "hessian", "input_grad"}


TOY = '''"""Zero-shot toy: the number of weight layers (a test measure).

Added by tests/test_zero_cost_engine.py to a copy of the package.
"""
from nasrank.rankers.zero_cost._base import measure_ranker
from nasrank.rankers.zero_cost._common import weight_layers
from nasrank.rankers.zero_cost._engine import Measure


class Toy(Measure):
    name = "toy"
    data_free = True

    def compute(self, state):
        return float(len(weight_layers(state.model))), None


MEASURE = Toy()
ToyRanker = measure_ranker(MEASURE, __name__, __doc__)
'''

PROBE = '''
import io, contextlib, sys
from nasrank.cli import main
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    main(["rankers"])
listed = [l.split()[0] for l in buf.getvalue().splitlines() if l.startswith("  ")]
print("torch" in sys.modules)
from nasrank.rankers.base import RunContext
from nasrank.registry import RANKERS
from nasrank.spaces.nb201 import Nb201Space
ctx = RunContext(data_dir=sys.argv[1])  # measures that read images need the dataset (checked when built)
z = RANKERS.create("zero_shot", Nb201Space(), ctx, measures=["synflow", "l2_norm"] + (["toy"] if "toy" in listed else []))
full = RANKERS.create("zero_shot", Nb201Space(), ctx)
print("toy" in listed, "toy" in full.config()["measures"], full.config_hash())
'''


def _probe(root: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(shared("cifar10"))], capture_output=True, text=True, cwd=root,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_a_measure_added_as_one_file_is_listed_offered_and_keyed(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "nasrank", copy / "nasrank", ignore=shutil.ignore_patterns("__pycache__"))
    before = _probe(copy)
    (copy / "nasrank" / "rankers" / "zero_cost" / "toy.py").write_text(TOY)
    after = _probe(copy)
    assert before[:3] == ["False", "False", "False"]  # listing imports no torch; no toy yet
    assert after[:3] == ["False", "True", "True"]     # listed, a default zero_shot measure
    assert before[3] != after[3]                        # and the store key changed with it
