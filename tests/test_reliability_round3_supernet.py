"""Issue 32 part B: supernet checkpoints are data, never code (S2), malformed ones are one clear line
(D3), and ``supernet export`` never writes over a checkpoint (D4)."""
from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import torch

from nasrank.cli import main

REPO = Path(__file__).resolve().parents[1]
_STATES: dict[str, dict] = {}


def _state(space: str) -> tuple[dict, dict]:
    """(hyper_parameters, state_dict) of an untrained 4-channel, one-cell supernet of ``space``."""
    from nasrank.lightning_modules.supernet import SupernetModule

    if space not in _STATES:
        m = SupernetModule(space=space, channels=4, cells_per_stage=1)
        _STATES[space] = {"hp": dict(m.hparams), "sd": m.state_dict()}
    return dict(_STATES[space]["hp"]), dict(_STATES[space]["sd"])


def craft(path: Path, space: str = "nb201", hp: dict | None = None, **top) -> Path:
    """A checkpoint in the trainer's layout; ``hp`` overrides hyper-parameters, ``top`` top-level keys
    (a value of None removes the key)."""
    from nasrank.lightning_modules.supernet import CKPT_KEY

    h, sd = _state(space)
    ckpt = {"hyper_parameters": {**h, **(hp or {})}, "state_dict": sd,
            CKPT_KEY: {"train_seconds": 1.0, "train_device_seconds": 1.0, "epochs_done": 1, "global_step": 1,
                       "train_history": [], "format": 1}}
    ckpt.update(top)
    torch.save({k: v for k, v in ckpt.items() if v is not None}, path)
    return path


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


def one_error(args: list[str]) -> str:
    rc, _, err = run_cli(args)
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, (args, rc, err[-800:])
    return err


# -- S2: a checkpoint's space is a registered name, or it passes the trust gate ---------------------
@pytest.fixture()
def planted(tmp_path, monkeypatch):
    """A checkpoint naming ``helpers:X`` beside a helpers.py that leaves a marker when imported;
    the working directory is that folder."""
    marker = tmp_path / "RAN"
    (tmp_path / "helpers.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nclass X:\n    pass\n")
    craft(tmp_path / "sn.ckpt", hp={"space": "helpers:X"})
    monkeypatch.chdir(tmp_path)
    sys.modules.pop("helpers", None)
    yield tmp_path, marker
    sys.modules.pop("helpers", None)


def _no_code_ran(folder: Path, marker: Path) -> None:
    assert not marker.exists(), "the checkpoint's module was imported"
    assert str(folder) not in sys.path


@pytest.mark.parametrize("verb", ["info", "export"])
def test_s2_supernet_info_and_export_refuse_an_import_path(planted, verb):
    folder, marker = planted
    args = ["supernet", "info", "sn.ckpt"] if verb == "info" else ["supernet", "export", "sn.ckpt", "--output",
                                                                   "slim.ckpt"]
    err = one_error(args)
    assert "helpers:X" in err and "--trust-checkpoint" in err and "sn.ckpt" in err, err
    _no_code_ran(folder, marker)
    assert not (folder / "slim.ckpt").exists()


def test_s2_oneshot_never_imports_the_checkpoints_space(planted, cifar10_dir):
    folder, marker = planted
    for space in ("nb201", "nb101"):
        err = one_error(["search", "--space", space, "--benchmark", "none", "--ranker", "oneshot", "--ranker-cfg", "supernet=sn.ckpt",
                         "--data-dir", str(cifar10_dir), "--budget-queries", "2", "--output", f"run_{space}",
                         "--no-store", "--quiet", "--device", "cpu"])
        assert "helpers:X" in err and "trained on space" in err, err
    _no_code_ran(folder, marker)


def test_s2_trust_flag_imports_and_a_users_space_still_works(tmp_path, monkeypatch):
    """The explicit --trust-checkpoint imports the space (here a real user space); without it, refused."""
    monkeypatch.syspath_prepend(str(REPO))
    from examples.custom_supernet import TinyCnnSupernetSpace  # noqa: F401 (the space the checkpoint names)
    from nasrank.lightning_modules.supernet import CKPT_KEY, SupernetModule

    name = "examples.custom_supernet:TinyCnnSupernetSpace"
    m = SupernetModule(space=name)
    ckpt = tmp_path / "tiny.ckpt"
    torch.save({"hyper_parameters": dict(m.hparams), "state_dict": m.state_dict(),
                CKPT_KEY: {"train_seconds": 2.0, "epochs_done": 1}}, ckpt)
    assert "--trust-checkpoint" in one_error(["supernet", "info", str(ckpt)])
    rc, out, err = run_cli(["supernet", "info", str(ckpt), "--trust-checkpoint"])
    assert rc == 0 and name in out, err
    # the oneshot ranker of a run on that very space needs no flag: the user named the space
    from nasrank.lightning_modules.supernet import load_supernet

    module, info = load_supernet(ckpt, space=TinyCnnSupernetSpace)
    assert info["train_seconds"] == 2.0 and module.hparams.space == name


