"""Minimal valid instances of any storage SOP class in the index (PS3.3 IODs).

:func:`synthesize` fills the type 1 and 2 attributes of the mandatory modules, then asks the
validator which conditional attributes and modules the generated data triggers and adds them
(a few rounds, until nothing is missing), and adds small native pixel data where the IOD has
the Image Pixel module.  Values are deterministic (UIDs derive from the SOP class), so the
same call gives the same bytes.

The instances are meant to be valid for other validators too (dciodvfy: see
``tests/iod/test_synthesize_dciodvfy.py`` and the disagreements listed there): real values
from the attribute descriptions where the tables give none, per-IOD values (Image Type, pixel
description, NM vectors, ...), functional groups built as PS3.3 C.7.6.16 describes them (one
Per-frame item per frame with Frame Content, a dimension index, optional macros left out),
LUT data matching its descriptor; where two editions differ, an attribute that is optional in
one is included when that is valid under both.  The tables of choices are in this module and
:mod:`synth_parts` builds the dependent structures.

Not covered: compressed transfer syntaxes for IODs with pixel data (no codec is used; such a
request is a ``ValueError``), and the *meaning* of values (codes are placeholders from a
private coding scheme, dates are fixed).
"""

from __future__ import annotations

import re
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from conformance.iod.sr_content import SR_CONTENT_MODULES
from conformance.iod.synth_parts import (
    PER_FRAME,
    SHARED,
    dimension_index,
    directory,
    references,
    two_items,
    functional_groups,
    lookup_tables,
    waveform_data,
)
from conformance.iod.sr_templates import KEY_OBJECT_SELECTION
from conformance.iod.synth_values import (
    _ALWAYS_CONDITIONAL,
    _DUMMY,
    _EMPTY_2C,
    _ENHANCED_IMAGE_TYPE,
    _EXTRA_MODULES,
    _FG_ALL_CONDITIONAL,
    _FG_CONDITIONAL,
    _FG_LEFT_OUT_PER_IOD,
    _IN_FG,
    _MODALITY,
    _NO_LATERALITY,
    _PATH_EXTRA,
    _PER_CLASS,
    _PER_FRAME_MACROS,
    _PER_IOD,
    _PER_IOD_DROP,
    _PER_IOD_EXTRA,
    _SPECIFIC,
    _TWO_ITEMS,
    _TYPE3_ITEMS,
)
from conformance.iod.validator import validate
from conformance.standard.iod_index import (
    AttributeRule,
    IODDef,
    ModuleDef,
    dictionary_entry,
    load_index,
)



def _uid(sop_class: str, what: str) -> UID:
    return generate_uid(entropy_srcs=[sop_class, what])


def _typed(val: Any, vr: str) -> Any:
    """*val* in the Python type pydicom writes for *vr* (binary numbers from text)."""
    if vr in ("US", "SS", "UL", "SL", "SV", "UV") and isinstance(val, str):
        return int(val) if re.fullmatch(r"-?\d+", val) else 1
    if vr in ("FL", "FD") and isinstance(val, (str, int)):
        try:
            return float(val)
        except ValueError:
            return 1.0
    return val


def _value(rule: AttributeRule, vr: str, vm: str, sop_class: str, path: str,
           iod_key: str = "") -> Any:
    if rule.tag in _PER_CLASS.get(sop_class, {}):
        return _PER_CLASS[sop_class][rule.tag]
    per_iod = _PER_IOD.get(iod_key, {})
    if rule.tag in per_iod:
        value = per_iod[rule.tag]
        return [_typed(v, vr) for v in value] if isinstance(value, list) else _typed(value, vr)
    specific = _SPECIFIC.get(rule.tag)
    if rule.enumerated and isinstance(specific, str) and specific in rule.enumerated:
        return _typed(specific, vr)
    if rule.enumerated:
        val: Any = rule.enumerated[0]
    elif rule.tag in _SPECIFIC:
        if isinstance(specific, list):
            return [_typed(v, vr) for v in specific]
        return _typed(specific, vr)
    elif rule.defined:
        val = rule.defined[0]
    elif vr == "UI":
        return _uid(sop_class, path)
    else:
        val = _DUMMY.get(vr, "synthetic")
    val = _typed(val, vr)
    m = re.match(r"(\d+)", vm or "1")
    count = int(m.group(1)) if m else 1
    if count > 1 and not isinstance(val, bytes):
        return [val] * count
    return val


