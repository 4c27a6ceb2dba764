"""The harness as association requestor (PS3.8 9.3.2-9.3.4, 9.1.5), one thread, blocking socket.

:func:`open_association` connects (bounded by the connect timeout), sends the A-ASSOCIATE-RQ
with the harness identity (:mod:`conformance.wire.identity`), and waits for the answer within
the ACSE timeout (the ARTIM timer, PS3.8 9.1.5), all within one absolute deadline. What
happened is an :class:`~conformance.wire.outcome.AssociationOutcome` (with the typed
:class:`~conformance.wire.outcome.End` when it failed); the association, when accepted, a
:class:`RequestorAssociation` with the C-STORE and C-GET exchanges the storage path needs.
:func:`negotiate` is what a negotiation probe needs: open, read the answer, release.

Why not pynetdicom: its requestor hands every PDU between two threads through queues polled
every 1 ms, and validates and deep-copies each proposed context: about 30 ms for an association
of 128 contexts, where this takes 1-3 ms; and it caps a C-STORE loop near 270 files/s.

TLS: *wrap* (a callable taking the connected socket and returning the socket to use), or else
``Target.wrap``, is the hook for the secure transport profiles (PS3.15 Annex B); the wrappers
are made in :mod:`conformance.wire.tls`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from conformance.wire import outcome as classify
from conformance.wire.answers import accept_violations, reject_violations
from conformance.wire.association import Association, WireError
from conformance.wire.contexts import ContextResult, ProposedContext, agreed_roles
from conformance.wire.dimse import C_ECHO_RQ, C_ECHO_RSP, C_GET_RSP, C_STORE_RQ, C_STORE_RSP, NAMES, Command
from conformance.wire.outcome import AssociationOutcome, Establishment
from conformance.wire.pdu import (
    ABORT,
    ASSOCIATE_AC,
    ASSOCIATE_RJ,
    PDU_NAMES,
    AssociateAccept,
    AssociateReject,
    AssociateRequest,
    RequestedContext,
    decode,
    encode_associate_rq,
    harness_identity,
)
from conformance.wire.target import Target

__all__ = ["RequestorAssociation", "Response", "WireError", "associate_rq", "negotiate", "open_association"]

#: A callable that wraps a connected socket (the TLS hook).
SocketWrapper = Callable[[socket.socket], socket.socket]


@dataclass
class Response:
    """A DIMSE response as the checks need it."""

    status: int
    msg_id: int
    command_field: int
    error_comment: str = ""


def associate_rq(target: Target, contexts: Sequence[ProposedContext]) -> bytes:
    """The harness's A-ASSOCIATE-RQ (PS3.8 9.3.2): odd context IDs 1, 3, ... in order, a role
    selection item for each SOP class that asks for one (PS3.7 D.3.3.4)."""
    rq = AssociateRequest(target.called_ae, target.calling_ae, contexts=[
        RequestedContext(2 * i + 1, c.sop_class, list(c.transfer_syntaxes)) for i, c in enumerate(contexts)])
    for ctx in contexts:
        if ctx.scu_role is not None or ctx.scp_role is not None:
            rq.roles[ctx.sop_class] = (int(bool(ctx.scu_role)), int(bool(ctx.scp_role)))
    return encode_associate_rq(harness_identity(rq))  # type: ignore[arg-type]


def _accepted(ac: AssociateAccept, contexts: Sequence[ProposedContext]) -> AssociationOutcome:
    out = AssociationOutcome(Establishment.ACCEPTED, max_pdu=ac.max_pdu,
                             implementation_class_uid=ac.implementation_class_uid,
                             implementation_version_name=ac.implementation_version_name,
                             problems=list(ac.problems))
    answers = {a.id: a for a in ac.contexts}
    for i, ctx in enumerate(contexts):
        ans = answers.get(2 * i + 1)
        if ans is None:
            out.contexts.append(ContextResult(ctx, result=2))
            continue
        ok = ans.result == 0
        scu, scp = agreed_roles(ctx, ac.roles.get(ctx.sop_class)) if ok else (None, None)
        out.contexts.append(ContextResult(ctx, ans.result, ans.transfer_syntax if ok else None, scu, scp))
    return out


class RequestorAssociation(Association):
    """An association the harness requested: the outcome, and the context ID of each accepted
    proposal (``context_ids``)."""

    def __init__(self, sock: socket.socket, target: Target) -> None:
        super().__init__(sock)
        self.target = target
        self.outcome = AssociationOutcome(Establishment.NO_ANSWER)
        self.context_ids: dict[ProposedContext, int] = {}

    @property
    def max_pdu(self) -> int:
        return self.peer_max_pdu

    def release(self, timeout: float | None = None) -> None:
        """A-RELEASE-RQ and the wait for A-RELEASE-RP within the ACSE timeout; once the device
        has left one unanswered (reported once, :class:`~conformance.wire.outcome.DeviceRecord`),
        A-ABORT at once instead."""
        if self.target.record.no_release_reply and self.is_established:
            self.abort(0, 0)            # PS3.8 9.3.8: the harness may abort at any time
            return
        super().release(self.target.timeouts.acse if timeout is None else timeout)

    def violation(self, violation: classify.Violation) -> None:
        """A protocol error of the device: kept here and on the target's record (reported once)."""
        super().violation(violation)
        if violation.code == "protocol.no-release-reply":
            self.target.record.no_release_reply = True
        self.target.record.add(violation)

    def _fail(self, end: classify.End) -> WireError:
        """As :meth:`Association._fail`; after a protocol error of the device the harness sends
        A-ABORT (source service provider, PS3.8 9.3.8 and Table 9-10 AA-8) and closes."""
        silent = end.kind is classify.Ending.NO_ANSWER and self.is_established and self.last_request is not None
        error = super()._fail(end)
        if end.kind is classify.Ending.PROTOCOL_ERROR:
            self.abort(2, 0)
        elif silent:
            self.target.record.silences += 1
        return error

    def expect_response(self, cmd: Command, field: int, msg_id: int) -> None:
        """Raise (a protocol error; the harness aborts) unless *cmd* is the *field* response to
        the request *msg_id*: a response to a request never sent, or with another Message ID
        Being Responded To (PS3.7 9.3: the Message ID of the request it answers)."""
        if cmd.field == field and cmd.responding_to == msg_id:
            return
        sent = NAMES.get(field & 0x7FFF, f"command 0x{field & 0x7FFF:04X}")
        if cmd.is_request:
            raise self._fail(classify.protocol_error(
                f"a {cmd.name} where the answer to the {sent} with message ID {msg_id} was due", self.last_request,
                code="protocol.unexpected-request", reference="PS3.7 9.1, 9.3"))
        if cmd.field != field:
            what = f"a {cmd.name} (responding to message ID {cmd.responding_to}), a response to a request never sent"
        else:
            what = f"a {cmd.name} responding to message ID {cmd.responding_to}"
        raise self._fail(classify.protocol_error(
            f"{what}, in answer to the {sent} with message ID {msg_id}", self.last_request,
            code="protocol.unexpected-response", reference="PS3.7 9.3 (Message ID Being Responded To), 9.1"))

    def transfer_syntax_of(self, context_id: int) -> str:
        if context_id not in self.contexts:
            raise WireError(classify.protocol_error(f"message on unknown presentation context {context_id}"))
        return self.contexts[context_id][1]

    def _context_id(self, context: ProposedContext) -> int:
        cid = self.context_ids.get(context)
        if cid is None:
            raise WireError(classify.not_negotiated(f"no accepted presentation context for {context.sop_class} "
                                                    f"in {context.transfer_syntaxes[0]}"))
        return cid

    def send_c_echo(self, context: ProposedContext, msg_id: int = 1) -> Response:
        """C-ECHO-RQ (PS3.7 9.3.5) and its C-ECHO-RSP within the DIMSE timeout."""
        cmd, _data = self.exchange(self._context_id(context), {0x0002: context.sop_class, 0x0100: C_ECHO_RQ,
                                                                0x0110: msg_id}, None, self.target.timeouts.dimse)
        self.expect_response(cmd, C_ECHO_RSP, msg_id)
        return Response(cmd.status, cmd.responding_to, cmd.field, cmd.text(0x0902))

    def send_c_store(self, context: ProposedContext, sop_class: str, sop_instance: str,
                     dataset: bytes, msg_id: int, priority: int = 0) -> Response:
        """One C-STORE-RQ (PS3.7 9.3.1) with *dataset* (encoded in the context's transfer
        syntax); its C-STORE-RSP, waited for within the DIMSE timeout."""
        cid = self._context_id(context)
        self.send(cid, {0x0002: sop_class, 0x0100: C_STORE_RQ, 0x0110: msg_id, 0x0700: priority,
                        0x1000: sop_instance}, dataset)
        cmd = self.read_message(self.target.timeouts.dimse).command
        self.expect_response(cmd, C_STORE_RSP, msg_id)
        return Response(cmd.status, cmd.responding_to, cmd.field, cmd.text(0x0902))

    def send_c_get(self, context: ProposedContext, identifier: bytes, msg_id: int,
                   on_store: Callable[[str, str, str, bytes], int],
                   limit: int = 100_000) -> list[tuple[int, dict[str, int]]]:
        """C-GET (PS3.7 9.3.3, PS3.4 C.4.3): send the request with *identifier*; answer each
        C-STORE sub-operation with the status ``on_store(transfer syntax, SOP class, SOP
        instance, data set bytes)`` returns; return every C-GET response as (status,
        sub-operation counts), bounded by *limit* messages and the DIMSE timeout each."""
        cid = self._context_id(context)
        self.send(cid, {0x0002: context.sop_class, 0x0100: 0x0010, 0x0110: msg_id, 0x0700: 0}, identifier)
        responses: list[tuple[int, dict[str, int]]] = []
        for _ in range(limit):
            msg = self.read_message(self.target.timeouts.dimse)
            cmd = msg.command
            if cmd.field == C_STORE_RQ and cmd.has_data_set:
                status = on_store(self.transfer_syntax_of(msg.context_id), cmd.text(0x0002),
                                  cmd.text(0x1000), msg.data)
                self.send(msg.context_id, {0x0002: cmd.fields.get(0x0002, b""), 0x0100: C_STORE_RSP,
                                           0x0120: cmd.message_id, 0x0900: status,
                                           0x1000: cmd.fields.get(0x1000, b"")})
                continue
            self.expect_response(cmd, C_GET_RSP, msg_id)
            counts = {name: cmd.us(number, -1) for name, number in (
                ("NumberOfRemainingSuboperations", 0x1020), ("NumberOfCompletedSuboperations", 0x1021),
                ("NumberOfFailedSuboperations", 0x1022), ("NumberOfWarningSuboperations", 0x1023))}
            responses.append((cmd.status, {k: v for k, v in counts.items() if v >= 0}))
            if cmd.status not in (0xFF00, 0xFF01):
                return responses
        raise self._fail(classify.protocol_error(
            f"more than {limit} responses to one C-GET-RQ", self.last_request, code="dimse.too-many-responses",
            reference="PS3.4 C.4.3.3 (one pending response per sub-operation)"))


