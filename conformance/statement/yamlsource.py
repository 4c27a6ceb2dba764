"""Read YAML or JSON into plain data while remembering the line of every key and item.

Used by the statement, scenario, worklist and facts loaders so that every error can say
file:line:key. Reading is bounded (:mod:`conformance.limits`): file size, nesting depth, and the
number of values and characters once YAML aliases are expanded, so a 600-byte alias bomb ends in
milliseconds with an :class:`InputError` instead of gigabytes. Anything the YAML library raises
on a hostile file becomes an InputError too; long values are quoted shortened in messages.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, composer
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from conformance import limits
from conformance.errors import InputError, Problem

PathKey = tuple[Any, ...]


def format_path(path: Iterable[Any]) -> str:
    """``("a", 2, "b")`` -> ``a[2].b``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + limits.shorten(str(part))
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
        return Problem(limits.shorten_message(message), self.file, self.line_of(path),
                       format_path(path) or None)


def _line(position: Any) -> int | None:
    """1-based line of a ruamel ``lc.key()``/``lc.item()`` answer (None for a merged key)."""
    if isinstance(position, (tuple, list)) and position and isinstance(position[0], int):
        return position[0] + 1
    return None


def _plain(node: Any, path: PathKey, lines: dict[PathKey, int]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            line = _line(node.lc.key(key))
            if line is not None:
                lines[path + (str(key),)] = line
            out[str(key)] = _plain(value, path + (str(key),), lines)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            line = _line(node.lc.item(i))
            if line is not None:
                lines[path + (i,)] = line
            items.append(_plain(value, path + (i,), lines))
        return items
    if isinstance(node, str):
        return str(node)
    return node


#: Raised by ruamel.yaml >= 0.18.7 when YAML().max_depth is exceeded (absent before).
_MaxDepthExceeded: type[Exception] | None = getattr(composer, "MaxDepthExceededError", None)


_DEPTH = (f"nested more than {limits.MAX_DOCUMENT_DEPTH} levels deep, the limit "
          "(see 'Limits on input files' in README.md)")
_VALUES = (f"holds more than {limits.MAX_DOCUMENT_VALUES:,} values once its YAML aliases are "
           "expanded, the limit (an alias bomb?) (see 'Limits on input files' in README.md)")
_CHARACTERS = (f"holds more than {limits.MAX_DOCUMENT_CHARACTERS:,} characters once its YAML "
               "aliases are expanded, the limit (see 'Limits on input files' in README.md)")
_RECURSIVE = ("a YAML alias refers to a value that contains it (a recursive alias); "
              "write the value out instead")


def _children(node: Any) -> Iterable[tuple[Any, Any]]:
    """(name in the key path, child) of a mapping (its keys and values), set or sequence."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            name = key if isinstance(key, (str, int)) else "?"
            yield name, key
            yield name, value
    else:
        yield from enumerate(node)


class _Meter:
    """Counts the values and characters of a loaded document as if its YAML aliases were
    expanded, without expanding them: each shared mapping or sequence is measured once
    (memoized by identity). Raises InputError at the first limit passed, a recursive alias
    or too deep a nesting, naming the key path and line of the value that passed it."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.measured: dict[int, tuple[int, int, int]] = {}   # id -> values, characters, height
        self.open: set[int] = set()

    def _fail(self, node: Any, path: PathKey, message: str) -> InputError:
        line = getattr(getattr(node, "lc", None), "line", None)
        return InputError(Problem(message, self.file, line + 1 if isinstance(line, int) else None,
                                  format_path(path) or None))

    def measure(self, node: Any, path: PathKey) -> tuple[int, int, int]:
        """(values, characters, height) of *node* with aliases expanded."""
        if isinstance(node, str):
            return 1, len(node), 0
        if not isinstance(node, (Mapping, AbstractSet, list, tuple)):
            return 1, 0, 0
        key = id(node)
        if key in self.open:
            raise self._fail(node, path, _RECURSIVE)
        known = self.measured.get(key)
        if known is None:
            if len(path) >= limits.MAX_DOCUMENT_DEPTH:
                raise self._fail(node, path, _DEPTH)
            self.open.add(key)
            values, chars, height = 1, 0, 0
            for name, child in _children(node):
                cv, cc, ch = self.measure(child, path + (name,))
                values, chars, height = values + cv, chars + cc, max(height, ch + 1)
                if values > limits.MAX_DOCUMENT_VALUES:
                    raise self._fail(node, path, _VALUES)
                if chars > limits.MAX_DOCUMENT_CHARACTERS:
                    raise self._fail(node, path, _CHARACTERS)
            self.open.discard(key)
            known = self.measured[key] = (values, chars, height)
        if len(path) + known[2] > limits.MAX_DOCUMENT_DEPTH:
            raise self._fail(node, path, _DEPTH)
        return known


def _parse(text: str, file: str) -> Any:
    """ruamel.yaml round-trip load of *text*; every failure becomes an InputError."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    if hasattr(yaml, "max_depth"):
        yaml.max_depth = limits.MAX_DOCUMENT_DEPTH + 1     # + 1: ruamel counts the scalar too
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # e.g. a reused anchor: legal YAML, not our business
            return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        if _MaxDepthExceeded is not None and isinstance(exc, _MaxDepthExceeded):
            raise InputError(Problem(_DEPTH, file, line)) from None
        what = " ".join(" ".join(str(p).split()) for p in (exc.context, exc.problem) if p)
        raise InputError(Problem(limits.shorten_message(f"not valid YAML: {what}"), file, line)) from None
    except YAMLError as exc:
        what = " ".join(str(exc).split())
        raise InputError(Problem(limits.shorten_message(f"not valid YAML: {what}"), file)) from None
    except RecursionError:
        raise InputError(Problem(_DEPTH, file)) from None
    except Exception as exc:  # noqa: BLE001 - the YAML library on a hostile file (TypeError, ValueError...)
        what = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise InputError(Problem(limits.shorten_message(f"not valid YAML here: {what}"), file)) from None


def load_document(path: str | Path, what: str = "YAML or JSON document") -> SourceDocument:
    """Parse *path* (YAML or JSON) within :mod:`conformance.limits`.

    Raises
    ------
    InputError
        On a missing, unreadable, too large, non-UTF-8 or not valid YAML file, and when the
        document passes a limit (values or characters with aliases expanded, nesting depth);
        with the line, and the key where known.
    """
    file = str(path)
    text = limits.read_text(path, what)
    node = _parse(text, file)
    _Meter(file).measure(node, ())
    lines: dict[PathKey, int] = {(): 1}
    return SourceDocument(_plain(node, (), lines), file, lines)
