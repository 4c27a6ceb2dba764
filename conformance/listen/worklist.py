"""Modality Worklist SCP (PS3.4 Annex K) serving items from a YAML or JSON file.

The items file is a list of worklist items, each a mapping of attribute keyword -> value;
a list of mappings is a sequence::

    - PatientName: DOE^JANE
      PatientID: P1
      AccessionNumber: A1
      StudyInstanceUID: 1.2.3.4
      RequestedProcedureID: RP1
      ScheduledProcedureStepSequence:
        - {Modality: CT, ScheduledStationAETitle: CT1, ScheduledProcedureStepStartDate: "20260101",
           ScheduledProcedureStepStartTime: "0900", ScheduledProcedureStepID: SPS1}

Matching is PS3.4 C.2.2.2 as for Q/R (:mod:`conformance.services.matching`; sequence
matching for the Scheduled Procedure Step keys, K.2.2.1). Checks on the device's query:
it has the Scheduled Procedure Step Sequence with one item (PS3.4 K.6.1.2.1, Table K.6-1);
the matching keys it gives values to are those the statement declares
(``services.worklist.matching_keys``; read, for a device that is a worklist SCU, as the keys
it queries with).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from conformance.engine.model import StepResult
from conformance.findings import Finding, Severity
from conformance.listen.server import Association
from conformance.services.worklist import worklist_answers
from conformance.wire import dimse
from conformance.wire.dimse import Message

if TYPE_CHECKING:
    from conformance.listen.session import ListenSession

SPS = "ScheduledProcedureStepSequence"
#: The matching keys PS3.4 K.6.1.2.1 lists with their place (top level or SPS item).
MATCHING_KEYS = {"ScheduledStationAETitle": SPS, "ScheduledProcedureStepStartDate": SPS,
                 "ScheduledProcedureStepStartTime": SPS, "Modality": SPS,
                 "ScheduledPerformingPhysicianName": SPS, "PatientName": "", "PatientID": "",
                 "AccessionNumber": "", "RequestedProcedureID": "", "ReferencedPatientSequence": ""}


def query_findings(ident: Dataset, declared: tuple[str, ...] | None, what: str) -> tuple[list[Finding], list[str]]:
    """Findings on a worklist query, and the matching keys it used (with a value)."""
    out: list[Finding] = []
    used: list[str] = []
    seq = ident.get(SPS)                    # by keyword: the value (a Sequence) or None
    if seq is None or len(seq) != 1:
        out.append(Finding("listen.worklist-no-sps-item", Severity.ERROR,
                           f"{what}: the query has no {SPS} with exactly one item.",
                           reference="PS3.4 K.6.1.2.1, Table K.6-1", tag="(0040,0100)"))
    for key, place in MATCHING_KEYS.items():
        holder = ident if not place else (seq[0] if seq else None)
        if holder is None:
            continue
        value = holder.get(key)
        if value not in (None, "", []) and not (hasattr(value, "__len__") and len(value) == 0):
            used.append(key)
    if declared is not None:
        extra = [k for k in used if k not in declared]
        if extra:
            out.append(Finding("listen.worklist-undeclared-key", Severity.ERROR,
                               f"{what}: the device queried with matching key(s) {', '.join(extra)}, which its "
                               f"statement does not declare (declared: {', '.join(declared) or 'none'}).",
                               reference="PS3.4 K.6.1.2.1; statement services.worklist.matching_keys",
                               details={"used": used, "declared": list(declared)}))
    return out, used


class WorklistSCP:
    def __init__(self, session: ListenSession) -> None:
        self.session = session

    def declared_keys(self) -> tuple[str, ...] | None:
        """The statement's worklist matching keys, if it has a ``services.worklist`` section."""
        section = (self.session.statement.data.get("services") or {}).get("worklist")
        if section is None:
            return None
        return tuple(self.session.statement.services.worklist.matching_keys)

    def __call__(self, assoc: Association, msg: Message) -> None:
        cmd = msg.command
        if cmd.field != dimse.C_FIND_RQ:
            assoc.respond(msg, cmd.field | 0x8000, 0x0211)
            return
        what = f"worklist query {assoc.number}-{cmd.message_id}"
        step_id = f"listen/worklist/{assoc.number}-{cmd.message_id}"
        ts = assoc.transfer_syntax(msg.context_id)
        try:
            ident = dimse.decode_data_set(msg.data, ts)
        except Exception as exc:  # noqa: BLE001
            assoc.respond(msg, dimse.C_FIND_RSP, 0xA900)
            self.session.report(step_id, what, "PS3.4 K.4.1", StepResult(findings=[Finding(
                "listen.identifier-undecodable", Severity.ERROR, f"{what}: the identifier cannot be decoded: {exc}",
                reference="PS3.5 7")]))
            return
        findings, used = query_findings(ident, self.declared_keys(), what)
        answers = worklist_answers(list(self.session.config.worklist_items), ident)
        for ans in answers:
            assoc.respond(msg, dimse.C_FIND_RSP, 0xFF00, data=dimse.encode_data_set(ans, ts))
        assoc.respond(msg, dimse.C_FIND_RSP, 0x0000)
        self.session.report(step_id, what, "PS3.4 K.4.1; K.6.1.2", StepResult(
            findings=findings, observations=[{"matching_keys": used, "items": len(answers),
                                              "return_keys": sorted(e.keyword for e in ident if e.keyword),
                                              "association": assoc.number}],
            message=f"{len(answers)} item(s) returned; matching keys used: {', '.join(used) or 'none'}"))
