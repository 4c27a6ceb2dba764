"""One association on one blocking socket, the same class for requestor and acceptor
(PS3.8 9.3, Annex E; PS3.7 section 6.3, 9.3, 10.3).

It reads whole PDUs, each within an absolute deadline (so a peer trickling bytes cannot stretch
a timeout), sends DIMSE messages cut into P-DATA-TF fragments within the peer's maximum length,
and reassembles the messages it receives with the limits a tester needs: a command set of at
most 64 KiB, a data set held in memory up to ``max_message`` bytes (or streamed to a file the
caller opens, for storage), PDVs only on accepted presentation contexts and all fragments of a
message on one context, PDVs that follow the end of a message in the same P-DATA-TF kept for
the next message (PS3.8 9.3.5: a P-DATA-TF may carry several PDVs).

Every way it can end is a :class:`WireError` whose ``end`` is the typed
:class:`~conformance.wire.outcome.End` (classified in :mod:`conformance.wire.outcome`): the
checks decide on data, never on exception text. TCP_NODELAY is set by whoever opens the socket
(:mod:`conformance.wire.requestor`, :mod:`conformance.wire.acceptor`): without it each round
trip waits for a delayed ACK, about 40 ms.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import struct
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from conformance.wire import dimse, outcome
from conformance.wire.dimse import Command, Message
from conformance.wire.identity import MAX_PDU_RECEIVE
from conformance.wire.outcome import End, Ending, LastRequest, Violation
from conformance.wire.pdu import (
    ABORT,
    P_DATA_TF,
    PDU_NAMES,
    RELEASE_RP,
    RELEASE_RQ,
    encode_abort,
    encode_release_rp,
    encode_release_rq,
    fragment,
    iter_pdvs,
)

#: A PDU may exceed the maximum length the harness announced by this much before the harness
#: aborts (some implementations count the PDV headers differently, PS3.8 D.1).
PDU_MARGIN = 65536
#: Bytes asked of the socket per receive.
RECEIVE_CHUNK = 1 << 18


class WireError(Exception):
    """The association ended or broke; ``end`` says how (typed, see :mod:`conformance.wire.outcome`)."""

    def __init__(self, end: End) -> None:
        super().__init__(end.describe())
        self.end = end


Sink = Callable[[Any, Message], "BinaryIO | None"]


class Association:
    """An association on *sock*; ``contexts`` maps each accepted presentation context ID to
    (abstract syntax, transfer syntax), ``roles`` the agreed SCP/SCU role selections."""

    def __init__(self, sock: socket.socket, *, peer_max_pdu: int = 0, max_message: int = 1 << 30,
                 max_pdu_receive: int = MAX_PDU_RECEIVE) -> None:
        self.sock = sock
        self.contexts: dict[int, tuple[str, str]] = {}
        self.roles: dict[str, tuple[int, int]] = {}
        self.peer_max_pdu = peer_max_pdu
        self.max_message = max_message
        self.pdu_limit = max_pdu_receive + PDU_MARGIN
        self.is_established = False
        self.is_aborted = False
        #: How the association ended, once it has.
        self.ending: End | None = None
        #: The last DIMSE request sent or received, for the ending's "N ms after X".
        self.last_request: LastRequest | None = None
        self._buf = bytearray()
        self._scratch = bytearray(RECEIVE_CHUNK)      # one receive buffer, reused (no allocation per recv)
        self._view = memoryview(self._scratch)
        self._pending: tuple[bytes, int] | None = None
        #: The peer's protocol errors seen on this association, fatal or not (PS3.8, PS3.7).
        self.violations: list[Violation] = []

    def violation(self, violation: Violation) -> None:
        """Note a protocol error of the peer (a subclass may also report it elsewhere)."""
        self.violations.append(violation)

    # --- PDUs ---------------------------------------------------------------------------------
    def _fail(self, end: End) -> WireError:
        self.is_established = False
        self.is_aborted = self.is_aborted or end.kind is Ending.ABORTED
        self.ending = self.ending or end
        if end.kind is Ending.PROTOCOL_ERROR:
            self.violation(Violation.of(end))
        return WireError(end)

    def _fill(self, n: int, deadline: float, timeout: float) -> None:
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail(outcome.silence(timeout, self.last_request, len(self._buf), n))
            self.sock.settimeout(left)
            try:
                got = self.sock.recv_into(self._scratch)
            except TimeoutError:
                raise self._fail(outcome.silence(timeout, self.last_request, len(self._buf), n)) from None
            except OSError as exc:
                raise self._fail(outcome.closed(self.last_request, str(exc))) from None
            if not got:
                raise self._fail(outcome.closed(self.last_request))
            self._buf += self._view[:got]

    def read_pdu(self, timeout: float) -> tuple[int, bytes]:
        """The next whole PDU as (type, body); all of it within *timeout* seconds. A PDU longer
        than the harness's maximum length (plus a margin) is a protocol error."""
        deadline = time.monotonic() + timeout
        self._fill(6, deadline, timeout)
        kind, _r, length = struct.unpack_from(">BBI", self._buf, 0)
        if kind not in PDU_NAMES:
            head = bytes(self._buf[:16])
            raise self._fail(outcome.protocol_error(
                f"bytes that are not a PDU (unknown PDU type 0x{kind:02X}; first bytes {head.hex(' ')} "
                f"{head.decode('ascii', 'replace')!r})", self.last_request, reference="PS3.8 9.3.1, Table 9-11"))
        if length > self.pdu_limit:
            raise self._fail(outcome.protocol_error(
                f"a {PDU_NAMES[kind]} header announcing {length} bytes, which exceeds the harness's maximum "
                f"length {self.pdu_limit - PDU_MARGIN} allows", self.last_request, code="protocol.pdu-too-long",
                reference="PS3.8 D.1, 9.3.1"))
        self._fill(6 + length, deadline, timeout)
        with memoryview(self._buf) as view:            # one copy, not two
            body = bytes(view[6:6 + length])
        del self._buf[:6 + length]
        return kind, body

    def send_bytes(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise self._fail(outcome.closed(self.last_request, f"could not send: {exc}")) from None

    # --- DIMSE --------------------------------------------------------------------------------
    def transfer_syntax(self, context_id: int) -> str:
        return self.contexts.get(context_id, ("", ""))[1]

    def abstract_syntax(self, context_id: int) -> str:
        return self.contexts.get(context_id, ("", ""))[0]

    def send(self, context_id: int, fields: dict[int, Any], data: bytes | None = None) -> None:
        """Send one DIMSE message; *fields* without Command Data Set Type (set here). A request
        is remembered as the association's last request."""
        fields = dict(fields)
        fields[0x0800] = dimse.NO_DATA_SET if data is None else 0x0000
        out = fragment(context_id, dimse.encode_command(fields), True, self.peer_max_pdu)
        if data is not None:
            out += fragment(context_id, data, False, self.peer_max_pdu)
        field = int(fields.get(0x0100, 0))  # type: ignore[arg-type]
        if not field & 0x8000 and field != dimse.C_CANCEL_RQ:
            self.last_request = LastRequest(dimse.NAMES.get(field, f"command 0x{field:04X}"), time.monotonic())
        self.send_bytes(out)

    def respond(self, msg: Message, field_: int, status: int, extra: dict[int, Any] | None = None,
                data: bytes | None = None) -> None:
        """A response to *msg* (PS3.7 9.3, 10.3): echoes the affected SOP class/instance."""
        cmd = msg.command
        fields: dict[int, Any] = {0x0100: field_, 0x0120: cmd.message_id, 0x0900: status}
        sop_class = cmd.text(0x0002) or cmd.text(0x0003)
        if sop_class:
            fields[0x0002] = sop_class
        instance = cmd.text(0x1000) or cmd.text(0x1001)
        if instance:
            fields[0x1000] = instance
        fields.update(extra or {})
        self.send(msg.context_id, fields, data)

    def read_message(self, timeout: float, open_sink: Sink | None = None) -> Message:
        """The next complete DIMSE message; each PDU within *timeout*. Raises :class:`WireError`:
        ``RELEASED`` (the peer asked to release), ``ABORTED``, ``CLOSED``, ``NO_ANSWER`` or
        ``PROTOCOL_ERROR``. *open_sink* may return a file for a message's data set, so its
        fragments are written as they come instead of being held in memory."""
        command = bytearray()
        msg: Message | None = None
        parts: list[bytes] = []
        cid_of_message: int | None = None
        while True:
            if self._pending is not None:
                body, pos = self._pending
                self._pending = None
            else:
                partial = msg.command.name if msg is not None else "command set" if command else ""
                body, pos = self._read_p_data(timeout, partial), 0
            problems: list[str] = []
            for cid, header, start, end in iter_pdvs(body, problems, pos):
                if cid not in self.contexts:
                    raise self._fail(outcome.protocol_error(
                        f"a PDV on presentation context {cid}, which was not accepted (accepted: "
                        f"{', '.join(map(str, sorted(self.contexts))) or 'none'})", self.last_request,
                        code="protocol.unaccepted-context", reference="PS3.8 9.3.5.1"))
                if cid_of_message is None:
                    cid_of_message = cid
                elif cid != cid_of_message:
                    raise self._fail(outcome.protocol_error(
                        f"one message on presentation contexts {cid_of_message} and {cid} (PS3.8 9.3.5.1)",
                        self.last_request))
                if header & 0x01:
                    if msg is not None:
                        raise self._fail(outcome.protocol_error(
                            "a command fragment inside a data set (PS3.7 6.3.1)", self.last_request))
                    command += body[start:end]
                    if len(command) > dimse.MAX_COMMAND:
                        raise self._fail(outcome.protocol_error(
                            f"command set longer than {dimse.MAX_COMMAND} bytes", self.last_request))
                    if header & 0x02:
                        msg = Message(cid, dimse.parse(bytes(command)))
                        if msg.command.is_request:
                            self.last_request = LastRequest(msg.command.name, time.monotonic())
                        where = dimse.NO_DATA_SET_MESSAGES.get(msg.command.field)
                        if where and msg.command.has_data_set:
                            self.violation(Violation(
                                "protocol.unexpected-data-set",
                                f"the device sent a {msg.command.name} with Command Data Set Type "
                                f"0x{msg.command.us(0x0800):04X}: a data set follows where none may "
                                "(0x0101 required)", f"{where}; PS3.7 E.1"))
                        if not msg.command.has_data_set:
                            self._keep(body, end)
                            return msg
                        msg.sink = open_sink(self, msg) if open_sink else None
                else:
                    if msg is None:
                        raise self._fail(outcome.protocol_error(
                            "data set fragment before the command set (PS3.7 6.3.1)", self.last_request))
                    msg.data_length += end - start
                    if msg.sink is not None:
                        msg.sink.write(memoryview(body)[start:end])
                    else:
                        if msg.data_length > self.max_message:
                            raise self._fail(outcome.protocol_error(
                                f"data set longer than {self.max_message} bytes", self.last_request))
                        parts.append(body[start:end])
                    if header & 0x02:
                        if msg.sink is None:
                            msg.data = b"".join(parts)
                        self._keep(body, end)
                        return msg
            if problems:
                raise self._fail(outcome.protocol_error(
                    f"a P-DATA-TF out of form ({'; '.join(p.removeprefix('P-DATA-TF: ') for p in problems)})",
                    self.last_request, reference="PS3.8 9.3.5, 9.3.5.1"))

    def _keep(self, body: bytes, pos: int) -> None:
        """PDVs after the end of a message in the same P-DATA-TF belong to the next one."""
        if pos < len(body):
            self._pending = (body, pos)

    def _read_p_data(self, timeout: float, partial: str = "") -> bytes:
        """The next P-DATA-TF's body. *partial*: the message received in part so far (an
        A-RELEASE-RQ then is a protocol error, an A-ABORT says where it cut the message)."""
        kind, body = self.read_pdu(timeout)
        if kind == P_DATA_TF:
            return body
        if kind == RELEASE_RQ and partial:
            raise self._fail(outcome.protocol_error(
                f"an A-RELEASE-RQ in the middle of a message (the {partial} was not complete)",
                self.last_request, code="protocol.release-mid-message", reference="PS3.8 9.3.5, 9.3.6; PS3.7 6.3.1"))
        if kind == RELEASE_RQ:
            self.is_established = False
            self.ending = outcome.released("requested by the peer")
            raise WireError(self.ending)
        if kind == ABORT:
            end = outcome.aborted(body[2] if len(body) > 2 else None, body[3] if len(body) > 3 else None,
                                  self.last_request)
            if partial:
                end = dataclasses.replace(end, detail=f"in the middle of a message: the {partial} was not complete")
            raise self._fail(end)
        raise self._fail(outcome.protocol_error(
            f"an unexpected {PDU_NAMES.get(kind, f'PDU type 0x{kind:02X}')} during the association",
            self.last_request, code="protocol.unexpected-pdu", reference="PS3.8 9.2, Table 9-10"))

    def exchange(self, context_id: int, fields: dict[int, Any], data: bytes | None,
                 timeout: float) -> tuple[Command, bytes]:
        """Send one DIMSE request and wait (bounded) for the next message: (command, data set)."""
        self.send(context_id, fields, data)
        msg = self.read_message(timeout)
        return msg.command, msg.data

    def data_waiting(self, timeout: float) -> bool:
        """Has anything arrived (read already, or on the socket within *timeout* s)?
        Raises OSError when the socket is gone."""
        if self._buf or self._pending is not None:
            return True
        pending = getattr(self.sock, "pending", None)     # a TLS socket's decrypted bytes
        if pending is not None and pending():
            return True
        try:
            ready, _w, _x = select.select([self.sock], [], [], timeout)
        except ValueError:
            raise OSError("the socket is closed") from None
        return bool(ready)

    def cancel_requested(self, message_id: int, timeout: float) -> bool:
        """Is a C-CANCEL-RQ for *message_id* waiting (PS3.7 9.3.2.3, 9.3.3.3)? Never blocks
        when nothing has arrived; an association that ended counts as cancelled."""
        try:
            if not self.data_waiting(0):
                return False
        except OSError:
            return True
        try:
            nxt = self.read_message(timeout)
        except WireError:
            return True
        return nxt.command.field == dimse.C_CANCEL_RQ and nxt.command.responding_to == message_id

    # --- the end ------------------------------------------------------------------------------
    def release(self, timeout: float) -> None:
        """A-RELEASE-RQ, wait (bounded) for A-RELEASE-RP, close (PS3.8 9.3.6-7). A peer's
        release request crossing ours is answered (PS3.8 9.2.3 release collision)."""
        if self.is_established:
            try:
                self.send_bytes(encode_release_rq())
                for _ in range(64):
                    kind, _body = self.read_pdu(timeout)
                    if kind == RELEASE_RQ:
                        self.send_bytes(encode_release_rp())
                    if kind in (RELEASE_RP, ABORT):
                        break
                self.ending = self.ending or outcome.released("by the harness")
            except WireError as exc:
                if exc.end.kind is Ending.NO_ANSWER:
                    self.violation(Violation(
                        "protocol.no-release-reply",
                        f"the device did not answer the A-RELEASE-RQ within {timeout:g} s (no A-RELEASE-RP); "
                        "the harness aborted the association", "PS3.8 9.3.7, 7.2"))
                    self.abort(0, 0)
                    return
        self.close()

    def answer_release(self) -> None:
        """A-RELEASE-RP to the peer's A-RELEASE-RQ (PS3.8 9.3.7)."""
        self.send_bytes(encode_release_rp())
        self.ending = outcome.released("by the peer")
        self.is_established = False

    def abort(self, source: int = 0, reason: int = 0) -> None:
        """Send A-ABORT (PS3.8 9.3.8; source 0 service user, 2 service provider) and close."""
        try:
            self.sock.sendall(encode_abort(source, reason))
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        self.is_established = False
        try:
            self.sock.close()
        except OSError:
            pass
