"""Attribute matching of the reference device's C-FIND/C-MOVE/C-GET SCP (PS3.4 C.2.2.2).

Over stored instances (one dataset per instance, all levels' attributes in it), with:
single value (C.2.2.2.1; PN case-insensitively, the option C.2.2.2.1 allows), universal
(C.2.2.2.3: a zero-length key matches everything), wildcard (C.2.2.2.4: ``*`` and ``?``),
range (C.2.2.2.5: DA/TM/DT ``a-b``, ``-b``, ``a-``), list of UID (C.2.2.2.2) and sequence
matching (C.2.2.2.6: every key of the query item matches some item).

A key the instance lacks matches only universally. Not covered: combined date-time
matching, fuzzy semantic matching, time zones, multi-valued non-UID keys.
"""

from __future__ import annotations

import fnmatch

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

_SKIP = {"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle", "InstanceAvailability"}
_LEVEL_KEYS = {
    "PATIENT": ("PatientID",),
    "STUDY": ("PatientID", "StudyInstanceUID"),
    "SERIES": ("PatientID", "StudyInstanceUID", "SeriesInstanceUID"),
    "IMAGE": ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"),
}


def _match_value(have: object, want: object, vr: str, wildcard: bool) -> bool:
    if want in (None, "", b"") or (isinstance(want, (list, tuple)) and not want):
        return True
    if have is None:
        return False
    if vr == "UI" and not isinstance(want, str):          # list of UID (MultiValue)
        return str(have) in {str(w) for w in want}        # type: ignore[attr-defined]
    text, query = str(have), str(want)
    if vr in ("DA", "TM", "DT") and "-" in query:
        low, _sep, high = query.partition("-")
        return (not low or text >= low) and (not high or text[:len(high)] <= high)
    if vr == "PN":
        text, query = text.upper(), query.upper()
    if wildcard and ("*" in query or "?" in query):
        return fnmatch.fnmatchcase(text, query.replace("[", "[[]"))
    if vr == "PN":
        return text.rstrip() == query.rstrip()
    return text == query


def _match_item(ds: Dataset, query: Dataset, wildcard: bool) -> bool:
    for elem in query:
        if elem.keyword in _SKIP or (elem.tag >> 16) == 0x0002:
            continue
        have = ds.get(elem.tag)
        if elem.VR == "SQ":
            items = elem.value or []
            if not items or not any(len(i) for i in items):
                continue
            seq = have.value if have is not None and isinstance(have.value, Sequence) else []
            if not any(_match_item(h, items[0], wildcard) for h in seq):
                return False
            continue
        if not _match_value(have.value if have is not None else None, elem.value, elem.VR, wildcard):
            return False
    return True


def matches(ds: Dataset, identifier: Dataset, model: str, *, wildcard: bool = True) -> bool:
    """True if the instance *ds* matches the C-FIND/MOVE/GET *identifier*."""
    return _match_item(ds, identifier, wildcard)


def level_identifier(ds: Dataset, identifier: Dataset) -> Dataset:
    """The response identifier for *ds*: every key asked, with the instance's value
    (PS3.4 C.4.1.2.2.2), the level, and the Specific Character Set of the instance."""
    out = Dataset()
    if "SpecificCharacterSet" in ds:
        out.SpecificCharacterSet = ds.SpecificCharacterSet
    level = str(identifier.get("QueryRetrieveLevel", "STUDY"))
    for elem in identifier:
        if elem.keyword in ("SpecificCharacterSet",):
            continue
        if elem.keyword == "QueryRetrieveLevel":
            out.QueryRetrieveLevel = level
            continue
        have = ds.get(elem.tag)
        if have is not None:
            out[elem.tag] = have
        else:
            out.add_new(elem.tag, elem.VR, None)
    for key in _LEVEL_KEYS.get(level, ()):
        if key in ds and key not in out:
            setattr(out, key, ds.get(key))
    return out




_UNIQUE_KEY = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
               "IMAGE": "SOPInstanceUID"}


def find_responses(datasets: list[Dataset], identifier: Dataset, model: str, *,
                   wildcard: bool = True) -> list[Dataset]:
    """The C-FIND response identifiers for *identifier* over stored instances: one per
    entity at the query level (PS3.4 C.4.1.3.1.1), in storage order. Shared by the reference
    device and the harness' own Q/R SCP (``conformance listen``)."""
    out: list[Dataset] = []
    seen: set[str] = set()
    for ds in datasets:
        if not matches(ds, identifier, model, wildcard=wildcard):
            continue
        response = level_identifier(ds, identifier)
        level = str(response.get("QueryRetrieveLevel", ""))
        key = str(response.get(_UNIQUE_KEY.get(level, "SOPInstanceUID"), ""))
        if key in seen:
            continue
        seen.add(key)
        out.append(response)
    return out
