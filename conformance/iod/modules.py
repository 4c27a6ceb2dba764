"""Module and attribute checks against the IOD definition, PS3.3 A.1.3 and 5.4.

* modules by usage: M always; C by its condition; U when any of its own attributes are
  present (PS3.3 A.1.3);
* attributes by type (PS3.5 7.4): 1 present and non-empty, 2 present (may be empty),
  1C/2C as 1/2 when their condition holds, 3 optional; recursively in every sequence item;
* enumerated values (error) and defined terms (warning), where the index has them.

A condition the index cannot evaluate is reported as *not verifiable* (severity info, code
``iod.condition-not-verifiable``) and can be settled with a facts mapping, keyed by the
condition's text or by the location key given in the finding; it is never treated as type 3.

A 1C/2C attribute present while its (evaluable) condition is false is an error unless the
table says "May be present otherwise" (PS3.5 7.4.4) or another module of the IOD requires
it (type 1 or 2 there: an IOD-specific module specialising a general one); sequences are
checked against the number of Items the table states ("Only a single Item shall be
included ...").  Conditions "of this frame" inside Functional Group Macros are read in the
frame's own macros (see :meth:`ModuleChecker._frames`).

Not covered: per-value enumerations ("Value 1 shall be ..."), context groups of
code sequences, and module conditions the 2020a tables do not state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod.elements import element_vr, interned, sequence_items, tag_str, values_of
from conformance.iod.functional_groups import (
    FUNCTIONAL_GROUP_SEQUENCES,
    PER_FRAME,
    SHARED,
    FunctionalGroups,
)
from conformance.iod.specialisations import (
    condition_decided,
    condition_tags_in_functional_groups,
    in_functional_groups,
    may_be_present_otherwise,
    type_overrides,
)
from conformance.iod.sr_content import SR_CONTENT_MODULES, SRContentChecker
from conformance.standard.conditions import evaluate
from conformance.standard.iod_index import AttributeRule, Condition, IODDef, ModuleDef

Add = Callable[..., None]


def _is_empty(elem: object, item: Dataset | None = None) -> bool:
    if item is not None and element_vr(elem) == "SQ":
        try:
            return len(item[elem.tag].value or []) == 0  # type: ignore[attr-defined]
        except Exception:
            return False  # unparseable sequence: reported by the element walk
    if isinstance(elem, RawDataElement):
        return elem.length == 0
    value = getattr(elem, "value", None)
    return value is None or value == "" or value == b"" or (
        hasattr(value, "__len__") and len(value) == 0)


class ModuleChecker:
    def __init__(self, add: Add, top: Dataset, facts: Mapping[str, bool] | None) -> None:
        self.add = add
        self.top = top
        self.facts = dict(facts or {})
        self.overrides: dict[tuple[str, int], str] = {}
        self.fg_condition_tags: frozenset[int] = frozenset()
        #: While a Functional Groups Item is checked: (that Item, whether it is the Shared
        #: one), the frame(s) whose conditions say "of this frame" (see _frames).
        self.frame_item: tuple[Dataset, bool] | None = None
        #: (id of a Functional Groups Item, tag) -> values in its macros (see _frame_lookup).
        self._frame_memo: dict[tuple[int, int], list[str] | None] = {}
        self._frame_views: dict[tuple[int, frozenset[int]], list[dict[int, list[str]]] | None] \
            = {}

    # -- conditions ---------------------------------------------------------------------
    def _decide(self, cond: Condition | None, key: str, item: Dataset,
                lookup: Callable[[int], list[str] | None] | None = None) -> bool | None:
        if cond is not None and cond.text in self.facts:
            return bool(self.facts[cond.text])
        if key in self.facts:
            return bool(self.facts[key])
        if cond is None or cond.expr is None:
            return None
        return evaluate(cond.expr, lookup or self._lookup(item))

    def _lookup(self, item: Dataset) -> Callable[[int], list[str] | None]:
        """Values of a tag as a condition sees them: in *item*, else in the top data set."""
        top = self.top

        def lookup(tag: int) -> list[str] | None:
            found = values_of(item, tag)
            if found is None and item is not top:
                found = values_of(top, tag)
            if found is None and tag in self.fg_condition_tags \
                    and in_functional_groups(top, tag):
                found = ["<item>"]  # carried in a Functional Group Macro (PS3.3 C.7.6.16)
            return found

        if self.frame_item is not None:
            lookup.frames = self._frames  # type: ignore[attr-defined]
        return lookup

    def _frames(self, tags: frozenset[int]) -> list[dict[int, list[str]]] | None:
        """The values of *tags* in each frame the current Functional Groups Item describes
        (PS3.3 C.7.6.16), equal frames once: a Per-frame Item's frame reads that Item's
        macros, then the Shared Item's; the Shared Item stands for every frame (each
        Per-frame Item, then the Shared Item).  None when a frame lacks one of *tags*."""
        assert self.frame_item is not None
        item, is_shared = self.frame_item
        key = (id(item), tags)
        if key in self._frame_views:
            return self._frame_views[key]
        memo = self._frame_memo
        if not is_shared:
            frames = [_frame_lookup(item, _first_item(self.top, SHARED), memo)]
        else:
            frames = [_frame_lookup(f, item, memo) for f in _items(self.top, PER_FRAME)] or \
                [_frame_lookup(item, None, memo)]
        views: dict[tuple, dict[int, list[str]]] = {}
        found: list[dict[int, list[str]]] | None = None
        for frame in frames:
            values: dict[int, list[str]] = {}
            for t in tags:
                v = frame(t)
                if v is None:
                    break
                values[t] = v
            else:
                views.setdefault(tuple(tuple(v) for v in values.values()), values)
                continue
            break  # a frame without one of the tags: the data cannot tell
        else:
            found = list(views.values())
        self._frame_views[key] = found
        return found

    def _not_verifiable(self, cond: Condition | None, key: str, what: str, ref: str,
                        tag: str | None, module: str | None, iod: str | None) -> None:
        text = cond.text if cond else "(the index has no condition text for it)"
        self.add("iod.condition-not-verifiable", Severity.INFO, _not_verifiable_message(
                 what, text, key), ref, tag, module=module, iod=iod,
                 details={"fact": key, "condition": text})

    # -- modules ------------------------------------------------------------------------
    def check_iod(self, iod: IODDef) -> None:
        ds = self.top
        self.overrides = type_overrides(iod)
        self.fg_condition_tags = condition_tags_in_functional_groups(iod)
        for use in iod.modules:
            mod = use.module
            if use.usage == "M":
                self.check_module(mod, iod)
                continue
            present = self._module_present(mod, iod)
            if use.usage == "U":
                if present:
                    self.check_module(mod, iod)
            else:  # "C"
                key = f"{iod.key}/{mod.key}"
                required = self._decide(use.condition, key, ds)
                if present:
                    self.check_module(mod, iod)
                elif required is True and (not _has_unconditional(mod)
                                           or _type1_all_present(mod, self.top)):
                    # Every attribute is conditional (e.g. SC Multi-frame Vector, PS3.3
                    # C.8.6.4): the module is "present" with none of them; the attribute
                    # conditions decide.  Or its type 1 attributes are all there, though
                    # shared with another module (Palette Color LUT descriptors are in the
                    # Image Pixel Module too, PS3.3 C.7.6.3, C.7.9): present, checked.
                    self.check_module(mod, iod)
                elif required is True:
                    self.add("iod.module-missing", Severity.ERROR,
                             f"conditional module {mod.name} is required "
                             f"({use.condition.text if use.condition else key}) but absent",
                             iod.reference or mod.reference, None, module=mod.name,
                             iod=iod.name)
                elif required is None:
                    self._not_verifiable(use.condition, key, f"module {mod.name}",
                                         iod.reference, None, mod.name, iod.name)

    def _module_present(self, mod: ModuleDef, iod: IODDef) -> bool:
        keys = self.top._dict.keys()
        own, need_all = _own_tags(mod, iod)
        if need_all:
            return bool(own) and keys >= own
        return not keys.isdisjoint(own)

    def check_module(self, mod: ModuleDef, iod: IODDef) -> None:
        if mod.key in SR_CONTENT_MODULES:
            SRContentChecker(self, mod, iod).check(self.top)
            return
        self._check_rules(mod.attributes, self.top, "", mod, iod)

    def _check_rules(self, rules: tuple[AttributeRule, ...], item: Dataset, prefix: str,
                     mod: ModuleDef, iod: IODDef, gprefix: str | None = None) -> None:
        """*gprefix*: *prefix* without item indices (the facts key; computed when None)."""
        d = item._dict
        if gprefix is None:
            gprefix = _generic(prefix) if prefix else ""
        lookup = None
        for rule, tag, tstr, atype, key in _plan(rules, mod, gprefix, iod,
                                                 self.overrides if not prefix else None):
            elem = d.get(tag)  # type: ignore[call-overload]
            if elem is None and atype == "3":
                continue  # an absent type 3 attribute: nothing to check
            path = prefix + tstr
            if atype in ("1C", "2C"):
                if lookup is None:
                    lookup = self._lookup(item)
                required = self._decide(rule.condition, key, item, lookup)
                if required is None and not prefix:
                    required = condition_decided(iod, mod.key, tag, item)
                if required is None:
                    if elem is None:
                        self._not_verifiable(rule.condition, key, f"type {atype} attribute",
                                             mod.reference, path, mod.name, iod.name)
                        continue
                    required = atype == "1C"  # present: a 1C value must not be empty
                elif required is False:
                    # A fact saying the condition is false does not hide this (PS3.5 7.4.4).
                    if elem is not None and rule.condition is not None and \
                            not rule.condition.may_be_present_otherwise and \
                            not may_be_present_otherwise(tag, rule.condition.text) and \
                            (prefix or mod.key not in _required_elsewhere(iod, tag)):
                        self.add("iod.present-when-condition-false", Severity.ERROR,
                                 f"type {atype} attribute {_name(tag)} is present although "
                                 f"its condition is false (\"{rule.condition.text}\")",
                                 "PS3.5 7.4.4 / " + mod.reference, path, module=mod.name,
                                 iod=iod.name)
                    if elem is not None and atype == "1C" and _is_empty(elem, item):
                        self._empty(path, mod, iod, atype)
                    if elem is not None:
                        self._values_and_children(rule, elem, item, path, mod, iod,
                                                  gprefix + tstr)
                    continue
                atype = atype[0]
            if elem is None:
                if atype in ("1", "2"):
                    self.add(f"iod.type{atype}-missing", Severity.ERROR,
                             f"type {rule.type} attribute {_name(tag)} is missing",
                             mod.reference, path, module=mod.name, iod=iod.name)
                continue
            if atype == "1" and _is_empty(elem, item):
                self._empty(path, mod, iod, rule.type)
                continue
            self._values_and_children(rule, elem, item, path, mod, iod, gprefix + tstr)

    def _empty(self, path: str, mod: ModuleDef, iod: IODDef, atype: str) -> None:
        self.add("iod.type1-empty", Severity.ERROR,
                 f"type {atype} attribute {_name(int(path[-10:-6] + path[-5:-1], 16))} "
                 "is present but empty", mod.reference, path, module=mod.name, iod=iod.name)

    def _values_and_children(self, rule: AttributeRule, elem: object, item: Dataset, path: str,
                             mod: ModuleDef, iod: IODDef, gpath: str | None = None) -> None:
        """*gpath*: *path* without item indices (computed when None)."""
        if rule.tag in FUNCTIONAL_GROUP_SEQUENCES and item is self.top:
            FunctionalGroups(self, mod, iod).check(rule, path)
            return
        if rule.children:
            try:
                seq = item[rule.tag].value
            except Exception:
                return  # reported by the element walk
            if not isinstance(seq, (list, tuple)) and type(seq).__name__ != "Sequence":
                return
            if rule.items and len(seq):
                lo, hi = rule.items
                if len(seq) < lo or (hi is not None and len(seq) > hi):
                    want = f"{lo}" if lo == hi else (f"{lo} or more" if hi is None
                                                     else f"{lo} to {hi}")
                    self.add("iod.sequence-items", Severity.ERROR,
                             f"{_name(rule.tag)} has {len(seq)} Item(s); the module table "
                             f"requires {want}", mod.reference, path, module=mod.name,
                             iod=iod.name, details={"items": len(seq), "min": lo, "max": hi})
            if rule.type.startswith("1") and len(seq) == 0 and not _is_empty(elem, item):
                pass
            gchild = (_generic(path) if gpath is None else gpath) + "[]."
            for i, sub in enumerate(seq):
                if isinstance(sub, Dataset):
                    self._check_rules(rule.children, sub, f"{path}[{i}].", mod, iod, gchild)
            return
        if rule.enumerated is None and rule.defined is None:
            return
        values = values_of(item, rule.tag) or []
        for v in values:
            if v == "":
                continue
            if rule.enumerated is not None and not _member(v, rule.enumerated):
                self.add("iod.enumerated-value", Severity.ERROR,
                         f"{_name(rule.tag)} value {v!r} is not an enumerated value "
                         f"({', '.join(rule.enumerated[:8])}"
                         f"{', ...' if len(rule.enumerated) > 8 else ''})",
                         mod.reference, path, module=mod.name, iod=iod.name,
                         details={"value": v, "allowed": list(rule.enumerated)})
            elif rule.enumerated is None and rule.defined is not None and \
                    not _member(v, rule.defined):
                self.add("iod.defined-term", Severity.WARNING,
                         f"{_name(rule.tag)} value {v!r} is not a defined term",
                         mod.reference, path, module=mod.name, iod=iod.name,
                         details={"value": v, "defined": list(rule.defined)})


#: Per rule of a rules tuple (module attributes or a sequence's children) at one place:
#: (rule, tag, tag text, type after the IOD's specialisation, facts key); type 3 rules
#: only where a present attribute has something to check (:func:`_checked_when_present`).
#: Built once per (rules, module, generic prefix, IOD), so no key or path text is rebuilt
#: per file.
_PLANS: dict[tuple[int, str, str, int], tuple[Any, IODDef | None, tuple[Any, ...]]] = {}


def _plan(rules: tuple[AttributeRule, ...], mod: ModuleDef, gprefix: str, iod: IODDef,
          overrides: Mapping[tuple[str, int], str] | None
          ) -> tuple[tuple[AttributeRule, int, str, str, str], ...]:
    """The check plan of *rules*; *overrides* (top level only: None below) are *iod*'s type
    specialisations (PS3.3 A), keyed by (module key, tag)."""
    owner = iod if overrides is not None else None
    key = (id(rules), mod.key, gprefix, id(owner))
    found = _PLANS.get(key)
    if found is None or found[0] is not rules or found[1] is not owner:  # ids get reused
        typed = ((rule, overrides.get((mod.key, rule.tag), rule.type) if overrides
                  else rule.type) for rule in rules)
        plan = tuple((rule, interned(rule.tag), tag_str(rule.tag), atype,
                      f"{mod.key}:{gprefix}{tag_str(rule.tag)}") for rule, atype in typed
                     if atype != "3" or _checked_when_present(rule))
        found = (rules, owner, plan)
        _PLANS[key] = found
    return found[2]


def _checked_when_present(rule: AttributeRule) -> bool:
    """A type 3 *rule* has something to check when its attribute is present: Items (a
    sequence, or a Functional Groups Sequence), enumerated values or defined terms (see
    :meth:`ModuleChecker._values_and_children`); absent, a type 3 attribute is never
    reported.  The plans leave the other type 3 rules out."""
    return rule.has_children or rule.tag in FUNCTIONAL_GROUP_SEQUENCES or \
        rule.enumerated is not None or rule.defined is not None


@lru_cache(maxsize=4096)
def _not_verifiable_message(what: str, text: str, key: str) -> str:
    return (f"{what}: condition \"{text}\" cannot be evaluated from the data; settle it "
            f"with --facts FILE containing {{\"{key}\": true}} (or false)")


_OWN: dict[tuple[int, str], tuple[frozenset[int], bool]] = {}


def _has_unconditional(mod: ModuleDef) -> bool:
    """The module has a top-level type 1 or 2 attribute (its absence shows)."""
    return any(a.type in ("1", "2") for a in mod.attributes)


def _type1_all_present(mod: ModuleDef, top: Dataset) -> bool:
    """The module has top-level type 1 attributes and *top* holds every one of them."""
    ones = [a.tag for a in mod.attributes if a.type == "1"]
    return bool(ones) and all(t in top._dict for t in ones)


def _own_tags(mod: ModuleDef, iod: IODDef) -> tuple[frozenset[int], bool]:
    """Tags that tell an optional module is present (PS3.3 A.1.3): its top-level attributes
    that no other module of the IOD has (Float Pixel Data tells the Floating Point Image Pixel
    module from the Image Pixel module, though both have Rows); when every attribute is
    shared (e.g. Supplemental Palette Color LUT), all of its type 1 attributes.  Each tag is
    the shared ``BaseTag`` (:func:`~conformance.iod.elements.interned`)."""
    key = (id(iod), mod.key)  # IODDef objects live as long as their (cached) index
    found = _OWN.get(key)
    if found is None:
        owners = _owners(iod)
        own = frozenset(interned(a.tag) for a in mod.attributes
                        if owners[a.tag] <= {mod.key})
        found = (own, False) if own else (
            frozenset(interned(a.tag) for a in mod.attributes if a.type == "1"), True)
        _OWN[key] = found
    return found


_OWNERS: dict[int, tuple[IODDef, dict[int, set[str]]]] = {}


def _owners(iod: IODDef) -> dict[int, set[str]]:
    """Top-level tag -> keys of the IOD's modules that have it (once per IOD)."""
    found = _OWNERS.get(id(iod))
    if found is None or found[0] is not iod:
        owners: dict[int, set[str]] = {}
        for u in iod.modules:
            for a in u.module.attributes:
                owners.setdefault(a.tag, set()).add(u.module.key)
        found = _OWNERS[id(iod)] = (iod, owners)
    return found[1]


