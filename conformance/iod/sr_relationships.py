"""SR relationship content constraints per SR IOD (PS3.3 A.35.x, Tables A.35.x-2).

Each SR IOD constrains which relationships its content tree may hold: a Relationship Content
Constraints table lists the allowed (source value type, relationship type, target value type)
rows, and the IOD says whether relationships may be conveyed by-reference (Referenced Content
Item Identifier (0040,DB73) in place of a value, PS3.3 C.17.3, Table C.17-6). The tables are
data, ``conformance/standard/data/sr_relationships.json``, one entry per IOD with its table
number, rows numbered as in the standard and the SOP Class UIDs it applies to.

For every content item below the root (walked without recursion, so deep trees cannot exhaust
the stack), with the parent as source:

* a by-value item whose (parent value type, Relationship Type, Value Type) no row allows:
  error ``sr.relationship-not-allowed``;
* a by-reference item in an IOD that forbids them (Basic Text SR, Enhanced SR, Key Object
  Selection, ...): error ``sr.by-reference-not-allowed``;
* a by-reference item whose identifier addresses no content item of the tree (the identifier
  is the path of 1-based positions from the root, Table C.17-6): error
  ``sr.reference-target-missing``; otherwise the target's value type is checked against the
  rows as above, where a row may allow a target by-value only (Comprehensive SR: CONTAINS to
  a CONTAINER, HAS CONCEPT MOD); and in the Extensible SR IOD a reference to an ancestor of
  the item is an error (``sr.reference-to-ancestor``).

Never reported: a document whose SOP Class has no table in the data (the IODs listed under
``not_included`` there, private SOP Classes); a content item whose value type, or whose
parent's, is not one the tables know (e.g. TABLE, added to PS3.3 after them; or no valid value
type at all, which :mod:`conformance.iod.sr_content` reports); a Relationship Type that is no
enumerated value (also reported there); a by-reference target that is itself by-reference.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod.elements import values_of

DATA = Path(__file__).resolve().parent.parent / "standard" / "data" / "sr_relationships.json"
CONTENT_SEQUENCE = 0x0040A730
VALUE_TYPE = 0x0040A040
RELATIONSHIP_TYPE = 0x0040A010
REFERENCED_CONTENT_ITEM = 0x0040DB73
#: Deepest level walked (the content checks report deeper trees).
MAX_DEPTH = 10_000
RELATIONSHIP_TYPES = ("CONTAINS", "HAS PROPERTIES", "HAS CONCEPT MOD", "HAS OBS CONTEXT",
                      "HAS ACQ CONTEXT", "INFERRED FROM", "SELECTED FROM")

Add = Callable[..., None]
Triple = tuple[str, str, str]
#: A position in the tree: (parent position, 1-based index in the parent's Content Sequence);
#: the root is ``None``. Identifiers and paths are built from it only when a finding needs them.
Position = tuple[Any, int] | None


@dataclass(frozen=True)
class Table:
    """One IOD's Relationship Content Constraints table, compiled to allowed triples."""

    name: str
    table: str
    by_reference: str  # forbidden | allowed | not-to-ancestor | per-row
    by_value: dict[Triple, int]  # triple -> first row allowing it by-value
    by_ref: dict[Triple, int]  # triple -> first row allowing it by-reference


def _expand(spec: Any, known: tuple[str, ...], except_: list[str] | None = None) -> list[str]:
    values = list(known) if spec == "any" else list(spec)
    return [v for v in values if v not in (except_ or [])]


def _compile(entry: dict[str, Any], known: tuple[str, ...]) -> Table:
    by_value: dict[Triple, int] = {}
    by_ref: dict[Triple, int] = {}
    iod_ref = entry["by_reference"] != "forbidden"
    for row in entry["rows"]:
        rel = row["relationship"]
        rels = ([r for r in RELATIONSHIP_TYPES if r != "CONTAINS"]
                if rel == "other than CONTAINS" else [rel])
        only = row.get("by_value_only") or []
        for src in _expand(row["source"], known, row.get("source_except")):
            for r in rels:
                for tgt in _expand(row["target"], known):
                    by_value.setdefault((src, r, tgt), row["row"])
                    if iod_ref and only != "any" and tgt not in only:
                        by_ref.setdefault((src, r, tgt), row["row"])
    return Table(entry["name"], entry["table"], entry["by_reference"], by_value, by_ref)


@cache
def _data() -> tuple[frozenset[str], dict[str, Table]]:
    raw = json.loads(DATA.read_text())
    known = tuple(raw["value_types_known"])
    tables: dict[str, Table] = {}
    for entry in raw["iods"].values():
        table = _compile(entry, known)
        for uid in entry["sop_classes"]:
            tables[uid] = table
    return frozenset(known), tables


def table_for(sop_class: str | None) -> Table | None:
    """The constraints table of the IOD of *sop_class*, or ``None`` when the data has none."""
    return _data()[1].get(sop_class or "")


def _first(item: Dataset, tag: int) -> str | None:
    vals = values_of(item, tag) if tag in item._dict else None
    return str(vals[0]) if vals else None


