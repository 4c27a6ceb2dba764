"""Modality Worklist C-FIND as SCU (PS3.4 Annex K) and the checks on its responses.

The harness cannot create worklist items (no DICOM service does), so the checks are
data-agnostic: a universal query lists what the device has; each matching check then takes
a value from those items, queries with it, and requires (PS3.4 K.2.2.1, C.2.2.2) that
every item carrying the value comes back and nothing else does. A device with no items
makes those steps skipped, never passed.

Return keys: PS3.4 Table K.6-1 (type 1 return keys must have a value, type 2 may be empty).
Not covered: the Patient/Visit/Imaging Service Request keys beyond those listed here,
and matching on Scheduled Performing Physician Name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset

from conformance.errors import InputError, Problem
from conformance.findings import Finding, Severity
from conformance.services.matching import level_identifier, matches
from conformance.services.query import FindResult
from conformance.statement.yamlsource import load_document

SPS = "ScheduledProcedureStepSequence"

MWL_FIND = "1.2.840.10008.5.1.4.31"

#: Matching keys the harness checks: key -> (where in the identifier, PS3.4 reference).
MATCHING_KEYS = {
    "ScheduledProcedureStepStartDate": ("sps", "PS3.4 K.6.1.2.1; C.2.2.2.5 (range)"),
    "Modality": ("sps", "PS3.4 K.6.1.2.1; C.2.2.2.1"),
    "ScheduledStationAETitle": ("sps", "PS3.4 K.6.1.2.1; C.2.2.2.1"),
    "PatientID": ("top", "PS3.4 K.6.1.2.1; C.2.2.2.1"),
}

#: Type 1 return keys of Table K.6-1 the harness asks for: (keyword, in SPS sequence).
TYPE1_RETURN = (("PatientName", False), ("PatientID", False), ("StudyInstanceUID", False),
                ("RequestedProcedureID", False), ("ScheduledStationAETitle", True),
                ("ScheduledProcedureStepStartDate", True), ("ScheduledProcedureStepStartTime", True),
                ("Modality", True), ("ScheduledProcedureStepID", True))
TYPE2_RETURN = (("AccessionNumber", False), ("ScheduledPerformingPhysicianName", True),
                ("ScheduledProcedureStepDescription", True))


def identifier(**match: str) -> Dataset:
    """A worklist query asking every return key, with *match* values set."""
    ds = Dataset()
    sps = Dataset()
    for key, in_sps in TYPE1_RETURN + TYPE2_RETURN:
        setattr(sps if in_sps else ds, key, "")
    for key, value in match.items():
        setattr(sps if MATCHING_KEYS.get(key, ("top",))[0] == "sps" else ds, key, value)
    ds.ScheduledProcedureStepSequence = [sps]
    return ds


def value_of(item: Dataset, key: str) -> str:
    """*key* of a worklist item, looked up in its first SPS item where it lives there."""
    if MATCHING_KEYS.get(key, ("top",))[0] == "sps" or key in {k for k, s in TYPE1_RETURN + TYPE2_RETURN if s}:
        seq = item.get("ScheduledProcedureStepSequence") or []
        return str(seq[0].get(key, "")) if len(seq) else ""
    return str(item.get(key, ""))


def item_key(item: Dataset) -> str:
    """Identity of a worklist item: accession number, SPS ID, patient ID."""
    return "/".join((str(item.get("AccessionNumber", "")), value_of(item, "ScheduledProcedureStepID"),
                     str(item.get("PatientID", ""))))


def return_key_findings(result: FindResult, what: str) -> list[Finding]:
    out: list[Finding] = []
    for i, item in enumerate(result.matches):
        absent = [k for k, s in TYPE1_RETURN + TYPE2_RETURN
                  if (k not in (item.ScheduledProcedureStepSequence[0] if s and item.get("ScheduledProcedureStepSequence") else item))]
        empty = [k for k, _s in TYPE1_RETURN if k not in absent and not value_of(item, k)]
        if absent:
            out.append(Finding("worklist.return-key-missing", Severity.WARNING,
                               f"{what}: item {i + 1} omits return key(s) asked for: {', '.join(absent)}.",
                               reference="PS3.4 K.6.1.2.2, Table K.6-1", details={"keys": absent}))
        if empty:
            out.append(Finding("worklist.type1-return-key-empty", Severity.WARNING,
                               f"{what}: item {i + 1} has no value for type 1 return key(s) "
                               f"{', '.join(empty)}.", reference="PS3.4 K.6.1.2.2, Table K.6-1",
                               details={"keys": empty}))
        if len(out) >= 6:
            break
    return out


# --- the SCP side: items served by the reference device and by `conformance listen` ---------

def _dataset(mapping: dict[str, Any], where: str, file: str) -> Dataset:
    """One worklist item (or sequence item) from keyword -> value; a list of mappings is a sequence."""
    ds = Dataset()
    for key, value in mapping.items():
        tag = tag_for_keyword(key)
        if tag is None:
            raise InputError(Problem(f"{where}: unknown attribute keyword {key!r}", file))
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            setattr(ds, key, [_dataset(v, f"{where}.{key}[{i}]", file) for i, v in enumerate(value)])
        else:
            vr = dictionary_VR(tag)
            if vr == "SQ":
                setattr(ds, key, [])
            else:
                setattr(ds, key, "" if value is None else (str(value) if vr not in ("US", "UL", "SS", "SL", "FL", "FD")
                                                           else value))
    return ds


def load_items(path: str | Path) -> list[Dataset]:
    """Worklist items from a YAML/JSON file; InputError (exit 2) with the file on a bad one."""
    doc = load_document(path, "worklist")
    if not isinstance(doc.data, list) or not all(isinstance(i, dict) for i in doc.data):
        raise InputError(Problem("a worklist file is a list of items (mappings of attribute keyword -> value)",
                                 str(path), 1))
    items = []
    for i, entry in enumerate(doc.data):
        item = _dataset(entry, f"item {i + 1}", str(path))
        if SPS not in item or not len(item.get(SPS) or []):
            raise InputError(doc.problem((i,), f"item {i + 1} has no {SPS} item (PS3.4 Table K.6-1)"))
        if "SpecificCharacterSet" not in item:
            item.SpecificCharacterSet = "ISO_IR 192"
        items.append(item)
    return items


def worklist_answers(items: list[Dataset], identifier: Dataset) -> list[Dataset]:
    """The C-FIND responses of a worklist SCP: each matching item reduced to the keys asked
    (PS3.4 K.4.1.1.3, matching per C.2.2.2 with sequence matching for the SPS keys)."""
    answers = [level_identifier(item, identifier) for item in items if matches(item, identifier, "Worklist")]
    for ans in answers:
        ans.pop(0x00080052, None)           # no Query/Retrieve Level in worklist responses
    return answers
