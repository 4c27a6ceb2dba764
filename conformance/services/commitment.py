"""Storage Commitment Push Model as SCU: N-ACTION, then the N-EVENT-REPORT (PS3.4 Annex J).

PS3.4 J.3.2 (N-ACTION Request Storage Commitment, action type 1, with a Transaction UID
and the Referenced SOP Sequence), J.3.3 (N-EVENT-REPORT, event type 1 "all success" or 2
"failures exist", on the same association or on a new one opened by the SCP), J.3.3.1.1
(the Failed SOP Sequence gives a Failure Reason per instance).

The checks: N-ACTION Success; a report arrives within the wait, with the same Transaction
UID; every instance stored earlier is in the Referenced SOP Sequence; an instance the
device never received is in the Failed SOP Sequence; the event type matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydicom.dataset import Dataset

from conformance.findings import Finding, Severity
from conformance.services.listener import Report
from conformance.services.status import COMMITMENT_FAILURE_REASONS, StatusInfo, classify

PUSH_MODEL = "1.2.840.10008.1.20.1"
#: Well-known SOP Instance UID of the Storage Commitment Push Model (PS3.4 J.3.5).
PUSH_MODEL_INSTANCE = "1.2.840.10008.1.20.1.1"


def action_information(transaction_uid: str, refs: Iterable[tuple[str, str]]) -> Dataset:
    ds = Dataset()
    ds.TransactionUID = transaction_uid
    items = []
    for sop_class, sop_instance in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    ds.ReferencedSOPSequence = items
    return ds


def request(assoc: Any, info: Dataset, msg_id: int) -> StatusInfo | None:
    """N-ACTION (action type 1) on the well-known instance; the status or None."""
    status, _reply = assoc.send_n_action(info, 1, PUSH_MODEL, PUSH_MODEL_INSTANCE, msg_id=msg_id)
    if "Status" not in status:
        return None
    return classify(int(status.Status), "commitment")


def _uids(seq: Any) -> set[str]:
    return {str(i.get("ReferencedSOPInstanceUID", "")) for i in (seq or [])}


def check_report(report: Report, transaction_uid: str, committed: set[str], failed: set[str],
                 what: str, expected_association: str | None) -> list[Finding]:
    """*committed*: instances stored earlier; *failed*: instances the device cannot have."""
    out: list[Finding] = []
    ds = report.dataset or Dataset()
    if str(ds.get("TransactionUID", "")) != transaction_uid:
        out.append(Finding("commitment.transaction-uid", Severity.ERROR,
                           f"{what}: the report's Transaction UID {ds.get('TransactionUID')!r} is not "
                           "the one requested.", reference="PS3.4 J.3.3.1.1", tag="(0008,1195)"))
    ok, bad = _uids(ds.get("ReferencedSOPSequence")), _uids(ds.get("FailedSOPSequence"))
    not_committed = sorted(committed - ok)
    if not_committed:
        out.append(Finding("commitment.not-committed", Severity.ERROR,
                           f"{what}: {len(not_committed)} stored instance(s) not in the Referenced "
                           "SOP Sequence of the report" + (" (listed as failed)" if set(not_committed) & bad else "")
                           + ".", reference="PS3.4 J.3.3.1.1", details={"instances": not_committed[:10]}))
    wrongly = sorted(failed - bad)
    if wrongly:
        out.append(Finding("commitment.unknown-instance-committed" if set(wrongly) & ok
                           else "commitment.failure-not-listed", Severity.ERROR,
                           f"{what}: {len(wrongly)} instance(s) the device never received are not "
                           "in the Failed SOP Sequence" + (" (it claims to have committed them)"
                                                           if set(wrongly) & ok else "") + ".",
                           reference="PS3.4 J.3.3.1.1", details={"instances": wrongly[:10]}))
    expected_type = 2 if failed else 1
    if report.event_type != expected_type:
        out.append(Finding("commitment.event-type", Severity.ERROR,
                           f"{what}: N-EVENT-REPORT event type {report.event_type}, expected "
                           f"{expected_type} ({'failures exist' if failed else 'all success'}).",
                           reference="PS3.4 J.3.3.1"))
    for item in ds.get("FailedSOPSequence") or []:
        reason = item.get("FailureReason")
        if reason is not None and int(reason) not in COMMITMENT_FAILURE_REASONS:
            out.append(Finding("commitment.failure-reason", Severity.WARNING,
                               f"{what}: Failure Reason 0x{int(reason):04X} is not one of PS3.4 "
                               "J.3.3.1.1's values.", reference="PS3.4 J.3.3.1.1", tag="(0008,1197)"))
            break
    where = "same" if report.same_association else "new"
    if expected_association in ("same", "new") and expected_association != where:
        out.append(Finding("commitment.report-association", Severity.ERROR,
                           f"{what}: the report came on the {where} association; the statement "
                           f"says the {expected_association} one.", reference="PS3.4 J.3.3; statement"))
    return out