class _Builder:
    def __init__(self, iod: IODDef, sop_class: str) -> None:
        self.iod = iod
        self.sop_class = sop_class

    def add(self, rule: AttributeRule, item: Dataset, path: str, atype: str) -> None:
        entry = dictionary_entry(rule.tag)
        if entry is None or rule.tag in item:
            return
        vr, vm = entry[0].split(" or ")[0], entry[1]
        if rule.tag == 0x7FE00010:
            return  # pixel data is added last, from the image attributes
        if vr == "SQ":
            seq = Sequence()
            if atype == "1":
                sub = Dataset()
                self.fill(rule.children, sub, f"{path}[0].")
                seq.append(sub)
            item.add_new(rule.tag, vr, seq)
            return
        if atype == "2" and (rule.tag not in _SPECIFIC or rule.tag in _EMPTY_2C):
            item.add_new(rule.tag, vr, None)
            return
        item.add_new(rule.tag, vr, _value(rule, vr, vm, self.sop_class, path,
                                                self.iod.key))

    def fill(self, rules: tuple[AttributeRule, ...], item: Dataset, prefix: str = "") -> None:
        for rule in rules:
            if rule.type in ("1", "2"):
                self.add(rule, item, prefix + f"{rule.tag:08X}", rule.type)
            elif rule.type in ("1C", "2C") and (rule.tag in _ALWAYS_CONDITIONAL or (
                    rule.tag in _FG_CONDITIONAL and _IN_FG.search(prefix)) or (
                    self.iod.key in _FG_ALL_CONDITIONAL and rule.tag in _SPECIFIC
                    and _IN_FG.search(prefix))):
                self.add(rule, item, prefix + f"{rule.tag:08X}",
                         "2" if rule.tag in _EMPTY_2C else "1")


def _modality(sop_class: str) -> str | None:
    from conformance.standard.uids import keyword_of
    kw = keyword_of(sop_class)
    return next((m for frag, m in _MODALITY if frag in kw), None)


def _find_rule(mod: ModuleDef, tags: list[int]) -> AttributeRule | None:
    rules = mod.attributes
    rule = None
    for t in tags:
        rule = next((r for r in rules if r.tag == t), None)
        if rule is None:
            return None
        rules = rule.children
    return rule


def _navigate(ds: Dataset, path: str) -> tuple[Dataset, list[int]] | None:
    """Item holding the last tag of a finding path, and the tag list of the path."""
    parts = re.findall(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)(?:\[(\d+)\])?", path)
    item = ds
    tags = []
    for i, (g, e, idx) in enumerate(parts):
        tag = int(g + e, 16)
        tags.append(tag)
        if i < len(parts) - 1:
            if tag not in item or not idx:
                return None
            seq = item[tag].value
            if int(idx) >= len(seq):
                return None
            item = seq[int(idx)]
    return item, tags


def _sr_root(ds: Dataset, builder: _Builder, mod: ModuleDef) -> None:
    """The root content item of an SR document: a CONTAINER with a Document Title and
    Continuity Of Content (PS3.3 C.17.3.2, Table C.17-5); the module's other attributes belong
    to other value types and are not filled."""
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    rule = _find_rule(mod, [0x0040A043])
    if rule is not None:
        builder.add(rule, ds, "0040A043", "1")


def _pixel_data(ds: Dataset) -> None:
    rows, cols = int(ds.get("Rows", 4) or 4), int(ds.get("Columns", 4) or 4)
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    bits = int(ds.get("BitsAllocated", 16) or 16)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    n = (rows * cols * spp * bits * frames + 7) // 8
    n += n & 1
    ds.add_new(0x7FE00010, "OW" if bits > 8 else "OB", b"\x00" * n)