def connect(target: Target, timeout: float, wrap: SocketWrapper | None = None) -> socket.socket:
    """A TCP connection to the device (TCP_NODELAY set), optionally wrapped (TLS hook)."""
    sock = socket.create_connection((target.host, target.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wrap = wrap if wrap is not None else target.wrap
    return wrap(sock) if wrap is not None else sock


def open_association(target: Target, contexts: Sequence[ProposedContext], *, wrap: SocketWrapper | None = None
                     ) -> tuple[AssociationOutcome, RequestorAssociation | None]:
    """Request an association; the outcome as data, and the association if accepted with at
    least one context (PS3.8 9.3.2-9.3.4); an association with none accepted is aborted."""
    if not 1 <= len(contexts) <= 128:
        raise ValueError(f"between 1 and 128 presentation contexts, not {len(contexts)}")
    t = target.timeouts
    try:
        sock = connect(target, t.connect, wrap)
    except OSError as exc:
        return AssociationOutcome.failed(classify.connect_failed(exc)), None
    assoc = RequestorAssociation(sock, target)
    try:
        assoc.send_bytes(associate_rq(target, contexts))
        kind, body = assoc.read_pdu(t.acse)
    except WireError as exc:
        assoc.close()
        return AssociationOutcome.failed(exc.end), None
    pdu = decode(kind, body)
    if kind == ASSOCIATE_RJ and isinstance(pdu, AssociateReject):
        for v in reject_violations(pdu):
            assoc.violation(v)
        assoc.close()
        rj = classify.rejected(body[1] if len(body) > 1 else None, body[2] if len(body) > 2 else None,
                               body[3] if len(body) > 3 else None)
        out = AssociationOutcome.failed(rj)
        out.problems = list(pdu.problems)
        return out, None
    if kind == ABORT:
        assoc.close()
        return AssociationOutcome.failed(classify.aborted(body[2] if len(body) > 2 else None,
                                                          body[3] if len(body) > 3 else None)), None
    if kind != ASSOCIATE_AC or not isinstance(pdu, AssociateAccept):
        end = classify.protocol_error(f"an {PDU_NAMES.get(kind, f'PDU type 0x{kind:02X}')} in answer to the "
                                      "A-ASSOCIATE-RQ", code="protocol.unexpected-pdu", reference="PS3.8 9.2, Table 9-10")
        assoc.violation(classify.Violation.of(end))
        assoc.abort(2, 2)
        return AssociationOutcome.failed(end), None
    for v in accept_violations(pdu, [RequestedContext(2 * i + 1, c.sop_class, list(c.transfer_syntaxes))
                                     for i, c in enumerate(contexts)]):
        assoc.violation(v)
    result = _accepted(pdu, contexts)
    assoc.outcome, assoc.peer_max_pdu, assoc.roles = result, result.max_pdu or 0, dict(pdu.roles)
    for i, c in enumerate(result.contexts):
        if c.accepted:
            assoc.context_ids[c.proposed] = 2 * i + 1
            assoc.contexts[2 * i + 1] = (c.proposed.sop_class, c.transfer_syntax or c.proposed.transfer_syntaxes[0])
    if not assoc.context_ids:
        assoc.abort()
        return result, None
    assoc.is_established = True
    return result, assoc


def negotiate(target: Target, contexts: Sequence[ProposedContext]) -> AssociationOutcome:
    """Propose *contexts*, read the answer, release (or abort, when nothing was accepted): what a
    negotiation probe needs, as data."""
    out, assoc = open_association(target, contexts)
    if assoc is not None:
        assoc.release()
    return out

