"""Storage commitment, push model (PS3.4 Annex J): ``commitment/request``."""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

from conformance.engine.model import Outcome, RunContext, Step, StepResult
from conformance.families.fetch import fetch, retrieve_model
from conformance.families.qrdata import ensure_qr_study, qr_items
from conformance.families.refused import refused_steps
from conformance.families.registry import planner
from conformance.families.session import NO_PORT, harness_port, session, step_action
from conformance.families.setup import judge_unanswered, note_reached, reached
from conformance.families.verdict import from_monitor, report_setup
from conformance.findings import Finding, Severity
from conformance.services import commitment as scs
from conformance.services.data import Stored
from conformance.services.listener import HarnessListener
from conformance.services.status import SUCCESS
from conformance.statement.model import Statement


def _harness_known(ctx: RunContext, items: list[Stored]) -> bool | None:
    """Does the device know the harness' address? True when it opened an association to the
    harness in this run; else, where a C-MOVE is claimed, one instance is moved to the
    harness to find out; ``None``: cannot tell."""
    if reached(ctx):
        return True
    how = retrieve_model(ctx.statement, ("move",))
    if how is None or not items:
        return None
    fetch(ctx, items[:1], "IMAGE", how, "C-MOVE to check the device knows the harness")
    return reached(ctx)


@step_action
def _commitment(ctx: RunContext) -> StepResult:
    """PS3.4 J.3: N-ACTION for the Q/R study plus one instance the device never received;
    the report must commit the former and list the latter as failed."""
    data, problem = ensure_qr_study(ctx)
    if problem:
        return StepResult.skipped(f"not tested: {problem}")
    sc = ctx.statement.services.storage_commitment
    port = harness_port(ctx)
    if sc.report_association == "new" and port is None:
        return StepResult.skipped(NO_PORT)
    items = qr_items(data)
    bogus = (items[0].sop_class, data.uid("never-stored"))
    transaction = data.uid("transaction", str(len(ctx.shared)))
    info = scs.action_information(transaction, [(s.sop_class, s.sop_instance) for s in items] + [bogus])
    listener = HarnessListener(ctx.statement.harness.ae_title, port or 0)
    what = "storage commitment"
    try:
        if port is not None:
            listener.start()
        with session(ctx, scs.PUSH_MODEL, "storage commitment", on_event_report=lambda e: listener.on_report(e, True)) as s:
            status = scs.request(s.assoc, info, 1)
            if status is None:
                un = from_monitor(s.monitor, "N-ACTION", ctx.target.timeouts.dimse)
                return judge_unanswered(ctx, "N-ACTION", scs.PUSH_MODEL, un)
            obs: dict[str, Any] = {"kind": "commitment", "n_action": status.hex,
                                   "instances": len(items), "unknown_instance": bogus[1]}
            if status.category != SUCCESS:
                return StepResult([Finding("commitment.request-refused", Severity.ERROR,
                                           f"N-ACTION (request storage commitment) answered "
                                           f"{status.describe()}.",
                                           reference=f"PS3.4 J.3.2.1.2; {status.reference}; statement")],
                                  [obs])
            # Reports on either path land in the listener (the same-association handler
            # records into it too): one bounded wait while the association stays open.
            wait = sc.report_within
            if port is None and sc.report_association == "either":
                wait = min(wait, 3.0)
            report = listener.wait_report(wait, transaction)
        if report is None and port is not None:
            report = listener.wait_report(0.5, transaction)
    finally:
        listener.stop()
    note_reached(ctx, listener.calling_aes)
    if report is None and port is None and sc.report_association == "either":
        return StepResult([], [obs], message=f"{NO_PORT}; no report came on the requesting "
                          "association", outcome=Outcome.SKIPPED)
    if report is None and port is not None and sc.report_association != "same" and \
            _harness_known(ctx, items) is False:
        return StepResult([], [obs], message=report_setup(what, port, ctx.target), outcome=Outcome.SETUP)
    if report is None:
        where = {"same": "on the same association", "new": "on a new association",
                 "either": "on either association"}[sc.report_association]
        return StepResult([Finding("commitment.no-report", Severity.ERROR,
                                   f"No N-EVENT-REPORT {where} within {wait:g} s of the N-ACTION.",
                                   reference="PS3.4 J.3.3; statement")], [obs])
    obs.update(event_type=report.event_type, report_association="same" if report.same_association else "new",
               committed=len((report.dataset or Dataset()).get("ReferencedSOPSequence") or []),
               failed=len((report.dataset or Dataset()).get("FailedSOPSequence") or []))
    found = scs.check_report(report, transaction, {s.sop_instance for s in items}, {bogus[1]}, what,
                             sc.report_association)
    return StepResult(found, [obs], message=f"report (event type {report.event_type}) on the "
                                            f"{obs['report_association']} association")


@planner("commitment", order=60)
def plan(statement: Statement) -> list[Step]:
    """The push-model request, where the statement declares it (device as SCP)."""
    if not statement.performs(scs.PUSH_MODEL):
        return refused_steps(statement, scs.PUSH_MODEL, "commitment/refused", "commitment")
    return [Step("commitment/request", "Storage commitment: N-ACTION, then the report",
                 "PS3.4 J.3", action=_commitment)]
