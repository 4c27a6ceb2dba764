"""What a case, the device's reaction and the liveness check after it mean (pure).

- The device did not answer a fresh association and C-ECHO within the give-up time: it
  stopped answering (``fuzz.stopped-answering``) or, when connections are refused, dropped
  its listener (``fuzz.listener-dropped``); severity error: malformed input must not take a
  device down (PS3.8 9.2: an invalid PDU is answered by A-ABORT, Evt19/AA-8).
- It answered, but later than the recovery limit: ``fuzz.slow-recovery``, warning.
- The input was plainly invalid and the device took it: an A-ASSOCIATE-AC to an invalid
  A-ASSOCIATE-RQ, or a Success status to an invalid P-DATA-TF, command set or data set:
  ``fuzz.accepted-invalid``, warning.
"""

from __future__ import annotations

from conformance.findings import Finding, Severity
from conformance.fuzz.case import Case
from conformance.fuzz.liveness import Liveness
from conformance.fuzz.send import Reaction

STOPPED, DROPPED = "fuzz.stopped-answering", "fuzz.listener-dropped"
SLOW, ACCEPTED = "fuzz.slow-recovery", "fuzz.accepted-invalid"
#: What the standard has a receiver do instead of accepting invalid input, per area.
WHAT_INSTEAD = {"associate-rq": "PS3.8 9.2 (Evt19, AA-8: A-ABORT)", "p-data": "PS3.8 9.2 (Evt19, AA-8: A-ABORT)",
                "command-set": "PS3.7 C.5 (a failure status)",
                "data-set": "PS3.4 B.2.3 (Error: Cannot Understand, Cxxx)"}


def down(case: Case, live: Liveness, give_up: float, source: str) -> Finding:
    """The device did not come back after *case*."""
    if live.refused:
        code, what = DROPPED, "dropped its listener (connections refused)"
    else:
        code, what = STOPPED, "stopped answering"
    return Finding(code, Severity.ERROR,
                   f"the device {what} after {case.what}: no fresh association and C-ECHO within "
                   f"{give_up:g} s ({live.how})", f"{case.reference}; PS3.8 9.2 (Evt19, AA-8)", source=source,
                   details={"area": case.area, "label": case.label, "bytes": case.size})


def judge(case: Case, reaction: Reaction, live: Liveness, *, give_up: float, slow: float,
          source: str) -> list[Finding]:
    """Findings of one case (an empty list: the device coped)."""
    if not live.alive:
        return [down(case, live, give_up, source)]
    out: list[Finding] = []
    if live.seconds > slow:
        out.append(Finding(SLOW, Severity.WARNING,
                           f"the device took {live.seconds:.1f} s (more than {slow:g} s) to answer a fresh "
                           f"association and C-ECHO after {case.what}", case.reference, source=source,
                           details={"area": case.area, "label": case.label, "seconds": round(live.seconds, 3)}))
    taken = reaction.accepted_association if case.area == "associate-rq" else reaction.success_status
    if case.invalid and taken:
        answer = "accepted the association" if case.area == "associate-rq" else "answered Success"
        out.append(Finding(ACCEPTED, Severity.WARNING,
                           f"the device {answer} to plainly invalid input: {case.what}",
                           f"{case.reference}; {WHAT_INSTEAD[case.area]}", source=source,
                           details={"area": case.area, "label": case.label, "reaction": reaction.describe()}))
    return out