def _required_elsewhere(iod: IODDef, tag: int) -> frozenset[str]:
    """Keys of *iod*'s modules whose top-level *tag* is required by another module of the IOD
    (type 1 or 2 there), whatever this module's condition says.  An IOD-specific module can
    specialise a general one: 2026b's Ophthalmic Tomography Image Module (PS3.3 C.8.17.7)
    makes In-concatenation Number type 1 with the value 1, while the Multi-frame Functional
    Groups Module (C.7.6.16) has it 1C on Concatenation UID; no instance could satisfy both,
    and the module that requires it describes the instance.  A type 3 row elsewhere does not
    count: the SC Multi-frame Image Module's "shall not be present otherwise" for Presentation
    LUT Shape (C.8.6.3) stands although the General Image Module lists it as type 3."""
    found = _ELSEWHERE.get(id(iod))
    if found is None or found[0] is not iod:
        types: dict[int, dict[str, str]] = {}
        for u in iod.modules:
            for a in u.module.attributes:
                types.setdefault(a.tag, {})[u.module.key] = a.type
        table = {t: frozenset(k for k in by if any(
                     other != k and typ in ("1", "2") for other, typ in by.items()))
                 for t, by in types.items() if len(by) > 1}
        found = _ELSEWHERE[id(iod)] = (iod, table)
    return found[1].get(tag, frozenset())


