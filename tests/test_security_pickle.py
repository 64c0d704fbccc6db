"""Issue 15 item 7: nothing nasrank unpickles can run code.

Every test plants a pickle whose ``__reduce__`` would create a marker file
(``open(marker, "w")``) and checks that the reader refuses it with one
NasrankError and that the marker never appears.
"""
from __future__ import annotations

import pickle

import pytest
import torch

from nasrank.errors import NasrankError


class Payload:
    """Unpickling this calls ``open(marker, "w")``: it creates a file."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_weights_from_refuses_code(tmp_path):
    from nasrank.rankers.zero_shot import read_state_dict

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "x": Payload(marker)}, evil)
    with pytest.raises(NasrankError, match="evil.pt"):
        read_state_dict(evil)
    assert not marker.exists()
    good = tmp_path / "good.pt"
    torch.save({"state_dict": {"w": torch.ones(2)}}, good)
    assert torch.equal(read_state_dict(good)["w"], torch.ones(2))


def test_nb201_pth_refuses_code(tmp_path, monkeypatch):
    from nasrank.benchmarks.nb201_pth import load_nb201_pth
    from nasrank.spaces.nb201 import Nb201Space

    marker = tmp_path / "pwned"
    evil = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    torch.save({"meta_archs": [], "arch2infos": {}, "evaluated_indexes": [], "x": Payload(marker)}, evil)
    with pytest.raises(NasrankError, match="NAS-Bench-201"):
        load_nb201_pth(evil, Nb201Space())
    assert not marker.exists()
    monkeypatch.setattr(torch, "__version__", "2.5.1")  # torch.load ran code by default before 2.6
    with pytest.raises(NasrankError, match="torch >= 2.6"):
        load_nb201_pth(evil, Nb201Space())
    assert not marker.exists()


def test_embedded_stub_unpickler_allows_only_the_table_classes(tmp_path):
    import io

    from nasrank.benchmarks.embedded_source import _StubUnpickler

    marker = tmp_path / "pwned"
    blob = pickle.dumps({(0, 1, 2, 3, 4, 0): Payload(marker)})
    with pytest.raises(pickle.UnpicklingError, match=r"(io|builtins)\.open"):
        _StubUnpickler(io.BytesIO(blob)).load()
    assert not marker.exists()
    for module, name in (("builtins", "eval"), ("collections", "OrderedDict"), ("numpy", "load")):
        with pytest.raises(pickle.UnpicklingError):
            _StubUnpickler(io.BytesIO(b"")).find_class(module, name)


def test_embedded_table_still_loads():
    from nasrank.benchmarks.embedded import load_embedded_benchmark
    from nasrank.spaces.nb201 import Nb201Space

    bench = load_embedded_benchmark(Nb201Space())
    assert len(bench) == 15625


def test_dataset_files_refuse_code(tmp_path):
    from nasrank.lightning_modules.datasets import read_arrays

    marker = tmp_path / "pwned"
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({"data": Payload(marker), "labels": [0]}))
    with pytest.raises(NasrankError, match="data_batch_1"):
        read_arrays("cifar10", tmp_path)
    assert not marker.exists()


def test_official_cifar_files_still_load(cifar10_dir):
    from nasrank.lightning_modules.datasets import _unpickle

    d = _unpickle(cifar10_dir / "cifar-10-batches-py" / "test_batch")
    assert d["data"].shape[1] == 3072 and len(d["labels"]) == d["data"].shape[0] > 0