def test_s2_registry_never_appends_the_working_directory(tmp_path, monkeypatch):
    from nasrank.errors import NasrankError
    from nasrank.registry import SPACES

    marker = tmp_path / "RAN"
    (tmp_path / "cwdmod.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    monkeypatch.chdir(tmp_path)
    before = list(sys.path)
    with pytest.raises(NasrankError, match="cannot import space 'cwdmod:X'.*PYTHONPATH"):
        SPACES.get("cwdmod:X")
    assert sys.path == before and not marker.exists()


# -- D3: malformed checkpoints: one clear line each, nothing large allocated ------------------------
def _wrong_shape(sd: dict) -> dict:
    k = next(k for k, v in sd.items() if v.dim() == 4)
    return {**sd, k: torch.zeros(*[s + 1 for s in sd[k].shape])}


def _packed_mismatch(sd: dict) -> dict:
    from nasrank.lightning_modules.supernet import pack_state

    packed = pack_state(sd)
    packed["flat"] = {k: v[: len(v) // 2] for k, v in packed["flat"].items()}
    return packed


MALFORMED = {
    # name: (builder(tmp) -> path, words the one line must hold)
    "other_space": (lambda p: craft(p, hp={"space": "nb101"}, state_dict=_state("nb201")[1]), "state_dict"),
    "wrong_shape": (lambda p: craft(p, state_dict=_wrong_shape(_state("nb201")[1])), "shape"),
    "no_state_dict": (lambda p: craft(p, state_dict=None), "state_dict"),
    "hp_list": (lambda p: craft(p, hyper_parameters=[1, 2]), "hyper_parameters"),
    "hp_unknown_key": (lambda p: craft(p, hp={"chanels": 4}), "chanels"),
    "packed_mismatch": (lambda p: craft(p, state_dict=None, packed_state_dict=_packed_mismatch(_state("nb201")[1])),
                        "packed_state_dict"),
    "packed_not_dict": (lambda p: craft(p, state_dict=None, packed_state_dict=[1]), "packed_state_dict"),
    "state_dict_list": (lambda p: craft(p, state_dict=[1, 2]), "state_dict"),
    "info_not_dict": (lambda p: craft(p, nasrank_supernet=[1, 2]), "nasrank_supernet"),
    "info_bad_seconds": (lambda p: craft(p, nasrank_supernet={"train_seconds": "abc"}), "train_seconds"),
    "huge_channels": (lambda p: craft(p, hp={"channels": 4096}), "channels"),
    "text": (lambda p: (p.write_text("hello, I am a text file\n"), p)[1], "not a PyTorch checkpoint"),
    "empty": (lambda p: (p.write_bytes(b""), p)[1], "empty"),
    "folder": (lambda p: (p.mkdir(), p)[1], "folder"),
    "plain_tensor": (lambda p: (torch.save(torch.zeros(3), p), p)[1], "not a supernet checkpoint"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_d3_malformed_checkpoint_is_one_clear_line(tmp_path, case, cifar10_dir):
    build, words = MALFORMED[case]
    ckpt = build(tmp_path / "bad.ckpt")
    for args in (["supernet", "info", str(ckpt)], ["supernet", "export", str(ckpt), "--output",
                                                    str(tmp_path / "slim.ckpt")],
                 ["search", "--space", "nb101" if case == "other_space" else "nb201", "--benchmark", "none", "--ranker", "oneshot",
                  "--ranker-cfg", f"supernet={ckpt}", "--budget-queries", "2",
                  "--data-dir", str(cifar10_dir), "--output", str(tmp_path / "run"), "--no-store", "--quiet",
                  "--device", "cpu"]):
        err = one_error(args)
        assert "bad.ckpt" in err and words in err, (args, err)
    assert not (tmp_path / "slim.ckpt").exists()


def test_d3_large_hyper_parameters_fail_before_allocating(tmp_path):
    """A 4-channel checkpoint that says channels=1024 (within the bound): the shapes are compared on the
    meta device, so the 1024-channel network is never materialised."""
    import resource
    import subprocess

    ckpt = craft(tmp_path / "big.ckpt", space="darts", hp={"channels": 1024})
    assert ckpt.stat().st_size < 2_000_000
    env = dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none", OMP_NUM_THREADS="1")
    cap = 6 * 1024 ** 3  # a regression fails here with a MemoryError, not by taking the machine's memory
    proc = subprocess.Popen([sys.executable, "-m", "nasrank.cli", "supernet", "info", str(ckpt)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    assert os.waitstatus_to_exitcode(status) == 2 and err.count("\n") == 1 and "shape" in err, err
    assert usage.ru_maxrss * 1024 < 1_500_000_000, f"peak memory {usage.ru_maxrss / 1e6:.2f} GB"


def test_d3_over_the_bound_is_refused_by_train_and_by_the_loader(tmp_path, cifar10_dir):
    from nasrank.runs import limits

    big = str(limits.MAX_SUPERNET_CHANNELS + 1)
    err = one_error(["supernet", "train", "--epochs", "1", "--channels", big, "--data-dir", str(cifar10_dir),
                     "--output", str(tmp_path / "s.ckpt"), "--device", "cpu"])
    assert "channels" in err and f"{limits.MAX_SUPERNET_CHANNELS:,}" in err
    err = one_error(["supernet", "train", "--epochs", "1", "--archs-per-step", "100000", "--data-dir",
                     str(cifar10_dir), "--output", str(tmp_path / "s.ckpt"), "--device", "cpu"])
    assert "archs_per_step" in err


# -- D4: export never writes over a checkpoint ------------------------------------------------------
@pytest.mark.parametrize("target", ["slim.json", "sn.ckpt", "./sub/../sn.ckpt", "sn.json"])
def test_d4_export_refuses_to_overwrite(tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    craft(tmp_path / "sn.ckpt")
    if target == "sn.json":  # the config of --output sn.pt would be sn.json: the source itself
        os.replace(tmp_path / "sn.ckpt", tmp_path / "sn.json")
        source, target = "sn.json", "sn.pt"
    else:
        source = "sn.ckpt"
    before = (tmp_path / source).read_bytes()
    err = one_error(["supernet", "export", source, "--output", target])
    assert "--output" in err, err
    assert (tmp_path / source).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["sub", source])


def test_d4_plain_export_still_works(tmp_path):
    import json

    src = craft(tmp_path / "sn.ckpt")
    rc, out, err = run_cli(["supernet", "export", str(src), "--output", str(tmp_path / "slim.pt")])
    assert rc == 0, err
    assert json.loads((tmp_path / "slim.json").read_text())["hyper_parameters"]["channels"] == 4
    rc, out, err = run_cli(["supernet", "info", str(tmp_path / "slim.pt")])
    assert rc == 0 and json.loads(out)["hyperparameters"]["space"] == "nb201"


# -- D12 / minor: training stops cleanly on SIGTERM, and prints no Lightning notices --------------------
@pytest.mark.parametrize("signame,code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_d12_a_signal_saves_what_was_trained_and_exits(tmp_path, cifar10_dir, signame, code):
    import signal
    import subprocess
    import time

    out = tmp_path / "sn.ckpt"
    env = dict(os.environ, PYTHONPATH=str(REPO), NASRANK_STORE="none", OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "nasrank.cli", "supernet", "train", "--epochs", "100000",
                             "--channels", "4", "--cells-per-stage", "1", "--image-size", "8", "--batch-size", "64",
                             "--train-fraction", "0.02", "--data-dir", str(cifar10_dir), "--device", "cpu",
                             "--quiet", "--no-logs", "--save-epochs", "1", "--output", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (tmp_path / "sn-ep1.ckpt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(getattr(signal, signame))
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr[-1500:]
    assert "Traceback" not in stderr and "weights_only" not in stderr, stderr[-1500:]
    assert signame != "SIGTERM" or "stopped by SIGTERM" in stderr, stderr[-1500:]
    from nasrank.lightning_modules.supernet import load_supernet

    module, info = load_supernet(out)
    assert info["stopped_by"] == signame and info["epochs_done"] >= 1 and info["global_step"] >= 1
    assert module.hparams.epochs == 100000