def synthesize(sop_class_uid: str, transfer_syntax: str = ExplicitVRLittleEndian,
               *, rounds: int = 6) -> Dataset:
    """Build a minimal instance of *sop_class_uid* that the validator finds no error in.

    Raises ``ValueError`` for a SOP class with no IOD in the index, or a compressed transfer
    syntax for an IOD with pixel data.
    """
    index = load_index()
    iod = index.iod_for_sop_class(sop_class_uid)
    if iod is None:
        raise ValueError(f"SOP class {sop_class_uid} has no IOD in the standard index "
                         f"(edition {index.edition})")
    ts = UID(transfer_syntax)
    if not ts.is_transfer_syntax:
        raise ValueError(f"{transfer_syntax} is not a known transfer syntax")
    builder = _Builder(iod, sop_class_uid)
    ds = Dataset()
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = _uid(sop_class_uid, "instance")
    ds.SpecificCharacterSet = "ISO_IR 192"
    modality = _PER_CLASS.get(sop_class_uid, {}).get(0x00080060) or _modality(sop_class_uid)
    if modality and any(a.tag == 0x00080060 for u in iod.modules for a in u.module.attributes):
        ds.Modality = modality
    for use in iod.modules:
        if use.usage == "M" and use.module.key in SR_CONTENT_MODULES:
            _sr_root(ds, builder, use.module)
        elif use.usage == "M" or use.module.key in _EXTRA_MODULES.get(iod.key, ()):
            builder.fill(use.module.attributes, ds)
    has_pixels = any(u.usage == "M" and any(a.tag == 0x7FE00010 for a in u.module.attributes)
                     for u in iod.modules)
    if has_pixels:
        for tag, kw in ((0x00280010, "Rows"), (0x00280011, "Columns")):
            if tag not in ds:
                setattr(ds, kw, 4)
        photometric = ds.get("PhotometricInterpretation", "MONOCHROME2")
        ds.SamplesPerPixel = 3 if photometric in ("RGB", "YBR_FULL", "YBR_FULL_422",
                                                  "YBR_ICT", "YBR_RCT") else 1
        if ds.SamplesPerPixel > 1:
            ds.PlanarConfiguration = 0
        if ts.is_encapsulated:
            raise ValueError(f"cannot synthesize pixel data in compressed transfer syntax "
                             f"{ts.name}; use a native one")
        _pixel_data(ds)
    if iod_has(iod, 0x00089007) and 0x00080008 not in _PER_IOD.get(iod.key, {}):
        ds.ImageType = _ENHANCED_IMAGE_TYPE  # enhanced IODs: 4 values (PS3.3 C.8.16.1)
    for use in iod.modules:
        for rule in use.module.attributes:
            if rule.tag in _TYPE3_ITEMS.get(iod.key, {}):
                builder.add(rule, ds, f"{rule.tag:08X}", "1")
    functional_groups(ds, _FG_LEFT_OUT_PER_IOD.get(iod.key, frozenset()),
                      _PER_FRAME_MACROS.get(iod.key, frozenset()))
    ds.file_meta = FileMetaDataset()
    ds.file_meta.FileMetaInformationVersion = b"\x00\x01"
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.ImplementationClassUID = UID("1.2.826.0.1.3680043.10.1375.1")
    ds.file_meta.ImplementationVersionName = "CONFORMANCE"
    _complete(ds, iod, builder, rounds)
    frame_laterality = any("FrameAnatomySequence" in item for tag in (SHARED, PER_FRAME)
                           for item in (ds[tag].value if tag in ds else []))
    if 0x00200060 in ds and (0x00200062 in ds or frame_laterality or iod.key in _NO_LATERALITY
                             or 0x54000100 in ds):
        # Laterality (2C) only where no Image or Frame Laterality says it, and not for
        # waveforms, slides or measurements with their own laterality (PS3.3 C.7.3.1).
        del ds[0x00200060]
    if iod.key.endswith("secondary-capture-image") and str(ds.get("NumberOfFrames")) == "1" \
            and 0x00280009 in ds:
        del ds[0x00280009]  # Frame Increment Pointer only for > 1 frame (PS3.3 C.8.6.3)
    if any(u.module.key == "multi-frame-dimension" for u in iod.modules):
        dimension_index(ds, _uid(sop_class_uid, "dimension-organization"),
                        temporal=iod.key == "enhanced-pet-image")
    _per_iod_extras(ds, iod)
    two_items(ds, _TWO_ITEMS)
    for path, keyword, value in _PATH_EXTRA.get(iod.key, []):
        item: Dataset | None = ds
        for step in path:
            seq = item.get(step) if item is not None else None
            item = seq[0] if seq else None
        if item is None:
            continue
        if value is None:
            if keyword in item:
                delattr(item, keyword)
        elif keyword not in item:
            setattr(item, keyword, references(value, ds, sop_class_uid)
                    if isinstance(value, str) else value)
    if iod.key == "basic-directory":
        directory(ds)
    lookup_tables(ds, palette_bits_8=iod.key == "color-palette")
    waveform_data(ds)
    _consistent_pixel_description(ds)
    if has_pixels:
        del ds[0x7FE00010]
        _pixel_data(ds)
    if sop_class_uid == KEY_OBJECT_SELECTION:
        _key_object_selection(ds)
    return ds


def _per_iod_extras(ds: Dataset, iod: IODDef) -> None:
    for tag, value in _PER_IOD_EXTRA.get(iod.key, {}).items():
        entry = dictionary_entry(tag)
        if tag not in ds and entry is not None:
            ds.add_new(tag, entry[0].split(" or ")[0], value)
    for tag in _PER_IOD_DROP.get(iod.key, ()):
        if tag in ds:
            del ds[tag]


