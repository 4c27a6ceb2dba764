"""DIMSE status codes per service, each with its meaning and where the standard defines it.

A status is classified into one of PS3.7 C.1's categories (success, warning, failure,
cancel, pending) and given a meaning from the table of the service that answered it.
Codes a service table does not list fall back to the general statuses of PS3.7 Annex C,
and then to the ranges PS3.7 C.1 reserves (e.g. 0xAxxx, 0xCxxx failures, 0xBxxx warnings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SUCCESS = "success"
WARNING = "warning"
FAILURE = "failure"
CANCEL = "cancel"
PENDING = "pending"


@dataclass(frozen=True)
class StatusInfo:
    """What a status code means for one service."""

    code: int
    category: str
    meaning: str
    reference: str

    @property
    def hex(self) -> str:
        return f"0x{self.code:04X}"

    def describe(self) -> str:
        return f"{self.hex} ({self.category}: {self.meaning})"


#: PS3.7 Annex C (Table C-1 ... C.7): statuses common to all DIMSE services.
GENERAL: Mapping[int, tuple[str, str, str]] = {
    0x0000: (SUCCESS, "Success", "PS3.7 C.1.1"),
    0x0001: (WARNING, "Requested optional attributes are not supported", "PS3.7 C.4.1"),
    0x0105: (FAILURE, "No such attribute", "PS3.7 C.5.10"),
    0x0106: (FAILURE, "Invalid attribute value", "PS3.7 C.5.11"),
    0x0107: (WARNING, "Attribute list error", "PS3.7 C.4.2"),
    0x0110: (FAILURE, "Processing failure", "PS3.7 C.5.5"),
    0x0111: (FAILURE, "Duplicate SOP instance", "PS3.7 C.5.6"),
    0x0112: (FAILURE, "No such SOP instance", "PS3.7 C.5.7"),
    0x0113: (FAILURE, "No such event type", "PS3.7 C.5.8"),
    0x0114: (FAILURE, "No such argument", "PS3.7 C.5.9"),
    0x0115: (FAILURE, "Invalid argument value", "PS3.7 C.5.12"),
    0x0116: (WARNING, "Attribute value out of range", "PS3.7 C.4.3"),
    0x0117: (FAILURE, "Invalid object instance", "PS3.7 C.5.13"),
    0x0118: (FAILURE, "No such SOP class", "PS3.7 C.5.14"),
    0x0119: (FAILURE, "Class-instance conflict", "PS3.7 C.5.15"),
    0x0120: (FAILURE, "Missing attribute", "PS3.7 C.5.16"),
    0x0121: (FAILURE, "Missing attribute value", "PS3.7 C.5.17"),
    0x0122: (FAILURE, "Refused: SOP class not supported", "PS3.7 C.5.3"),
    0x0123: (FAILURE, "No such action type", "PS3.7 C.5.18"),
    0x0124: (FAILURE, "Refused: not authorized", "PS3.7 C.5.20"),
    0x0210: (FAILURE, "Duplicate invocation", "PS3.7 C.5.1"),
    0x0211: (FAILURE, "Unrecognized operation", "PS3.7 C.5.2"),
    0x0212: (FAILURE, "Mistyped argument", "PS3.7 C.5.19"),
    0x0213: (FAILURE, "Resource limitation", "PS3.7 C.5.4"),
    0xFE00: (CANCEL, "Cancel", "PS3.7 C.3.1"),
}

#: PS3.4 Table B.2-1: C-STORE response statuses of the Storage Service Class.
STORAGE: Mapping[int, tuple[str, str, str]] = {
    0xB000: (WARNING, "Coercion of data elements", "PS3.4 Table B.2-1"),
    0xB007: (WARNING, "Data set does not match SOP class", "PS3.4 Table B.2-1"),
    0xB006: (WARNING, "Elements discarded", "PS3.4 Table B.2-1"),
}
_STORAGE_RANGES = ((0xA700, 0xA7FF, FAILURE, "Refused: out of resources", "PS3.4 Table B.2-1"),
                   (0xA900, 0xA9FF, FAILURE, "Error: data set does not match SOP class",
                    "PS3.4 Table B.2-1"),
                   (0xC000, 0xCFFF, FAILURE, "Error: cannot understand", "PS3.4 Table B.2-1"))

#: PS3.4 Table C.4-1: C-FIND response statuses (Query/Retrieve, also Worklist K.4.1.1.4).
FIND: Mapping[int, tuple[str, str, str]] = {
    0xA700: (FAILURE, "Refused: out of resources", "PS3.4 Table C.4-1"),
    0xA900: (FAILURE, "Identifier does not match SOP class", "PS3.4 Table C.4-1"),
    0xFE00: (CANCEL, "Matching terminated due to cancel request", "PS3.4 Table C.4-1"),
    0xFF00: (PENDING, "Matches are continuing; current match supplied", "PS3.4 Table C.4-1"),
    0xFF01: (PENDING, "Matches are continuing; optional keys not supported", "PS3.4 Table C.4-1"),
}
_FIND_RANGES = ((0xC000, 0xCFFF, FAILURE, "Unable to process", "PS3.4 Table C.4-1"),)

#: PS3.4 Table C.4-2: C-MOVE response statuses.
MOVE: Mapping[int, tuple[str, str, str]] = {
    0xA701: (FAILURE, "Refused: out of resources, unable to calculate number of matches",
             "PS3.4 Table C.4-2"),
    0xA702: (FAILURE, "Refused: out of resources, unable to perform sub-operations",
             "PS3.4 Table C.4-2"),
    0xA801: (FAILURE, "Refused: move destination unknown", "PS3.4 Table C.4-2"),
    0xA900: (FAILURE, "Identifier does not match SOP class", "PS3.4 Table C.4-2"),
    0xFE00: (CANCEL, "Sub-operations terminated due to cancel indication", "PS3.4 Table C.4-2"),
    0xB000: (WARNING, "Sub-operations complete, one or more failures", "PS3.4 Table C.4-2"),
    0xFF00: (PENDING, "Sub-operations are continuing", "PS3.4 Table C.4-2"),
}
_MOVE_RANGES = ((0xC000, 0xCFFF, FAILURE, "Unable to process", "PS3.4 Table C.4-2"),)

#: PS3.4 Table C.4-3: C-GET response statuses.
GET: Mapping[int, tuple[str, str, str]] = {
    0xA701: MOVE[0xA701][:2] + ("PS3.4 Table C.4-3",),
    0xA702: MOVE[0xA702][:2] + ("PS3.4 Table C.4-3",),
    0xA900: (FAILURE, "Identifier does not match SOP class", "PS3.4 Table C.4-3"),
    0xFE00: (CANCEL, "Sub-operations terminated due to cancel indication", "PS3.4 Table C.4-3"),
    0xB000: (WARNING, "Sub-operations complete, one or more failures or warnings",
             "PS3.4 Table C.4-3"),
    0xFF00: (PENDING, "Sub-operations are continuing", "PS3.4 Table C.4-3"),
}

#: PS3.4 F.7.2.1.2 / F.7.2.2.2 (MPPS N-CREATE / N-SET), with PS3.7 Annex C general codes.
MPPS: Mapping[int, tuple[str, str, str]] = {
    0x0110: (FAILURE, "Processing failure (e.g. Performed Procedure Step object may no longer "
                      "be updated)", "PS3.4 F.7.2.2.2; PS3.7 C.5.5"),
}

#: PS3.4 J.3.2.1.2 (N-ACTION) and the Failure Reason values of J.3.3.1.1 (N-EVENT-REPORT).
COMMITMENT_FAILURE_REASONS: Mapping[int, str] = {
    0x0110: "Processing failure",
    0x0112: "No such object instance",
    0x0213: "Resource limitation",
    0x0122: "Referenced SOP class not supported",
    0x0119: "Class / instance conflict",
    0x0131: "Duplicate transaction UID",
}

_SERVICES = {
    "storage": (STORAGE, _STORAGE_RANGES),
    "find": (FIND, _FIND_RANGES),
    "worklist": (FIND, _FIND_RANGES),
    "move": (MOVE, _MOVE_RANGES),
    "get": (GET, _MOVE_RANGES),
    "mpps": (MPPS, ()),
    "commitment": ({}, ()),
    "echo": ({}, ()),
}


def classify(code: int, service: str) -> StatusInfo:
    """Category, meaning and reference of *code* as an answer of *service*.

    *service* is one of ``storage``, ``find``, ``worklist``, ``move``, ``get``, ``mpps``,
    ``commitment``, ``echo``. Unknown codes are placed by PS3.7 C.1's ranges.
    """
    table, ranges = _SERVICES[service]
    if code in table:
        return StatusInfo(code, *table[code])
    for low, high, category, meaning, ref in ranges:
        if low <= code <= high:
            return StatusInfo(code, category, meaning, ref)
    if code in GENERAL:
        return StatusInfo(code, *GENERAL[code])
    if code in (0xFF00, 0xFF01):
        return StatusInfo(code, PENDING, "Pending", "PS3.7 C.2")
    if 0xB000 <= code <= 0xBFFF or code == 0x0001:
        return StatusInfo(code, WARNING, "Warning (service-specific)", "PS3.7 C.4")
    if 0xA000 <= code <= 0xAFFF or 0xC000 <= code <= 0xCFFF or 0x0100 <= code <= 0x02FF:
        return StatusInfo(code, FAILURE, "Failure (service-specific)", "PS3.7 C.5")
    return StatusInfo(code, FAILURE, "Unknown status code (not defined by PS3.7 Annex C)",
                      "PS3.7 C.1")
