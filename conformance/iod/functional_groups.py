"""Functional groups of enhanced multi-frame IODs (PS3.3 C.7.6.16).

The Multi-frame Functional Groups Module holds one Shared Functional Groups Sequence Item and
one Per-frame Functional Groups Sequence Item per frame.  Each IOD says which Functional Group
Macros it uses (M, C or U) in its own table (e.g. PS3.3 A.51.5 for Segmentation); a macro is
put either in the shared Item or in every per-frame Item (C.7.6.16.1).  The pinned module
tables list every macro of every IOD under both sequences as if each were required in each
Item, which the standard never says; here:

* the macros present in an Item are checked against their own attribute rules (types,
  conditions, enumerated values), recursively;
* a macro the IOD's own table marks M (``standard/data/functional_group_macros.json``,
  edition 2020a, written by ``bin/gen_fg_macros.py``) is in the shared Item or in the
  per-frame Items, unless its sequence is type 1C/2C (the Unassigned Converted Attributes
  macros) or a later edition may have relaxed it (usage "M?"); C and U macros absent from an
  Item are not reported (their conditions are prose), nor are macros of IODs added after 2020a;
* the Shared sequence has exactly one Item, the Per-frame sequence one Item per frame
  (Number of Frames, PS3.3 C.7.6.16.1);
* a macro is in the shared Item or in the per-frame Items, not both (C.7.6.16.1), and a
  per-frame macro is in every per-frame Item; private sequences in the Items are not
  Functional Group Macros (the IOD's macro table lists the permitted ones) and are left out.
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

SHARED = 0x52009229
PER_FRAME = 0x52009230
FUNCTIONAL_GROUP_SEQUENCES = frozenset({SHARED, PER_FRAME})
REF = "PS3.3 C.7.6.16.1"
DATA = Path(__file__).resolve().parent.parent / "standard" / "data" / "functional_group_macros.json"


@cache
def required_macros() -> dict[str, list[tuple[str, int, str]]]:
    """IOD key -> [(macro name, tag of its sequence, its type)] of the macros the IOD's
    Functional Group Macros table marks M (checked ones only: see the module docstring)."""
    out: dict[str, list[tuple[str, int, str]]] = {}
    for key, rows in json.loads(DATA.read_text(encoding="utf-8"))["iods"].items():
        out[key] = [(name, int(tag[1:5] + tag[6:10], 16), kind)
                    for name, tag, kind, usage, _condition in rows
                    if usage == "M" and kind in ("1", "2")]
    return out


class FunctionalGroups:
    """Checks the Shared or the Per-frame Functional Groups Sequence of one instance."""

    def __init__(self, checker: ModuleChecker, mod: ModuleDef, iod: IODDef) -> None:
        self.checker = checker
        self.mod = mod
        self.iod = iod

    def _finding(self, code: str, message: str, path: str, severity: Severity = Severity.ERROR,
                 reference: str = REF, **details: Any) -> None:
        self.checker.add(code, severity, message, reference, path, module=self.mod.name,
                         iod=self.iod.name, details=details)

    def _items(self, tag: int) -> list[Dataset] | None:
        return sequence_items(self.checker.top, tag)

    def check(self, rule: AttributeRule, path: str) -> None:
        items = self._items(rule.tag)
        if items is None:
            return
        if rule.tag == SHARED:
            if len(items) != 1:
                self._finding("iod.sequence-items",
                              f"Shared Functional Groups Sequence has {len(items)} Item(s); "
                              "it shall have exactly one", path, items=len(items))
        else:
            frames = values_of(self.checker.top, 0x00280008) or []
            try:
                n = int(float(frames[0])) if frames else None
            except ValueError:
                n = None
            if n is not None and len(items) != n:
                self._finding("iod.functional-groups-frames",
                              f"Per-frame Functional Groups Sequence has {len(items)} Item(s) "
                              f"but Number of Frames is {n}; one Item per frame is required",
                              path, items=len(items), frames=n)
            self._per_frame_consistency(items, path)
            self._required_macros(items, path)
        for i, item in enumerate(items):
            self._check_item(rule, item, f"{path}[{i}].")

    def _check_item(self, rule: AttributeRule, item: Dataset, prefix: str) -> None:
        from conformance.iod.modules import _is_empty
        d = item._dict
        # Conditions "of this frame" in the macros of this Item read this Item's frame(s).
        self.checker.frame_item = (item, rule.tag == SHARED)
        try:
            for child in rule.children:
                elem = d.get(child.tag)  # type: ignore[call-overload]
                if elem is None:
                    continue
                path = prefix + tag_str(child.tag)
                if child.type.startswith("1") and _is_empty(elem, item):
                    self.checker._empty(path, self.mod, self.iod, child.type)
                    continue
                self.checker._values_and_children(child, elem, item, path, self.mod, self.iod)
        finally:
            self.checker.frame_item = None

    def _required_macros(self, per_frame: list[Dataset], path: str) -> None:
        """Each M macro of the IOD in the shared Item or in the per-frame Items (PS3.3
        C.7.6.16.1; the IOD's Functional Group Macros table, e.g. Table A.38-2)."""
        shared = (self._items(SHARED) or [])[:1]
        for name, tag, _kind in required_macros().get(self.iod.key, ()):
            if any(tag in item._dict for item in shared + per_frame):
                continue
            self._finding("iod.functional-group-macro-missing",
                          f"{name} Functional Group Macro ({tag_str(tag)}) is required (M) for "
                          f"{self.iod.name} but is in neither the Shared nor the Per-frame "
                          "Functional Groups Sequence", path + "." + tag_str(tag),
                          macro=name, reference=f"{self.iod.reference} (Functional Group Macros "
                          f"table, edition 2020a); {REF}")

    def _per_frame_consistency(self, items: list[Dataset], path: str) -> None:
        shared = self._items(SHARED) or []
        shared_tags = {int(t) for s in shared[:1] for t in s._dict}
        seen: dict[int, int] = {}
        for item in items:
            for t in item._dict:
                seen[int(t)] = seen.get(int(t), 0) + 1
        for tag, count in sorted(seen.items()):
            if tag >> 16 & 1:
                continue  # private: not a Functional Group Macro (C.7.6.16.1 names macros)
            if tag in shared_tags:
                self._finding("iod.functional-group-shared-and-per-frame",
                              f"Functional Group {tag_str(tag)} is in the Shared Functional "
                              "Groups Sequence and in the Per-frame Functional Groups Sequence; "
                              "it shall be in one of them", path + "." + tag_str(tag))
            elif count != len(items):
                self._finding("iod.functional-group-not-every-frame",
                              f"Functional Group {tag_str(tag)} is in {count} of {len(items)} "
                              "Per-frame Functional Groups Sequence Items; a per-frame "
                              "Functional Group is in every Item", path + "." + tag_str(tag),
                              severity=Severity.WARNING, items=count)