_ELSEWHERE: dict[int, tuple[IODDef, dict[int, frozenset[str]]]] = {}


def _items(ds: Dataset, tag: int) -> list[Dataset]:
    return sequence_items(ds, tag) or []


def _first_item(ds: Dataset, tag: int) -> Dataset | None:
    found = _items(ds, tag)
    return found[0] if found else None


def _frame_lookup(first: Dataset, then: Dataset | None,
                  memo: dict[tuple[int, int], list[str] | None]
                  ) -> Callable[[int], list[str] | None]:
    """Values of a tag in the Functional Group Macros of a frame: in an Item of a sequence of
    *first* (a Functional Groups Item), else of *then* (the Shared Item); per Item and tag
    once per file (*memo*: the Shared Item stands for thousands of frames)."""
    def in_item(fg: Dataset, tag: int) -> list[str] | None:
        key = (id(fg), tag)
        if key not in memo:
            memo[key] = None
            for seq, elem in fg._dict.items():
                if element_vr(elem) == "SQ":
                    found = next((v for v in (values_of(i, tag) for i in _items(fg, seq))
                                  if v is not None), None)
                    if found is not None:
                        memo[key] = found
                        break
        return memo[key]

    def lookup(tag: int) -> list[str] | None:
        found = in_item(first, tag)
        return found if found is not None or then is None else in_item(then, tag)

    return lookup


def _member(value: str, allowed: tuple[str, ...]) -> bool:
    """*value* is one of *allowed*; numbers compare by value ("1" matches "+1", "0001")."""
    if value in allowed:
        return True
    try:
        num = float(value)
    except ValueError:
        return False
    for a in allowed:
        try:
            if float(a) == num:
                return True
        except ValueError:
            continue
    return False


def _generic(path: str) -> str:
    """Path without item indices, for a stable facts key."""
    import re
    return re.sub(r"\[\d+\]", "[]", path)


@lru_cache(maxsize=8192)
def _name(tag: int) -> str:
    """"Name (gggg,eeee)" of a standard attribute, for messages (once per tag and process)."""
    from pydicom.datadict import dictionary_description
    try:
        return f"{dictionary_description(tag)} {tag_str(tag)}"
    except KeyError:
        return tag_str(tag)
