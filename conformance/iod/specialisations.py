"""IOD-specific specialisations and pixel description consistency (PS3.3 A, C.7.6.3, C.8).

* Specialisations the standard states in text, not in the attribute tables, from
  ``conformance/standard/data/iod_specialisations.json`` (each rule cites its section):
  enumerated values of pixel description attributes per IOD (CT Bits Allocated 16, US Pixel
  Representation 0, ...), per-value enumerations (Image Type value 3), and type overrides
  (Modality type 3 in the SC IODs).
* Image Type values 1 and 2 (PS3.3 C.7.6.1.1.2): ORIGINAL or DERIVED; PRIMARY or SECONDARY.
* Pixel description consistency (PS3.3 C.7.6.3.1, PS3.5 8.1.1): Bits Stored <= Bits
  Allocated, High Bit = Bits Stored - 1, Bits Allocated 1 or a multiple of 8; native Pixel
  Data with Bits Allocated > 8 encoded as OW in explicit VR (PS3.5 8.1.1, A.1).
* Geometry sanity: Image Orientation (Patient) rows and columns unit vectors, orthogonal
  (PS3.3 C.7.6.2.1.1); Pixel Spacing values greater than zero (PS3.3 10.7.1.1, C.7.6.2).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod import dicomdir, identity
from conformance.iod.elements import element_vr, tag_str, values_of
from conformance.standard.iod_index import IODDef

DATA = Path(__file__).resolve().parent.parent / "standard" / "data" / "iod_specialisations.json"
OTHERWISE = DATA.with_name("condition_otherwise.json")
Add = Callable[..., None]
IMAGE_TYPE = 0x00080008


def _tag(text: str) -> int:
    return int(text[1:5] + text[6:10], 16)


@cache
def _rules() -> list[dict[str, Any]]:
    raw = json.loads(DATA.read_text())["rules"]
    return [{**r, "tag": _tag(r["tag"])} for r in raw]


@cache
def _otherwise() -> frozenset[tuple[int, str]]:
    raw = json.loads(OTHERWISE.read_text())["entries"]
    return frozenset((_tag(e["tag"]), e["condition"]) for e in raw)


def may_be_present_otherwise(tag: int, condition_text: str) -> bool:
    """Whether PS3.3 allows *tag* in other cases than its condition *condition_text* says
    ("Otherwise may be present if ...", "May also be present if ..."), a sentence the pinned
    index drops (``standard/data/condition_otherwise.json``): then its presence while the
    condition is false is no error (PS3.5 7.4.4 applies only without such a sentence)."""
    return (tag, condition_text) in _otherwise()


def applies(rule: dict[str, Any], iod: IODDef, sop_class: str | None = None) -> bool:
    if "sop_classes" in rule:
        return sop_class in rule["sop_classes"]
    if "iods" in rule:
        return iod.key in rule["iods"]
    if "when_module" in rule:
        return any(u.module.key == rule["when_module"] for u in iod.modules)
    return any(u.module.key == "general-series" for u in iod.modules)


def condition_decided(iod: IODDef, module_key: str, tag: int, ds: Dataset) -> bool | None:
    """The 2C/1C condition of top-level *tag* of *module_key*, where a rule of this module
    decides what the index cannot parse; None when no rule does (or it cannot tell).

    Patient Orientation (0020,0020) of the General Image Module (PS3.3 C.7.6.1), 2C: required
    if the image does not require Image Orientation (Patient) and Image Position (Patient), or
    Image Orientation (Slide); may be present otherwise.  False where a mandatory module has
    one of them as type 1 (the Image Plane Module, C.7.6.2); true where the General Image
    Module is M, no mandatory module has any of them, and the instance has neither those
    attributes nor functional groups (which may carry them); otherwise the data cannot tell.
    """
    found = _orientation_rules(iod).get((module_key, tag))
    if found is None:
        return None
    rule, for_iod = found
    if for_iod is not None:
        return for_iod
    orientation = {_tag(t) for t in rule["orientation_tags"]}
    if any(t in ds._dict for t in orientation) or 0x52009229 in ds._dict \
            or 0x52009230 in ds._dict:
        return None
    return True


#: Rule kinds that :func:`condition_decided` applies (not run by :func:`check`).
_DECIDED_KINDS = frozenset({"patient-orientation"})
_ORIENTATION: dict[int, tuple[IODDef, dict[tuple[str, int],
                                           tuple[dict[str, Any], bool | None]]]] = {}


def _orientation_rules(iod: IODDef) -> dict[tuple[str, int], tuple[dict[str, Any], bool | None]]:
    """(module key, tag) -> (patient-orientation rule, what *iod* alone decides: False when a
    mandatory module has an orientation attribute as type 1, None when the instance decides);
    rules whose condition stays unknown for *iod* are left out.  Once per IOD."""
    found = _ORIENTATION.get(id(iod))
    if found is None or found[0] is not iod:
        table: dict[tuple[str, int], tuple[dict[str, Any], bool | None]] = {}
        for r in _rules():
            if r.get("kind") != "patient-orientation" or not applies(r, iod):
                continue
            orientation = {_tag(t) for t in r["orientation_tags"]}
            mandatory = [a for u in iod.modules if u.usage == "M"
                         for a in u.module.attributes if a.tag in orientation]
            key = (r["when_module"], r["tag"])
            if any(a.type == "1" for a in mandatory):
                table[key] = (r, False)
            elif not mandatory and any(u.usage == "M" and u.module.key == r["when_module"]
                                       for u in iod.modules):
                table[key] = (r, None)  # the instance decides
        found = _ORIENTATION[id(iod)] = (iod, table)
    return found[1]


def _patient_position(add: Add, ds: Dataset, rule: dict[str, Any], sop_class: str | None
                      ) -> None:
    """General Series Patient Position (0018,5100), type 2C (see the rule's reference)."""
    present = rule["tag"] in ds._dict
    coded = 0x00540410 in ds._dict
    if present and coded:
        add("iod.present-when-condition-false", Severity.ERROR,
            "Patient Position (0018,5100) is present although Patient Orientation Code "
            "Sequence (0054,0410) is present", rule["reference"], tag_str(rule["tag"]))
    elif not present and not coded and sop_class in rule["required_for"]:
        add("iod.type2-missing", Severity.ERROR,
            "type 2C attribute Patient Position (0018,5100) is missing (required for this SOP "
            "class without Patient Orientation Code Sequence)", rule["reference"],
            tag_str(rule["tag"]))


def _if_value(ds: Dataset, rule: dict[str, Any]) -> bool:
    """The rule's 'if_value' condition (a value of another attribute is one of some), or True."""
    when = rule.get("if_value")
    if when is None:
        return True
    vals = values_of(ds, _tag(when["tag"])) or []
    i = when.get("value", 1) - 1
    return len(vals) > i and vals[i] in when["in"]


def _required(add: Add, ds: Dataset, rule: dict[str, Any]) -> None:
    """An attribute the IOD requires (type 1 or 2), optionally only when another attribute
    has one of some values (see the rule's reference)."""
    if not _if_value(ds, rule):
        return
    if "unless_present" in rule and _tag(rule["unless_present"]) in ds._dict:
        return
    if rule["tag"] in ds._dict:
        if rule["required_type"] == "1" and not values_of(ds, rule["tag"]):
            add("iod.type1-empty", Severity.ERROR, f"type 1 attribute {tag_str(rule['tag'])} "
                "is empty", rule["reference"], tag_str(rule["tag"]))
        return
    add(f"iod.type{rule['required_type']}-missing", Severity.ERROR,
        f"type {rule['required_type']}C attribute {tag_str(rule['tag'])} is missing; its condition holds",
        rule["reference"], tag_str(rule["tag"]))


def _one_of(add: Add, ds: Dataset, rule: dict[str, Any]) -> None:
    """At least one of the rule's attributes in each item (see the rule's reference)."""
    tags = [_tag(t) for t in rule["tags"]]
    items = _items_within(ds, rule["within"]) if "within" in rule else [(ds, "")]
    for item, prefix in items:
        if not any(t in item._dict for t in tags):
            add("iod.type1-missing", Severity.ERROR,
                f"none of {', '.join(tag_str(t) for t in tags)} is present; one is required",
                rule["reference"], prefix + tag_str(tags[0]))


def _required_if_frames(add: Add, ds: Dataset, rule: dict[str, Any]) -> None:
    """An attribute required only for more than one frame (see the rule's reference)."""
    frames = _first(_ints(ds, 0x00280008))
    if rule["tag"] not in ds._dict and frames is not None and frames > 1:
        add("iod.type1-missing", Severity.ERROR,
            f"{tag_str(rule['tag'])} is missing; it is required when Number of Frames "
            f"({frames}) is greater than 1", rule["reference"], tag_str(rule["tag"]))


_APPLICABLE: dict[tuple[int, str | None], list[dict[str, Any]]] = {}


def _applicable(iod: IODDef, sop_class: str | None) -> list[dict[str, Any]]:
    """The rules :func:`check` runs for an instance of *iod* of *sop_class* (once per pair:
    IODDef objects live as long as their cached index)."""
    key = (id(iod), sop_class)
    found = _APPLICABLE.get(key)
    if found is None:
        if len(_APPLICABLE) >= 4096:  # bounded: SOP Class UIDs come from the files
            _APPLICABLE.clear()
        found = [r for r in _rules() if "type" not in r and "modules" not in r
                 and r.get("kind") not in _DECIDED_KINDS and applies(r, iod, sop_class)]
        _APPLICABLE[key] = found
    return found


_FG_CONDITION_TAGS: dict[int, frozenset[int]] = {}


def condition_tags_in_functional_groups(iod: IODDef) -> frozenset[int]:
    """Tags that conditions in *iod* see as present also inside its functional groups (rules
    of kind 'condition-in-functional-groups': e.g. Referenced Image Evidence Sequence is
    required if Referenced Image Sequence is present, which in the enhanced IODs is carried
    in a Functional Group Macro, PS3.3 C.8.13, C.7.6.16.2.5)."""
    found = _FG_CONDITION_TAGS.get(id(iod))  # IODDef objects live as long as their index
    if found is None:
        by_module = condition_tags_by_module()
        found = frozenset(t for u in iod.modules for t in by_module.get(u.module.key, ()))
        _FG_CONDITION_TAGS[id(iod)] = found
    return found


@cache
def condition_tags_by_module() -> dict[str, frozenset[int]]:
    """Module key -> the tags of the 'condition-in-functional-groups' rules naming it (also
    read by bin/build_standard_index.py, whose guard leaves these conditions decidable)."""
    out: dict[str, set[int]] = {}
    for r in _rules():
        if r.get("kind") == "condition-in-functional-groups":
            for key in r["modules"]:
                out.setdefault(key, set()).add(r["tag"])
    return {k: frozenset(v) for k, v in out.items()}


def in_functional_groups(ds: Dataset, tag: int) -> bool:
    """Whether an Item of the Shared or Per-frame Functional Groups Sequence of *ds* holds
    *tag* inside one of its sequences (a Functional Group Macro, PS3.3 C.7.6.16), at any
    depth."""
    stack: list[Dataset] = []
    for fg in _FG:
        elem = ds._dict.get(fg)  # type: ignore[call-overload]
        if elem is not None:
            try:
                stack.extend(ds[fg].value or [])
            except Exception:  # an undecodable sequence: the data cannot tell
                continue
    while stack:
        item = stack.pop()
        if not isinstance(item, Dataset):
            continue
        if tag in item._dict:
            return True
        for sub in item._dict:
            if element_vr(item._dict[sub]) == "SQ":
                try:
                    stack.extend(item[sub].value or [])
                except Exception:
                    continue
    return False


_OVERRIDES: dict[int, dict[tuple[str, int], str]] = {}


#: Rule kinds that judge a conditional attribute's condition both ways themselves: the
#: module check treats the attribute of the rule's 'module' as type 3 (its values are still
#: checked), so that it does not also call the condition not verifiable.
_JUDGED_BY_RULE = frozenset({"patient-position"})


def type_overrides(iod: IODDef) -> dict[tuple[str, int], str]:
    """(module key, tag) -> type, for the attributes an IOD re-types (e.g. SC Modality) and
    those a rule of :data:`_JUDGED_BY_RULE` judges (as type 3 for the module check)."""
    found = _OVERRIDES.get(id(iod))  # IODDef objects live as long as their cached index
    if found is None:
        found = {(r["module"], r["tag"]): r["type"] if "type" in r else "3" for r in _rules()
                 if ("type" in r or r.get("kind") in _JUDGED_BY_RULE) and applies(r, iod)}
        _OVERRIDES[id(iod)] = found
    return found


def _ints(ds: Dataset, tag: int) -> list[int] | None:
    vals = values_of(ds, tag)
    if not vals:
        return None
    try:
        return [int(float(v)) for v in vals]
    except ValueError:
        return None


def _floats(ds: Dataset, tag: int) -> list[float] | None:
    vals = values_of(ds, tag)
    if not vals:
        return None
    try:
        return [float(v) for v in vals]
    except ValueError:
        return None


_IOD_TAGS: dict[int, frozenset[int]] = {}


def _iod_tags(iod: IODDef) -> frozenset[int]:
    found = _IOD_TAGS.get(id(iod))  # IODDef objects live as long as their cached index
    if found is None:
        found = frozenset(a.tag for u in iod.modules for a in u.module.attributes)
        _IOD_TAGS[id(iod)] = found
    return found


def outside_iod(add: Add, ds: Dataset, iod: IODDef, skip: frozenset[int] = frozenset()) -> None:
    """Standard top-level attributes that no module of the IOD has: a warning (PS3.3 A.1.3:
    an IOD is its modules; dciodvfy reports these too).  Private, group length, File Meta
    and retired-dictionary attributes are left to the element checks."""
    tags = _iod_tags(iod)
    for key in ds._dict:
        t = int(key)
        group = t >> 16
        if t in tags or t in skip or group & 1 or group <= 0x0002 or (t & 0xFFFF) == 0 \
                or group == 0xFFFC or 0x5000 <= group <= 0x60FF:  # repeating groups: not indexed
            continue
        add("iod.attribute-not-in-iod", Severity.WARNING,
            f"{tag_str(t)} is a standard attribute that no module of {iod.name} defines",
            "PS3.3 A.1.3", tag_str(t))


def check(add: Add, ds: Dataset, iod: IODDef) -> None:
    """Every rule of this module on the top level of *ds* (an instance of *iod*)."""
    identity.distinct_entity_uids(add, ds)
    if iod.key == dicomdir.BASIC_DIRECTORY:
        dicomdir.check(add, ds)
    frames = identity.frames_in_single_frame_iod(add, ds, iod, _iod_tags(iod))
    outside_iod(add, ds, iod, frozenset({identity.NUMBER_OF_FRAMES}) if frames else frozenset())
    sop = values_of(ds, 0x00080016)
    sop_class = sop[0] if sop else None
    for rule in _applicable(iod, sop_class):
        kind = _KINDS.get(rule.get("kind", ""))
        if kind is not None:
            kind(add, ds, rule, iod, sop_class)
            continue
        if "within" in rule:
            for item, prefix in _items_within(ds, rule["within"]):
                _enumerated(add, item, rule, iod, prefix)
        else:
            _enumerated(add, ds, rule, iod, "")
    _image_type(add, ds, iod)
    _pixel_description(add, ds)
    _waveform_data(add, ds)
    _geometry(add, ds)


#: The rule kinds of iod_specialisations.json with their own check (the data file's _about
#: says what each means); a rule without a kind is an enumerated / defined value rule.
_KINDS: dict[str, Callable[[Add, Dataset, dict[str, Any], IODDef, str | None], None]] = {
    "patient-position": lambda add, ds, rule, iod, sop: _patient_position(add, ds, rule, sop),
    "required": lambda add, ds, rule, iod, sop: _required(add, ds, rule),
    "one-of": lambda add, ds, rule, iod, sop: _one_of(add, ds, rule),
    "required-if-frames": lambda add, ds, rule, iod, sop: _required_if_frames(add, ds, rule),
    "direction-cosines": lambda add, ds, rule, iod, sop: _direction_cosines(add, ds, rule),
    "absent-unless": lambda add, ds, rule, iod, sop: _absent_unless(add, ds, rule, iod),
}


def _enumerated(add: Add, ds: Dataset, rule: dict[str, Any], iod: IODDef, prefix: str) -> None:
    """The values of the rule's attribute in *ds* against its enumerated / defined values."""
    vals = values_of(ds, rule["tag"])
    if not vals or not _if_value(ds, rule):
        return
    idx = rule.get("value")
    picked = vals[idx - 1:idx] if idx else vals
    allowed: list[str] = rule.get("enumerated") or rule.get("defined") or []
    for v in picked:
        if v and v not in allowed and not _same_number(v, allowed):
            enumerated = "enumerated" in rule
            add("iod.enumerated-value" if enumerated else "iod.defined-term",
                Severity.ERROR if enumerated else Severity.WARNING,
                f"{tag_str(rule['tag'])}{f' value {idx}' if idx else ''} {v!r} is not "
                f"{'an enumerated value' if enumerated else 'a defined term'} for "
                f"{iod.name} ({', '.join(allowed)})", rule["reference"],
                prefix + tag_str(rule["tag"]),
                details={"value": v, "allowed": list(allowed), "value_index": idx})


_FG = (0x52009229, 0x52009230)


def _items_within(ds: Dataset, within: list[str]) -> list[tuple[Dataset, str]]:
    """The sequence items at the end of *within* (a path of sequence tags; "FG" is either
    functional groups sequence, PS3.3 C.7.6.16), each with its finding path prefix."""
    level: list[tuple[Dataset, str]] = [(ds, "")]
    for step in within:
        tags = _FG if step == "FG" else (_tag(step),)
        nxt: list[tuple[Dataset, str]] = []
        for item, prefix in level:
            for tag in tags:
                elem = item._dict.get(tag)  # type: ignore[call-overload]
                if elem is None:
                    continue
                try:
                    seq = item[tag].value or []
                except Exception:  # noqa: BLE001 - unreadable: reported by the element walk
                    continue
                nxt.extend((sub, f"{prefix}{tag_str(tag)}[{i}].") for i, sub in enumerate(seq)
                           if isinstance(sub, Dataset))
        level = nxt
    return level


def _same_number(v: str, allowed: list[str]) -> bool:
    try:
        return any(float(a) == float(v) for a in allowed)
    except ValueError:
        return False


def _image_type(add: Add, ds: Dataset, iod: IODDef) -> None:
    vals = values_of(ds, IMAGE_TYPE)
    if not vals:
        return
    for i, allowed in ((0, ("ORIGINAL", "DERIVED")), (1, ("PRIMARY", "SECONDARY"))):
        if len(vals) > i and vals[i] and vals[i] not in allowed:
            add("iod.enumerated-value", Severity.ERROR,
                f"Image Type (0008,0008) value {i + 1} {vals[i]!r} is not an enumerated value "
                f"({' or '.join(allowed)})", "PS3.3 C.7.6.1.1.2", tag_str(IMAGE_TYPE),
                details={"value": vals[i], "allowed": list(allowed)})


def _first(values: list[int] | None) -> int | None:
    return values[0] if values else None


def _pixel_description(add: Add, ds: Dataset) -> None:
    ref = "PS3.3 C.7.6.3.1 / PS3.5 8.1.1"
    allocated = _first(_ints(ds, 0x00280100))
    stored = _first(_ints(ds, 0x00280101))
    high = _first(_ints(ds, 0x00280102))
    if allocated is not None and allocated != 1 and allocated % 8:
        add("pixel.bits-allocated", Severity.ERROR,
            f"Bits Allocated (0028,0100) is {allocated}; it shall be 1 or a multiple of 8",
            "PS3.5 8.1.1", tag_str(0x00280100))
    if allocated is not None and stored is not None and stored > allocated:
        add("pixel.bits-stored", Severity.ERROR,
            f"Bits Stored (0028,0101) {stored} is greater than Bits Allocated {allocated}",
            ref, tag_str(0x00280101))
    if stored is not None and high is not None and high != stored - 1:
        add("pixel.high-bit", Severity.ERROR,
            f"High Bit (0028,0102) is {high}; it shall be Bits Stored - 1 = {stored - 1}",
            ref, tag_str(0x00280102))
    pix = ds._dict.get(0x7FE00010)  # type: ignore[call-overload]
    implicit = getattr(ds, "original_encoding", (False, True))[0]
    if pix is not None and not implicit and allocated is not None and allocated > 8 \
            and element_vr(pix) == "OB" and getattr(pix, "length", 0) != 0xFFFFFFFF:
        add("pixel.vr", Severity.ERROR,
            f"native Pixel Data is OB with Bits Allocated {allocated}; it shall be OW",
            "PS3.5 8.1.1, A.1", tag_str(0x7FE00010))


def _waveform_data(add: Add, ds: Dataset) -> None:
    """Waveform Data (5400,1010) is OW when Waveform Bits Allocated is 16 (PS3.5 8.3, A.1): in
    explicit VR an OB value of 16-bit samples is wrongly encoded."""
    implicit = getattr(ds, "original_encoding", (False, True))[0]
    if implicit or 0x54000100 not in ds._dict:
        return
    for item, prefix in _items_within(ds, ["(5400,0100)"]):
        bits = _first(_ints(item, 0x54001004))
        data = item._dict.get(0x54001010)  # type: ignore[call-overload]
        if data is not None and bits is not None and bits > 8 and element_vr(data) == "OB":
            add("pixel.vr", Severity.ERROR,
                f"Waveform Data is OB with Waveform Bits Allocated {bits}; it shall be OW",
                "PS3.5 8.3, A.1", prefix + tag_str(0x54001010))


def _absent_unless(add: Add, ds: Dataset, rule: dict[str, Any], iod: IODDef) -> None:
    """A type 1C attribute present although its condition (which the pinned parser cannot
    evaluate) is false (PS3.5 7.4.4; see the rule's reference and 'condition').  Not where
    another module of the IOD gives the attribute another type (Pixel Aspect Ratio is type 1
    in the Ophthalmic Thickness Map and Corneal Topography Map modules)."""
    if rule["tag"] not in ds._dict or any(
            a.tag == rule["tag"] and a.type != "1C" for u in iod.modules
            for a in u.module.attributes):
        return
    why = next((f"{t} is present" for t in rule.get("false_if_present", ())
                if _tag(t) in ds._dict or in_functional_groups(ds, _tag(t))), None)
    vals = _floats(ds, rule["tag"])
    if why is None and rule.get("false_if_ratio_one") and vals and len(vals) == 2 \
            and vals[0] == vals[1] and vals[0] > 0:
        why = f"its values {vals[0]:g}\\{vals[1]:g} are a ratio of 1:1"
    if why is not None:
        add("iod.present-when-condition-false", Severity.ERROR,
            f"type 1C attribute {tag_str(rule['tag'])} is present although its condition is "
            f"false ({why}; \"{rule['condition']}\")", rule["reference"],
            tag_str(rule["tag"]))


def _norms_and_dot(vals: list[float]) -> tuple[list[float], float | None]:
    """Lengths of the vectors of three values in *vals*, and the dot product of the first
    two when there are exactly two (direction cosines, PS3.3 C.7.6.2.1.1)."""
    vecs = [vals[i:i + 3] for i in range(0, len(vals), 3)]
    norms = [math.sqrt(sum(x * x for x in v)) for v in vecs]
    dot = sum(a * b for a, b in zip(*vecs)) if len(vecs) == 2 else None
    return norms, dot


def _direction_cosines(add: Add, ds: Dataset, rule: dict[str, Any]) -> None:
    """Direction cosines in the items of the rule's path (PS3.3 C.7.6.2.1.1, see the rule's
    reference): each vector of three values has unit length, two vectors are orthogonal.
    One finding per rule, at the first offending item, with the count of such items."""
    items = _items_within(ds, rule["within"])
    bad: list[tuple[str, str]] = []
    for item, prefix in items:
        vals = _floats(item, rule["tag"])
        if vals is None or not vals or len(vals) % 3:
            continue  # absent, empty or of the wrong VM: the element checks report it
        norms, dot = _norms_and_dot(vals)
        if any(abs(n - 1.0) > 1e-3 for n in norms):
            bad.append((prefix, "length " + ", ".join(f"{n:.4g}" for n in norms)))
        elif dot is not None and abs(dot) > 1e-3:
            bad.append((prefix, "directions not orthogonal"))
    if bad:
        tag = tag_str(rule["tag"])
        add("geometry.orientation-not-unit", Severity.ERROR,
            f"{tag} is not a set of unit, orthogonal direction cosines ({bad[0][1]}) in "
            f"{len(bad)} of {len(items)} item(s)", rule["reference"], bad[0][0] + tag,
            details={"items": len(bad)})


def _geometry(add: Add, ds: Dataset) -> None:
    iop = _floats(ds, 0x00200037)
    if iop is not None and len(iop) == 6:
        norms, dot = _norms_and_dot(iop)
        for name, norm in zip(("row", "column"), norms):
            if abs(norm - 1.0) > 1e-3:
                add("geometry.orientation-not-unit", Severity.ERROR,
                    f"Image Orientation (Patient) {name} direction has length {norm:.4g}; it "
                    "shall be a unit vector", "PS3.3 C.7.6.2.1.1", tag_str(0x00200037))
        if dot is not None and abs(dot) > 1e-3:
            add("geometry.orientation-not-orthogonal", Severity.ERROR,
                f"Image Orientation (Patient) row and column directions are not orthogonal "
                f"(dot product {dot:.4g})", "PS3.3 C.7.6.2.1.1", tag_str(0x00200037))
    spacing = _floats(ds, 0x00280030)
    if spacing is not None and any(s <= 0 for s in spacing):
        add("geometry.pixel-spacing", Severity.ERROR,
            f"Pixel Spacing (0028,0030) {spacing} has a value not greater than zero",
            "PS3.3 10.7.1.1 / C.7.6.2.1", tag_str(0x00280030))
