"""The directory records of a DICOMDIR (Basic Directory IOD, PS3.3 Annex F): what the IOD's
module tables cannot say, from ``conformance/standard/data/directory_records.json``.

* Directory Record Type (0004,1430) is one of the enumerated values of PS3.3 F.3.2.2 (an error
  otherwise; a retired value is a warning).
* Each PATIENT, STUDY, SERIES and IMAGE record has its keys (PS3.3 F.5.1-F.5.4): type 1
  present with a value, type 2 present.

A DICOMDIR may hold many thousands of records: each problem is reported once per record type
and attribute, with how many records have it and the first one's position.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Severity
from conformance.iod.elements import values_of

DATA = Path(__file__).resolve().parent.parent / "standard" / "data" / "directory_records.json"
Add = Callable[..., None]
RECORD_SEQUENCE = 0x00041220
RECORD_TYPE = 0x00041430
BASIC_DIRECTORY = "basic-directory"


@cache
def _data() -> dict[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _tag(text: str) -> int:
    return int(text[1:5] + text[6:10], 16)


def check(add: Add, ds: Dataset) -> None:
    """The directory records of the DICOMDIR *ds* (its top level)."""
    elem = ds._dict.get(RECORD_SEQUENCE)  # type: ignore[call-overload]
    items = elem.value if elem is not None and not isinstance(elem.value, (bytes, str)) else None
    if not items:
        return
    data = _data()
    known, retired = set(data["record_types"]), set(data["retired"])
    problems: dict[tuple[str, str, str], list[int]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Dataset):
            continue
        kind = (values_of(item, RECORD_TYPE) or [""])[0].strip()
        if kind not in known:
            problems.setdefault(("type", kind, ""), []).append(index)
            continue
        keys = data["keys"].get(kind)
        for tag, _keyword, type_ in keys["attributes"] if keys else ():
            vals = values_of(item, _tag(tag))
            if vals is None or (type_ == "1" and not any(v.strip() for v in vals)):
                problems.setdefault((kind, tag, type_ if vals is None else "1-empty"), []).append(index)
    for (what, value, how), where in problems.items():
        first = f"{len(where)} record(s), the first Directory Record Sequence item {where[0] + 1}"
        if what == "type":
            shown = value or "(empty)"
            if value in retired:
                add("iod.retired-value", Severity.WARNING,
                    f"Directory Record Type (0004,1430) {shown!r} is retired ({first})",
                    "PS3.3 F.3.2.2", "(0004,1430)", details={"value": value, "records": len(where)})
            else:
                add("iod.enumerated-value", Severity.ERROR,
                    f"Directory Record Type (0004,1430) {shown!r} is not an enumerated value ({first})",
                    "PS3.3 F.3.2.2", "(0004,1430)", details={"value": value, "records": len(where)})
            continue
        keys = data["keys"][what]
        keyword = next(k for t, k, _ in keys["attributes"] if t == value)
        if how == "1-empty":
            code, text = "iod.type1-empty", "is empty"
        else:
            code, text = f"iod.type{how}-missing", "is missing"
        add(code, Severity.ERROR, f"{what} record key {keyword} {value} (type {how[0]}) {text} ({first})",
            keys["reference"], value, details={"record_type": what, "records": len(where)})
