"""SOP class and transfer syntax UIDs, by keyword (PS3.6 Annex A, PS3.5 section 10).

The names and keywords come from pydicom's UID dictionary; the grouping of SOP classes into
service classes (storage, query/retrieve, ...) comes from pynetdicom's tables. Both are
pinned by the installed versions; this module is the one place that reads them.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from pydicom._uid_dict import UID_dictionary
from pynetdicom import sop_class as _sop

#: PS3.5 9.1: components of digits separated by dots, no leading zero in a multi-digit
#: component, at most 64 characters.
UID_PATTERN = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")


def is_valid_uid(value: str) -> bool:
    """True if *value* is a syntactically valid UID (PS3.5 9.1)."""
    return len(value) <= 64 and bool(UID_PATTERN.match(value))


def looks_like_uid(value: str) -> bool:
    """True if *value* is meant as a UID (digits and dots) rather than a keyword."""
    return bool(re.fullmatch(r"[0-9.]+", value))


@lru_cache(maxsize=None)
def _by_type(uid_type: str) -> dict[str, str]:
    """keyword -> UID for every UID of *uid_type* in the dictionary."""
    return {v[4]: uid for uid, v in UID_dictionary.items() if v[1] == uid_type and v[4]}


def sop_class_keywords() -> dict[str, str]:
    """keyword -> UID for every SOP class (and meta SOP class) in the dictionary."""
    table = dict(_by_type("SOP Class"))
    table.update(_by_type("Meta SOP Class"))
    return table


def transfer_syntax_keywords() -> dict[str, str]:
    """keyword -> UID for every transfer syntax in the dictionary (PS3.6 Table A-1)."""
    return _by_type("Transfer Syntax")


def name_of(uid: str) -> str:
    """Human name of a UID, or the UID itself when unknown (private)."""
    entry = UID_dictionary.get(uid)
    return entry[0] if entry else uid


def keyword_of(uid: str) -> str:
    """Keyword of a UID, or the UID itself when it has none (private)."""
    entry = UID_dictionary.get(uid)
    return entry[4] if entry and entry[4] else uid


def is_retired(uid: str) -> bool:
    entry = UID_dictionary.get(uid)
    return bool(entry and entry[3] == "Retired")


def suggest(word: str, choices: "list[str] | tuple[str, ...]") -> str | None:
    """The closest keyword to a misspelt *word*, for "did you mean ...?" messages."""
    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[match[0]] if match else None


# --- service groups (PS3.4 annexes) -------------------------------------------------------

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"


def storage_sop_classes() -> dict[str, str]:
    """keyword -> UID of the storage SOP classes (PS3.4 Annex B) pynetdicom knows."""
    return dict(_sop._STORAGE_CLASSES)


def query_retrieve_sop_classes() -> dict[str, str]:
    """keyword -> UID of the Q/R SOP classes (PS3.4 Annex C), worklist (Annex K),
    MPPS (Annex F) and storage commitment (Annex J)."""
    table: dict[str, str] = {}
    for group in (_sop._QR_CLASSES, _sop._BASIC_WORKLIST_CLASSES,
                  _sop._STORAGE_COMMITMENT_CLASSES, _sop._PROCEDURE_STEP_CLASSES):
        table.update(group)
    return table


def probe_transfer_syntaxes() -> dict[str, str]:
    """keyword -> UID of the transfer syntaxes probed by negotiation: every transfer syntax
    of PS3.5 Table A-1 that is not retired, plus Explicit VR Big Endian (retired, but still
    declared by many devices)."""
    table = {k: u for k, u in transfer_syntax_keywords().items() if not is_retired(u)}
    table["ExplicitVRBigEndian"] = "1.2.840.10008.1.2.2"
    return table


#: PS3.2 Table A.1-1 groups the overview of network services under these headings.
_SERVICE_GROUPS = {
    "StorageServiceClass": "Transfer",
    "VerificationServiceClass": "Verification",
    "QueryRetrieveServiceClass": "Query/Retrieve",
    "BasicWorklistManagementServiceClass": "Workflow Management",
    "ProcedureStepServiceClass": "Workflow Management",
    "StorageCommitmentServiceClass": "Workflow Management",
    "UnifiedProcedureStepServiceClass": "Workflow Management",
    "InstanceAvailabilityNotificationServiceClass": "Workflow Management",
    "PrintManagementServiceClass": "Print Management",
}


def service_group(uid: str) -> str:
    """PS3.2 overview heading of a SOP class ("Transfer", "Query/Retrieve", ...); "Other"
    for private or unknown SOP classes."""
    name = _sop.uid_to_service_class(uid).__name__
    return _SERVICE_GROUPS.get(name, "Other")
