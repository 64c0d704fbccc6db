"""Issue 32 part B, fuzz: crafted supernet checkpoints per space, user components that share a class name
or are edited, weights changed behind one path, and tables whose repeated rows disagree in one column.
Every case is seeded (reproducible); each hostile input is one clear error line, never a traceback."""
from __future__ import annotations

import importlib
import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import shared
from nasrank.cli import main

_STATES: dict[str, tuple[dict, dict]] = {}


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


def _state(space: str) -> tuple[dict, dict]:
    from nasrank.lightning_modules.supernet import SupernetModule

    if space not in _STATES:
        m = SupernetModule(space=space, channels=4, cells_per_stage=1)
        _STATES[space] = (dict(m.hparams), m.state_dict())
    hp, sd = _STATES[space]
    return dict(hp), dict(sd)


# -- crafted checkpoints per supernet space --------------------------------------------------------------
def _mutations(space: str, rng: np.random.Generator) -> list[tuple[str, dict]]:
    """(name, checkpoint dict or raw bytes under "bytes") of hostile variants of one space's checkpoint."""
    from nasrank.lightning_modules.supernet import CKPT_KEY, pack_state

    hp, sd = _state(space)
    keys = sorted(sd)
    record = {"train_seconds": 1.0, "epochs_done": 1, "global_step": 3, "train_history": []}
    base = {"hyper_parameters": hp, "state_dict": sd, CKPT_KEY: record}
    other = {"nb201": "nb101", "nb101": "darts", "darts": "nb201"}[space]
    k = keys[int(rng.integers(len(keys)))]
    big = next(x for x in keys[int(rng.integers(len(keys))):] + keys if sd[x].dim() >= 1)
    out = [
        ("other space's weights", {**base, "state_dict": _state(other)[1]}),
        ("other space named", {**base, "hyper_parameters": {**hp, "space": other}}),
        ("a tensor dropped", {**base, "state_dict": {x: v for x, v in sd.items() if x != k}}),
        ("a tensor added", {**base, "state_dict": {**sd, "extra.weight": torch.zeros(2)}}),
        ("a tensor reshaped", {**base, "state_dict": {**sd, big: torch.zeros(*(s + 1 for s in sd[big].shape))}}),
        ("a tensor as a list", {**base, "state_dict": {**sd, big: [1.0, 2.0]}}),
        ("hyper_parameters a string", {**base, "hyper_parameters": "nb201"}),
        ("non-string key", {**base, "hyper_parameters": {**hp, 3: 4}}),
        ("record a list", {**base, CKPT_KEY: [1]}),
        ("negative seconds", {**base, CKPT_KEY: {**record, "train_seconds": -5.0}}),
        ("nan seconds", {**base, CKPT_KEY: {**record, "train_seconds": float("nan")}}),
        ("history a dict", {**base, CKPT_KEY: {**record, "train_history": {"a": 1}}}),
        ("space import path", {**base, "hyper_parameters": {**hp, "space": "os:system"}}),
        ("space a number", {**base, "hyper_parameters": {**hp, "space": 7}}),
        ("no weights", {x: v for x, v in base.items() if x != "state_dict"}),
        ("packed, flat short", {x: v for x, v in base.items() if x != "state_dict"} | {
            "packed_state_dict": {**pack_state(sd), "flat": {}}}),
        ("packed, names long", {x: v for x, v in base.items() if x != "state_dict"} | {
            "packed_state_dict": {**pack_state(sd), "names": keys + ["x"]}}),
        ("packed, bad shape", {x: v for x, v in base.items() if x != "state_dict"} | {
            "packed_state_dict": {**pack_state(sd), "shapes": [[-1]] * len(keys)}}),
    ]
    for name, value in (("channels", int(rng.integers(10 ** 4, 10 ** 9))), ("cells_per_stage", 10 ** 6),
                        ("num_supernets", 10 ** 5), ("archs_per_step", -3), ("channels", "wide"),
                        ("image_size", 10 ** 7), ("num_classes", 10 ** 9), ("seed", -1), ("lr", "fast"),
                        ("sampling", "nope"), ("channels", [4])):
        out.append((f"{name}={value!r}", {**base, "hyper_parameters": {**hp, name: value}}))
    return out


@pytest.mark.parametrize("space", ["nb201", "nb101", "darts"])
def test_fuzz_crafted_checkpoints_are_one_clear_line(tmp_path, space):
    rng = np.random.default_rng({"nb201": 1, "nb101": 2, "darts": 3}[space])
    good = tmp_path / "good.ckpt"
    hp, sd = _state(space)
    from nasrank.lightning_modules.supernet import CKPT_KEY

    torch.save({"hyper_parameters": hp, "state_dict": sd, CKPT_KEY: {"epochs_done": 1}}, good)
    rc, out, err = _cli(["supernet", "info", str(good)])
    assert rc == 0 and json.loads(out)["hyperparameters"]["space"] == space, err
    data = good.read_bytes()
    cases = _mutations(space, rng)
    for cut in sorted(int(x) for x in rng.integers(1, len(data) - 1, size=4)):
        cases.append((f"truncated at {cut}", {"bytes": data[:cut]}))
    flipped = bytearray(data)
    flipped[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    cases.append(("64 zero bytes in the middle", {"bytes": bytes(flipped)}))
    for i, (name, ckpt) in enumerate(cases):
        path = tmp_path / f"bad{i}.ckpt"
        if "bytes" in ckpt:
            path.write_bytes(ckpt["bytes"])
        else:
            torch.save(ckpt, path)
        for args in (["supernet", "info", str(path)], ["supernet", "export", str(path), "--output",
                                                        str(tmp_path / "slim.ckpt")]):
            rc, _, err = _cli(args)
            if rc == 0 and name.startswith("64 zero"):
                continue  # zeros in a tensor's bytes can be valid weights
            assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err and str(path) in err, (name, err)
        assert not (tmp_path / "slim.ckpt").exists() or name.startswith("64 zero"), name


# -- custom components ---------------------------------------------------------------------------------
SRC = """
from nasrank.rankers.base import Evaluation, Ranker


class {cls}(Ranker):
    def evaluate_one(self, arch):
        return Evaluation({score!r}, 0.25, 0.25, {{}})
"""


@pytest.fixture()
def modules(tmp_path, monkeypatch):
    folder = tmp_path / "mods"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    names: list[str] = []

    def write(name: str, cls: str, score: float) -> str:
        (folder / f"{name}.py").write_text(SRC.format(cls=cls, score=score))
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        names.append(name)
        return f"{name}:{cls}"

    yield write
    for n in names:
        sys.modules.pop(n, None)


def _best(ranker: str, store: Path, out: Path, bench: Path) -> tuple[float, bool]:
    rc, _, err = _cli(["search", "--benchmark", f"csv:{bench}", "--ranker", ranker, "--budget-queries", "3",
                       "--store", str(store), "--output", str(out), "--quiet", "--seed", "2"])
    assert rc == 0, err
    hist = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines()]
    return json.loads((out / "summary.json").read_text())["best_score"], all(r["info"].get("cached") for r in hist)


