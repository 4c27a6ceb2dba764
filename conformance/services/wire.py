"""A synchronous DICOM upper layer for bulk C-STORE: one thread, one blocking socket.

Why not pynetdicom here: its requestor runs two threads that hand every PDU over through
queues polled with 1 ms sleeps (``DULServiceProvider.run_reactor``, ``Association.
_run_reactor``), which caps a C-STORE loop near 270 files/s on loopback, and its pause
protocol between the reactor and the sending thread can lose a fast C-STORE-RSP
(../shared/PEERS.md item 3, pynetdicom issue 875). A storage step sends request, waits
for the response, sends the next: nothing in that needs a second thread. This module
does exactly that with the PDU formats of PS3.8 section 9.3 and the C-STORE command of
PS3.7 9.3.1, and nothing else (no SCP side, no other DIMSE services).

TCP_NODELAY is set (PS3.8 does not require it; without it every round trip waits for
Nagle's delayed ACK, about 40 ms). Every read is bounded by the ACSE or DIMSE timeout.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from conformance.negotiation.association import (
    AssociationOutcome,
    ContextResult,
    Establishment,
    ProposedContext,
)
from conformance.negotiation.target import Target

APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
IMPLEMENTATION_CLASS_UID = b"1.2.826.0.1.3680043.10.1375.2"
IMPLEMENTATION_VERSION = b"CONFORMANCE_WIRE"
MAX_PDU_RECEIVE = 65536


class WireError(Exception):
    """The association broke: closed, aborted, a malformed PDU, or a timeout."""


def _uid(value: str) -> bytes:
    raw = value.encode("ascii")
    return raw + b"\x00" if len(raw) % 2 else raw


def _item(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def _ae(title: str) -> bytes:
    return title.encode("ascii")[:16].ljust(16, b" ")


def associate_rq(target: Target, contexts: Sequence[ProposedContext]) -> bytes:
    """A-ASSOCIATE-RQ PDU (PS3.8 9.3.2) with odd context IDs 1, 3, ... in order."""
    body = struct.pack(">HH", 1, 0) + _ae(target.called_ae) + _ae(target.calling_ae) + b"\x00" * 32
    body += _item(0x10, APPLICATION_CONTEXT)
    roles = b""
    for i, ctx in enumerate(contexts):
        sub = _item(0x30, ctx.sop_class.encode("ascii"))
        for ts in ctx.transfer_syntaxes:
            sub += _item(0x40, ts.encode("ascii"))
        body += _item(0x20, struct.pack(">BBBB", 2 * i + 1, 0, 0, 0) + sub)
        if ctx.scu_role is not None or ctx.scp_role is not None:
            uid = ctx.sop_class.encode("ascii")
            roles += _item(0x54, struct.pack(">H", len(uid)) + uid
                           + bytes([int(bool(ctx.scu_role)), int(bool(ctx.scp_role))]))
    user = (_item(0x51, struct.pack(">I", MAX_PDU_RECEIVE)) + _item(0x52, IMPLEMENTATION_CLASS_UID)
            + roles + _item(0x55, IMPLEMENTATION_VERSION))
    body += _item(0x50, user)
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def command(fields: dict[int, bytes]) -> bytes:
    """A command set (group 0000, Implicit VR Little Endian, PS3.7 E.1) from element
    number -> encoded value, with its group length."""
    body = b"".join(struct.pack("<HHI", 0x0000, elem, len(value)) + value
                    for elem, value in sorted(fields.items()))
    return struct.pack("<HHI", 0x0000, 0x0000, 4) + struct.pack("<I", len(body)) + body


def _us(value: int) -> bytes:
    return struct.pack("<H", value)


def store_command(sop_class: str, sop_instance: str, msg_id: int, priority: int = 0) -> bytes:
    """C-STORE-RQ command set (PS3.7 9.3.1.1)."""
    return command({0x0002: _uid(sop_class), 0x0100: _us(0x0001), 0x0110: _us(msg_id),
                    0x0700: _us(priority), 0x0800: _us(0x0000), 0x1000: _uid(sop_instance)})


def get_command(sop_class: str, msg_id: int, priority: int = 0) -> bytes:
    """C-GET-RQ command set (PS3.7 9.3.3.1); the identifier follows as a data set."""
    return command({0x0002: _uid(sop_class), 0x0100: _us(0x0010), 0x0110: _us(msg_id),
                    0x0700: _us(priority), 0x0800: _us(0x0000)})


def store_response(sop_class: bytes, sop_instance: bytes, msg_id: int, status: int) -> bytes:
    """C-STORE-RSP command set (PS3.7 9.3.1.2), no data set."""
    return command({0x0002: sop_class, 0x0100: _us(0x8001), 0x0120: _us(msg_id),
                    0x0800: _us(0x0101), 0x0900: _us(status), 0x1000: sop_instance})


def _u16(fields: dict[int, bytes], elem: int, default: int = 0) -> int:
    value = fields.get(elem)
    return struct.unpack("<H", value[:2])[0] if value and len(value) >= 2 else default


def parse_command(raw: bytes) -> dict[int, bytes]:
    """Element number -> value of a command set (group 0000, Implicit VR LE)."""
    out: dict[int, bytes] = {}
    pos, end = 0, len(raw)
    while pos + 8 <= end:
        group, elem, length = struct.unpack_from("<HHI", raw, pos)
        pos += 8
        out[elem] = raw[pos:pos + length]
        pos += length
    return out


@dataclass
class Response:
    """A DIMSE response as the checks need it."""

    status: int
    msg_id: int
    command_field: int
    error_comment: str = ""


class WireAssociation:
    """An established association, used by one thread for C-STORE requests."""

    def __init__(self, sock: socket.socket, target: Target, outcome: AssociationOutcome,
                 context_ids: dict[ProposedContext, int]) -> None:
        self.sock, self.target, self.outcome = sock, target, outcome
        self.context_ids = context_ids
        self.max_pdu = outcome.max_pdu or 0
        self.is_established = True
        self.is_aborted = False
        self._buf = bytearray()

    # --- reading --------------------------------------------------------------------
    def _recv_exact(self, n: int, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WireError(f"no data from the device within {timeout:g} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self._buf)))
            except TimeoutError:
                raise WireError(f"no data from the device within {timeout:g} s") from None
            except OSError as exc:
                raise WireError(f"connection error: {exc}") from None
            if not chunk:
                raise WireError("the device closed the connection")
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read_pdu(self, timeout: float) -> tuple[int, bytes]:
        kind, _r, length = struct.unpack(">BBI", self._recv_exact(6, timeout))
        return kind, self._recv_exact(length, timeout)

    # --- DIMSE ------------------------------------------------------------------------
    def _pdata(self, context_id: int, payload: bytes, command: bool) -> bytes:
        """P-DATA-TF PDUs for one message part (PS3.8 9.3.5, E.2: fragments within the
        acceptor's maximum PDU length)."""
        room = (self.max_pdu - 6) if self.max_pdu else len(payload) or 1
        room = max(room, 2)
        out = bytearray()
        pos = 0
        while True:
            chunk = payload[pos:pos + room]
            pos += len(chunk)
            last = pos >= len(payload)
            header = (0x01 if command else 0x00) | (0x02 if last else 0x00)
            pdv = struct.pack(">IBB", len(chunk) + 2, context_id, header) + chunk
            out += struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv
            if last:
                return bytes(out)

    def send_c_store(self, context: ProposedContext, sop_class: str, sop_instance: str,
                     dataset: bytes, msg_id: int) -> Response:
        """Send one C-STORE-RQ with *dataset* (already encoded in the context's transfer
        syntax) and wait for its C-STORE-RSP (bounded by the DIMSE timeout)."""
        cid = self.context_ids.get(context)
        if cid is None:
            raise WireError(f"no accepted presentation context for {context.sop_class} in "
                            f"{context.transfer_syntaxes[0]}")
        message = (self._pdata(cid, store_command(sop_class, sop_instance, msg_id), True)
                   + self._pdata(cid, dataset, False))
        try:
            self.sock.sendall(message)
        except OSError as exc:
            self._broken()
            raise WireError(f"could not send: {exc}") from None
        return self._read_response()

    def read_message(self, timeout: float) -> tuple[int, dict[int, bytes], bytes | None]:
        """The next DIMSE message: (context ID, command fields, data set bytes or None)
        (PS3.8 E.2: command fragments, then data set fragments, each ending with a
        last-fragment flag)."""
        cmd, data = bytearray(), bytearray()
        fields: dict[int, bytes] | None = None
        cid = 0
        while True:
            try:
                kind, body = self.read_pdu(timeout)
            except WireError:
                self._broken()
                raise
            if kind == 0x07:
                self.is_established, self.is_aborted = False, True
                raise WireError(f"the device aborted the association (A-ABORT source {body[2]}, "
                                f"reason {body[3]})")
            if kind != 0x04:
                self._broken()
                raise WireError(f"unexpected PDU type 0x{kind:02X} while waiting for a message")
            pos = 0
            while pos + 6 <= len(body):
                length, cid, header = struct.unpack_from(">IBB", body, pos)
                chunk = body[pos + 6:pos + 4 + length]
                pos += 4 + length
                if header & 0x01:
                    cmd += chunk
                    if header & 0x02:
                        fields = parse_command(bytes(cmd))
                        if _u16(fields, 0x0800, 0x0101) == 0x0101:
                            return cid, fields, None
                else:
                    data += chunk
                    if header & 0x02 and fields is not None:
                        return cid, fields, bytes(data)

    def _read_response(self) -> Response:
        _cid, fields, _data = self.read_message(self.target.timeouts.dimse)
        comment = fields.get(0x0902, b"").decode("ascii", "replace").strip("\x00 ")
        return Response(_u16(fields, 0x0900, 0xFFFF), _u16(fields, 0x0120), _u16(fields, 0x0100), comment)

    def transfer_syntax_of(self, context_id: int) -> str:
        for proposed, cid in self.context_ids.items():
            if cid == context_id:
                result = next(r for r in self.outcome.contexts if r.proposed == proposed)
                return result.transfer_syntax or proposed.transfer_syntaxes[0]
        raise WireError(f"message on unknown presentation context {context_id}")

    def send_c_get(self, context: ProposedContext, identifier: bytes, msg_id: int,
                   on_store: Callable[[str, str, str, bytes], int],
                   limit: int = 100_000) -> list[tuple[int, dict[str, int]]]:
        """C-GET (PS3.7 9.3.3, PS3.4 C.4.3): send the request with *identifier* (encoded in
        the context's transfer syntax); answer each C-STORE sub-operation with the status
        ``on_store(transfer syntax, SOP class, SOP instance, data set bytes)`` returns;
        return every C-GET response as (status, sub-operation counts), bounded by *limit*
        messages and by the DIMSE timeout per message."""
        cid = self.context_ids.get(context)
        if cid is None:
            raise WireError(f"no accepted presentation context for {context.sop_class}")
        try:
            self.sock.sendall(self._pdata(cid, get_command(context.sop_class, msg_id), True)
                              + self._pdata(cid, identifier, False))
        except OSError as exc:
            self._broken()
            raise WireError(f"could not send: {exc}") from None
        responses: list[tuple[int, dict[str, int]]] = []
        for _ in range(limit):
            rcid, fields, data = self.read_message(self.target.timeouts.dimse)
            field = _u16(fields, 0x0100)
            if field == 0x0001 and data is not None:          # C-STORE-RQ sub-operation
                sop = fields.get(0x0002, b"")
                inst = fields.get(0x1000, b"")
                status = on_store(self.transfer_syntax_of(rcid), sop.decode().strip("\x00 "),
                                  inst.decode().strip("\x00 "), data)
                try:
                    self.sock.sendall(self._pdata(rcid, store_response(sop, inst, _u16(fields, 0x0110),
                                                                       status), True))
                except OSError as exc:
                    self._broken()
                    raise WireError(f"could not send: {exc}") from None
                continue
            if field != 0x8010:
                raise WireError(f"unexpected DIMSE command 0x{field:04X} during C-GET")
            status = _u16(fields, 0x0900, 0xFFFF)
            sub_counts: dict[str, int] = {name: _u16(fields, number, -1) for name, number in (
                ("NumberOfRemainingSuboperations", 0x1020), ("NumberOfCompletedSuboperations", 0x1021),
                ("NumberOfFailedSuboperations", 0x1022), ("NumberOfWarningSuboperations", 0x1023))}
            responses.append((status, {k: v for k, v in sub_counts.items() if v >= 0}))
            if status not in (0xFF00, 0xFF01):
                return responses
        raise WireError(f"more than {limit} messages during one C-GET")

    # --- release / abort ----------------------------------------------------------------
    def _broken(self) -> None:
        self.is_established = False
        try:
            self.sock.close()
        except OSError:
            pass

    def release(self) -> None:
        """A-RELEASE-RQ, wait (bounded) for A-RELEASE-RP, close (PS3.8 9.3.6-7)."""
        if not self.is_established:
            return
        try:
            self.sock.sendall(struct.pack(">BBI", 0x05, 0, 4) + b"\x00" * 4)
            for _ in range(16):
                kind, _body = self.read_pdu(self.target.timeouts.acse)
                if kind in (0x06, 0x07):
                    break
        except (WireError, OSError):
            pass
        self._broken()

    def abort(self) -> None:
        if self.is_established:
            try:
                self.sock.sendall(struct.pack(">BBIBBBB", 0x07, 0, 4, 0, 0, 0, 0))
            except OSError:
                pass
        self._broken()


def _parse_ac(body: bytes, contexts: Sequence[ProposedContext]) -> AssociationOutcome:
    outcome = AssociationOutcome(Establishment.ACCEPTED)
    results: dict[int, tuple[int, str | None]] = {}
    pos = 68
    while pos + 4 <= len(body):
        kind, _r, length = struct.unpack_from(">BBH", body, pos)
        item = body[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind == 0x21:
            cid, result = item[0], item[2]
            ts = None
            if len(item) > 8 and item[4] == 0x40:
                ts_len = struct.unpack_from(">H", item, 6)[0]
                ts = item[8:8 + ts_len].decode("ascii").strip("\x00 ")
            results[cid] = (result, ts)
        elif kind == 0x50:
            sub = 0
            while sub + 4 <= len(item):
                skind, _r2, slen = struct.unpack_from(">BBH", item, sub)
                value = item[sub + 4:sub + 4 + slen]
                sub += 4 + slen
                if skind == 0x51:
                    outcome.max_pdu = struct.unpack(">I", value)[0]
                elif skind == 0x52:
                    outcome.implementation_class_uid = value.decode("ascii").strip("\x00 ")
                elif skind == 0x55:
                    outcome.implementation_version_name = value.decode("ascii").strip()
    for i, ctx in enumerate(contexts):
        result, ts = results.get(2 * i + 1, (2, None))
        outcome.contexts.append(ContextResult(ctx, result=result,
                                              transfer_syntax=ts if result == 0 else None,
                                              as_scu=True if result == 0 else None))
    return outcome


def open_association(target: Target, contexts: Sequence[ProposedContext]
                     ) -> tuple[AssociationOutcome, WireAssociation | None]:
    """Request an association; the outcome as data, and the association if accepted
    with at least one context (PS3.8 9.3.2-9.3.4)."""
    if not 1 <= len(contexts) <= 128:
        raise ValueError(f"between 1 and 128 presentation contexts, not {len(contexts)}")
    t = target.timeouts
    try:
        sock = socket.create_connection((target.host, target.port), timeout=t.connect)
    except OSError as exc:
        return AssociationOutcome(Establishment.NO_CONNECTION, detail=str(exc)), None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wire = WireAssociation(sock, target, AssociationOutcome(Establishment.NO_ANSWER), {})
    try:
        sock.sendall(associate_rq(target, contexts))
        kind, body = wire.read_pdu(t.acse)
    except (OSError, WireError) as exc:
        wire._broken()
        silent = "within" in str(exc)
        return AssociationOutcome(Establishment.NO_ANSWER if silent else Establishment.ABORTED,
                                  detail=str(exc)), None
    if kind == 0x03:
        wire._broken()
        return AssociationOutcome(Establishment.REJECTED, reject_result=body[1],
                                  reject_source=body[2], reject_reason=body[3]), None
    if kind != 0x02:
        wire._broken()
        return AssociationOutcome(Establishment.ABORTED, detail=f"PDU type 0x{kind:02X}"), None
    outcome = _parse_ac(body, contexts)
    wire.outcome, wire.max_pdu = outcome, outcome.max_pdu or 0
    wire.context_ids = {c.proposed: 2 * i + 1 for i, c in enumerate(outcome.contexts) if c.accepted}
    if not wire.context_ids:
        wire.abort()
        return outcome, None
    return outcome, wire