def iod_has(iod: IODDef, tag: int) -> bool:
    """Whether any module of *iod* has *tag*, at any depth."""
    def walk(rules: tuple[AttributeRule, ...]) -> bool:
        return any(r.tag == tag or walk(r.children) for r in rules)
    return any(walk(u.module.attributes) for u in iod.modules)


def _key_object_selection(ds: Dataset) -> None:
    """TID 2010 (PS3.16), which the Key Object Selection Document IOD requires (PS3.3 A.35.4):
    a document title from CID 7010 ((113000, DCM, "Of Interest")) and one CONTAINS COMPOSITE
    reference (rows 5-7) to the instance the evidence sequence already lists."""
    title = ds.ConceptNameCodeSequence[0]
    title.CodeValue, title.CodingSchemeDesignator = "113000", "DCM"
    title.CodeMeaning = "Of Interest"
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0]
    listed = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    ref = Dataset()
    ref.ReferencedSOPClassUID = listed.ReferencedSOPClassUID
    ref.ReferencedSOPInstanceUID = listed.ReferencedSOPInstanceUID
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "COMPOSITE"
    item.ReferencedSOPSequence = [ref]
    ds.ContentSequence = [item]


def _consistent_pixel_description(ds: Dataset) -> None:
    """Bits Stored <= Bits Allocated and High Bit = Bits Stored - 1 (PS3.3 C.7.6.3.1): an
    IOD may fix Bits Allocated (8 for some) after the generic default of 16 was filled."""
    allocated = ds.get("BitsAllocated")
    stored = ds.get("BitsStored")
    if isinstance(allocated, int) and isinstance(stored, int) and stored > allocated:
        ds.BitsStored = stored = allocated
    if isinstance(stored, int) and "HighBit" in ds:
        ds.HighBit = stored - 1


def _complete(ds: Dataset, iod: IODDef, builder: _Builder, rounds: int) -> None:
    mods = {u.module.name: u.module for u in iod.modules}
    from conformance.standard.conditions import tags_in

    for _ in range(rounds):
        changed = False
        added: dict[int, set[int]] = {}  # id(item) -> tags added this round
        removed: dict[int, set[int]] = {}  # id(item) -> tags removed this round
        for f in validate(ds):
            if f.severity.value != "error" or not f.tag:
                continue
            nav = _navigate(ds, f.tag)
            if nav is None:
                continue
            item, tags = nav
            if f.code in ("iod.type1-missing", "iod.type2-missing", "iod.type1-empty"):
                mod = mods.get(f.module or "")
                rule = _find_rule(mod, tags) if mod else None
                if rule is None:
                    continue
                if rule.condition is not None and rule.condition.expr is not None and \
                        tags_in(rule.condition.expr) & added.get(id(item), set()):
                    continue  # its condition changed this round (mutually exclusive pairs)
                if tags[-1] in item and f.code == "iod.type1-empty":
                    del item[tags[-1]]
                builder.add(rule, item, f.tag, f.code[8])
                added.setdefault(id(item), set()).add(tags[-1])
                changed = True
            elif f.code == "iod.present-when-condition-false" and tags[-1] in item:
                mod = mods.get(f.module or "")
                rule = _find_rule(mod, tags) if mod else None
                if rule is not None and rule.condition is not None and rule.condition.expr \
                        and tags_in(rule.condition.expr) & removed.get(id(item), set()):
                    continue  # one of a set that excludes each other: not all of them
                del item[tags[-1]]  # e.g. one of a pair that excludes the other
                removed.setdefault(id(item), set()).add(tags[-1])
                changed = True
            elif f.code == "iod.enumerated-value" and f.details.get("allowed") \
                    and tags[-1] in item:  # (not removed by an earlier finding this round)
                elem = item[tags[-1]]
                allowed = f.details["allowed"][0]
                index = f.details.get("value_index")
                if index:  # one value of a multi-valued attribute (Image Type value 3)
                    values = list(elem.value)
                    values[index - 1] = _typed(allowed, elem.VR)
                    elem.value = values
                else:
                    elem.value = int(allowed) if elem.VR in ("US", "SS", "UL", "SL") \
                        else allowed
                changed = True
        for use in iod.modules:
            if use.usage == "C" and use.condition and use.condition.expr:
                pass  # required C modules come back as iod.module-missing below
        for f in validate(ds):
            if f.code == "iod.module-missing" and f.module in mods:
                before = len(ds)
                builder.fill(mods[f.module].attributes, ds)
                if len(ds) == before:  # only conditional attributes: add those
                    for rule in mods[f.module].attributes:
                        if rule.type in ("1C", "2C"):
                            builder.add(rule, ds, f"{rule.tag:08X}", rule.type[0])
                changed = True
        if not changed:
            return
