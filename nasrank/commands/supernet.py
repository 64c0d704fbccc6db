"""``nasrank supernet``: train a one-shot supernet once, then rank with ``--ranker oneshot``.

``nasrank supernet train --space nb201 --sampling deiso --epochs E --seed K --dataset cifar10
--data-dir DIR --output CKPT`` trains through ``lightning.Trainer`` and saves CKPT; then
``nasrank search ... --ranker oneshot --ranker-cfg supernet=CKPT`` uses it.
``nasrank supernet export CKPT --output PATH`` writes a slim copy (weights, config and training
record only; loadable with ``weights_only=True``) plus ``PATH.json``.
``nasrank supernet info CKPT`` prints the configuration and training cost stored in a checkpoint.
A checkpoint whose space is an import path (``pkg.mod:Class``) is refused by ``info`` and ``export``
unless ``--trust-checkpoint`` is given (importing it runs that module's code).
"""
from __future__ import annotations

import argparse
import json

from pathlib import Path

from nasrank.errors import NasrankError
from nasrank.commands.common import add_declared_flags, add_device_arg, add_logs_arg, declared_values
from nasrank.lightning_modules.supernet_options import SupernetOptions


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("supernet", help="train / inspect one-shot supernets", description=__doc__)
    ss = p.add_subparsers(dest="supernet_command", required=True)

    t = ss.add_parser("train", help="train a supernet and save its checkpoint")
    add_declared_flags(t, SupernetOptions, required=("epochs",))  # one flag per declared option
    t.add_argument("--save-epochs", default="", metavar="E1,E2,...",
                   help="also save CKPT-stem-ep<E>.ckpt after these epochs")
    t.add_argument("--data-dir", default=None, help="folder holding the dataset in its official format")
    add_device_arg(t)
    t.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch CPU threads (default: $OMP_NUM_THREADS if set, else the cores this process may use)")
    t.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    add_logs_arg(t)
    t.add_argument("--output", required=True, metavar="CKPT", help="checkpoint path to write")
    t.set_defaults(func=run_train)

    e = ss.add_parser("export", help="write a slim weights-only copy of a checkpoint (+ a JSON config beside it)")
    e.add_argument("checkpoint")
    e.add_argument("--output", required=True, metavar="PATH", help="slim checkpoint to write (config: PATH.json)")
    _add_trust(e)
    e.set_defaults(func=run_export)

    i = ss.add_parser("info", help="print a supernet checkpoint's configuration and training cost")
    i.add_argument("checkpoint")
    _add_trust(i)
    i.set_defaults(func=run_info)


def _add_trust(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="import the space a checkpoint names by import path (pkg.mod:Class), which runs that "
                        "module's code; without it such a checkpoint is refused")


def _epochs_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise NasrankError(f"malformed --save-epochs {text!r}; expected comma-separated integers") from None


def run_train(args: argparse.Namespace) -> int:
    from nasrank.lightning_modules.supernet import train_supernet

    summary = train_supernet(
        args.output, data_dir=args.data_dir, device=args.device, progress=not args.quiet,
        log_dir=None if args.no_logs else Path(args.output).parent / "logs",
        save_epochs=_epochs_list(args.save_epochs), **declared_values(args, SupernetOptions))
    print(json.dumps(summary, indent=2, default=str))
    if summary.get("stopped_by") == "SIGTERM":
        import sys

        print(f"nasrank supernet train: stopped by SIGTERM after {summary['epochs_done']} complete epoch(s) and "
              f"{summary['global_step']} steps; what was trained is saved in {summary['output']}", file=sys.stderr)
        return 143
    return 0


def run_info(args: argparse.Namespace) -> int:
    from nasrank.lightning_modules.supernet import load_supernet

    module, info = load_supernet(args.checkpoint, trust=args.trust_checkpoint)
    print(json.dumps({"checkpoint": args.checkpoint, "hyperparameters": dict(module.hparams), **info},
                     indent=2, default=str))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from nasrank.lightning_modules.supernet import export_supernet

    record = export_supernet(args.checkpoint, args.output, trust=args.trust_checkpoint)
    print(json.dumps({"output": args.output, **record}, indent=2, default=str))
    return 0
