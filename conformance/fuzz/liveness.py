"""Is the device still there after a case: a fresh association and a C-ECHO (PS3.7 9.1.5,
PS3.4 Annex A), repeated until it answers or the give-up time has passed."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from conformance.standard.uids import IMPLICIT_VR_LITTLE_ENDIAN, VERIFICATION
from conformance.wire.association import WireError
from conformance.wire.contexts import ProposedContext
from conformance.wire.outcome import Ending, Establishment
from conformance.wire.requestor import open_association
from conformance.wire.target import Target, Timeouts

ECHO = ProposedContext(VERIFICATION, (IMPLICIT_VR_LITTLE_ENDIAN,))
#: Pause between two attempts while waiting for the device to come back.
RETRY_PAUSE = 0.05


@dataclass(frozen=True)
class Liveness:
    """The result of waiting for the device: ``alive``, after ``seconds``; when not alive,
    ``refused`` tells a dropped listener (connection refused) from silence, ``how`` the last
    attempt's ending."""

    alive: bool
    seconds: float
    refused: bool = False
    how: str = ""


def echo_once(target: Target, limit: float) -> tuple[bool, bool, str]:
    """One attempt within *limit* s: (alive, connection refused, what happened). A device that
    rejects the Verification context but answers the A-ASSOCIATE-RQ counts as alive."""
    short = Timeouts(connect=limit, acse=limit, dimse=limit, network=limit, liveness=limit)
    out, assoc = open_association(replace(target, timeouts=short), [ECHO])
    if assoc is None:
        refused = out.end is not None and out.end.kind is Ending.CONNECTION_REFUSED
        answered = out.establishment in (Establishment.ACCEPTED, Establishment.REJECTED)
        return answered, refused, out.describe()
    try:
        rsp = assoc.send_c_echo(ECHO)
        assoc.release(limit)
        return True, False, f"C-ECHO status 0x{rsp.status:04X}"
    except WireError as exc:
        assoc.close()
        return False, False, exc.end.describe()


def wait_alive(target: Target, give_up: float) -> Liveness:
    """Try :func:`echo_once` until it succeeds or *give_up* s have passed (at least once)."""
    start = time.monotonic()
    while True:
        left = give_up - (time.monotonic() - start)
        alive, refused, how = echo_once(target, max(min(left, give_up), 0.2))
        took = time.monotonic() - start
        if alive:
            return Liveness(True, took, how=how)
        if took >= give_up:
            return Liveness(False, took, refused, how)
        time.sleep(RETRY_PAUSE)
