"""A synchronous DICOM upper layer for bulk C-STORE: one thread, one blocking socket.

Why not pynetdicom here: its requestor runs two threads that hand every PDU over through
queues polled with 1 ms sleeps (``DULServiceProvider.run_reactor``, ``Association.
_run_reactor``), which caps a C-STORE loop near 270 files/s on loopback, and its pause
protocol between the reactor and the sending thread can lose a fast C-STORE-RSP
(../shared/PEERS.md item 3, pynetdicom issue 875). A storage step sends request, waits
for the response, sends the next: nothing in that needs a second thread. This module
does exactly that with the DIMSE messages of PS3.7 9.3.1 (C-STORE) and 9.3.3 (C-GET) over
the association layer of :mod:`conformance.negotiation.wire` (no SCP side).

TCP_NODELAY is set (PS3.8 does not require it; without it every round trip waits for
Nagle's delayed ACK, about 40 ms). Every read is bounded by the ACSE or DIMSE timeout.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from conformance.negotiation.association import AssociationOutcome, ProposedContext
from conformance.negotiation.target import Target
from conformance.negotiation.wire import (  # noqa: F401 - re-exported for the services' callers
    APPLICATION_CONTEXT,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION,
    MAX_PDU_RECEIVE,
    PduChannel,
    WireError,
    _uid,
    associate_rq,
    open_channel,
)

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


class WireAssociation(PduChannel):
    """An established association, used by one thread for C-STORE and C-GET requests."""

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

def open_association(target: Target, contexts: Sequence[ProposedContext]
                     ) -> tuple[AssociationOutcome, WireAssociation | None]:
    """Request an association for DIMSE messages (see :func:`conformance.negotiation.wire.open_channel`)."""
    return open_channel(target, contexts, WireAssociation)
