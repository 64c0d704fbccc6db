"""Issue 15 item 11 and the traceback list: degenerate or non-numeric values get one clear error."""
from __future__ import annotations

import pytest

from nasrank.cli import main
from nasrank.errors import NasrankError

SEARCH = ["search", "--budget-queries", "2", "--quiet", "--no-store"]


@pytest.fixture()
def bench(nb201_csv):
    return ["--benchmark", f"csv:{nb201_csv}"]


@pytest.mark.parametrize("extra,needle", [
    (["--seed", "-1"], "seed"),
    (["--space-cfg", "channels=0"], "channels"),
    (["--space-cfg", "channels=-3"], "channels"),
    (["--space-cfg", "channels=abc"], "channels"),
    (["--space-cfg", "cells_per_stage=0"], "cells_per_stage"),
    (["--space-cfg", "channels=2.5"], "channels"),
    (["--ranker-cfg", "epochs=-200"], "epochs"),
    (["--ranker-cfg", "epochs=0"], "epochs"),
    (["--ranker-cfg", "epochs=abc"], "epochs"),
    (["--ranker-cfg", "seconds_per_query=-1"], "seconds_per_query"),
    (["--searcher", "evolution", "--searcher-cfg", "population_size=abc"], "population_size"),
    (["--searcher", "evolution", "--searcher-cfg", "sample_size=x"], "sample_size"),
    (["--searcher", "random", "--searcher-cfg", "batch_size=0"], "batch_size"),
    (["--ranker", "cascade", "--ranker-cfg", "keep_fraction=abc"], "keep_fraction"),
    (["--ranker", "params", "--space-cfg", "channels=true"], "channels"),
])
def test_one_clear_error(bench, extra, needle, capsys):
    assert main(SEARCH + bench + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nasrank search: error:") and needle in err, err


@pytest.mark.parametrize("space,cfg", [
    ("nb201", {"num_classes": 0}), ("nb101", {"stem_channels": 0}), ("nb101", {"num_stacks": -1}),
    ("darts", {"layers": 0}), ("darts", {"channels": "16"}), ("nds_resnet", {"width_mult": 0}),
    ("nds_resnet", {"max_depth": 0}), ("nds_resnexta", {"width_mult": float("nan")}),
])
def test_spaces_validate_their_options(space, cfg):
    import nasrank.spaces  # noqa: F401
    from nasrank.registry import SPACES

    with pytest.raises(NasrankError, match=next(iter(cfg))):
        SPACES.create(space, **cfg)


@pytest.mark.parametrize("cfg", [{"threshold": "abc"}, {"threshold": 0}, {"max_stage1_epochs": "x"},
                                 {"stage2_epochs": 0}, {"reject_ratio": "x"}])
def test_fear_options(cfg, cifar10_dir):
    import nasrank.rankers  # noqa: F401
    from nasrank.rankers.base import RunContext
    from nasrank.registry import RANKERS
    from nasrank.spaces.nb201 import Nb201Space

    with pytest.raises(NasrankError, match=next(iter(cfg))):
        RANKERS.create("fear", Nb201Space(), RunContext(data_dir=str(cifar10_dir)), **cfg)


@pytest.mark.parametrize("cfg", [{"epochs": "abc"}, {"epochs": 0}, {"batch_size": "x"}, {"lr": "x"},
                                 {"channels": 0}, {"image_size": 0}, {"train_fraction": 0}, {"val_fraction": 2}])
def test_training_options(cfg, cifar10_dir):
    import nasrank.rankers  # noqa: F401
    from nasrank.rankers.base import RunContext
    from nasrank.registry import RANKERS
    from nasrank.spaces.nb201 import Nb201Space

    with pytest.raises(NasrankError, match=next(iter(cfg))):
        RANKERS.create("train", Nb201Space(), RunContext(data_dir=str(cifar10_dir)), **cfg)
