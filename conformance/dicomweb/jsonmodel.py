"""The DICOM JSON Model (PS3.18 Annex F.2), checked and turned into pydicom data sets.

:func:`problems` lists every deviation from F.2 in one pass, each with the path of the
attribute: a key that is not eight upper-case hex digits (F.2.1.1), a missing or unknown
``vr`` (F.2.2), more than one of ``Value``/``BulkDataURI``/``InlineBinary`` (F.2.2), a Value
that is not an array (F.2.4), PN values that are not objects of Alphabetic/Ideographic/
Phonetic groups (F.2.2, Table F.2.2-1), numbers given as text for the binary number VRs
(F.2.3), AT values that are not eight hex digits, SQ items that are not objects, InlineBinary
that is not base64, a binary VR given a Value (F.2.7). The order of keys is not checked.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from pydicom.dataset import Dataset

TAG = re.compile(r"^[0-9A-F]{8}$")
VRS = frozenset(["AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"])
#: Value as JSON numbers (PS3.18 Table F.2.3-1); IS and DS may also be strings.
NUMBERS = frozenset({"FD", "FL", "SL", "SS", "UL", "US", "SV", "UV"})
DECIMAL = frozenset({"IS", "DS"})
BINARY = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
PN_GROUPS = frozenset({"Alphabetic", "Ideographic", "Phonetic"})
MAX_DEPTH = 32


def problems(doc: Any, where: str = "") -> list[str]:
    """Every F.2 problem of *doc*: a data set object, or an array of them (QIDO, metadata)."""
    out: list[str] = []
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            _dataset(item, f"{where}[{i}]", out, 0)
    else:
        _dataset(doc, where, out, 0)
    return out


def _dataset(obj: Any, path: str, out: list[str], depth: int) -> None:
    if not isinstance(obj, dict):
        out.append(f"{path or 'top level'}: a data set must be a JSON object (PS3.18 F.2.1)")
        return
    if depth > MAX_DEPTH:
        out.append(f"{path}: sequences nested deeper than {MAX_DEPTH}; not checked further")
        return
    for key, attr in obj.items():
        here = f"{path}.{key}" if path else str(key)
        if not TAG.match(str(key)):
            out.append(f"{here}: the attribute key must be 8 upper-case hex digits (PS3.18 F.2.1.1)")
            continue
        if not isinstance(attr, dict):
            out.append(f"{here}: an attribute must be a JSON object with 'vr' (PS3.18 F.2.2)")
            continue
        _attribute(attr, here, out, depth)


def _attribute(attr: dict[str, Any], here: str, out: list[str], depth: int) -> None:
    vr = attr.get("vr")
    if vr not in VRS:
        out.append(f"{here}: 'vr' is {vr!r}, not a VR of PS3.5 6.2 (PS3.18 F.2.2)")
        return
    given = [k for k in ("Value", "BulkDataURI", "InlineBinary") if k in attr]
    if len(given) > 1:
        out.append(f"{here}: has {' and '.join(given)}; at most one is allowed (PS3.18 F.2.2)")
    extra = set(attr) - {"vr", "Value", "BulkDataURI", "InlineBinary"}
    if extra:
        out.append(f"{here}: unknown member(s) {sorted(extra)} (PS3.18 F.2.2)")
    if "InlineBinary" in attr:
        try:
            base64.b64decode(str(attr["InlineBinary"]), validate=True)
        except (binascii.Error, ValueError):
            out.append(f"{here}: InlineBinary is not base64 (PS3.18 F.2.7)")
    if "BulkDataURI" in attr and not isinstance(attr["BulkDataURI"], str):
        out.append(f"{here}: BulkDataURI must be a string (PS3.18 F.2.6)")
    if "Value" not in attr:
        return
    values = attr["Value"]
    if not isinstance(values, list):
        out.append(f"{here}: Value must be an array (PS3.18 F.2.4)")
        return
    if vr in BINARY:
        out.append(f"{here}: {vr} is given a Value; binary VRs use InlineBinary or BulkDataURI "
                   "(PS3.18 F.2.7)")
        return
    for i, v in enumerate(values):
        _value(vr, v, f"{here}[{i}]", out, depth)


def _value(vr: str, v: Any, at: str, out: list[str], depth: int) -> None:
    if v is None:
        return                                   # an empty value in a multi-valued attribute
    if vr == "SQ":
        _dataset(v, at, out, depth + 1)
    elif vr == "PN":
        if not isinstance(v, dict) or not set(v) <= PN_GROUPS:
            out.append(f"{at}: a PN value must be an object of Alphabetic, Ideographic, "
                       "Phonetic (PS3.18 F.2.2)")
        elif not all(isinstance(g, str) for g in v.values()):
            out.append(f"{at}: PN component groups must be strings (PS3.18 F.2.2)")
    elif vr in NUMBERS:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out.append(f"{at}: {vr} values are JSON numbers (PS3.18 F.2.3), got {v!r:.40}")
    elif vr in DECIMAL:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            out.append(f"{at}: {vr} values are numbers (PS3.18 F.2.3), got {v!r:.40}")
    elif vr == "AT":
        if not (isinstance(v, str) and TAG.match(v)):
            out.append(f"{at}: AT values are 8 hex digits (PS3.18 F.2.3), got {v!r:.40}")
    elif not isinstance(v, str):
        out.append(f"{at}: {vr} values are JSON strings (PS3.18 F.2.3), got {v!r:.40}")


def to_dataset(obj: dict[str, Any]) -> Dataset:
    """A pydicom data set from one JSON model object; bulk data left out (not fetched)."""
    return Dataset.from_json(obj, bulk_data_uri_handler=lambda *_: b"")


def value_of(obj: dict[str, Any], tag: str) -> Any:
    """The first value of attribute *tag* (8 hex digits) in a JSON model object, or None;
    a PN as its Alphabetic group, with the Ideographic and Phonetic ones after '='."""
    attr = obj.get(tag)
    if not isinstance(attr, dict):
        return None
    values = attr.get("Value")
    if not isinstance(values, list) or not values:
        return None
    v = values[0]
    if attr.get("vr") == "PN" and isinstance(v, dict):
        groups = [str(v.get(g, "")) for g in ("Alphabetic", "Ideographic", "Phonetic")]
        while groups and not groups[-1]:
            groups.pop()
        return "=".join(groups)
    return v


def values_of(obj: dict[str, Any], tag: str) -> list[Any]:
    attr = obj.get(tag)
    if not isinstance(attr, dict) or not isinstance(attr.get("Value"), list):
        return []
    return list(attr["Value"])
