"""Command-line options that several sub-commands share, and turning them into experiment pieces."""
from __future__ import annotations

import argparse

from nasrank.experiments.build import make_context, make_space, parse_cfg
from nasrank.store import DEFAULT_STORE, ENV_VAR, default_store_path


def add_space_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--space", default="nb201", help="space name (see `nasrank spaces`) or pkg.module:Class")
    p.add_argument("--space-cfg", action="append", metavar="KEY=VALUE",
                   help="space constructor options, e.g. channels=8,cells_per_stage=1")


def add_context_args(p: argparse.ArgumentParser) -> None:
    from nasrank.benchmarks import SPEC_HELP

    p.add_argument("--benchmark", default=None, help=f"ground truth: {SPEC_HELP}")
    p.add_argument("--dataset", default="cifar10", help="cifar10 | cifar100 | ImageNet16-120")
    p.add_argument("--data-dir", default=None, help="folder holding the dataset in its official format")
    add_device_arg(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the searcher, sampling and training")
    add_threads_arg(p)
    p.add_argument("--progress", action="store_true", help="show Lightning's training progress bars")


def device_choice(text: str) -> str:
    """argparse type of ``--device``: one of auto, cpu, gpu (with a "did you mean" hint)."""
    from nasrank.errors import did_you_mean
    from nasrank.runtime.devices import DEVICES

    if text not in DEVICES:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(DEVICES)}{did_you_mean(text, DEVICES)}")
    return text


def add_device_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", type=device_choice, default="auto", metavar="{auto,cpu,gpu}",
                   help="where networks train and run (gpu: a CUDA GPU must be visible)")


#: the scale flags every command shares (and `supernet train` has under the same names)
SCALE_FLAGS = ("channels", "cells_per_stage", "image_size", "train_fraction", "batch_size")


