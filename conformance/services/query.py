"""Query/Retrieve C-FIND as SCU (PS3.4 Annex C) and the checks on its responses.

- PS3.4 C.4.1.3.1 / Table C.4-1: each match comes in a Pending response (FF00/FF01), the
  last response is Success (0000), or Cancel (FE00) after a C-CANCEL, or a failure.
- PS3.4 C.2.2.2: matching kinds (single value, universal, wildcard, range, list of UID,
  sequence; and case-insensitive PN where the SCP declares it, C.2.2.2.1).
- PS3.4 C.3 and C.6: each response identifier holds the Unique Key of the level, the
  Query/Retrieve Level, and a value (possibly empty) for every key asked.
- PS3.4 C.4.1.2.2 / PS3.7 9.3.2.3: Specific Character Set in responses when not the default.

Not covered: relational queries (extended negotiation), fuzzy semantic PN matching,
timezone adjustment, Instance Availability and Retrieve AE Title semantics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Finding, Severity
from conformance.services.common import DimseMonitor, Exchange, dataset_rows
from conformance.services.status import CANCEL, PENDING, SUCCESS, StatusInfo, classify

#: Information model keyword -> (FIND, MOVE, GET SOP class UIDs, levels top-down) (PS3.4 C.6).
MODELS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "PatientRoot": ("1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.1.2",
                    "1.2.840.10008.5.1.4.1.2.1.3", ("PATIENT", "STUDY", "SERIES", "IMAGE")),
    "StudyRoot": ("1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.2.2",
                  "1.2.840.10008.5.1.4.1.2.2.3", ("STUDY", "SERIES", "IMAGE")),
    "PatientStudyOnly": ("1.2.840.10008.5.1.4.1.2.3.1", "1.2.840.10008.5.1.4.1.2.3.2",
                         "1.2.840.10008.5.1.4.1.2.3.3", ("PATIENT", "STUDY")),
}

#: Unique Key of each level (PS3.4 C.6.1.1, C.6.2.1).
UNIQUE_KEY = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID",
              "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}

#: Required keys of each level (PS3.4 Tables C.6-1 to C.6-4), asked as return keys.
REQUIRED_KEYS = {"PATIENT": ("PatientName", "PatientID"),
                 "STUDY": ("StudyDate", "StudyTime", "AccessionNumber", "StudyID",
                           "StudyInstanceUID"),
                 "SERIES": ("Modality", "SeriesNumber", "SeriesInstanceUID"),
                 "IMAGE": ("InstanceNumber", "SOPInstanceUID")}

MATCHING_KINDS = ("single-value", "universal", "wildcard", "range", "uid-list", "sequence",
                  "case-insensitive-pn")


@dataclass
class FindResult:
    """All responses of one C-FIND."""

    statuses: list[StatusInfo] = field(default_factory=list)
    matches: list[Dataset] = field(default_factory=list)
    error: str | None = None
    cancel_sent: bool = False
    #: The identifier sent (report evidence).
    identifier: Dataset | None = None

    @property
    def final(self) -> StatusInfo | None:
        return self.statuses[-1] if self.statuses else None


def find(assoc: Any, model_uid: str, identifier: Dataset, msg_id: int, *,
         monitor: DimseMonitor | None = None, cancel_after: int | None = None,
         service: str = "find", limit: int = 100_000) -> FindResult:
    """Send one C-FIND and collect every response (bounded: *limit* responses).

    ``cancel_after``: send C-CANCEL (PS3.7 9.3.2.3) after that many pending responses.
    """
    result = FindResult(identifier=identifier)
    responses = assoc.send_c_find(identifier, model_uid, msg_id=msg_id)
    for status, ident in responses:
        if "Status" not in status:
            seen = monitor.answered(msg_id) if monitor else []
            result.error = ("harness hiccup: the harness lost a C-FIND response the device sent"
                            if seen and seen[-1] not in (0xFF00, 0xFF01) and len(seen) > len(result.statuses)
                            else "no valid C-FIND response within the DIMSE timeout (the device "
                                 "timed out, aborted or answered garbage)")
            break
        info = classify(int(status.Status), service)
        result.statuses.append(info)
        if info.category == PENDING and ident is not None:
            result.matches.append(ident)
        if (cancel_after is not None and not result.cancel_sent and info.category == PENDING
                and len(result.matches) >= cancel_after):
            assoc.send_c_cancel(msg_id, query_model=model_uid)
            result.cancel_sent = True
        if len(result.statuses) >= limit:
            result.error = f"more than {limit} responses: stopped reading"
            break
    return result


def status_findings(result: FindResult, what: str, service: str = "find") -> list[Finding]:
    """PS3.4 C.4.1.3.1: pending for each match, then one final Success (or Cancel)."""
    table = "PS3.4 Table C.4-1" if service == "find" else "PS3.4 K.4.1.1.4"
    out: list[Finding] = []
    final = result.final
    if final is None:
        return out
    if final.category not in (SUCCESS, CANCEL):
        out.append(Finding(f"{service}.failed", Severity.ERROR,
                           f"{what}: C-FIND ended with {final.describe()} instead of Success.",
                           reference=f"{final.reference}; statement",
                           details={"status": final.code}))
    early = [s for s in result.statuses[:-1] if s.category != PENDING]
    if early:
        out.append(Finding(f"{service}.status-sequence", Severity.ERROR,
                           f"{what}: a non-pending status ({early[0].describe()}) came before "
                           "the last response.", reference=table))
    return out


def match_findings(result: FindResult, key: str, what: str, *, expect: Iterable[str] = (),
                   forbid: Iterable[str] = (), kind: str = "", service: str = "find") -> list[Finding]:
    """The values of *key* in the matches must include *expect* and none of *forbid*."""
    got = {str(m.get(key, "")) for m in result.matches}
    out: list[Finding] = []
    missing = [v for v in expect if v not in got]
    extra = [v for v in forbid if v in got]
    ref = {"find": "PS3.4 C.2.2.2", "worklist": "PS3.4 K.2.2.1"}.get(service, "PS3.4 C.2.2.2")
    if missing:
        out.append(Finding(f"{service}.match-missing", Severity.ERROR,
                           f"{what}: {len(missing)} expected match(es) not returned "
                           f"({key} {', '.join(missing[:3])}): {kind or 'this'} matching does "
                           "not work as declared.", reference=f"{ref}; statement",
                           details={"key": key, "missing": missing[:10], "kind": kind}))
    if extra:
        out.append(Finding(f"{service}.match-extra", Severity.ERROR,
                           f"{what}: {len(extra)} response(s) that do not match the query "
                           f"({key} {', '.join(extra[:3])}).", reference=ref,
                           details={"key": key, "extra": extra[:10], "kind": kind}))
    return out


def key_findings(result: FindResult, level: str, asked: Iterable[str], what: str) -> list[Finding]:
    """PS3.4 C.4.1.2.2.2 / C.6: each identifier holds the level, the unique key and every
    key asked (zero length allowed for keys without a value)."""
    out: list[Finding] = []
    asked = list(asked)
    for i, m in enumerate(result.matches):
        absent = [k for k in asked if k not in m]
        if m.get("QueryRetrieveLevel", level) != level:
            out.append(Finding("find.wrong-level", Severity.ERROR,
                               f"{what}: response {i + 1} has Query/Retrieve Level "
                               f"{m.get('QueryRetrieveLevel')!r}, not {level}.",
                               reference="PS3.4 C.4.1.2.2.2", tag="(0008,0052)"))
        if UNIQUE_KEY[level] in asked and not m.get(UNIQUE_KEY[level]):
            out.append(Finding("find.unique-key-missing", Severity.ERROR,
                               f"{what}: response {i + 1} lacks a value for the unique key "
                               f"{UNIQUE_KEY[level]}.", reference="PS3.4 C.6.1.1; C.3"))
        if absent:
            out.append(Finding("find.return-key-missing", Severity.WARNING,
                               f"{what}: response {i + 1} omits key(s) asked for: "
                               f"{', '.join(absent)}.", reference="PS3.4 C.4.1.2.2.2; C.3",
                               details={"keys": absent}))
        if len(out) >= 5:
            break
    return out


def observation(result: FindResult, what: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "find", "what": what, "matches": len(result.matches),
            "statuses": [s.hex for s in result.statuses[-3:]], **extra,
            "sent": dataset_rows(result.identifier),
            "received": dataset_rows(result.matches[0] if result.matches else None)}


def exchange(result: FindResult, what: str, findings: list[Finding], **extra: Any) -> Exchange:
    if result.error:
        return Exchange(findings, [observation(result, what, **extra)], error=f"{what}: {result.error}")
    final = result.final.describe() if result.final else "no response"
    return Exchange(findings, [observation(result, what, **extra)],
                    message=f"{what}: {len(result.matches)} match(es), final {final}")
