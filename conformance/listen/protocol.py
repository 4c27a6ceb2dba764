"""The calling device's protocol errors on one association, as findings of its
``listen/association/<n>`` step (PS3.8 upper layer, PS3.7 DIMSE).

- The error that ended the association (``AcceptedAssociation.peer_error``: what was sent, the
  section broken), with how the harness answered it (A-RELEASE-RP or A-ABORT).
- Errors that did not end it (``Association.violations``, e.g. a data set after a C-ECHO-RQ,
  PS3.7 9.3.5.1 / E.1), once per code.
- Items of an unknown type in the A-ASSOCIATE-RQ, which the harness skips (PS3.8 9.3.1): a
  warning each, five at most.
"""

from __future__ import annotations

from conformance.findings import Finding, Severity
from conformance.listen.server import Association
from conformance.wire.outcome import Ending, Violation


def protocol_findings(assoc: Association, end: str, reported: set[str]) -> list[Finding]:
    """The findings of *assoc*'s protocol errors; *reported*: codes already reported for it."""
    out: list[Finding] = []
    if assoc.peer_error is not None:
        v = assoc.peer_error
        after = " It was answered A-RELEASE-RP." if end == "released" else \
            " The harness aborted the association (A-ABORT)."
        out.append(Finding(v.code, Severity.ERROR, f"The device sent {v.detail}.{after}", reference=v.reference))
        reported.add(v.code)
    ending = assoc.ending
    fatal = Violation.of(ending) if ending is not None and ending.kind is Ending.PROTOCOL_ERROR else None
    for violation in assoc.violations:
        if violation == fatal or violation.code in reported:
            continue
        reported.add(violation.code)
        severity = Severity.ERROR if violation.severity == "error" else Severity.WARNING
        message = violation.message[:1].upper() + violation.message[1:] + "."
        out.append(Finding(violation.code, severity, message, reference=violation.reference))
    for problem in assoc.unknown_items[:5]:
        out.append(Finding("listen.unknown-associate-item", Severity.WARNING,
                           f"The A-ASSOCIATE-RQ has an item the harness skipped: {problem}.",
                           reference="PS3.8 9.3.1, 9.3.2"))
    return out
