"""SR template checks at the root of the content tree (PS3.16 TID 2000, 1500, 2010).

A template is checked only when the document declares it (Content Template Sequence
(0040,A504): Template Identifier with Mapping Resource "DCMR", PS3.3 C.17.3 / C.18.8) or when
its IOD requires it (the Key Object Selection Document IOD uses TID 2010, PS3.3 A.35.4).  The
rows checked are data, ``conformance/standard/data/sr_templates.json``, each citing its PS3.16
row:

* the root: value type CONTAINER and the concept name from the template's context group
  (DCID, defined: a code outside the group is a warning; BCID, baseline: not checked);
* each listed row: an item with the row's concept name must have the row's relationship type
  and value type (error); a required (M) row must be present (error); VM 1 rows at most once.

Context group members come from pydicom's tables generated from PS3.16 (``pydicom.sr``).
Not checked (and listed in the data file): observation context (TID 1001/1002), included
sub-templates below the root (image library, measurement groups, headings).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod.elements import tag_str, values_of

DATA = Path(__file__).resolve().parent.parent / "standard" / "data" / "sr_templates.json"
#: Key Object Selection Document Storage (PS3.4 B.5): its IOD requires TID 2010 (A.35.4).
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
CONTENT_TEMPLATE_SEQUENCE = 0x0040A504
CONTENT_SEQUENCE = 0x0040A730

Add = Callable[..., None]


@cache
def _templates() -> dict[str, Any]:
    return dict(json.loads(DATA.read_text())["templates"])


@cache
def context_group(cid: int) -> frozenset[tuple[str, str]]:
    """(code value, coding scheme) of the members of CID *cid* (PS3.16 Annex B), from
    pydicom's tables generated from the standard; empty when pydicom does not have it."""
    from pydicom.sr._cid_dict import cid_concepts
    from pydicom.sr._concepts_dict import concepts

    out = set()
    group: dict[str, list[str]] = cid_concepts.get(cid, {})
    for scheme, keywords in group.items():
        for kw in keywords:
            entries: dict[str, tuple[str, list[int]]] = \
                concepts.get(scheme, {}).get(kw, {})  # type: ignore[assignment]
            for code, (_meaning, cids) in entries.items():
                if cid in cids:
                    out.add((code, scheme))
    return frozenset(out)


def declared_template(ds: Dataset, sop_class: str | None) -> str | None:
    """The template id this document uses and we check, or None."""
    try:
        items = ds.get(CONTENT_TEMPLATE_SEQUENCE)
        for item in items.value if items is not None else []:
            tid = values_of(item, 0x0040DB00)
            resource = values_of(item, 0x00080105)
            if tid and (not resource or resource[0] == "DCMR") and tid[0] in _templates():
                return tid[0]
    except Exception:
        return None  # a malformed sequence is reported by the element walk
    return "2010" if sop_class == KEY_OBJECT_SELECTION else None


def _code(item: Dataset) -> tuple[str, str] | None:
    try:
        seq = item.get(0x0040A043)
        first = seq.value[0] if seq is not None and seq.value else None
    except Exception:
        return None
    if first is None:
        return None
    value = values_of(first, 0x00080100) or values_of(first, 0x00080119) or \
        values_of(first, 0x00080120)
    scheme = values_of(first, 0x00080102)
    return (value[0], scheme[0] if scheme else "") if value else None


def _first(item: Dataset, tag: int) -> str | None:
    vals = values_of(item, tag)
    return vals[0] if vals else None


def check(add: Add, ds: Dataset, sop_class: str | None) -> None:
    """Template findings for the document *ds* (see the module docstring)."""
    tid = declared_template(ds, sop_class)
    if tid is None:
        return
    t = _templates()[tid]
    ref = t["reference"]
    root = t["root"]
    vt = _first(ds, 0x0040A040)
    if vt != root["value_type"]:
        add("sr.template-root-value-type", Severity.ERROR,
            f"{ref} ({t['name']}) row {root['row']}: the root content item must be "
            f"{root['value_type']}, found {vt or 'none'}", f"{ref} row {root['row']}",
            tag_str(0x0040A040))
    code = _code(ds)
    members = context_group(root["cid"])
    if code is not None and members and code not in members and root["strength"] == "DCID":
        add("sr.template-concept-not-in-cid", Severity.WARNING,
            f"{ref} row {root['row']}: document title ({code[0]}, {code[1]}) is not in "
            f"CID {root['cid']}, which the template names as DCID (defined context group: "
            "a code from it is expected)",
            f"{ref} row {root['row']}", tag_str(0x0040A043))
    try:
        seq = ds.get(CONTENT_SEQUENCE)
        children = list(seq.value) if seq is not None and seq.value else []
    except Exception:
        return  # reported by the element walk
    for row in t["rows"]:
        _row(add, ref, row, children)


def _row(add: Add, ref: str, row: dict[str, Any], children: list[Dataset]) -> None:
    where = f"{ref} row {row['row']}"
    code = tuple(row["code"][:2]) if "code" in row else None
    label = f"\"{row['code'][2]}\" ({row['code'][0]}, {row['code'][1]})" if code \
        else row.get("what", "")
    matching = []
    for i, item in enumerate(children):
        rel, vt = _first(item, 0x0040A010), _first(item, 0x0040A040)
        if code is not None:
            if _code(item) != code:
                continue
            path = f"ContentSequence[{i}]"
            if vt not in row["value_types"]:
                add("sr.template-value-type", Severity.ERROR,
                    f"{where}: content item {label} must have Value Type "
                    f"{' or '.join(row['value_types'])}, found {vt or 'none'}", where,
                    f"{tag_str(CONTENT_SEQUENCE)}[{i}]", details={"path": path})
                continue
            if rel != row["relationship"]:
                add("sr.template-relationship", Severity.ERROR,
                    f"{where}: content item {label} must be related by "
                    f"{row['relationship']}, found {rel or 'none'}", where,
                    f"{tag_str(CONTENT_SEQUENCE)}[{i}]", details={"path": path})
                continue
        elif vt not in row["value_types"] or rel != row["relationship"]:
            continue
        matching.append(item)
    if row["requirement"] == "M" and not matching:
        add("sr.template-row-missing", Severity.ERROR,
            f"{where}: the root has no {row['relationship']} "
            f"{'/'.join(row['value_types'])} content item {label} (required, M)", where,
            tag_str(CONTENT_SEQUENCE))
    if row.get("vm") == "1" and len(matching) > 1:
        add("sr.template-row-repeated", Severity.ERROR,
            f"{where}: content item {label} may appear once (VM 1), found {len(matching)}",
            where, tag_str(CONTENT_SEQUENCE))
