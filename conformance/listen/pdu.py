"""The acceptor side of the DICOM upper layer (PS3.8 section 9.3), synchronous.

Why not pynetdicom: its acceptor hands every PDU between two threads through queues polled
with 1 ms sleeps, which caps a C-STORE SCP near 330 files/s on loopback (../shared/PEERS.md).
An association is a strict request/response conversation; one thread with one blocking
socket is enough. The requestor side (the harness opening associations for C-MOVE
sub-operations and storage-commitment reports) is :mod:`conformance.services.wire`.

Parsing keeps everything the checks need from an A-ASSOCIATE-RQ: AE titles, application
context, every presentation context in order with its ID, SCP/SCU role selection items,
maximum length, implementation class UID and version name, and which other user
information sub-items (asynchronous operations, extended negotiation, user identity) came.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

from conformance.negotiation.wire import items

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.10.1375.3"
IMPLEMENTATION_VERSION = "CONFORMANCE_SCP"

# PDU types (PS3.8 Table 9-11)
ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ = 0x01, 0x02, 0x03
P_DATA_TF, RELEASE_RQ, RELEASE_RP, ABORT = 0x04, 0x05, 0x06, 0x07

# Presentation context results (PS3.8 Table 9-18)
ACCEPTANCE, USER_REJECTION, NO_REASON = 0, 1, 2
ABSTRACT_SYNTAX_NOT_SUPPORTED, TRANSFER_SYNTAXES_NOT_SUPPORTED = 3, 4


class PduError(Exception):
    """The peer closed, aborted, timed out, or sent a malformed PDU."""


@dataclass
class ProposedContext:
    """One presentation context of an A-ASSOCIATE-RQ (PS3.8 9.3.2.2)."""

    id: int
    abstract_syntax: str
    transfer_syntaxes: list[str]


@dataclass
class AssociateRequest:
    """An A-ASSOCIATE-RQ as data (PS3.8 9.3.2)."""

    protocol_version: int
    called_ae: str
    calling_ae: str
    application_context: str = ""
    contexts: list[ProposedContext] = field(default_factory=list)
    #: SOP class UID -> (SCU role, SCP role) proposed (PS3.7 D.3.3.4).
    roles: dict[str, tuple[int, int]] = field(default_factory=dict)
    max_pdu: int | None = None
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    #: Other user information sub-item types present (0x53 async ops, 0x56 SOP class
    #: extended negotiation, 0x57 common extended negotiation, 0x58 user identity).
    other_items: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "replace").strip("\x00 ")


def parse_associate_rq(body: bytes) -> AssociateRequest:
    """Decode the body (after the 6-byte header) of an A-ASSOCIATE-RQ. Problems of form
    (not of content) are listed in ``problems``; raises :class:`PduError` if unusable."""
    if len(body) < 68:
        raise PduError(f"A-ASSOCIATE-RQ of {len(body)} bytes is shorter than its fixed part (68)")
    version = struct.unpack_from(">H", body, 0)[0]
    req = AssociateRequest(version, _text(body[4:20]), _text(body[20:36]))
    for kind, item in items(body, 68):
        if kind == 0x10:
            req.application_context = _text(item)
        elif kind == 0x20 and len(item) >= 4:
            ctx = ProposedContext(item[0], "", [])
            for skind, value in items(item, 4):
                if skind == 0x30:
                    ctx.abstract_syntax = _text(value)
                elif skind == 0x40:
                    ctx.transfer_syntaxes.append(_text(value))
            req.contexts.append(ctx)
        elif kind == 0x50:
            for skind, value in items(item):
                if skind == 0x51 and len(value) == 4:
                    req.max_pdu = struct.unpack(">I", value)[0]
                elif skind == 0x52:
                    req.implementation_class_uid = _text(value)
                elif skind == 0x55:
                    req.implementation_version_name = _text(value)
                elif skind == 0x54 and len(value) >= 4:
                    ulen = struct.unpack_from(">H", value, 0)[0]
                    uid = _text(value[2:2 + ulen])
                    if len(value) >= 4 + ulen:
                        req.roles[uid] = (value[2 + ulen], value[3 + ulen])
                else:
                    req.other_items.append(skind)
        else:
            req.problems.append(f"unknown item type 0x{kind:02X}")
    return req


def _item(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def _ae(title: str) -> bytes:
    return title.encode("ascii", "replace")[:16].ljust(16, b" ")


def associate_ac(req: AssociateRequest, results: list[tuple[int, int, str]],
                 roles: dict[str, tuple[int, int]], max_pdu: int) -> bytes:
    """A-ASSOCIATE-AC (PS3.8 9.3.3): *results* is (context ID, result, transfer syntax)."""
    body = struct.pack(">HH", 1, 0) + _ae(req.called_ae) + _ae(req.calling_ae) + b"\x00" * 32
    body += _item(0x10, APPLICATION_CONTEXT.encode())
    for cid, result, ts in results:
        sub = _item(0x40, ts.encode("ascii") if result == ACCEPTANCE else b"")
        body += _item(0x21, struct.pack(">BBBB", cid, 0, result, 0) + sub)
    user = _item(0x51, struct.pack(">I", max_pdu)) + _item(0x52, IMPLEMENTATION_CLASS_UID.encode())
    for uid, (scu, scp) in roles.items():
        raw = uid.encode("ascii")
        user += _item(0x54, struct.pack(">H", len(raw)) + raw + bytes([scu, scp]))
    user += _item(0x55, IMPLEMENTATION_VERSION.encode())
    body += _item(0x50, user)
    return struct.pack(">BBI", ASSOCIATE_AC, 0, len(body)) + body


def associate_rj(result: int, source: int, reason: int) -> bytes:
    """A-ASSOCIATE-RJ (PS3.8 9.3.4, Table 9-21)."""
    return struct.pack(">BBIBBBB", ASSOCIATE_RJ, 0, 4, 0, result, source, reason)


def release_rp() -> bytes:
    return struct.pack(">BBI", RELEASE_RP, 0, 4) + b"\x00" * 4


def abort_pdu(source: int = 2, reason: int = 0) -> bytes:
    """A-ABORT (PS3.8 9.3.8): source 0 service user, 2 service provider."""
    return struct.pack(">BBIBBBB", ABORT, 0, 4, 0, 0, source, reason)


def p_data(context_id: int, payload: bytes | memoryview, command: bool, max_pdu: int) -> bytes:
    """P-DATA-TF PDUs carrying one message part, each within *max_pdu* (PS3.8 9.3.5, E.2)."""
    room = max((max_pdu - 6) if max_pdu else len(payload) or 1, 2)
    out = bytearray()
    pos, total = 0, len(payload)
    while True:
        chunk = payload[pos:pos + room]
        pos += len(chunk)
        last = pos >= total
        header = (0x01 if command else 0x00) | (0x02 if last else 0x00)
        out += struct.pack(">BBIIBB", P_DATA_TF, 0, len(chunk) + 6, len(chunk) + 2, context_id, header)
        out += chunk
        if last:
            return bytes(out)


class PduReader:
    """Reads whole PDUs from a blocking socket; every read bounded by *timeout*."""

    def __init__(self, sock: socket.socket, max_length: int) -> None:
        self.sock = sock
        self.max_length = max_length
        self._file = sock.makefile("rb", buffering=262144)

    def read(self, timeout: float) -> tuple[int, bytes]:
        self.sock.settimeout(timeout)
        try:
            head = self._file.read(6)
            if len(head) < 6:
                raise PduError("the peer closed the connection")
            kind, _r, length = struct.unpack(">BBI", head)
            if length > self.max_length:
                raise PduError(f"PDU of {length} bytes exceeds the limit of {self.max_length}")
            body = self._file.read(length)
        except TimeoutError:
            raise PduError(f"nothing received within {timeout:g} s") from None
        except OSError as exc:
            raise PduError(f"connection error: {exc}") from None
        if len(body) < length:
            raise PduError("the peer closed the connection in the middle of a PDU")
        return kind, body

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass
