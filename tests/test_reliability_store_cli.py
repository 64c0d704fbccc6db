"""Store rows of issue 15: export is atomic and never truncates its target on an error; --space is
an exact name (not a LIKE pattern); a corrupt store or a folder as --output is one error."""
from __future__ import annotations

import pytest

from nasrank.cli import main
from nasrank.store import ResultStore, StoreScope


class _Ev:
    def __init__(self, score):
        self.score, self.seconds, self.device_seconds, self.info = score, 1.0, 1.0, {}


@pytest.fixture()
def store(tmp_path):
    s = ResultStore(tmp_path / "s.sqlite")
    for space in ("nb101", "nb201", "nb201(channels=8)"):
        for i in range(3):
            s.put(StoreScope(space, "r", "h", "cifar10:none", 0), f"k{i}", f"c{i}", f"a{i}", _Ev(float(i)))
    return s


def test_space_filter_is_not_a_like_pattern(store, capsys):
    assert main(["store", "prune", "--store", str(store.path), "--space", "nb_01"]) == 0
    assert "deleted 0 rows" in capsys.readouterr().out and len(store) == 9
    assert main(["store", "prune", "--store", str(store.path), "--space", "nb%"]) == 0
    assert "deleted 0 rows" in capsys.readouterr().out
    assert main(["store", "prune", "--store", str(store.path), "--space", "nb201"]) == 0
    assert "deleted 6 rows" in capsys.readouterr().out and len(store) == 3  # nb201 and nb201(...)


def test_export_to_a_folder_is_one_error(store, tmp_path, capsys):
    (tmp_path / "d").mkdir()
    assert main(["store", "export", "--store", str(store.path), "--output", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err


def test_export_of_a_corrupt_store_keeps_the_old_target(store, tmp_path, capsys):
    for i in range(300):
        store.put(StoreScope("nb201", "r", "h", "cifar10:none", 1), f"k{i}", "c", "a" * 200, _Ev(1.0))
    target = tmp_path / "e.csv"
    assert main(["store", "export", "--store", str(store.path), "-o", str(target)]) == 0
    before = target.read_text()
    store.close()
    data = bytearray(store.path.read_bytes())
    for off in range(4096 + 100, len(data), 97):  # damage the pages but keep the first one
        data[off] ^= 0x5A
    store.path.write_bytes(bytes(data))
    for p in store.path.parent.glob("s.sqlite-*"):
        p.unlink()
    rc = main(["store", "export", "--store", str(store.path), "-o", str(target)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "s.sqlite" in err and "malformed" in err
    assert target.read_text() == before  # never truncated by a failed export
