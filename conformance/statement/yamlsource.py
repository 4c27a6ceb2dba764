"""Read YAML or JSON into plain data while remembering the line of every key and item.

Used by the statement and scenario loaders so that every error can say file:line:key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from conformance.errors import InputError, Problem

PathKey = tuple[Any, ...]


def format_path(path: Iterable[Any]) -> str:
    """``("a", 2, "b")`` -> ``a[2].b``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class SourceDocument:
    """Plain data (dicts, lists, scalars) plus the 1-based line of each path in it."""

    data: Any
    file: str
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Iterable[Any]) -> int | None:
        """Line of *path*, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Iterable[Any], message: str) -> Problem:
        path = tuple(path)
        return Problem(message, self.file, self.line_of(path), format_path(path) or None)


def _plain(node: Any, path: PathKey, lines: dict[PathKey, int]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            line, _col = node.lc.key(key)
            lines[path + (str(key),)] = line + 1
            out[str(key)] = _plain(value, path + (str(key),), lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            line, _col = node.lc.item(i)
            lines[path + (i,)] = line + 1
            items.append(_plain(value, path + (i,), lines))
        return items
    if isinstance(node, str):
        return str(node)
    return node


def load_document(path: str | Path) -> SourceDocument:
    """Parse *path* (YAML or JSON). Raises :class:`InputError` with the line on bad syntax."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem("file not found", file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"cannot read file: {exc}", file)) from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise InputError(Problem(f"not valid YAML: {what}", file, line)) from None
    except YAMLError as exc:
        raise InputError(Problem(f"not valid YAML: {exc}", file)) from None
    lines: dict[PathKey, int] = {(): 1}
    return SourceDocument(_plain(node, (), lines), file, lines)
