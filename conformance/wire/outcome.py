"""How an association (or the attempt to open one) ended, as one typed value, classified here
and only here (PS3.8 9.3.4, 9.3.6-9.3.8, 9.1.5; Tables 9-21 and 9-26).

:class:`End` is what the network stack observed last: connection refused, no TCP connection,
the peer closed TCP, no answer within a timeout, A-ASSOCIATE-RJ (result, source, reason),
accepted, A-ABORT (source, reason, which request it followed and how many milliseconds after
it), A-RELEASE, or a malformed / unexpected PDU. Every failure of :mod:`conformance.wire`
carries one (:class:`conformance.wire.association.WireError` ``.end``), so the checks decide on
data, never on the text of an exception. :class:`AssociationOutcome` is the set-up as data
(the result of every proposed context, the acceptor's parameters) with its coarse
:class:`Establishment`, derived from the :class:`End` by :func:`establishment_of`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from enum import Enum

from conformance.wire.contexts import ContextResult


class Ending(str, Enum):
    """What happened, finely (PS3.8 9.3, 9.1.5)."""

    ACCEPTED = "accepted"                      # A-ASSOCIATE-AC (still open)
    REJECTED = "rejected"                      # A-ASSOCIATE-RJ
    RELEASED = "released"                      # A-RELEASE-RQ/RP
    ABORTED = "aborted"                        # A-ABORT received from the peer
    CLOSED = "closed"                          # TCP closed by the peer, no A-ABORT / A-RELEASE
    NO_ANSWER = "no-answer"                    # nothing within the timeout
    CONNECTION_REFUSED = "connection-refused"  # TCP connect refused (nothing listens)
    NO_CONNECTION = "no-connection"            # TCP connect failed otherwise (timeout, unreachable)
    PROTOCOL_ERROR = "protocol-error"          # malformed or unexpected PDU: the harness aborts
    NOT_NEGOTIATED = "not-negotiated"          # the harness has no accepted context for a request


class Establishment(str, Enum):
    """The set-up, coarsely: what the negotiation checks reason about."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"          # A-ASSOCIATE-RJ
    ABORTED = "aborted"            # A-ABORT / closed / garbage during set-up
    NO_CONNECTION = "no-connection"  # TCP connect failed (refused, unreachable, timed out)
    NO_ANSWER = "no-answer"        # TCP up, no A-ASSOCIATE-AC/RJ within the ACSE timeout


#: PS3.8 Table 9-21, A-ASSOCIATE-RJ (source, reason) -> meaning.
REJECT_REASONS = {
    (1, 1): "no-reason-given",
    (1, 2): "application-context-name-not-supported",
    (1, 3): "calling-AE-title-not-recognized",
    (1, 7): "called-AE-title-not-recognized",
    (2, 1): "no-reason-given (ACSE)",
    (2, 2): "protocol-version-not-supported",
    (3, 1): "temporary-congestion",
    (3, 2): "local-limit-exceeded",
}

#: PS3.8 Table 9-26, A-ABORT source and reason/diagnostic.
ABORT_SOURCES = {0: "service-user", 1: "reserved", 2: "service-provider"}
ABORT_REASONS = {0: "reason-not-specified", 1: "unrecognized-PDU", 2: "unexpected-PDU",
                 4: "unrecognized-PDU-parameter", 5: "unexpected-PDU-parameter",
                 6: "invalid-PDU-parameter-value"}


@dataclass(frozen=True)
class LastRequest:
    """The last DIMSE request on an association (name, e.g. ``C-GET-RQ``, and when)."""

    name: str
    at: float


