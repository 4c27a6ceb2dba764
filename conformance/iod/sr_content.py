"""SR content tree checks: content item attributes selected by Value Type (PS3.3 C.17.3).

The pinned module tables list the SR Document Content Module flattened: every value type's
attributes (Text Value, Measured Value Sequence, Graphic Data, Referenced SOP Sequence, ...)
appear as unconditional type 1 or 2 attributes of every content item.  The standard includes
them per Value Type (Document Content Macro, PS3.3 Table C.17-5, and the content item macros
of C.18).  This module walks the content tree (root, then every Content Sequence Item, without
recursion so that deep trees cannot exhaust the stack) and, for each item, requires exactly the
attributes of its Value Type, from ``conformance/standard/data/sr_content_items.json``.

Sequences of an item (Concept Name Code Sequence, Measured Value Sequence, ...) are checked
against the module's own attribute rules (the Code Sequence Macro etc.) through the generic
module checker.  An attribute of another value type present in an item is a warning.

Relationship constraints per SR IOD (PS3.3 Tables A.35.x-2) are in
:mod:`conformance.iod.sr_relationships`.  Templates (PS3.16): the root rows of TID 1500, 2000
and 2010 in :mod:`conformance.iod.sr_templates`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod.elements import sequence_items, tag_str, values_of
from conformance.standard.iod_index import AttributeRule, IODDef, ModuleDef

if TYPE_CHECKING:
    from conformance.iod.modules import ModuleChecker

DATA = Path(__file__).resolve().parent.parent / "standard" / "data" / "sr_content_items.json"
#: Module keys whose attributes form an SR content tree.
SR_CONTENT_MODULES = frozenset({"sr-document-content"})
CONTENT_SEQUENCE = 0x0040A730
VALUE_TYPE = 0x0040A040
RELATIONSHIP_TYPE = 0x0040A010
CONCEPT_NAME = 0x0040A043
REFERENCED_CONTENT_ITEM = 0x0040DB73
REFERENCED_SOP = 0x00081199
#: Deepest content tree walked; deeper items are reported, not walked.
MAX_DEPTH = 10_000


def _tag(text: str) -> int:
    return int(text[1:5] + text[6:10], 16)


@cache
def _data() -> dict[str, Any]:
    raw = json.loads(DATA.read_text())
    by_vt = {vt: {_tag(t): ty for t, ty in tags.items()}
             for vt, tags in raw["by_value_type"].items()}
    specific: set[int] = set().union(*(set(t) for t in by_vt.values()))
    return {
        "raw": raw,
        "ref": raw["reference"],
        "common": {_tag(t): ty for t, ty in raw["common"].items()},
        "by_vt": by_vt,
        "specific": specific,
        "one_of": {vt: ([_tag(t) for t in e["tags"]], e["reference"])
                   for vt, e in raw["one_of"].items()},
        "enumerated": {_tag(t): e for t, e in raw["enumerated"].items()},
    }


def _rules(rules: tuple[AttributeRule, ...]) -> dict[int, AttributeRule]:
    out = {r.tag: r for r in rules}
    content = out.get(CONTENT_SEQUENCE)
    if content is not None:
        for r in content.children:  # Relationship Type, by-reference identifier
            out.setdefault(r.tag, r)
    return out


class SRContentChecker:
    """Checks one SR Document Content Module instance; see the module docstring."""

    def __init__(self, checker: ModuleChecker, mod: ModuleDef, iod: IODDef) -> None:
        self.checker = checker
        self.add = checker.add
        self.mod = mod
        self.iod = iod
        self.rules = _rules(mod.attributes)
        self.data = _data()

    def _finding(self, code: str, severity: Severity, message: str, path: str,
                 ref: str | None = None) -> None:
        self.add(code, severity, message, ref or self.data["ref"], path,
                 module=self.mod.name, iod=self.iod.name)

    def check(self, root: Dataset) -> None:
        stack: list[tuple[Dataset, str, bool, int]] = [(root, "", True, 0)]
        referenced: dict[str, str] = {}  # SOP Instance UID -> path of its first reference
        while stack:
            item, prefix, is_root, depth = stack.pop()
            self._references(item, prefix, referenced)
            children = self._item(item, prefix, is_root)
            if children is None:
                continue
            if depth >= MAX_DEPTH:
                self._finding("sr.content-too-deep", Severity.WARNING,
                              f"content tree deeper than {MAX_DEPTH} levels; not walked further",
                              prefix + tag_str(CONTENT_SEQUENCE))
                continue
            for i in range(len(children) - 1, -1, -1):
                sub = children[i]
                if isinstance(sub, Dataset):
                    stack.append((sub, f"{prefix}{tag_str(CONTENT_SEQUENCE)}[{i}].", False,
                                  depth + 1))
        self._evidence(root, referenced)

    def _references(self, item: Dataset, prefix: str, referenced: dict[str, str]) -> None:
        if REFERENCED_SOP not in item._dict:
            return
        try:
            refs = item[REFERENCED_SOP].value or []
        except Exception:  # noqa: BLE001 - reported by the element walk
            return
        for i, ref in enumerate(refs):
            uids = values_of(ref, 0x00081155) if isinstance(ref, Dataset) else None
            uid = uids[0] if uids else None
            if uid:
                referenced.setdefault(uid, f"{prefix}{tag_str(REFERENCED_SOP)}[{i}]")

    def _evidence(self, root: Dataset, referenced: dict[str, str]) -> None:
        """Every instance the content tree references is listed in the Current Requested
        Procedure Evidence or Pertinent Other Evidence Sequence (PS3.3 C.17.2.3)."""
        if not referenced:
            return
        listed: set[str] = set()
        for evidence in (0x0040A375, 0x0040A385):
            try:
                studies = root[evidence].value if evidence in root._dict else []
                for study in studies or []:
                    for series in study.get("ReferencedSeriesSequence", []) or []:
                        for ref in series.get("ReferencedSOPSequence", []) or []:
                            uid = ref.get("ReferencedSOPInstanceUID")
                            if uid:
                                listed.add(str(uid))
            except Exception:  # noqa: BLE001 - malformed: reported by the other checks
                return
        for uid, path in referenced.items():
            if uid not in listed:
                self._finding("sr.reference-not-in-evidence", Severity.ERROR,
                              f"referenced SOP Instance {uid} is not listed in the Current "
                              "Requested Procedure Evidence Sequence (0040,A375) or the "
                              "Pertinent Other Evidence Sequence (0040,A385)", path,
                              "PS3.3 C.17.2.3")

    def _item(self, item: Dataset, prefix: str, is_root: bool) -> list[Any] | None:
        d = item._dict
        data = self.data
        if not is_root:
            self._require(item, RELATIONSHIP_TYPE, "1", prefix)
            rel = values_of(item, RELATIONSHIP_TYPE) or []
            allowed = data["raw"]["relationship_types"]
            for v in rel:
                if v and v not in allowed:
                    self._finding("iod.enumerated-value", Severity.ERROR,
                                  f"Relationship Type {v!r} is not an enumerated value",
                                  prefix + tag_str(RELATIONSHIP_TYPE), "PS3.3 C.17.3.2.4")
            if REFERENCED_CONTENT_ITEM in d and VALUE_TYPE not in d:
                # By-reference relationship (PS3.3 C.17.3.2.5): no content of its own.
                self._check_present(item, REFERENCED_CONTENT_ITEM, prefix)
                return None
        vt_vals = values_of(item, VALUE_TYPE)
        if not vt_vals:
            self._require(item, VALUE_TYPE, "1", prefix)
            return None
        vt = vt_vals[0]
        if vt not in data["by_vt"]:
            self._finding("iod.enumerated-value", Severity.ERROR,
                          f"Value Type {vt!r} is not an enumerated value "
                          f"({', '.join(data['raw']['value_types'])})",
                          prefix + tag_str(VALUE_TYPE), "PS3.3 C.17.3.2.1")
            return self._content(item)
        if is_root and vt != "CONTAINER":
            self._finding("iod.enumerated-value", Severity.ERROR,
                          f"the root content item has Value Type {vt!r}; it shall be CONTAINER",
                          tag_str(VALUE_TYPE), "PS3.3 C.17.3.2.1 (Table C.17-2)")
        own = data["by_vt"][vt]
        # Concept Name: required for the listed value types and the root (Document Title).
        if is_root or vt in data["raw"]["concept_name_required_for"]:
            self._require(item, CONCEPT_NAME, "1", prefix, data["raw"]["concept_name_reference"])
        else:
            self._check_present(item, CONCEPT_NAME, prefix)
        for tag, atype in own.items():
            self._require(item, tag, atype, prefix)
        one = data["one_of"].get(vt)
        if one is not None:
            tags, ref = one
            n = sum(1 for t in tags if t in d)
            if n != 1:
                self._finding("sr.value-type-attributes", Severity.ERROR,
                              f"a {vt} content item needs exactly one of "
                              f"{', '.join(tag_str(t) for t in tags)}; it has {n}",
                              prefix.rstrip(".") or tag_str(VALUE_TYPE), ref)
        for tag in d:
            t = int(tag)
            if t in data["specific"] and t not in own:
                self._finding("sr.attribute-not-for-value-type", Severity.WARNING,
                              f"{tag_str(t)} belongs to another value type than {vt} "
                              "(PS3.3 C.18); it is not part of this content item",
                              prefix + tag_str(t))
        for tag in (0x0040A032, 0x0040A171):
            self._check_present(item, tag, prefix)
        return self._content(item)

    def _content(self, item: Dataset) -> list[Any] | None:
        return sequence_items(item, CONTENT_SEQUENCE) or None

    def _require(self, item: Dataset, tag: int, atype: str, prefix: str,
                 ref: str | None = None) -> None:
        elem = item._dict.get(tag)  # type: ignore[call-overload]
        path = prefix + tag_str(tag)
        if elem is None:
            if atype in ("1", "2"):
                from conformance.iod.modules import _name
                self._finding(f"iod.type{atype}-missing", Severity.ERROR,
                              f"type {atype} attribute {_name(tag)} is missing from this "
                              "content item", path, ref)
            return
        if atype == "1":
            from conformance.iod.modules import _is_empty
            if _is_empty(elem, item):
                self.checker._empty(path, self.mod, self.iod, "1")
                return
        self._check_present(item, tag, prefix)

    def _check_present(self, item: Dataset, tag: int, prefix: str) -> None:
        """Values and sequence contents of a present attribute."""
        elem = item._dict.get(tag)  # type: ignore[call-overload]
        if elem is None:
            return
        path = prefix + tag_str(tag)
        enum = self.data["enumerated"].get(tag)
        if enum is not None:
            allowed = enum.get("values")
            if allowed is None:
                vt = (values_of(item, VALUE_TYPE) or [""])[0]
                allowed = enum["by_value_type"].get(vt)
            for v in values_of(item, tag) or []:
                if allowed is not None and v and v not in allowed:
                    self._finding("iod.enumerated-value", Severity.ERROR,
                                  f"{tag_str(tag)} value {v!r} is not an enumerated value "
                                  f"({', '.join(allowed)})", path, enum["reference"])
            return
        rule = self.rules.get(tag)
        if rule is not None and rule.children and tag != CONTENT_SEQUENCE:
            self.checker._values_and_children(rule, elem, item, path, self.mod, self.iod)
