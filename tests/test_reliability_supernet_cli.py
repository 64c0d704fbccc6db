"""Issue 15 item 12 and the supernet rows of the traceback list: bad --output and sizes fail before training."""
from __future__ import annotations

import os

import pytest

from nasrank.cli import main


def _train(cifar10_dir, output, *extra):
    return main(["supernet", "train", "--epochs", "1", "--data-dir", str(cifar10_dir), "--output", str(output),
                 "--train-fraction", "0.01", "--device", "cpu", *extra])


def test_existing_folder_as_output_is_refused(tmp_path, cifar10_dir, capsys):
    folder = tmp_path / "ckpts"
    folder.mkdir()
    mode = folder.stat().st_mode
    assert _train(cifar10_dir, folder) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err and str(folder) in err
    assert os.listdir(folder) == [] and folder.stat().st_mode == mode  # no stray file, no chmod


@pytest.mark.parametrize("extra,needle", [
    (["--batch-size", "0"], "batch_size"), (["--channels", "0"], "channels"), (["--channels", "-4"], "channels"),
    (["--cells-per-stage", "0"], "cells_per_stage"), (["--image-size", "0"], "image_size"),
    (["--archs-per-step", "0"], "archs_per_step"), (["--num-supernets", "0"], "num_supernets"),
    (["--train-fraction", "0"], "train_fraction"), (["--val-fraction", "1.5"], "val_fraction"),
    (["--lr", "-1"], "lr"),
])
def test_degenerate_sizes_are_one_error(tmp_path, cifar10_dir, capsys, extra, needle):
    assert _train(cifar10_dir, tmp_path / "s.ckpt", *extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err
    assert not (tmp_path / "s.ckpt").exists()


def test_output_under_a_file_is_one_error(tmp_path, cifar10_dir, capsys):
    (tmp_path / "afile").write_text("")
    assert _train(cifar10_dir, tmp_path / "afile" / "s.ckpt") == 2
    assert "afile" in capsys.readouterr().err
