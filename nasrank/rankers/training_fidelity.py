"""The fidelity contract of the ``train`` ranker (:mod:`nasrank.rankers.fidelity`): train to a
budget of epochs, keep the training state, continue it later.

* The learning-rate schedule is the ranker's cosine over ``max_fidelity()`` =
  ``schedule_epochs or epochs`` whatever the budget, so a network trained to 3 epochs, kept,
  and continued to 9 is the network trained to 9 epochs in one run (same weights, same
  optimizer state, same batches): the continuation restores the Lightning checkpoint (weights,
  optimizer, scheduler, loop counters) and the torch random state as it was at the end of
  training (scoring passes draw from it; the continuation must not see those draws).
* The state of each architecture is one checkpoint ``<run>@<epochs>.ckpt`` plus
  ``<run>.state.pt`` (epochs, random state, the evaluation made at that budget, the
  checkpoint's file name), written checkpoint first, each atomically, so a kill leaves either
  the old state or the new one. It lives in ``use_state_dir(path)`` (a multi-fidelity search
  with an output folder puts it in ``OUT/fidelity_state``, shared by Ray workers and kept for
  ``--resume``), else in a temporary folder of this process. It is read and written as input
  that may come from someone else (:mod:`nasrank.rankers.training_state`: tensors and plain
  data only, no link followed, paths resolved against the state folder).
* ``evaluate_at(arch, budget, start)`` charges the wall time of this call only: the added
  epochs and the scoring. When the state at ``start`` is missing (another process's temporary
  folder, released, or ``start`` is 0) it trains from scratch, ``info["restarted"]`` says so
  when ``start`` was not 0, and the whole time is charged. When the kept state is already at
  ``budget`` with its evaluation (a kill between the state and the history line), that
  evaluation is returned as it was, with its charge (``info["recovered"]``).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from nasrank.errors import NasrankError
from nasrank.lightning_modules.checkpoint_io import use_run_folder_io
from nasrank.rankers.base import Evaluation
from nasrank.rankers.training_state import check_state_folder, read_state, state_folder, write_state
from nasrank.spaces.base import Arch


class ContinuedTraining:
    """Mixin for :class:`~nasrank.rankers.training.TrainRanker`: ``fidelity_grid``, ``max_fidelity``,
    ``evaluate_at``, ``release`` and ``use_state_dir`` (see the module docstring)."""

    _fidelity_dir: Path | None = None
    _fidelity_own_tmp: bool = False  # the folder is this process's temporary one

    # -- where the state lives ---------------------------------------------------
    def use_state_dir(self, path: str | Path) -> None:
        """Keep every architecture's training state under ``path`` (created if needed; every state
        already kept there is checked now, before any work)."""
        self._fidelity_dir = state_folder(path)
        self._fidelity_own_tmp = False
        check_state_folder(self._fidelity_dir)

    def _state_dir(self) -> Path:
        if self._fidelity_dir is None:
            self._fidelity_dir = Path(tempfile.mkdtemp(prefix="nasrank-fidelity-"))
            self._fidelity_own_tmp = True
        return self._fidelity_dir

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state.get("_fidelity_own_tmp"):
            state["_fidelity_dir"], state["_fidelity_own_tmp"] = None, False  # a process's temporary folder stays
        return state

    def _paths(self, arch: Arch) -> tuple[Path, str]:
        run = self.run_name(arch)  # type: ignore[attr-defined]
        return self._state_dir() / f"{run}.state.pt", run

    def _load(self, arch: Arch) -> dict[str, Any] | None:
        meta_path, _ = self._paths(arch)
        if not os.path.lexists(meta_path):
            return None
        meta = read_state(meta_path)
        ckpt = self._state_dir() / meta["ckpt"]  # a file name in the state folder, wherever the run is
        if meta["arch"] != self.space.to_string(arch) or not os.path.lexists(ckpt):  # type: ignore[attr-defined]
            return None
        return {**meta, "ckpt": ckpt}

    # -- the contract --------------------------------------------------------------
    def fidelity_grid(self) -> None:
        """Any whole number of epochs up to :meth:`max_fidelity`."""
        return None

    def max_fidelity(self) -> int:
        """The horizon of the learning-rate schedule: ``schedule_epochs`` if given, else ``epochs``."""
        return int(self.schedule_epochs or self.epochs)  # type: ignore[attr-defined]

    def release(self, arch: Arch) -> None:
        """Delete the state kept for ``arch``."""
        meta_path, run = self._paths(arch)
        meta_path.unlink(missing_ok=True)
        for ckpt in self._state_dir().glob(f"{run}@*.ckpt"):
            ckpt.unlink(missing_ok=True)

    def evaluate_at(self, arch: Arch, budget: int, start: int = 0) -> Evaluation:
        """Train ``arch`` to ``budget`` epochs (continuing from its state at ``start``) and score it."""
        if not isinstance(budget, int) or not 1 <= budget <= self.max_fidelity():
            raise NasrankError(f"ranker {self.registry_name!r}: budget must be a whole number of epochs in "  # type: ignore[attr-defined]
                               f"1..{self.max_fidelity()} (its schedule), got {budget!r}")
        t0 = time.perf_counter()
        kept = self._load(arch)
        if kept is not None and kept["epochs"] == budget and kept.get("evaluation") is not None:
            score, seconds, info = kept["evaluation"]
            devices = info.get("devices")
            devices = devices if isinstance(devices, int) and not isinstance(devices, bool) and devices > 0 else 1
            return Evaluation(score, seconds, seconds * devices, {**info, "recovered": True})
        resume = kept if (start and kept is not None and kept["epochs"] == start) else None
        dm = self.datamodule()  # type: ignore[attr-defined]
        if resume is None:
            self.seed_run()  # type: ignore[attr-defined]
        module = self.module(self.build(arch), self.max_fidelity())  # type: ignore[attr-defined]
        meta_path, run = self._paths(arch)
        trainer = use_run_folder_io(self.trainer(budget, name=f"{run}@{budget}"),  # type: ignore[attr-defined]
                                    "delete it to train that architecture again from scratch")
        if resume is not None:
            torch.set_rng_state(resume["rng"])
            trainer.fit(module, datamodule=dm, ckpt_path=resume["ckpt"], weights_only=True)
        else:
            trainer.fit(module, datamodule=dm)
        rng = torch.get_rng_state()
        ckpt = self._state_dir() / f"{run}@{budget}.ckpt"
        trainer.save_checkpoint(ckpt)
        score, info = self._score_trained(trainer, module, dm)
        dt = time.perf_counter() - t0
        info.update({"fidelity": budget, "continued_from": resume["epochs"] if resume else 0,
                     "epochs_trained": budget - (resume["epochs"] if resume else 0)})
        if start and resume is None:
            info["restarted"] = True
        write_state(meta_path, {"arch": self.space.to_string(arch), "epochs": budget, "ckpt": ckpt.name,  # type: ignore[attr-defined]
                                "rng": rng, "evaluation": (score, dt, info)})
        for old in self._state_dir().glob(f"{run}@*.ckpt"):
            if old != ckpt:
                old.unlink(missing_ok=True)
        return Evaluation(score, dt, dt * info["devices"], info)

    def _score_trained(self, trainer: Any, module: Any, dm: Any) -> tuple[float, dict[str, Any]]:
        """The ranker's scoring protocol on the trained network, and the info of a ``train`` evaluation."""
        from nasrank.lightning_modules.classification import trainer_devices
        from nasrank.rankers.training_scores import PASSES, passes_for, score_protocols

        protocol = self.score_protocol  # type: ignore[attr-defined]
        passes = list(PASSES) if self.record_protocols else passes_for([protocol])  # type: ignore[attr-defined]
        values, pass_seconds = score_protocols(trainer, module, dm, passes, train_eval_images=self.train_eval_images,  # type: ignore[attr-defined]
                                               seed=self.split_seed, batch_size=dm.eval_batch_size)  # type: ignore[attr-defined]
        value = float(values.get(protocol, float("nan")))
        info: dict[str, Any] = {"epochs": int(trainer.current_epoch), "steps": int(trainer.global_step),
                                "train_acc": module.epoch_train_acc[-1] if module.epoch_train_acc else None,
                                "score_protocol": protocol, protocol: value, "devices": trainer_devices(trainer)}
        if self.record_protocols:  # type: ignore[attr-defined]
            info["protocols"], info["protocol_seconds"] = values, pass_seconds
        if value != value:
            info["invalid"] = "nan"
        return value, info
