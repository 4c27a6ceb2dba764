"""The verdict rules: what a step concludes when a claimed service is not answered as the
standard says. One table (:data:`RULES`), mirrored in README "Verdict rules".

A request of a claimed service (device as SCP) on an accepted presentation context ends in
one of these ways (:class:`Reply`):

========================  =======================================================  ===========
reply                     verdict                                                  outcome
========================  =======================================================  ===========
a response with a status  judged by the service's checks (PS3.4 status tables)     pass / fail
A-ABORT from the device   the claim is false: FAIL naming it, plus a warning that  fail
                          the device aborts where PS3.7/PS3.4 define a failure
                          status for a refused request
TCP closed by the device  as A-ABORT (PS3.8 9.1: an A-P-ABORT for the harness)     fail
a protocol error          the device broke PS3.8/PS3.7 (malformed or unexpected    fail
                          PDU, a response to a request never sent): FAIL naming
                          what it sent; the harness aborted
no answer in the timeout  the harness could not test                               error
========================  =======================================================  ===========

Before an abort is held against the device, :mod:`conformance.families.setup` checks the
site: a device that answers no command (but C-ECHO or C-STORE) from the harness' calling AE
title does not know the harness, and the step ends as ``setup`` with what to configure.
A statement may declare the service *negotiable but refused* (``services.refused``): then
the refusal it declares is the expected answer.

This module is pure (no network): the families measure, it judges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum

from conformance.engine.model import Outcome, StepResult
from conformance.findings import Finding, Severity
from conformance.negotiation.association import AssociationOutcome
from conformance.negotiation.target import Target
from conformance.services.common import DimseMonitor
from conformance.services.status import FAILURE, StatusInfo
from conformance.statement.model import Refusal
from conformance.wire.outcome import End, Ending


class Reply(str, Enum):
    """How a request of a claimed service ended."""

    ANSWERED = "answered"      # a response with a status
    ABORTED = "aborted"        # an A-ABORT PDU from the device (PS3.8 9.3.8)
    CLOSED = "closed"          # the device closed the TCP connection
    NO_ANSWER = "no-answer"    # nothing within the DIMSE timeout (PS3.7 9.1)
    PROTOCOL_ERROR = "protocol-error"  # malformed / unexpected PDU or response (PS3.8 9.2, PS3.7 9.3)


@dataclass(frozen=True)
class Unanswered:
    """A request that got no status: which request, how it ended, how soon after."""

    request: str                     # the DIMSE service, e.g. "C-GET"
    reply: Reply
    after_ms: float | None = None
    source: int | None = None        # A-ABORT source and reason (PS3.8 Table 9-26)
    reason: int | None = None
    detail: str = ""                 # PROTOCOL_ERROR: what the device sent

    def describe(self) -> str:
        ms = f" {self.after_ms:.0f} ms after the {self.request} request" if self.after_ms is not None else ""
        if self.reply is Reply.ABORTED:
            how = (" (A-ABORT)" if self.source is None else
                   f" (A-ABORT source {self.source})" if self.reason is None else
                   f" (A-ABORT source {self.source}, reason {self.reason})")
            return f"the device aborted the association{ms}{how}" + (f", {self.detail}" if self.detail else "")
        if self.reply is Reply.PROTOCOL_ERROR:
            return f"the device broke the protocol{ms}: it sent {self.detail}; the harness aborted"
        if self.reply is Reply.CLOSED:
            return f"the device closed the connection{ms}"
        return f"no {self.request} response within the DIMSE timeout" + (f" ({self.detail})" if self.detail else "")


def from_monitor(monitor: DimseMonitor, request: str, timeout: float,
                 started: float | None = None) -> Unanswered:
    """Classify a request without a response from what the monitor saw (``WireMonitor``, from the
    typed ending): an
    A-ABORT PDU received, the connection closed well before the timeout, or silence."""
    sent = monitor.last_request[1] if monitor.last_request else started
    broken = getattr(monitor, "protocol_error", None)
    if isinstance(broken, End):
        return Unanswered(request, Reply.PROTOCOL_ERROR, broken.after_ms, detail=broken.detail)
    if monitor.device_abort is not None:
        source, reason, at = monitor.device_abort
        end = getattr(getattr(monitor, "assoc", None), "ending", None)
        return Unanswered(request, Reply.ABORTED, _ms(sent, at), source, reason,
                          detail=end.detail if isinstance(end, End) else "")
    if monitor.closed_at is not None and sent is not None and monitor.closed_at - sent < 0.9 * timeout:
        return Unanswered(request, Reply.CLOSED, _ms(sent, monitor.closed_at))
    end = getattr(getattr(monitor, "assoc", None), "ending", None)
    return Unanswered(request, Reply.NO_ANSWER, detail=end.detail if isinstance(end, End) else "")


def from_wire(end: End | None, request: str, started: float, timeout: float) -> Unanswered:
    """Classify a request on the one-thread requestor that got no response from the typed
    ending the wire stack recorded (:mod:`conformance.wire.outcome`): an A-ABORT (source,
    reason), the connection closed, or silence for the whole timeout. The milliseconds are
    counted from *started* (the request), as the device saw it."""
    elapsed_ms = (time.monotonic() - started) * 1000
    after = end.after_ms if end is not None and end.after_request == f"{request}-RQ" else None
    after = elapsed_ms if after is None else after
    if end is not None and end.kind is Ending.ABORTED:
        return Unanswered(request, Reply.ABORTED, after, end.source, end.reason, detail=end.detail)
    if end is not None and end.kind is Ending.PROTOCOL_ERROR:
        return Unanswered(request, Reply.PROTOCOL_ERROR, after, detail=end.detail)
    if end is not None and end.kind is Ending.CLOSED:
        return Unanswered(request, Reply.CLOSED, after)
    if end is not None and end.kind is Ending.NO_ANSWER:
        return Unanswered(request, Reply.NO_ANSWER, detail=end.detail)
    # no ending recorded, or a malformed / unexpected PDU: only the timing is left
    if elapsed_ms < 0.9 * timeout * 1000:
        return Unanswered(request, Reply.CLOSED, elapsed_ms)
    return Unanswered(request, Reply.NO_ANSWER)


def _ms(start: float | None, end: float) -> float | None:
    return None if start is None else max(0.0, (end - start) * 1000)


@dataclass(frozen=True)
class Rule:
    """One row of the verdict table."""

    outcome: Outcome
    code: str
    #: A warning that the device aborts where the standard defines a failure status.
    abort_warning: bool


#: The verdict table (README "Verdict rules").
RULES: dict[Reply, Rule] = {
    Reply.ABORTED: Rule(Outcome.FAIL, "service.aborted", True),
    Reply.CLOSED: Rule(Outcome.FAIL, "service.connection-closed", True),
    Reply.NO_ANSWER: Rule(Outcome.ERROR, "service.no-answer", False),
    Reply.PROTOCOL_ERROR: Rule(Outcome.FAIL, "service.protocol-error", False),
}

#: Where the standard defines the failure statuses a refusing SCP returns, per request.
STATUS_RULES = {
    "C-ECHO": "PS3.7 9.1.5.1.4", "C-STORE": "PS3.4 B.2.3; PS3.7 9.1.1.1.9",
    "C-FIND": "PS3.4 C.4.1.1.4; PS3.7 9.1.2.1.6", "C-MOVE": "PS3.4 C.4.2.1.5; PS3.7 9.1.4.1.7",
    "C-GET": "PS3.4 C.4.3.1.4; PS3.7 9.1.3.1.7", "N-ACTION": "PS3.4 J.3.2.1.2; PS3.7 10.1.4.1.10",
    "N-SET": "PS3.4 F.7.2.2; PS3.7 10.1.3.1.9", "N-CREATE": "PS3.4 F.7.2.1; PS3.7 10.1.5.1.6",
}


def judge(claim: str, un: Unanswered, *, setup: str | None = None,
          declared: Refusal | None = None) -> StepResult:
    """The step result for a claimed service whose request got no status.

    *claim* names it ("C-GET (StudyRootQueryRetrieveInformationModelGet)"); *setup*: the
    site problem found by :func:`conformance.families.setup.calling_ae_problem`, if any;
    *declared*: the statement's "negotiable but refused" entry for the SOP class.
    """
    observation = {"kind": "refusal", "request": un.request, "reply": un.reply.value,
                   "after_ms": None if un.after_ms is None else round(un.after_ms, 1),
                   "abort_source": un.source, "abort_reason": un.reason}
    if un.reply is Reply.NO_ANSWER:
        return StepResult([], [observation], message=f"could not test {claim}: {un.describe()}",
                          outcome=Outcome.ERROR)
    if un.reply is Reply.PROTOCOL_ERROR:
        setup, declared = None, None    # a malformed answer is the device's, whatever the site or statement
    if setup:
        return StepResult([], [observation], message=setup, outcome=Outcome.SETUP)
    if declared is not None:
        return judge_declared(claim, declared, un.reply, None, observation, un.describe())
    rule = RULES[un.reply]
    findings = [Finding(rule.code, Severity.ERROR, f"{claim} claimed; {un.describe()}.",
                        reference=f"{STATUS_RULES.get(un.request, 'PS3.7')}; statement",
                        details={k: v for k, v in observation.items() if v is not None})]
    if rule.abort_warning:
        findings.append(Finding(
            "service.abort-instead-of-status", Severity.WARNING,
            f"The device ended the association instead of answering the {un.request} with a "
            "failure status: the standard defines statuses for a refused request, and an SCU "
            "cannot tell an abort from a crash.",
            reference=f"{STATUS_RULES.get(un.request, 'PS3.7')}; PS3.8 9.3.8"))
    return StepResult(findings, [observation], message=findings[0].message, outcome=rule.outcome)


def judge_declared(claim: str, declared: Refusal, reply: Reply, status: StatusInfo | None,
                   observation: dict, what: str) -> StepResult:
    """A service the statement declares *negotiable but refused*: the refusal must come as
    declared. ``abort``: an A-ABORT or a closed connection; any status means the device
    processed the request. ``status``: a failure status (the declared code, if given); an
    abort or another failure status is a refusal in another way (a warning)."""
    ended = reply in (Reply.ABORTED, Reply.CLOSED)
    failed = status is not None and status.category == FAILURE
    if declared.how == "abort":
        as_declared, refused = ended, ended
    else:
        as_declared = failed and (declared.status is None or status is not None and status.code == declared.status)
        refused = ended or failed
    how = declared.how if declared.status is None else f"status 0x{declared.status:04X}"
    if as_declared:
        return StepResult([], [observation],
                          message=f"{claim} refused as the statement declares ({how}): {what}")
    if refused:
        return StepResult([Finding(
            "service.refusal-differs", Severity.WARNING,
            f"{claim} is declared refused by {how}; the device refused it differently: {what}.",
            reference="statement")], [observation], message=f"{claim} refused, not as declared: {what}")
    return StepResult([Finding(
        "service.refused-but-performed", Severity.ERROR,
        f"{claim} is declared negotiable but refused ({how}); the device performed it: {what}.",
        reference="statement")], [observation], message=f"{claim} declared refused, but performed: {what}")


# --- set-up problems: what to configure ----------------------------------------------

def ae_title_setup(outcome: AssociationOutcome, purpose: str, target: Target) -> str:
    """The message of a rejection for an AE title the device does not recognize."""
    if outcome.reject_reason == 7:
        return (f"set-up problem: could not {purpose}: the device does not answer to called AE "
                f"title {target.called_ae!r} ({outcome.describe()}); give the device's AE title "
                "(--called-ae or network.ae_titles)")
    return (f"set-up problem: could not {purpose}: the device does not know the harness' calling "
            f"AE title {target.calling_ae!r} ({outcome.describe()}); add {target.calling_ae!r} to "
            "the device's known AEs, or run with the calling AE title it knows "
            "(--calling-ae or harness.ae_title)")


def harness_address(target: Target, port: int | None, ae_title: str) -> str:
    """How the device must know the harness: AE title, host and port."""
    return f"AE title {ae_title!r}, host <the harness' address>, port {port if port else '?'}"


def move_setup(what: str, destination: str, port: int | None, target: Target, detail: str) -> str:
    """The C-MOVE sub-association never reached the harness."""
    return (f"set-up problem: {what}: the device never opened the C-MOVE sub-association to "
            f"the harness ({detail}); configure the move destination on the device: "
            f"{harness_address(target, port, destination)} (or give the port it has for the "
            "harness with --harness-port, and its AE title with harness.move_destination)")


def report_setup(what: str, port: int | None, target: Target) -> str:
    """The storage commitment report association never reached the harness."""
    return (f"set-up problem: {what}: no N-EVENT-REPORT came, and the device never opened an "
            "association to the harness in this run; configure the harness as the report "
            f"destination on the device: {harness_address(target, port, target.calling_ae)} "
            "(or give the port it has for the harness with --harness-port)")
