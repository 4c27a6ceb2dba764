"""Storage Commitment Push Model SCP (PS3.4 Annex J): N-ACTION in, N-EVENT-REPORT out.

The device asks the harness to commit instances (N-ACTION, action type 1, on the well-known
SOP instance 1.2.840.10008.1.20.1.1, PS3.4 J.3.2). The harness answers Success, then reports:
instances it really received in this session (or preloaded) in the Referenced SOP Sequence,
the others in the Failed SOP Sequence with Failure Reason 0112 "no such object instance"
(PS3.4 J.3.3.1.1); event type 1 (all success) or 2 (failures exist).

Where the report goes (PS3.4 J.3.3): ``new`` (default) on a new association the harness
opens to the requester, looked up by its calling AE title in the session's destinations,
proposing the Push Model with an SCP/SCU role selection item that gives the harness the SCP
role (PS3.4 J.4.1.1 / PS3.7 D.3.3.4), or without it if that is refused; ``same`` on the
requesting association right after the N-ACTION response.

Checks on the request: Transaction UID present and a valid UID; each Referenced SOP item has
a SOP class and instance UID; every referenced instance is one the device sent.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from conformance.engine.model import Outcome, StepResult
from conformance.findings import Finding, Severity
from conformance.listen.requestor import request
from conformance.listen.server import Association
from conformance.services.commitment import PUSH_MODEL, PUSH_MODEL_INSTANCE
from conformance.standard.uids import is_valid_uid
from conformance.wire import dimse
from conformance.wire import requestor as wire
from conformance.wire.contexts import ProposedContext
from conformance.wire.dimse import Message
from conformance.wire.target import Target, Timeouts

if TYPE_CHECKING:
    from conformance.listen.session import ListenSession

_SYNTAXES = (dimse.EXPLICIT_LE, dimse.IMPLICIT_LE)


def request_findings(info: Dataset, received: set[str], what: str) -> tuple[list[Finding], list[Dataset], list[Dataset]]:
    """Findings on an N-ACTION's action information, and the (committed, failed) items."""
    out: list[Finding] = []
    uid = str(info.get("TransactionUID", ""))
    if not uid or not is_valid_uid(uid):
        out.append(Finding("listen.commitment-transaction-uid", Severity.ERROR,
                           f"{what}: Transaction UID {uid!r} is absent or not a valid UID.",
                           reference="PS3.4 J.3.2.1.1", tag="(0008,1195)"))
    ok: list[Dataset] = []
    failed: list[Dataset] = []
    unknown: list[str] = []
    items = info.get("ReferencedSOPSequence") or []
    if not len(items):
        out.append(Finding("listen.commitment-empty", Severity.ERROR,
                           f"{what}: the Referenced SOP Sequence is absent or empty.",
                           reference="PS3.4 J.3.2.1.1", tag="(0008,1199)"))
    for item in items:
        ref = Dataset()
        ref.ReferencedSOPClassUID = str(item.get("ReferencedSOPClassUID", ""))
        ref.ReferencedSOPInstanceUID = str(item.get("ReferencedSOPInstanceUID", ""))
        if not ref.ReferencedSOPClassUID or not ref.ReferencedSOPInstanceUID:
            out.append(Finding("listen.commitment-item", Severity.ERROR,
                               f"{what}: a Referenced SOP item lacks the SOP class or instance UID.",
                               reference="PS3.4 J.3.2.1.1"))
        if ref.ReferencedSOPInstanceUID in received:
            ok.append(ref)
        else:
            ref.FailureReason = 0x0112
            failed.append(ref)
            unknown.append(ref.ReferencedSOPInstanceUID)
    if unknown:
        out.append(Finding("listen.commitment-unknown-instance", Severity.ERROR,
                           f"{what}: {len(unknown)} referenced instance(s) were never sent to the harness "
                           f"(e.g. {unknown[0]}); reported as failed (0112).", reference="PS3.4 J.3.2; J.3.3.1.1",
                           details={"instances": unknown[:10]}))
    return out, ok, failed