@dataclass(frozen=True)
class End:
    """One typed association ending. ``after_request``/``after_ms``: the last request before
    it and the milliseconds between them (an abort 3 ms after a C-GET-RQ is a refusal; a
    silence is the timeout)."""

    kind: Ending
    detail: str = ""
    result: int | None = None      # A-ASSOCIATE-RJ result: 1 permanent, 2 transient
    source: int | None = None      # A-ASSOCIATE-RJ / A-ABORT source
    reason: int | None = None      # A-ASSOCIATE-RJ / A-ABORT reason
    after_request: str | None = None
    after_ms: float | None = None
    timeout: float | None = None   # NO_ANSWER: how long the harness waited
    #: PROTOCOL_ERROR: the finding code and the standard's section (:class:`Violation`).
    code: str = ""
    reference: str = ""

    @property
    def reject_meaning(self) -> str:
        return REJECT_REASONS.get((self.source or 0, self.reason or 0),
                                  f"source {self.source} reason {self.reason}")

    def _after(self) -> str:
        if self.after_request is None:
            return ""
        return f" {self.after_ms:.0f} ms after the {self.after_request}" if self.after_ms is not None \
            else f" after the {self.after_request}"

    def describe(self) -> str:
        """One sentence for a finding or a report."""
        k = self.kind
        if k is Ending.REJECTED:
            kind = {1: "permanent", 2: "transient"}.get(self.result or 0, f"result {self.result}")
            text = f"association rejected ({kind}): {self.reject_meaning}"
        elif k is Ending.ABORTED:
            text = (f"the device aborted the association{self._after()} (A-ABORT source "
                    f"{ABORT_SOURCES.get(self.source or 0, self.source)}, reason "
                    f"{ABORT_REASONS.get(self.reason or 0, self.reason)})")
        elif k is Ending.CLOSED:
            text = f"the device closed the connection{self._after()} without A-RELEASE or A-ABORT"
        elif k is Ending.NO_ANSWER:
            waited = f" within {self.timeout:g} s" if self.timeout is not None else ""
            text = f"no answer from the device{waited}" + (
                f" to the {self.after_request}" if self.after_request else "")
        elif k is Ending.CONNECTION_REFUSED:
            text = "TCP connection refused (nothing listens on that port)"
        elif k is Ending.NO_CONNECTION:
            text = "no TCP connection"
        elif k is Ending.PROTOCOL_ERROR:
            text = f"protocol error{self._after()}"
        elif k is Ending.NOT_NEGOTIATED:
            return self.detail
        elif k is Ending.RELEASED:
            text = "association released"
        else:
            text = "association accepted"
        return text + (f" ({self.detail})" if self.detail else "")


def _since(last: LastRequest | None) -> tuple[str | None, float | None]:
    if last is None:
        return None, None
    return last.name, round((time.monotonic() - last.at) * 1000.0, 1)


# --- the classifier: every observation the stack makes becomes an End here ----------------

def connect_failed(exc: OSError) -> End:
    """TCP connect failed: refused (RST: nothing listens) or otherwise (timeout, no route)."""
    if isinstance(exc, ConnectionRefusedError):
        return End(Ending.CONNECTION_REFUSED, str(exc))
    return End(Ending.NO_CONNECTION, str(exc) or type(exc).__name__)


def silence(timeout: float, last: LastRequest | None = None, received: int = 0, needed: int = 0) -> End:
    """Nothing (or not a whole PDU) within *timeout* seconds (PS3.8 9.1.5 ARTIM, PS3.7 9.1);
    *received* of the *needed* bytes of a PDU had come (a device dripping its answer)."""
    name, _ms = _since(last)
    detail = (f"only {received} of the {needed} bytes of a PDU arrived within {timeout:g} s: each PDU must "
              "arrive whole within the timeout" if received else "")
    return End(Ending.NO_ANSWER, detail, timeout=timeout, after_request=name)


def closed(last: LastRequest | None = None, detail: str = "") -> End:
    """The peer closed TCP (or reset it) without A-RELEASE or A-ABORT."""
    name, ms = _since(last)
    return End(Ending.CLOSED, detail, after_request=name, after_ms=ms)


def aborted(source: int | None, reason: int | None, last: LastRequest | None = None) -> End:
    """An A-ABORT received (PS3.8 9.3.8)."""
    name, ms = _since(last)
    return End(Ending.ABORTED, source=source, reason=reason, after_request=name, after_ms=ms)


def rejected(result: int | None, source: int | None, reason: int | None) -> End:
    """An A-ASSOCIATE-RJ received (PS3.8 9.3.4, Table 9-21)."""
    return End(Ending.REJECTED, result=result, source=source, reason=reason)


def protocol_error(detail: str, last: LastRequest | None = None, code: str = "protocol.malformed-pdu",
                   reference: str = "PS3.8 9.3") -> End:
    """A malformed PDU, or one not expected in this state (PS3.8 9.2, Table 9-10); *code*
    and *reference* name the rule broken (:class:`Violation`)."""
    name, ms = _since(last)
    return End(Ending.PROTOCOL_ERROR, detail, after_request=name, after_ms=ms, code=code, reference=reference)


def not_negotiated(detail: str) -> End:
    """The harness cannot send a request: no presentation context for it was accepted."""
    return End(Ending.NOT_NEGOTIATED, detail)


def released(detail: str = "") -> End:
    return End(Ending.RELEASED, detail)


def establishment_of(end: End) -> Establishment:
    """The coarse set-up outcome of an ending observed while opening an association."""
    return {Ending.ACCEPTED: Establishment.ACCEPTED, Ending.REJECTED: Establishment.REJECTED,
            Ending.NO_ANSWER: Establishment.NO_ANSWER,
            Ending.CONNECTION_REFUSED: Establishment.NO_CONNECTION,
            Ending.NO_CONNECTION: Establishment.NO_CONNECTION}.get(end.kind, Establishment.ABORTED)


