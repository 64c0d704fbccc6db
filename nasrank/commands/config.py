"""Experiment files: ``--config FILE.yaml`` for ``search``, ``evaluate``, ``compare`` and ``supernet train``.

The file is a YAML mapping of the command's options, named as on the command
line with ``-`` or ``_`` (``budget-queries: 300`` or ``budget_queries: 300``).
Values are any YAML (numbers, lists, mappings); the ``*-cfg`` options take a
mapping (``ranker-cfg: {epochs: 12, build_kwargs: {channels: 4}}``) or the
``KEY=VALUE`` strings of the command line. Flags given on the command line
override the file (``--ranker-cfg`` flags are applied after the file's).

Every run folder receives a ``config.yaml`` (:func:`write_run_config`): the run's configuration
as data. It reproduces the run when passed back with ``--config`` (give a new ``--output``), and
``nasrank search --resume DIR`` reads it (:mod:`nasrank.runs.trust`; it is the folder's only config file).

Read with PyYAML's ``safe_load`` (already a dependency of Lightning): the
options stay argparse's, so ``--help``, defaults, choices and error messages are
one system; OmegaConf's interpolation or jsonargparse's parser replacement would
add a second one for no need here.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

from nasrank.errors import MissingFileError, NasrankError, did_you_mean

#: the commands that take --config and write config.yaml (their words on the command line)
CONFIG_COMMANDS = (("search",), ("evaluate",), ("compare",), ("supernet", "train"))
#: options never written to config.yaml: where the run goes, how it is shown, and the file itself
NOT_RECORDED = {"config", "output", "resume", "overwrite", "quiet", "func", "command", "supernet_command",
                "progress", "trust_config"}
CONFIG_FILE = "config.yaml"
#: what a run folder's config.yaml records about the run beyond its options (read by --resume, not --config)
RECORD_ONLY = {"benchmark_fingerprint"}


def add_config_arg(p: argparse.ArgumentParser) -> None:
    """``--config FILE.yaml`` (command-line flags override the file)."""
    p.add_argument("--config", default=None, metavar="FILE.yaml",
                   help="experiment file: a YAML mapping of these options (flags override it); every run "
                        "folder gets a config.yaml that reproduces the run")
    if not any("--trust-config" in a.option_strings for a in p._actions):
        p.add_argument("--trust-config", action="store_true",
                       help="act on the import paths, pickled benchmark or file paths named in a --config "
                            "file that another user created or may edit")


def load_config(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML experiment file; one clear error for a missing or malformed file, a file
    that is binary or over the size limit, or one that uses YAML aliases (:mod:`nasrank.runs.safe_yaml`)."""
    import yaml

    from nasrank.runs.safe_yaml import load_yaml, read_text

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "--config file")
    try:
        data = load_yaml(read_text(path, "--config"), f"--config {path}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise NasrankError(f"--config {path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise NasrankError(f"--config {path}: expected a mapping of options, got {type(data).__name__}")
    return data


def _option_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions if a.option_strings and a.dest not in ("help", "version")}


def _as_cfg_list(key: str, value: Any, path: Path) -> list[Any]:
    """A ``*-cfg`` value from the file: a mapping (kept whole) or KEY=VALUE strings."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, (str, dict)) for v in value):
        return list(value)
    raise NasrankError(f"--config {path}: {key} must be a mapping or KEY=VALUE strings, got {value!r}")


def check_config_file(path: Path, data: dict[str, Any], trusted: bool, command: str) -> None:
    """The trust gate of ``--config FILE`` (as of a resumed run folder's config.yaml): what the file
    names to import, run, read or write is printed; a file another user created or may edit is
    refused unless ``trusted`` (:func:`nasrank.runs.trust.check_config_trust`)."""
    import sys

    from nasrank.runs.trust import check_config_trust

    options = {str(k).replace("-", "_"): v for k, v in data.items()}
    for k in ("space_cfg", "searcher_cfg", "ranker_cfg"):  # as a resume sees them: a list, or a mapping
        if isinstance(options.get(k), str):
            options[k] = [options[k]]
    refs = check_config_trust(path, options, trusted)
    if refs:
        print(f"nasrank {command}: note: --config {path} names code to run or paths to read or write: "
              f"{'; '.join(refs)}", file=sys.stderr)


def apply_config(parser: argparse.ArgumentParser, path: str | Path, trusted: bool = False) -> None:
    """Make the file's values ``parser``'s defaults (so that flags parsed afterwards override them),
    once the file passes the trust gate (:func:`check_config_file`)."""
    path = Path(path)
    data = load_config(path)
    check_config_file(path, data, trusted, parser.prog.replace("nasrank ", "", 1))
    actions = _option_actions(parser)
    defaults: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        if key in RECORD_ONLY:
            continue
        if key not in actions or key in ("config",):
            names = [d.replace("_", "-") for d in actions if d != "config"]
            raise NasrankError(f"--config {path}: unknown option {raw_key!r}"
                               f"{did_you_mean(str(raw_key).replace('_', '-'), names)}")
        action = actions[key]
        if isinstance(action, argparse._AppendAction):
            value = _as_cfg_list(str(raw_key), value, path)
        elif action.choices is not None and value not in action.choices:
            raise NasrankError(f"--config {path}: {raw_key}: {value!r} is not one of {', '.join(map(str, action.choices))}"
                               f"{did_you_mean(str(value), [str(c) for c in action.choices])}")
        elif action.type is not None and isinstance(value, str):
            try:
                value = action.type(value)
            except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
                raise NasrankError(f"--config {path}: {raw_key}: {exc}") from None
        defaults[key] = value
        action.required = False  # the file supplies it
    parser.set_defaults(**defaults)


def leaf_parser(parser: argparse.ArgumentParser, words: Sequence[str]) -> argparse.ArgumentParser:
    """The sub-parser that ``words`` (e.g. ``["supernet", "train"]``) select."""
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def command_words(args: argparse.Namespace) -> tuple[str, ...]:
    """``("supernet", "train")`` for ``nasrank supernet train``, ``("search",)`` for search."""
    words = (args.command,)
    if getattr(args, "supernet_command", None):
        words += (args.supernet_command,)
    return words


def run_folder(args: argparse.Namespace) -> Path | None:
    """Where a run's ``config.yaml`` goes: ``--output`` (a folder), or beside a supernet checkpoint."""
    out = getattr(args, "output", None) or getattr(args, "resume", None)
    if not out:
        return None
    if command_words(args) == ("supernet", "train"):
        return Path(out).parent
    return Path(out)


def recorded_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The options that define the run, as YAML-ready values (``*-cfg`` lists become mappings)."""
    from nasrank.experiments.build import parse_cfg

    out: dict[str, Any] = {}
    for dest, action in _option_actions(parser).items():
        if dest in NOT_RECORDED or not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        if isinstance(action, argparse._AppendAction):
            value = parse_cfg(value, "--" + dest.replace("_", "-")) if value else None
        if value is None or value is False:
            continue
        out[dest.replace("_", "-")] = value
    return out


def config_name(args: argparse.Namespace) -> str:
    """The run's config file name: ``config.yaml``, or ``CKPT-stem.config.yaml`` beside a supernet."""
    if command_words(args) == ("supernet", "train"):
        return f"{Path(args.output).stem}.{CONFIG_FILE}"
    return CONFIG_FILE


def write_run_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Path | None:
    """Write the run's ``config.yaml`` (temp file, then replace); ``None`` when the run has no folder."""
    from nasrank.runs.trust import write_run_config as write

    folder = run_folder(args)
    if folder is None:
        return None
    record = getattr(args, "run_record", None) or recorded_options(parser, args)  # search's own record
    return write(folder, config_name(args), " ".join(command_words(args)), record)
