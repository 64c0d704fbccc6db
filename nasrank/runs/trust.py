"""A run folder's ``config.yaml``: reading and writing it, and whether ``nasrank search --resume``
may act on it.

A run folder can come from someone else (a shared drive, a download). Its
``config.yaml`` (or, in a folder written before it existed, ``config.json``) names the components to build, and a ``package.module:Class``
import path runs that module's code; a ``nats:DIR`` benchmark unpickles the
files in DIR (the official format), which can run code too. So before a resume:

* every such reference in the config is listed (:func:`code_references`) and
  shown to the user;
* so is every ranker option that names a file or folder to read or write
  (:data:`PATH_OPTIONS`: ``checkpoint_dir``, ``log_dir``, ``weights_from``,
  ``supernet``; :func:`path_references`), in whatever form it is given;
* a config that has any is acted on only if the current user created it (owns
  the file, and nobody else may write it or its folder) or passes
  ``--trust-config`` (:func:`check_config_trust`). ``--config FILE.yaml`` is
  gated the same way.

What a resume reads from the folder itself (``history.jsonl``, ``fidelity_state/``)
is read as data only: no pickle beyond tensors, no link followed
(:mod:`nasrank.rankers.training_state`, :mod:`nasrank.runs.safe_torch`).

Registered names (``nb201``, ``tabular``, ``evolution``) run only nasrank's own code.
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError
from nasrank.options import split_top_level

_IMPORT_PATH = re.compile(r"^\s*[A-Za-z_][\w.]*\s*:\s*[A-Za-z_]\w*\s*$")
#: benchmark kinds whose reader unpickles files from the folder named
_PICKLED_BENCHMARKS = ("nats:",)


RUN_CONFIG = "config.yaml"
#: the run configuration of folders written before config.yaml was the one file (still read on --resume)
LEGACY_RUN_CONFIG = "config.json"
_CFG_KEYS = ("space_cfg", "searcher_cfg", "ranker_cfg")


def run_config_path(folder: str | Path) -> Path | None:
    """The run configuration of ``folder``: its ``config.yaml``, else a legacy ``config.json``, else None."""
    for name in (RUN_CONFIG, LEGACY_RUN_CONFIG):
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


def _load(p: Path) -> Any:
    if p.suffix == ".json":
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            msg = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise NasrankError(f"cannot resume: {p} is not valid JSON ({msg}); was it edited or truncated?") from None
    import yaml

    from nasrank.runs.safe_yaml import load_yaml, read_text

    try:  # bounded UTF-8, no aliases: a run folder may come from someone else
        return load_yaml(read_text(p, "cannot resume:"), f"cannot resume: {p}")
    except (yaml.YAMLError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise NasrankError(f"cannot resume: {p} is not valid YAML{where}; was it edited or truncated?") from None


def read_run_config(path: str | Path) -> dict[str, Any]:
    """A run's configuration (``config.yaml``, or a legacy ``config.json``) as data, keyed by option
    (``budget_queries``); a corrupt or mistyped file is one :class:`NasrankError`."""
    p = Path(path)
    try:
        raw = _load(p)
    except OSError as exc:
        raise NasrankError(f"cannot resume: cannot read {p}: {exc.strerror or exc}") from None
    if not isinstance(raw, dict):
        raise NasrankError(f"cannot resume: {p} holds a {type(raw).__name__}, not the run's options")
    saved = {str(k).replace("-", "_"): v for k, v in raw.items()}
    for k in ("space", "searcher", "ranker", "benchmark", "dataset", "data_dir", "device", "executor",
              "ray_address"):
        if k in saved and saved[k] is not None and not isinstance(saved[k], str):
            raise NasrankError(f"cannot resume: {p}: {k} must be a string, got {saved[k]!r}")
    for k in _CFG_KEYS:
        v = saved.get(k)
        if v is not None and not isinstance(v, dict) and not (
                isinstance(v, list) and all(isinstance(x, (str, dict)) for x in v)):
            raise NasrankError(f"cannot resume: {p}: {k} must be a mapping of options, got {v!r}")
    for k in ("seed", "budget_queries", "workers"):
        v = saved.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise NasrankError(f"cannot resume: {p}: {k} must be an integer, got {v!r}")
    v = saved.get("budget_seconds")
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
        raise NasrankError(f"cannot resume: {p}: budget_seconds must be a number, got {v!r}")
    return saved


def write_run_config(folder: str | Path, name: str, command: str, options: dict[str, Any]) -> Path:
    """Write ``options`` (the run's configuration as data) to ``folder/name`` as YAML, with a header
    saying how to pass it back (atomic: temp file, fsync, replace)."""
    import yaml

    from nasrank.runs.atomic import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text = (f"# nasrank {command}: pass back with `nasrank {command} --config {name} --output NEW`\n"
            + yaml.safe_dump(options, sort_keys=False, default_flow_style=False))
    path = folder / name
    try:
        same = path.is_file() and not path.is_symlink() and path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        same = False
    if not same:  # written again after a run: unchanged, it is left as it is (no second fsync)
        atomic_write_text(path, text, what="config file")
    return path


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    return []


def _decoded(value: str) -> list[str]:
    """``value`` and every string inside it once decoded as the option parser decodes it (JSON,
    or a YAML flow collection): a quoted ``"pkg.mod:Class"`` is the import path it stands for."""
    out = [value]
    try:
        out += _strings(json.loads(value))
    except (ValueError, RecursionError):
        if value.strip()[:1] in ("[", "{"):
            import yaml

            from nasrank.runs.safe_yaml import load_yaml

            try:
                out += _strings(load_yaml(value, "a run option"))
            except (yaml.YAMLError, RecursionError, NasrankError):
                out.append(value.strip("[]{} "))  # not decodable: judged on its text
    return out


def _looks_like_code(value: str) -> bool:
    return bool(_IMPORT_PATH.match(value)) and not value.strip().startswith(("csv:", "nats:", "nb201:", "nds:"))


def _option_values(item: str) -> list[tuple[str, str]]:
    """``(part, value)`` for each ``KEY=VALUE`` of ``item`` (split as the option parser splits it,
    and also on every comma, so that no splitting trick hides a value)."""
    parts = set(item.split(","))
    depth_split = split_top_level(item)  # the parser's split: commas outside brackets and quotes
    return [(part, part.partition("=")[2]) for part in sorted(parts | set(depth_split))]


def _cfg_values(value: Any) -> list[tuple[str, str]]:
    """``(part, value)`` of a ``*_cfg`` option: a mapping's items (each string inside a value), or the
    ``KEY=VALUE`` parts of its strings (:func:`_option_values`)."""
    if isinstance(value, dict):
        return [(f"{k}={s}", s) for k, v in value.items() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [pv for v in value for pv in (_cfg_values(v) if isinstance(v, dict) else
                                             [x for t in _strings(v) for x in _option_values(t)])]
    return [x for t in _strings(value) for x in _option_values(t)]


#: ranker options that name a file or folder: what a resume would read or write there
PATH_OPTIONS = {"checkpoint_dir": "writes checkpoints there", "log_dir": "writes training logs there",
                "weights_from": "loads weights from it", "supernet": "loads that supernet checkpoint"}
_PATH_KEY = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(PATH_OPTIONS) + r")(?![A-Za-z0-9_])\W{0,3}[=:]")


def _decoded_objects(value: str) -> list[Any]:
    """The mappings and lists ``value`` stands for once decoded as the option parser decodes it."""
    text = value.strip()
    if text[:1] not in ("[", "{", '"'):
        return []
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        import yaml

        from nasrank.runs.safe_yaml import load_yaml

        try:
            obj = load_yaml(text, "a run option")
        except (yaml.YAMLError, RecursionError, NasrankError):
            return []
    return [obj] if isinstance(obj, (dict, list, str)) else []


def _path_options(obj: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """``(key, value)`` of every path option in ``obj``: a mapping's keys at any depth, the ``KEY=VALUE``
    parts of its strings, and what a JSON or YAML string inside decodes to."""
    if depth > 20:
        return []
    found: list[tuple[str, Any]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if str(k).strip() in PATH_OPTIONS and v is not None:
                found.append((str(k).strip(), v))
            found += _path_options(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found += _path_options(v, depth + 1)
    elif isinstance(obj, str):
        for part, value in _option_values(obj):
            key = part.partition("=")[0].strip() if "=" in part else ""
            if key in PATH_OPTIONS and value.strip():
                found.append((key, value.strip()))
            for decoded in _decoded_objects(value if "=" in part else part):
                found += _path_options(decoded, depth + 1)
    return found


def path_references(config: dict[str, Any]) -> list[str]:
    """What in ``config``'s component options names a file or folder to read or write
    (:data:`PATH_OPTIONS`, in mappings, ``KEY=VALUE`` strings or encoded values; a string that
    only looks like one is listed whole)."""
    refs: list[str] = []
    for key in _CFG_KEYS:
        value = config.get(key)
        for name, v in _path_options(value):
            ref = f"{key} {name}={v!r} ({PATH_OPTIONS[name]})"
            if ref not in refs:
                refs.append(ref)
        if not refs or not any(r.startswith(f"{key} ") for r in refs):
            for text in _strings(value):
                if _PATH_KEY.search(text):
                    refs.append(f"{key} {text!r} (names a file or folder to read or write)")
    return refs


def code_references(config: dict[str, Any]) -> list[str]:
    """What in ``config`` can run code other than nasrank's or reach elsewhere: import paths (also
    quoted or JSON-encoded ones), pickled benchmarks, a Ray executor and a cluster address."""
    refs = []
    for key in ("space", "searcher", "ranker"):
        v = config.get(key)
        if isinstance(v, str) and ":" in v:
            refs.append(f"{key} {v!r}")
    rankers = config.get("rankers")  # evaluate / compare: a comma list of names
    for v in _strings(rankers):
        refs += [f"rankers {part.strip()!r}" for part in v.split(",") if ":" in part]
    for key in _CFG_KEYS:
        for part, value in _cfg_values(config.get(key)):
            if any(_looks_like_code(v) for v in _decoded(value)) and f"{key} {part!r}" not in refs:
                refs.append(f"{key} {part!r}")
    bench = config.get("benchmark")
    if isinstance(bench, str) and bench.startswith(_PICKLED_BENCHMARKS):
        refs.append(f"benchmark {bench!r} (unpickles the files of that folder)")
    executor = config.get("executor")
    if executor not in (None, "serial"):
        refs.append(f"executor {executor!r} (starts worker processes)")
    if config.get("ray_address") is not None:
        refs.append(f"ray_address {config['ray_address']!r} (connects to that cluster)")
    return refs


def _link_chain(path: Path) -> list[Path]:
    """``path``, then each link it leads through, ending at the resolved file (absolute paths)."""
    chain = [Path(os.path.abspath(path))]
    while chain[-1].is_symlink() and len(chain) < 40:
        chain.append(Path(os.path.abspath(chain[-1].parent / os.readlink(chain[-1]))))
    chain.append(chain[-1].resolve())
    return chain


def _owned_and_closed(st: os.stat_result, uid: int | None, what: str, folder: bool) -> str:
    if uid is not None and st.st_uid != uid:
        return f"{what} belongs to another user (uid {st.st_uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not (folder and st.st_mode & stat.S_ISVTX):
        return f"{what} is writable by other users"
    return ""


def created_by_current_user(path: str | Path) -> tuple[bool, str]:
    """``(True, "")`` if this user owns ``path`` and neither it nor its folder is writable by others;
    else ``(False, why)``. A symbolic link is followed link by link: each link, the folder holding it,
    the resolved file and its folder must all pass."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    chain = _link_chain(Path(path))
    for i, q in enumerate(chain):
        last = i == len(chain) - 1
        what = "the file" if i == 0 else ("the file it links to" if last else f"the link {q}")
        try:
            st = q.stat() if last else q.lstat()
            folder_st = q.parent.resolve().stat()
        except OSError as exc:
            return False, f"{q} cannot be checked ({exc.strerror or exc})"
        is_link = stat.S_ISLNK(st.st_mode)
        why = (_owned_and_closed(st, uid, what, False) if not is_link else
               (f"{what} belongs to another user (uid {st.st_uid})" if uid is not None and st.st_uid != uid else ""))
        why = why or _owned_and_closed(folder_st, uid, f"the folder of {q}" if i else "its folder", True)
        if why:
            return False, why
    return True, ""


def check_config_trust(path: str | Path, config: dict[str, Any], trust: bool) -> list[str]:
    """Raise unless the code ``config`` refers to may run and the paths it names may be read or
    written (see the module doc); return those references (code first, then paths)."""
    refs = code_references(config) + path_references(config)
    if not refs or trust:
        return refs
    ok, why = created_by_current_user(path)
    if ok:
        return refs
    raise NasrankError(f"{path} names code to run or paths to read or write ({'; '.join(refs)}) and {why}; "
                       "read it, and pass --trust-config if you trust it")
