"""YAML for files and options a user gives: safe types only, no aliases, bounded size.

``yaml.safe_load`` builds no objects, but an alias (``*name``) reuses a node, so a few hundred bytes
of nested aliases expand to gigabytes (the "billion laughs"). nasrank's experiment files never need
one, so :func:`load_yaml` refuses every alias with one :class:`NasrankError`, and :func:`read_text`
refuses a file over :data:`nasrank.runs.limits.MAX_CONFIG_BYTES` or one that is not UTF-8 text.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nasrank.errors import NasrankError
from nasrank.runs.limits import MAX_CONFIG_BYTES


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of ``path`` (at most :data:`MAX_CONFIG_BYTES`); ``what`` names it in errors."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise NasrankError(f"{what} {p}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise NasrankError(f"{what} {p} is over {MAX_CONFIG_BYTES:,} bytes; an experiment file is a few lines")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NasrankError(f"{what} {p} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                           "is it a binary file?") from None


def load_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load(text)`` refusing aliases (``where`` names the input in the error)."""
    import yaml

    class _NoAliases(yaml.SafeLoader):
        def compose_node(self, parent, index):  # noqa: ANN001 (PyYAML's signature)
            if self.check_event(yaml.AliasEvent):
                ev = self.peek_event()
                raise NasrankError(f"{where}, line {ev.start_mark.line + 1}: YAML alias *{str(ev.anchor)[:40]} "
                                   "refused (aliases can expand a small file without bound); write the value out")
            return super().compose_node(parent, index)

    if len(text) > MAX_CONFIG_BYTES:
        raise NasrankError(f"{where} is over {MAX_CONFIG_BYTES:,} characters of YAML")
    loader = _NoAliases(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
