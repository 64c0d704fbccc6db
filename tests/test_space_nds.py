"""NDS ResNet / ResNeXt-A spaces and the NDS json ground-truth loader."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nasrank.benchmarks.nds import NdsTable, load_nds_table
from nasrank.errors import MissingFileError, NasrankError
from nasrank.registry import SPACES
from nasrank.spaces.nds import NdsArch, NdsResNeXtASpace, NdsResNetSpace, NdsSpace
from nasrank.rankers.fear_tail import fear_tail

SPACE_CLASSES = [NdsResNetSpace, NdsResNeXtASpace]


def test_registered_and_sizes():
    assert SPACES.get("nds_resnet") is NdsResNetSpace and SPACES.get("nds_resnexta") is NdsResNeXtASpace
    assert NdsResNetSpace.size == (9 * 12) ** 3 == 1_259_712
    assert NdsResNeXtASpace.size == (5 * 5 * 3 * 3) ** 3 == 11_390_625
    assert not NdsResNetSpace.size_is_estimate and not NdsResNeXtASpace.size_is_estimate


@pytest.mark.parametrize("cls", SPACE_CLASSES)
def test_sample_mutate_neighbours(cls):
    space: NdsSpace = cls()
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(40)]
    assert len({space.key(a) for a in archs}) == 40
    for a in archs:
        assert space.in_grid(a) and a.is_resnext == (cls is NdsResNeXtASpace)
        assert space.from_string(space.to_string(a)) == a
        nbrs = space.neighbours(a)
        keys = [space.key(b) for b in nbrs]
        assert len(set(keys)) == len(keys) and space.key(a) not in keys
        for b in nbrs:  # one stage's value moved to a neighbouring choice
            assert space.in_grid(b)
            changed = [(n, i) for n, ch in space.choices for i in range(3) if getattr(a, n)[i] != getattr(b, n)[i]]
            assert len(changed) == 1
            (name, i), = changed
            ch = dict(space.choices)[name]
            assert abs(ch.index(getattr(a, name)[i]) - ch.index(getattr(b, name)[i])) == 1
        m = space.mutate(a, rng)
        assert space.key(m) in keys


def test_text_forms():
    r, x = NdsResNetSpace(), NdsResNeXtASpace()
    a = r.from_string("ds=1,2,4|ws=16,32,64")
    assert a == NdsArch((1, 2, 4), (16, 32, 64)) and r.to_string(a) == "ds=1,2,4|ws=16,32,64"
    b = x.from_string("ds=1,2,4|ws=16,32,64|bs=0.25,0.5,1|gs=1,2,4")
    assert b.bs == (0.25, 0.5, 1.0) and x.to_string(b) == "ds=1,2,4|ws=16,32,64|bs=0.25,0.5,1|gs=1,2,4"
    assert x.from_string(" ds=1,2,4 | ws=16,32,64 | bs=0.25,0.5,1.0 | gs=1,2,4 ") == b
    # off-grid values (the official files sample from ranges) parse, build and round-trip
    c = r.from_string("ds=5,7,9|ws=20,50,300")
    assert not r.in_grid(c) and r.from_string(r.to_string(c)) == c
    assert sorted(r.key(n) for n in r.neighbours(c))[:2] == ["ds=4,7,9|ws=20,50,300", "ds=5,6,9|ws=20,50,300"]
    # an arch of the other space is refused
    with pytest.raises(NasrankError, match="nds_resnet"):
        r.neighbours(b)


@pytest.mark.parametrize("cls, text, needle", [
    (NdsResNetSpace, "", "''"),
    (NdsResNetSpace, "ds=1,2|ws=16,32,64", "ds needs 3"),
    (NdsResNetSpace, "ds=1,2,x|ws=16,32,64", "non-numeric"),
    (NdsResNetSpace, "ds=1,2,0|ws=16,32,64", "positive"),
    (NdsResNetSpace, "ws=16,32,64|ds=1,2,4", "in that order"),
    (NdsResNetSpace, "ds=1,2,4|ws=16,32,64|bs=1,1,1|gs=1,1,1", "bs="),
    (NdsResNetSpace, "ds=1,2,4|widths=16,32,64", "widths"),
    (NdsResNeXtASpace, "ds=1,2,4|ws=16,32,64", "ds, ws, bs, gs"),
    (NdsResNeXtASpace, "ds=1,2,4|ws=16,32,64|bs=0.25,0.5,-1|gs=1,2,4", "bottleneck"),
    (NdsResNeXtASpace, "ds=1,2,4|ws=16,32,64|bs=0.25,0.5,1|gs=1,2,0.5", "non-numeric"),
])
def test_bad_strings_raise(cls, text, needle):
    with pytest.raises(NasrankError) as exc:
        cls().from_string(text)
    msg = str(exc.value)
    assert needle in msg and (text.strip() in msg or "ds=" in msg)


def test_resnet_parameter_count():
    model = NdsResNetSpace().build(NdsArch((1, 1, 1), (16, 32, 64)))
    # stem 464; stage 1: 2·(2304+32); stage 2: 4608+64 + 9216+64 + 512+64; stage 3: 18432+128 + 36864+128 + 2048+128; fc 650
    assert sum(p.numel() for p in model.parameters()) == 78042


def test_forward_small_scale_and_fear_tail():
    torch.manual_seed(0)
    for space, text in [(NdsResNetSpace(), "ds=2,1,3|ws=24,16,40"),
                        (NdsResNeXtASpace(), "ds=2,1,3|ws=32,16,64|bs=0.25,1,0.5|gs=4,2,4")]:
        a = space.from_string(text)
        model = space.build(a, num_classes=7, width_mult=0.5)
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)
        assert [len(s) for s in model.stages] == [2, 1, 3]
        tail = fear_tail(space, model)
        assert tail == [model.stages[-1][2], model.classifier]
        capped = space.build(a, max_depth=1, width_mult=0.25)
        assert [len(s) for s in capped.stages] == [1, 1, 1]
        assert capped(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_resnext_builds_respect_groups():
    space = NdsResNeXtASpace()
    a = space.from_string("ds=1,1,1|ws=16,24,40|bs=0.25,0.25,0.5|gs=4,4,4")
    assert [a.bottleneck_width(i) for i in range(3)] == [4, 8, 20]
    rng = np.random.default_rng(3)
    for _ in range(30):
        b = space.sample(rng)
        for mult in (1.0, 0.3):
            with torch.device("meta"):
                model = space.build(b, width_mult=mult)
            for i, stage in enumerate(model.stages):
                conv = stage[0].f[3]
                assert conv.groups == b.gs[i] and conv.in_channels % conv.groups == 0
    model = space.build(a, width_mult=0.5)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


# -- the NDS json loader ----------------------------------------------------------------------------------
def _record(ds, ws, err, block="res_basic_block", bms=(0, 0, 0, 0), gs=(1, 1, 1, 1), params=1.0e5, flops=2.0e7):
    return {"net": {"block_type": block, "ds": [1, *ds], "ws": [16, *ws], "ss": [1, 1, 2, 2],
                    "bot_muls": list(bms), "num_gs": list(gs), "stem_type": "res_stem_cifar", "stem_w": 16},
            "params": params, "flops": flops, "min_test_top1": err, "test_ep_top1": [90.0, err],
            "train_ep_top1": [80.0, 1.0], "optim": {"base_lr": 0.1, "wd": 5e-4, "max_ep": 100}}


def test_loader_list_layout(tmp_path):
    recs = [_record((1, 2, 4), (16, 32, 64), 7.5), _record((2, 2, 2), (24, 48, 96), 6.0),
            _record((1, 2, 4), (16, 32, 64), 8.5, params=1.5e5), _record((5, 7, 9), (20, 50, 300), 9.0)]
    p = tmp_path / "ResNet.json"
    p.write_text(json.dumps(recs))
    table = load_nds_table(p, "nds_resnet")
    assert isinstance(table, NdsTable) and isinstance(table, dict)
    assert table == {"ds=1,2,4|ws=16,32,64": 92.0, "ds=2,2,2|ws=24,48,96": 94.0, "ds=5,7,9|ws=20,50,300": 91.0}
    assert table.counts["ds=1,2,4|ws=16,32,64"] == 2 and table.num_records == 4
    assert table.params["ds=2,2,2|ws=24,48,96"] == 1.0e5 and table.flops["ds=2,2,2|ws=24,48,96"] == 2.0e7
    space = NdsResNetSpace()
    for key, arch in table.archs.items():
        assert space.from_string(key) == arch and space.key(arch) == key
    grid = load_nds_table(p, space, only_grid=True)
    assert set(grid) == {"ds=1,2,4|ws=16,32,64", "ds=2,2,2|ws=24,48,96"}


def test_loader_top_mid_layout(tmp_path):
    blk = "res_bottleneck_block"
    top = [_record((1, 2, 4), (16, 32, 64), 5.0, blk, (1, 0.25, 0.5, 1), (1, 1, 2, 4))]
    mid = [_record((2, 4, 8), (32, 64, 128), 7.25, blk, (1, 1, 1, 1), (1, 4, 4, 4), params=None)]
    p = tmp_path / "ResNeXt-A.json"
    p.write_text(json.dumps({"top": top, "mid": mid}))
    table = load_nds_table(p, NdsResNeXtASpace())
    assert table == {"ds=1,2,4|ws=16,32,64|bs=0.25,0.5,1|gs=1,2,4": 95.0,
                     "ds=2,4,8|ws=32,64,128|bs=1,1,1|gs=4,4,4": 92.75}
    assert math.isnan(table.params["ds=2,4,8|ws=32,64,128|bs=1,1,1|gs=4,4,4"])
    # stage-only lists (3 entries) are read as the stages
    rec = _record((1, 2, 4), (16, 32, 64), 5.0, blk, (1, 0.25, 0.5, 1), (1, 1, 2, 4))
    for k in ("ds", "ws", "ss", "bot_muls", "num_gs"):
        rec["net"][k] = rec["net"][k][1:]
    p.write_text(json.dumps([rec]))
    assert list(load_nds_table(p, "nds_resnexta")) == ["ds=1,2,4|ws=16,32,64|bs=0.25,0.5,1|gs=1,2,4"]


@pytest.mark.parametrize("content, needle", [
    ("{not json", "not valid JSON"),
    ("[]", "no records"),
    ('{"foo": []}', "expected a list of records"),
    ("42", "expected a list of records"),
    ('[{"net": {"block_type": "res_basic_block", "ds": [1, 1, 2], "ws": [16, 16, 32, 64]}, "min_test_top1": 5}]',
     "record 0"),
    ('[{"params": 1}]', "record 0"),
])
def test_loader_malformed(tmp_path, content, needle):
    p = tmp_path / "ResNet.json"
    p.write_text(content)
    with pytest.raises(NasrankError) as exc:
        load_nds_table(p, "nds_resnet")
    assert needle in str(exc.value) and str(p) in str(exc.value)


def test_loader_record_errors(tmp_path):
    p = tmp_path / "ResNet.json"
    p.write_text(json.dumps([_record((1, 2, 4), (16, 32, 64), 5.0), _record((1, 2, 4), (16, 32, 64), "bad")]))
    with pytest.raises(NasrankError, match="record 1: min_test_top1"):
        load_nds_table(p, "nds_resnet")
    p.write_text(json.dumps([_record((1, 2, 4), (16, 32, 64), 5.0)]))
    with pytest.raises(NasrankError, match="block_type 'res_basic_block'"):
        load_nds_table(p, "nds_resnexta")
    bad = _record((1, 2, 4), (16, 32, 64), 5.0)
    bad["net"]["ss"] = [1, 2, 2, 2]
    p.write_text(json.dumps([bad]))
    with pytest.raises(NasrankError, match="strides"):
        load_nds_table(p, "nds_resnet")
    bad = _record((1, 0, 4), (16, 32, 64), 5.0)
    p.write_text(json.dumps([bad]))
    with pytest.raises(NasrankError, match="positive"):
        load_nds_table(p, "nds_resnet")
    with pytest.raises(NasrankError, match="unknown NDS space"):
        load_nds_table(p, "nds_vgg")


def test_loader_missing_file(tmp_path):
    p = tmp_path / "nope" / "ResNet.json"
    with pytest.raises(MissingFileError) as exc:
        load_nds_table(p, "nds_resnet")
    assert str(p) in str(exc.value)


def test_nds_benchmark_spec(tmp_path):
    from nasrank.benchmarks import load_benchmark

    p = tmp_path / "ResNet.json"
    p.write_text(json.dumps({"top": [_record((1, 2, 4), (16, 32, 64), 7.5)], "mid": [_record((2, 2, 2), (24, 48, 96), 6.0)]}))
    space = NdsResNetSpace()
    bench = load_benchmark(f"nds:{p}", space)
    assert len(bench) == 2 and bench.true_accuracy(space.from_string("ds=2,2,2|ws=24,48,96")) == 94.0
    assert bench.best()[1] == 94.0 and bench.record(space.from_string("ds=1,2,4|ws=16,32,64")).extra["params"] == 1.0e5
    with pytest.raises(NasrankError, match="nds_resnet or nds_resnexta"):
        load_benchmark(f"nds:{p}", SPACES.create("nb101"))
