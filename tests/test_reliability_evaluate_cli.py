"""Issue 15 item 5 and evaluate rows of the lists: the output is checked before scoring, scores are
written as they come, the interrupt message is true, and bad --archs files are one error."""
from __future__ import annotations

import csv

import pytest

from nasrank.cli import main

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def _evaluate(nb201_csv, out, *extra):
    return main(["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params", "--sample", "12",
                 "--no-plots", "--quiet", "--output", str(out), *extra])


@pytest.fixture()
def interrupt_after(monkeypatch):
    """Make the params ranker raise KeyboardInterrupt on its n-th evaluation."""
    import nasrank.rankers  # noqa: F401
    from nasrank.registry import RANKERS

    cls = RANKERS.get("params")
    real = cls.evaluate_one
    calls = [0]

    def arm(n: int) -> None:
        def evaluate_one(self, arch):
            calls[0] += 1
            if calls[0] == n:
                raise KeyboardInterrupt
            return real(self, arch)

        monkeypatch.setattr(cls, "evaluate_one", evaluate_one)
    return arm


@pytest.mark.parametrize("kind", ["file", "under_file"])
def test_unwritable_output_fails_before_scoring(tmp_path, nb201_csv, capsys, kind):
    from nasrank.store import ResultStore

    (tmp_path / "afile").write_text("keep me")
    out = tmp_path / "afile" if kind == "file" else tmp_path / "afile" / "sub"
    store = tmp_path / "s.sqlite"
    assert _evaluate(nb201_csv, out, "--store", str(store)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "afile" in err and err.startswith("nasrank evaluate: error:")
    assert not store.exists() or len(ResultStore(store)) == 0  # nothing was scored
    assert (tmp_path / "afile").read_text() == "keep me"


def test_interrupt_without_store_keeps_the_rows_and_says_where(tmp_path, nb201_csv, capsys, interrupt_after):
    interrupt_after(6)
    out = tmp_path / "out"
    assert _evaluate(nb201_csv, out, "--no-store") == 130
    err = capsys.readouterr().err
    assert "everything evaluated so far is saved" not in err
    assert "scores.partial.csv" in err and "5 scores" in err and "no result store" in err
    with open(out / "scores.partial.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 and {r["ranker"] for r in rows} == {"params"} and all(float(r["score"]) > 0 for r in rows)
    assert not (out / "scores.csv").exists()


def test_interrupt_with_store_says_a_rerun_continues(tmp_path, nb201_csv, capsys, interrupt_after):
    interrupt_after(4)
    out = tmp_path / "out"
    store = tmp_path / "s.sqlite"
    assert _evaluate(nb201_csv, out, "--store", str(store)) == 130
    err = capsys.readouterr().err
    assert "3 scores" in err and str(store) in err and "rerun" in err


def test_finished_run_replaces_the_partial_file(tmp_path, nb201_csv, capsys):
    out = tmp_path / "out"
    assert _evaluate(nb201_csv, out, "--no-store") == 0
    assert not (out / "scores.partial.csv").exists()
    with open(out / "scores.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 12


@pytest.mark.parametrize("content,needle", [(b"\xff\xfe\x00garbage\n", "UTF-8"), (None, "is a folder")])
def test_bad_archs_file(tmp_path, nb201_csv, capsys, content, needle):
    p = tmp_path / "archs.txt"
    if content is None:
        p.mkdir()
    else:
        p.write_bytes(content)
    rc = main(["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "params", "--archs", str(p),
               "--no-plots", "--quiet", "--no-store", "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and needle in err, err


def test_search_interrupt_messages(tmp_path, nb201_csv, capsys, monkeypatch):
    import nasrank.rankers  # noqa: F401
    from nasrank.registry import RANKERS

    cls = RANKERS.get("tabular")
    real, calls = cls.evaluate_one, [0]

    def evaluate_one(self, arch):
        calls[0] += 1
        if calls[0] % 4 == 0:
            raise KeyboardInterrupt
        return real(self, arch)

    monkeypatch.setattr(cls, "evaluate_one", evaluate_one)
    base = ["search", "--benchmark", f"csv:{nb201_csv}", "--budget-queries", "20", "--quiet"]
    out = tmp_path / "run"
    assert main(base + ["--no-store", "--output", str(out)]) == 130
    err = capsys.readouterr().err
    assert "3 evaluations" in err and f"--resume {out}" in err
    assert main(base + ["--no-store"]) == 130
    assert "nothing was saved" in capsys.readouterr().err