def test_fuzz_one_class_name_in_many_modules_and_edits(tmp_path, modules, nb201_csv):
    rng = np.random.default_rng(7)
    store = tmp_path / "s.db"
    scores = [float(x) for x in np.round(rng.uniform(0, 100, size=5), 3)]
    for i, score in enumerate(scores):  # five modules, one class name, five scores
        assert _best(modules(f"m{i}", "Scorer", score), store, tmp_path / f"r{i}", nb201_csv) == (score, False)
    for j, score in enumerate(np.round(rng.uniform(0, 100, size=3), 3)):  # one module edited three times
        assert _best(modules("m0", "Scorer", float(score)), store, tmp_path / f"e{j}", nb201_csv) == (score, False)
    # the first version again: its own stored results come back
    assert _best(modules("m0", "Scorer", scores[0]), store, tmp_path / "back", nb201_csv) == (scores[0], True)


# -- weights changed behind one path ------------------------------------------------------------------
def test_fuzz_weights_changed_behind_one_path(tmp_path, nb201_csv):
    import os

    from nasrank.spaces.nb201 import Nb201Space

    space = Nb201Space()
    model = space.build(space.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
                                          "nor_conv_3x3~1|nor_conv_3x3~2|"), num_classes=10)
    shared_sd = {k: v for k, v in model.state_dict().items() if ".edges." not in k and v.is_floating_point()}
    w, store = tmp_path / "w.pt", tmp_path / "s.db"
    rng = np.random.default_rng(11)
    stamp = None
    seen: dict[float, list[float]] = {}
    for step, value in enumerate([0.01, 0.03, 0.01, 0.02]):
        torch.manual_seed(int(rng.integers(1 << 30)))
        torch.save({k: torch.full_like(v, value) for k, v in shared_sd.items()}, w)
        if stamp is not None:
            os.utime(w, ns=stamp)  # the same mtime every time
        stamp = (w.stat().st_atime_ns, w.stat().st_mtime_ns)
        rc, _, err = _cli(["evaluate", "--benchmark", f"csv:{nb201_csv}", "--rankers", "synflow", "--ranker-cfg",
                           f"weights_from={w},seeds=1", "--sample", "2", "--seed", "3", "--output",
                           str(tmp_path / f"e{step}"), "--no-plots", "--quiet", "--store", str(store)])
        assert rc == 0, err
        lines = (tmp_path / f"e{step}" / "scores.csv").read_text().splitlines()
        col = lines[0].split(",").index("score")
        got = [float(x.split(",")[col]) for x in lines[1:]]
        if value in seen:
            assert got == pytest.approx(seen[value])  # the same bytes: the same (stored) scores
        assert all(got != pytest.approx(v) for k, v in seen.items() if k != value), (value, got, seen)
        seen[value] = got


# -- conflicting per-schedule rows ------------------------------------------------------------------------
def test_fuzz_repeated_rows_must_agree_in_every_column(tmp_path):
    src = shared("nb201", "nats_1000_cifar10_12ep_vs_200ep.csv").read_text().splitlines()
    header, rows = src[0], src[1:60]
    columns = header.split(",")
    rng = np.random.default_rng(5)
    for trial in range(12):
        i = int(rng.integers(len(rows)))
        cells = rows[i].split(",")
        j = int(rng.integers(2, len(columns)))
        if trial % 4 == 0:
            again = rows[i]  # an exact repeat: accepted
        else:
            cells[j] = f"{float(cells[j]) * (1.5 if columns[j].startswith('train_seconds') else 0.5):.3f}"
            again = ",".join(cells)
        table = tmp_path / f"t{trial}.csv"
        table.write_text("\n".join([header, *rows, again]) + "\n")
        rc, _, err = _cli(["evaluate", "--benchmark", f"csv:{table}", "--rankers", "tabular", "--sample", "3",
                           "--output", str(tmp_path / f"ev{trial}"), "--no-plots", "--quiet", "--no-store"])
        if again == rows[i]:
            assert rc == 0, err
            continue
        accuracy = columns[j] == "test_acc_200ep"  # the main accuracy: named as such
        assert rc == 2 and err.count("\n") == 1 and f"line {len(rows) + 2}" in err and f"line {i + 2}" in err, err
        assert ("accuracy" if accuracy else columns[j]) in err, (columns[j], err)
