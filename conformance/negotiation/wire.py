"""The upper layer's association PDUs on a plain blocking socket (PS3.8 section 9.3): build
A-ASSOCIATE-RQ, read A-ASSOCIATE-AC/RJ (presentation context results, user information,
SCP/SCU role selection), A-RELEASE and A-ABORT. One thread, no reactor.

Why not pynetdicom here: its requestor hands every PDU between two threads through queues
polled every 1 ms, and validates and deep-copies each proposed context: about 30 ms for an
association of 128 contexts, where this takes 1-3 ms. Negotiation probes open dozens of
associations; the services' C-STORE path (:mod:`conformance.services.wire`) builds on this
module for the same reason.

TCP_NODELAY is set on every socket (without it each round trip waits for a delayed ACK,
about 40 ms). Every read is bounded by the ACSE timeout (or the DIMSE timeout, for callers).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator, Sequence
from typing import TypeVar

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


C = TypeVar("C", bound="PduChannel")


class PduChannel:
    """An association on one blocking socket: PDU reading, release and abort."""

    def __init__(self, sock: socket.socket, target: Target, outcome: AssociationOutcome,
                 context_ids: dict[ProposedContext, int]) -> None:
        self.sock, self.target, self.outcome = sock, target, outcome
        self.context_ids = context_ids
        self.max_pdu = outcome.max_pdu or 0
        self.is_established = True
        self.is_aborted = False
        self._buf = bytearray()

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



def items(data: bytes, pos: int = 0) -> Iterator[tuple[int, bytes]]:
    """(item type, item value) of the items from *pos* on: the variable part of the
    A-ASSOCIATE PDUs and of their presentation context and user information items
    (PS3.8 9.3.2-9.3.3: type, reserved, 2-byte length)."""
    while pos + 4 <= len(data):
        kind, _reserved, length = struct.unpack_from(">BBH", data, pos)
        yield kind, data[pos + 4:pos + 4 + length]
        pos += 4 + length


def _roles(item: bytes) -> tuple[str, int, int]:
    """SCP/SCU Role Selection sub-item (PS3.7 D.3.3.4): (SOP class UID, SCU role, SCP role)."""
    uid_len = struct.unpack_from(">H", item, 0)[0]
    uid = item[2:2 + uid_len].decode("ascii").strip("\x00 ")
    return uid, item[2 + uid_len], item[3 + uid_len]


def _parse_ac(body: bytes, contexts: Sequence[ProposedContext]) -> AssociationOutcome:
    outcome = AssociationOutcome(Establishment.ACCEPTED)
    results: dict[int, tuple[int, str | None]] = {}
    roles: dict[str, tuple[int, int]] = {}
    for kind, item in items(body, 68):
        if kind == 0x21:
            cid, result = item[0], item[2]
            ts = None
            if len(item) > 8 and item[4] == 0x40:
                ts_len = struct.unpack_from(">H", item, 6)[0]
                ts = item[8:8 + ts_len].decode("ascii").strip("\x00 ")
            results[cid] = (result, ts)
        elif kind == 0x50:
            for skind, value in items(item):
                if skind == 0x51:
                    outcome.max_pdu = struct.unpack(">I", value)[0]
                elif skind == 0x52:
                    outcome.implementation_class_uid = value.decode("ascii").strip("\x00 ")
                elif skind == 0x55:
                    outcome.implementation_version_name = value.decode("ascii").strip()
                elif skind == 0x54:
                    uid, scu, scp = _roles(value)
                    roles[uid] = (scu, scp)
    for i, ctx in enumerate(contexts):
        result, ts = results.get(2 * i + 1, (2, None))
        as_scu, as_scp = _agreed_roles(ctx, roles.get(ctx.sop_class)) if result == 0 else (None, None)
        outcome.contexts.append(ContextResult(ctx, result=result,
                                              transfer_syntax=ts if result == 0 else None,
                                              as_scu=as_scu, as_scp=as_scp))
    return outcome


def _agreed_roles(ctx: ProposedContext, reply: tuple[int, int] | None) -> tuple[bool, bool]:
    """The requestor's roles for an accepted context (PS3.7 D.3.3.4, Table D.3-12): with no
    role selection proposed, or none answered, the default (requestor SCU); otherwise a role
    is the requestor's when both proposed and accepted it."""
    if (ctx.scu_role is None and ctx.scp_role is None) or reply is None:
        return True, False
    scu, scp = reply
    return bool(ctx.scu_role) and bool(scu), bool(ctx.scp_role) and bool(scp)


def open_channel(target: Target, contexts: Sequence[ProposedContext], cls: type[C] = PduChannel  # type: ignore[assignment]
                 ) -> tuple[AssociationOutcome, C | None]:
    """Request an association; the outcome as data, and the association (a *cls*) if
    accepted with at least one context (PS3.8 9.3.2-9.3.4); else it is aborted."""
    if not 1 <= len(contexts) <= 128:
        raise ValueError(f"between 1 and 128 presentation contexts, not {len(contexts)}")
    t = target.timeouts
    try:
        sock = socket.create_connection((target.host, target.port), timeout=t.connect)
    except OSError as exc:
        return AssociationOutcome(Establishment.NO_CONNECTION, detail=str(exc)), None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    wire = cls(sock, target, AssociationOutcome(Establishment.NO_ANSWER), {})
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


def negotiate(target: Target, contexts: Sequence[ProposedContext]) -> AssociationOutcome:
    """Propose *contexts*, read the answer, release (or abort, when nothing was accepted):
    what a negotiation probe needs, as data. The same outcomes as
    :func:`conformance.negotiation.association.associate`, at a tenth of the cost."""
    outcome, channel = open_channel(target, contexts)
    if channel is not None:
        channel.release()
    return outcome