def _children(item: Dataset) -> list[Any]:
    if CONTENT_SEQUENCE not in item._dict:
        return []
    try:
        return list(item[CONTENT_SEQUENCE].value or [])
    except Exception:  # noqa: BLE001 - malformed: reported by the element walk
        return []


def _indices(pos: Position) -> list[int]:
    out: list[int] = []
    while pos is not None:
        pos, i = pos
        out.append(i)
    return out[::-1]


def _path(pos: Position) -> str:
    return ".".join(f"ContentSequence[{i - 1}]" for i in _indices(pos))


def _resolve(root: Dataset, ident: list[int]) -> Dataset | None:
    """The content item that Referenced Content Item Identifier *ident* addresses: the root
    is 1, each next value the 1-based position in the Content Sequence of the item before
    (PS3.3 Table C.17-6)."""
    if not ident or ident[0] != 1:
        return None
    item = root
    for i in ident[1:]:
        children = _children(item)
        if not 1 <= i <= len(children) or not isinstance(children[i - 1], Dataset):
            return None
        item = children[i - 1]
    return item


def _identifier(item: Dataset) -> list[int] | None:
    """The Referenced Content Item Identifier (UL, 1-n) as decoded by pydicom."""
    try:
        value = item[REFERENCED_CONTENT_ITEM].value
    except Exception:  # noqa: BLE001 - malformed: reported by the element walk
        return None
    try:
        vals = [value] if isinstance(value, int) else list(value or [])
        return [int(v) for v in vals] or None
    except (TypeError, ValueError):
        return None


def check(add: Add, ds: Dataset, sop_class: str | None) -> None:
    """Relationship constraint findings for the SR document *ds* (see the module docstring)."""
    table = table_for(sop_class)
    if table is None:
        return
    known = _data()[0]
    # (item, its position, depth, its parent's value type); the root has no parent. Each item
    # is checked when it is taken off the stack, so findings come in document order.
    stack: list[tuple[Dataset, Position, int, str | None]] = [(ds, None, 0, None)]
    while stack:
        item, pos, depth, source = stack.pop()
        if pos is not None:
            _relationship(add, table, known, ds, source, item, pos[0], pos)
        children = _children(item)
        if not children or depth >= MAX_DEPTH:
            continue
        vt = _first(item, VALUE_TYPE)
        for i in range(len(children) - 1, -1, -1):
            child = children[i]
            if isinstance(child, Dataset):
                stack.append((child, (pos, i + 1), depth + 1, vt))


def _relationship(add: Add, table: Table, known: frozenset[str], root: Dataset,
                  source: str | None, child: Dataset, parent: Position, pos: Position) -> None:
    rel = _first(child, RELATIONSHIP_TYPE)
    if rel not in RELATIONSHIP_TYPES:
        return
    by_ref = REFERENCED_CONTENT_ITEM in child._dict and VALUE_TYPE not in child._dict
    where = table.table
    if by_ref:
        path = _path(pos)
        if table.by_reference == "forbidden":
            add("sr.by-reference-not-allowed", Severity.ERROR,
                f"{where}: the {table.name} IOD conveys relationships by-value only; this "
                f"{rel} relationship is by-reference (Referenced Content Item Identifier "
                "(0040,DB73))", where, path + ".ReferencedContentItemIdentifier")
            return
        ident = _identifier(child)
        target = _resolve(root, ident) if ident else None
        if target is None:
            add("sr.reference-target-missing", Severity.ERROR,
                f"Referenced Content Item Identifier "
                f"{'/'.join(map(str, ident or [])) or '(empty)'} addresses no content item of "
                "this document", "PS3.3 C.17.3 (Table C.17-6)",
                path + ".ReferencedContentItemIdentifier")
            return
        if table.by_reference == "not-to-ancestor" and ident is not None:
            own = [1, *_indices(parent)]
            if own[:len(ident)] == ident:
                add("sr.reference-to-ancestor", Severity.ERROR,
                    f"{where}: a by-reference relationship to an ancestor content item "
                    f"({'/'.join(map(str, ident))}) is forbidden in the {table.name} IOD "
                    "(it would form a loop)", where, path + ".ReferencedContentItemIdentifier")
                return
        target_vt = _first(target, VALUE_TYPE)
    else:
        target_vt = _first(child, VALUE_TYPE)
    if source not in known or target_vt not in known:
        return
    triple = (source, rel, target_vt)
    allowed = table.by_ref if by_ref else table.by_value
    if triple in allowed:
        return
    mode = " by-reference" if by_ref else ""
    extra = ""
    if by_ref and triple in table.by_value:
        extra = f" (row {table.by_value[triple]} allows it by-value only)"
    add("sr.relationship-not-allowed", Severity.ERROR,
        f"{where}: {source} {rel} {target_vt}{mode} is not allowed in the {table.name} IOD"
        f"{extra}", where, _path(pos) or "ContentSequence",
        details={"source": source, "relationship": rel, "target": target_vt,
                 "by_reference": by_ref})