class CommitmentSCP:
    def __init__(self, session: ListenSession) -> None:
        self.session = session
        self.threads: list[threading.Thread] = []
        session.extra_steps.append(self.finish)

    def finish(self) -> None:
        for thread in list(self.threads):
            thread.join(self.session.config.limits.acse_timeout + self.session.config.limits.dimse_timeout + 5)

    def __call__(self, assoc: Association, msg: Message) -> None:
        cmd = msg.command
        if cmd.field != dimse.N_ACTION_RQ:
            assoc.respond(msg, cmd.field | 0x8000, 0x0211)
            return
        started = time.monotonic()
        ts = assoc.transfer_syntax(msg.context_id)
        what = f"storage commitment request {assoc.number}-{cmd.message_id}"
        findings: list[Finding] = []
        if cmd.us(0x1008) != 1:
            assoc.respond(msg, dimse.N_ACTION_RSP, 0x0123)
            self.session.report(f"listen/commitment/{assoc.number}-{cmd.message_id}", what, "PS3.4 J.3.2",
                                StepResult(findings=[Finding("listen.commitment-action-type", Severity.ERROR,
                                                             f"{what}: Action Type ID {cmd.us(0x1008)}, not 1.",
                                                             reference="PS3.4 J.3.2.1")]))
            return
        if cmd.text(0x1001) != PUSH_MODEL_INSTANCE:
            findings.append(Finding("listen.commitment-instance", Severity.ERROR,
                                    f"{what}: Requested SOP Instance UID {cmd.text(0x1001)!r} is not the well-known "
                                    f"{PUSH_MODEL_INSTANCE}.", reference="PS3.4 J.3.5"))
        try:
            info = dimse.decode_data_set(msg.data, ts)
        except Exception as exc:  # noqa: BLE001
            assoc.respond(msg, dimse.N_ACTION_RSP, 0x0110)
            self.session.report(f"listen/commitment/{assoc.number}-{cmd.message_id}", what, "PS3.4 J.3.2",
                                StepResult(findings=[Finding("listen.identifier-undecodable", Severity.ERROR,
                                                             f"{what}: cannot be decoded: {exc}", reference="PS3.5 7")]))
            return
        received = {item.sop_instance for item in self.session.store.all()}
        more, ok, failed = request_findings(info, received, what)
        findings += more
        transaction = str(info.get("TransactionUID", ""))
        assoc.respond(msg, dimse.N_ACTION_RSP, 0x0000, {0x1008: 1})
        report = Dataset()
        report.TransactionUID = transaction
        if ok:
            report.ReferencedSOPSequence = ok
        if failed:
            report.FailedSOPSequence = failed
        event_type = 2 if failed else 1
        step_id = f"listen/commitment/{transaction if is_valid_uid(transaction) else f'{assoc.number}-{cmd.message_id}'}"
        obs: dict[str, Any] = {"transaction_uid": transaction, "committed": len(ok), "failed": len(failed),
                               "event_type": event_type, "association": assoc.number,
                               "report_association": self.session.config.commitment_report}
        calling = assoc.request.calling_ae if assoc.request else ""
        if self.session.config.commitment_report == "same":
            status, detail = self._report_same(assoc, report, event_type, ts)
            self._finish(step_id, what, findings, obs, status, detail, started)
            return
        thread = threading.Thread(target=self._report_new, daemon=True, name="listen-commitment-report",
                                  args=(calling, report, event_type, step_id, what, findings, obs, started))
        self.threads.append(thread)
        thread.start()

    def _finish(self, step_id: str, what: str, findings: list[Finding], obs: dict[str, Any],
                status: int | None, detail: str, started: float) -> None:
        obs.update({"report_status": None if status is None else f"0x{status:04X}", "report_detail": detail})
        outcome = None
        if status is None:
            outcome = Outcome.ERROR
        elif status != 0x0000:
            findings = findings + [Finding("listen.commitment-report-refused", Severity.ERROR,
                                           f"{what}: the device answered the N-EVENT-REPORT with 0x{status:04X}.",
                                           reference="PS3.4 J.3.3.1")]
        self.session.report(step_id, what, "PS3.4 J.3.2; J.3.3", StepResult(
            findings=findings, observations=[obs], outcome=outcome,
            message=f"{obs['committed']} committed, {obs['failed']} failed; report: {detail}"),
            time.monotonic() - started)

    def _report_same(self, assoc: Association, report: Dataset, event_type: int, ts: str) -> tuple[int | None, str]:
        fields: dict[int, object] = {0x0100: dimse.N_EVENT_REPORT_RQ, 0x0110: 1, 0x0002: PUSH_MODEL,
                                     0x1000: PUSH_MODEL_INSTANCE, 0x1002: event_type}
        cid = next((c for c, (sop, _t) in assoc.contexts.items() if sop == PUSH_MODEL), None)
        if cid is None:
            return None, "no Storage Commitment context on the requesting association"
        try:
            assoc.send(cid, fields, dimse.encode_data_set(report, ts))
            for _ in range(100):
                reply = assoc.read_message(self.session.config.limits.dimse_timeout)
                if reply.command.field == dimse.N_EVENT_REPORT_RSP:
                    return reply.command.us(0x0900, 0xFFFF), "sent on the requesting association"
        except Exception as exc:  # noqa: BLE001
            return None, f"could not be sent on the requesting association: {exc}"
        return None, "no N-EVENT-REPORT-RSP"

    def _report_new(self, calling: str, report: Dataset, event_type: int, step_id: str, what: str,
                    findings: list[Finding], obs: dict[str, Any], started: float) -> None:
        cfg = self.session.config
        time.sleep(cfg.commitment_delay)            # after the N-ACTION response has gone out
        address = cfg.destinations.get(calling)
        if address is None:
            self._finish(step_id, what, findings, obs, None,
                         f"the requester {calling!r} has no address (--destination {calling}=HOST:PORT)", started)
            return
        limits = cfg.limits
        target = Target(address[0], address[1], calling, cfg.ae_title,
                        Timeouts(connect=limits.acse_timeout, acse=limits.acse_timeout, dimse=limits.dimse_timeout))
        sub = None
        detail = ""
        for roles in ((False, True), (None, None)):
            ctx = ProposedContext(PUSH_MODEL, _SYNTAXES, scu_role=roles[0], scp_role=roles[1])
            outcome, sub = wire.open_association(target, [ctx])
            detail = outcome.describe()
            if sub is not None:
                break
        if sub is None:
            self._finish(step_id, what, findings, obs, None,
                         f"could not open an association to {calling} at {address[0]}:{address[1]} ({detail})", started)
            return
        try:
            cid = next(iter(sub.context_ids.values()))
            accepted = next(c.transfer_syntax for c in sub.outcome.contexts if c.accepted)
            fields: dict[int, object] = {0x0100: dimse.N_EVENT_REPORT_RQ, 0x0110: 1, 0x0002: PUSH_MODEL,
                                         0x1000: PUSH_MODEL_INSTANCE, 0x1002: event_type}
            reply, _data = request(sub, cid, fields, dimse.encode_data_set(report, accepted or dimse.IMPLICIT_LE),
                                   limits.dimse_timeout)
            status, detail = reply.us(0x0900, 0xFFFF), f"sent on a new association to {calling}"
        except (wire.WireError, OSError, StopIteration) as exc:
            status, detail = None, f"failed on the new association: {exc}"
        finally:
            sub.release()
        self._finish(step_id, what, findings, obs, status, detail, started)