@dataclass
class AssociationOutcome:
    """Everything observable about one association request."""

    establishment: Establishment
    contexts: list[ContextResult] = field(default_factory=list)
    reject_result: int | None = None   # 1 permanent, 2 transient
    reject_source: int | None = None
    reject_reason: int | None = None
    max_pdu: int | None = None         # acceptor's Maximum Length Received (PS3.8 D.1)
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    detail: str = ""
    #: The typed ending when the set-up did not succeed (``None`` when accepted).
    end: End | None = None
    #: Problems of form in the acceptor's A-ASSOCIATE-AC (PS3.8 9.3.3), as found by the codec.
    problems: list[str] = field(default_factory=list)

    @classmethod
    def failed(cls, end: End) -> AssociationOutcome:
        """The outcome of a set-up that ended in *end* (rejected, aborted, silent, ...)."""
        return cls(establishment_of(end), reject_result=end.result if end.kind is Ending.REJECTED else None,
                   reject_source=end.source if end.kind is Ending.REJECTED else None,
                   reject_reason=end.reason if end.kind is Ending.REJECTED else None,
                   detail=end.detail, end=end)

    @property
    def reject_meaning(self) -> str:
        return REJECT_REASONS.get((self.reject_source or 0, self.reject_reason or 0),
                                  f"source {self.reject_source} reason {self.reject_reason}")

    def describe(self) -> str:
        if self.establishment is Establishment.REJECTED:
            kind = {1: "permanent", 2: "transient"}.get(self.reject_result or 0, "?")
            return f"association rejected ({kind}): {self.reject_meaning}"
        if self.end is not None and self.establishment is not Establishment.ACCEPTED:
            prefix = {Establishment.ABORTED: "association aborted by the device during set-up: ",
                      Establishment.NO_ANSWER: "no answer to A-ASSOCIATE-RQ: ",
                      Establishment.NO_CONNECTION: ""}[self.establishment]
            return prefix + self.end.describe()
        return {
            Establishment.ACCEPTED: "association accepted",
            Establishment.ABORTED: "association aborted by the device during set-up",
            Establishment.NO_CONNECTION: "no TCP connection",
            Establishment.NO_ANSWER: "no answer to A-ASSOCIATE-RQ within the ACSE timeout",
        }[self.establishment] + (f" ({self.detail})" if self.detail else "")


# --- the device's protocol errors, as data -----------------------------------------------

@dataclass(frozen=True)
class Violation:
    """A protocol error of the peer (PS3.8 upper layer, PS3.7 DIMSE): a stable finding code,
    a message saying what the peer sent, the section broken, and a severity (``error``: the
    peer deviates from the standard; ``warning``: reported, e.g. a bound the harness hit)."""

    code: str
    message: str
    reference: str
    severity: str = "error"
    #: What makes two violations "the same" for reporting once (default: the code).
    key: str = ""

    @classmethod
    def of(cls, end: End) -> Violation:
        """The violation of a PROTOCOL_ERROR ending."""
        return cls(end.code or "protocol.malformed-pdu", f"the device sent {end.detail}" if end.detail else
                   "the device broke the protocol", end.reference or "PS3.8 9.3")


class DeviceRecord:
    """What the harness learned about one device during a command (``run``, ``discover``,
    ``diff``), shared by every association to it (:attr:`conformance.wire.target.Target.record`):
    its protocol violations (:meth:`take` hands out the new ones: the engine attaches them to
    the step that met them, once per step, and those of :data:`ONCE` once per run), and
    whether it answers A-RELEASE-RQ (a device that never does costs the ACSE timeout once,
    not on every association). Thread-safe."""

    #: Violation codes reported once per command, not once per step.
    ONCE = frozenset({"protocol.no-release-reply"})

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str]] = set()
        self._once: set[tuple[str, str]] = set()
        self.violations: list[Violation] = []
        self._taken = 0
        #: The device left an A-RELEASE-RQ unanswered: later releases wait only briefly.
        self.no_release_reply = False
        #: How many times a request on an established association got no answer in time
        #: (the engine then checks whether the device still answers at all).
        self.silences = 0

    def add(self, violation: Violation) -> bool:
        """Record *violation* unless the same one was recorded before; True if new."""
        key = (violation.code, violation.key or violation.code)
        with self._lock:
            if key in self._seen or key in self._once:
                return False
            (self._once if violation.code in self.ONCE else self._seen).add(key)
            self.violations.append(violation)
            return True

    def take(self) -> list[Violation]:
        """The violations recorded since the last call."""
        with self._lock:
            new = self.violations[self._taken:]
            self._taken = len(self.violations)
            self._seen.clear()
            return new
