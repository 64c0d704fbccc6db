"""``nasrank supernet``: train a one-shot supernet once, then rank with ``--ranker oneshot``.

``nasrank supernet train --space nb201 --sampling deiso --epochs E --seed K --dataset cifar10
--data-dir DIR --output CKPT`` trains through ``lightning.Trainer`` and saves CKPT; then
``nasrank search ... --ranker oneshot --ranker-cfg supernet=CKPT`` uses it.
``nasrank supernet export CKPT --output PATH`` writes a slim copy (weights, config and training
record only; loadable with ``weights_only=True``) plus ``PATH.json``.
``nasrank supernet info CKPT`` prints the configuration and training cost stored in a checkpoint.
"""
from __future__ import annotations

import argparse
import json

from pathlib import Path

from nasrank.errors import NasrankError
from nasrank.commands.common import add_device_arg, add_logs_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("supernet", help="train / inspect one-shot supernets", description=__doc__)
    ss = p.add_subparsers(dest="supernet_command", required=True)

    t = ss.add_parser("train", help="train a supernet and save its checkpoint")
    t.add_argument("--space", default="nb201",
                   help="search space with a supernet (nb201, nb101, darts, or a user's space that provides one)")
    t.add_argument("--sampling", default="uniform",
                   help="uniform | fair | deiso (uniform over isomorphism classes; nb201 and nb101)")
    t.add_argument("--archs-per-step", type=int, default=1, help="architectures per step (gradients averaged)")
    t.add_argument("--num-supernets", type=int, default=1, help="K supernets, each owning a part of the space")
    t.add_argument("--partition", default=None,
                   help="rule splitting the space among K supernets (nb201: edge (default) | hash; others: hash)")
    t.add_argument("--canonical-routing", action="store_true",
                   help="run every cell through its isomorphism class representative's path")
    t.add_argument("--epochs", type=int, required=True)
    t.add_argument("--save-epochs", default="", metavar="E1,E2,...",
                   help="also save CKPT-stem-ep<E>.ckpt after these epochs")
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--lr-schedule", default="cosine", help="cosine | constant")
    t.add_argument("--grad-clip", type=float, default=5.0, help="Trainer gradient_clip_val (per supernet)")
    t.add_argument("--batch-size", type=int, default=512)
    t.add_argument("--channels", type=int, default=16)
    t.add_argument("--cells-per-stage", type=int, default=5)
    t.add_argument("--image-size", type=int, default=None, help="resize images (default: native)")
    t.add_argument("--train-fraction", type=float, default=1.0, help="fraction of the training split used")
    t.add_argument("--val-fraction", type=float, default=0.1, help="held-out fraction (the ranker scores on it)")
    t.add_argument("--no-augment", action="store_true", help="no random crop / flip")
    t.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | ImageNet16-120")
    t.add_argument("--data-dir", default=None, help="folder holding the dataset in its official format")
    add_device_arg(t)
    t.add_argument("--seed", type=int, default=0)
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
    e.set_defaults(func=run_export)

    i = ss.add_parser("info", help="print a supernet checkpoint's configuration and training cost")
    i.add_argument("checkpoint")
    i.set_defaults(func=run_info)


def _epochs_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise NasrankError(f"malformed --save-epochs {text!r}; expected comma-separated integers") from None


def run_train(args: argparse.Namespace) -> int:
    from nasrank.lightning_modules.supernet import train_supernet

    summary = train_supernet(
        args.output, data_dir=args.data_dir, epochs=args.epochs, device=args.device, progress=not args.quiet,
        log_dir=None if args.no_logs else Path(args.output).parent / "logs",
        save_epochs=_epochs_list(args.save_epochs), sampling=args.sampling, archs_per_step=args.archs_per_step,
        num_supernets=args.num_supernets, partition=args.partition, canonical_routing=args.canonical_routing,
        channels=args.channels, cells_per_stage=args.cells_per_stage, lr=args.lr, momentum=args.momentum,
        weight_decay=args.weight_decay, lr_schedule=args.lr_schedule, seed=args.seed, dataset=args.dataset,
        image_size=args.image_size, train_fraction=args.train_fraction, val_fraction=args.val_fraction,
        batch_size=args.batch_size, grad_clip=args.grad_clip, augment=not args.no_augment, space=args.space)
    print(json.dumps(summary, indent=2, default=str))
    return 0


def run_info(args: argparse.Namespace) -> int:
    from nasrank.lightning_modules.supernet import load_supernet

    module, info = load_supernet(args.checkpoint)
    print(json.dumps({"checkpoint": args.checkpoint, "hyperparameters": dict(module.hparams), **info},
                     indent=2, default=str))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from nasrank.lightning_modules.supernet import export_supernet

    record = export_supernet(args.checkpoint, args.output)
    print(json.dumps({"output": args.output, **record}, indent=2, default=str))
    return 0