def add_scale_args(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The one way to set the network and training scale: ``--channels``, ``--cells-per-stage``, ...

    Each ranker gets the ones it takes (training rankers all; zero-shot and #params/#FLOPs the
    network's ``channels``/``cells-per-stage``); ``--ranker-cfg`` overrides them per ranker.
    """
    g = p.add_argument_group("scale (every ranker gets the ones it takes; --ranker-cfg overrides)")
    g.add_argument("--preset", default=None, choices=("tiny", "cpu", "full"),
                   help="a network scale with FEAR's threshold to match: tiny (C=4, N=1, 8 px, FEAR 0.2), "
                        "cpu (C=8, N=1, 16 px, FEAR 0.3), full (C=16, N=5, native px, FEAR per dataset); "
                        "the flags below and --ranker-cfg override it")
    g.add_argument("--channels", type=int, default=None, help="network width (space.build)")
    g.add_argument("--cells-per-stage", type=int, default=None, help="cells per stage (space.build)")
    g.add_argument("--image-size", type=int, default=None, help="resize images to this size (training rankers)")
    g.add_argument("--train-fraction", type=float, default=None,
                   help="fraction of the training images used (training rankers)")
    g.add_argument("--batch-size", type=int, default=None, help="training batch size (training rankers)")
    return g


def scale_from_args(args: argparse.Namespace) -> dict:
    """The scale flags that were given, each checked: a positive integer (``--train-fraction``: in (0, 1]);
    ``--channels 0`` is an error, never the default network. ``--preset`` fills the ones not given."""
    from nasrank import validate

    out = {}
    for k in SCALE_FLAGS:
        v = getattr(args, k, None)
        if v is None:
            continue
        flag = "--" + k.replace("_", "-")
        out[k] = (validate.number(v, flag, "the network scale", 0.0, 1.0, low_open=True) if k == "train_fraction"
                  else validate.integer(v, flag, "the network scale"))
    from nasrank.experiments.presets import preset_scale

    return preset_scale(getattr(args, "preset", None), out)


def add_executor_args(p: argparse.ArgumentParser, what: str = "evaluations") -> None:
    """``--executor``, ``--workers``, ``--ray-address`` and ``--gpus-per-task`` (search, evaluate, compare)."""
    p.add_argument("--executor", default="serial", help=f"serial | ray (run --workers {what} at a time)")
    p.add_argument("--workers", type=int, default=2, help="Ray workers (with --executor ray)")
    p.add_argument("--ray-address", default=None, help="address of an existing Ray cluster")
    p.add_argument("--gpus-per-task", type=float, default=1.0,
                   help="GPUs each Ray task asks for on a cluster with GPUs (default 1: one candidate per GPU; "
                        "below 1 shares a GPU between processes, which only pays under NVIDIA MPS)")


def executor_config(args: argparse.Namespace):
    """The :class:`~nasrank.experiments.config.ExecutorConfig` of ``--executor`` ... ``--gpus-per-task``
    (``--workers`` checked against :data:`nasrank.runs.limits.MAX_WORKERS`)."""
    from nasrank.experiments.config import ExecutorConfig
    from nasrank.runs.limits import MAX_WORKERS, count

    count(args.workers, "--workers", MAX_WORKERS)
    return ExecutorConfig(args.executor, args.workers, args.ray_address, args.gpus_per_task)


def add_ranker_cfg_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ranker-cfg", action="append", metavar="KEY=VALUE",
                   help="ranker options, e.g. batch_size=64,seeds=1 (repeatable)")


def space_from_args(args: argparse.Namespace):
    """The space ``--space``/``--space-cfg`` name."""
    return make_space(args.space, parse_cfg(args.space_cfg, "--space-cfg"))


def context_from_args(args: argparse.Namespace, space):
    """The run context of ``--benchmark``, ``--dataset``, ``--data-dir``, ``--device``, ``--seed``, ``--progress``."""
    return make_context(space, benchmark=args.benchmark, dataset=args.dataset, data_dir=args.data_dir,
                        device=args.device, seed=args.seed, progress=getattr(args, "progress", False))


def add_format_arg(p: argparse.ArgumentParser) -> None:
    """``--format png,pdf,svg`` on a sub-command that writes figures."""
    from nasrank.evaluation.formats import FORMATS, parse_formats
    from nasrank.errors import NasrankError

    def formats(text: str) -> list[str]:
        try:
            return parse_formats(text)
        except NasrankError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None

    p.add_argument("--format", type=formats, default="png", metavar="FMT[,FMT]",
                   help=f"figure formats, comma-separated: {', '.join(FORMATS)} (default: png)")


def add_logs_arg(p: argparse.ArgumentParser) -> None:
    """``--no-logs`` on a sub-command that trains networks."""
    p.add_argument("--no-logs", action="store_true",
                   help="write no training logs (default: per-epoch loss/accuracy CSV, and TensorBoard when "
                        "installed, under the run folder's logs/)")


def add_threads_arg(p: argparse.ArgumentParser) -> None:
    """``--threads N``: torch CPU threads (default: the cores this process may use, or $OMP_NUM_THREADS)."""
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch CPU threads (default: $OMP_NUM_THREADS if set, else the cores this process may use)")


# -- flags from a declaration -------------------------------------------------------------------
def add_declared_flags(p: argparse.ArgumentParser, decl: type, required: tuple[str, ...] = ()) -> None:
    """One flag per option of ``decl`` (see :mod:`nasrank.options`): ``--name`` typed from the declaration,
    ``--no-name`` for a flag that is on by default; its help and default come from the declaration."""
    import dataclasses

    for f in dataclasses.fields(decl):
        if not f.metadata.get("flag", True):
            continue
        flag, text = "--" + f.name.replace("_", "-"), f.metadata.get("help") or None
        default = decl.__dataclass_fields__[f.name].default
        kind = str(f.type)
        if kind == "bool":
            if default:
                p.add_argument(f"--no-{f.name.replace('_', '-')}", dest=f"no_{f.name}", action="store_true",
                               help=f"off: {text}" if text else None)
            else:
                p.add_argument(flag, action="store_true", help=text)
            continue
        typed = {"type": int} if kind.startswith("int") else {"type": float} if kind.startswith("float") else {}
        if f.name in required:
            p.add_argument(flag, required=True, help=text, **typed)
        else:
            p.add_argument(flag, default=default, help=text, **typed)


def declared_values(args: argparse.Namespace, decl: type) -> dict:
    """The options of ``decl`` that :func:`add_declared_flags` offered, read back from ``args``."""
    import dataclasses

    out = {}
    for f in dataclasses.fields(decl):
        if not f.metadata.get("flag", True):
            continue
        if hasattr(args, f"no_{f.name}"):
            out[f.name] = not getattr(args, f"no_{f.name}")
        else:
            out[f.name] = getattr(args, f.name)
    return out


# -- the result store ---------------------------------------------------------------------------
def add_store_args(p: argparse.ArgumentParser) -> None:
    """``--store PATH`` and ``--no-store``."""
    p.add_argument("--store", default=None, metavar="PATH",
                   help=f"result store (SQLite); default ${ENV_VAR} or {DEFAULT_STORE}")
    p.add_argument("--no-store", action="store_true", help="neither read nor write the result store")


def store_path(args: argparse.Namespace) -> str | None:
    """The store path the options select (None when disabled)."""
    if getattr(args, "no_store", False):
        return None
    return getattr(args, "store", None) or default_store_path()


def make_store(args: argparse.Namespace, create: bool = True) -> "ResultStore | None":
    """The :class:`ResultStore` the options select, or None with ``--no-store``."""
    from nasrank.store import ResultStore

    path = store_path(args)
    return None if path is None else ResultStore(path, create=create)


def store_line(stats: dict) -> str:
    """What the result store served: ``300 of 300 results served from earlier runs (shared store PATH)``."""
    import os

    cached, fresh = int(stats.get("n_cached", 0)), int(stats.get("n_fresh", 0))
    path = str(stats.get("store", ""))
    default = default_store_path()
    shared = default is not None and os.path.abspath(os.path.expanduser(default)) == os.path.abspath(
        os.path.expanduser(path))
    return (f"{cached} of {cached + fresh} results served from earlier runs"
            f"{f', {fresh} computed now' if fresh and cached else ''} ({'shared ' if shared else ''}store {path})")
