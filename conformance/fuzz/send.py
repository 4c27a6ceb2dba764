"""Send one case on a raw socket and read the device's reaction (PS3.8 9.3).

The harness's :mod:`conformance.wire` association refuses to send anything malformed, so the
fuzzer writes bytes itself: connect, send the set-up A-ASSOCIATE-RQ (if the case has one) and
wait for its A-ASSOCIATE-AC, send the malformed bytes, then wait for the first PDU the device
sends back, its closing the connection, or silence, every step bounded. The connection is
ended with an A-ABORT (PS3.8 9.3.8) so the device frees the association at once.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

from conformance.fuzz.case import Case
from conformance.wire import dimse
from conformance.wire.pdu import ASSOCIATE_AC, P_DATA_TF, PDU_NAMES, encode_abort, iter_pdvs

#: The most of a reaction PDU body read (the answer's kind and first command set suffice).
REACTION_BODY_CAP = 1 << 16


@dataclass(frozen=True)
class Reaction:
    """What the device did with a case.

    ``kind``: ``refused`` (no TCP connection), ``setup-failed`` (the set-up A-ASSOCIATE-RQ was
    not accepted: nothing was fuzzed), ``pdu`` (it answered with a PDU: ``pdu_type``, and for a
    DIMSE response ``status``), ``closed`` (it closed or reset the connection), ``silence``
    (nothing within the answer wait).
    """

    kind: str
    pdu_type: int | None = None
    status: int | None = None
    detail: str = ""

    def describe(self) -> str:
        if self.kind == "pdu":
            name = PDU_NAMES.get(self.pdu_type or 0, f"PDU type 0x{(self.pdu_type or 0):02X}")
            return name + (f" (DIMSE status 0x{self.status:04X})" if self.status is not None else "")
        return self.kind + (f": {self.detail}" if self.detail else "")

    @property
    def accepted_association(self) -> bool:
        return self.kind == "pdu" and self.pdu_type == ASSOCIATE_AC

    @property
    def success_status(self) -> bool:
        return self.kind == "pdu" and self.status == 0x0000


def _recv_exact(sock: socket.socket, count: int, deadline: float) -> bytes | None:
    """*count* bytes before *deadline*; ``None`` on silence; b"" when the peer closed."""
    out = bytearray()
    while len(out) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(count - len(out), 1 << 16))
        except socket.timeout:
            return None
        if not chunk:
            return b""
        out += chunk
    return bytes(out)


def read_pdu(sock: socket.socket, wait: float) -> tuple[str, int | None, bytes]:
    """The next PDU within *wait* s: ``("pdu", type, body[:cap])``, ``("closed", None, b"")``
    or ``("silence", None, b"")``. A body longer than the cap is not read further."""
    deadline = time.monotonic() + wait
    try:
        head = _recv_exact(sock, 6, deadline)
        if head is None:
            return "silence", None, b""
        if len(head) < 6:
            return "closed", None, b""
        kind, _r, length = struct.unpack(">BBI", head)
        body = _recv_exact(sock, min(length, REACTION_BODY_CAP), deadline)
        return "pdu", kind, body or b""
    except OSError:
        return "closed", None, b""


def _status(body: bytes) -> int | None:
    """The Status (0000,0900) of the command set in a P-DATA-TF body, when it carries one."""
    problems: list[str] = []
    command = b"".join(body[s:e] for _cid, header, s, e in iter_pdvs(body, problems) if header & 0x01)
    if not command:
        return None
    cmd = dimse.parse(command)
    return cmd.status if 0x0900 in cmd.fields else None


def send_case(case: Case, host: str, port: int, *, connect_timeout: float = 5.0, acse_timeout: float = 5.0,
              answer_wait: float = 1.0) -> Reaction:
    """Send *case* to host:port and return the device's reaction; always closes the socket."""
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
    except OSError as exc:
        return Reaction("refused", detail=str(exc))
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if case.setup:
            sock.settimeout(acse_timeout)
            sock.sendall(case.setup)
            how, kind, _body = read_pdu(sock, acse_timeout)
            if how != "pdu" or kind != ASSOCIATE_AC:
                name = PDU_NAMES.get(kind or 0, how) if how == "pdu" else how
                return Reaction("setup-failed", kind, detail=f"the set-up A-ASSOCIATE-RQ was answered by {name}")
        sock.settimeout(max(answer_wait, 0.1))
        try:
            sock.sendall(case.payload)
        except socket.timeout:
            return Reaction("silence", detail="the device stopped reading before the case was sent")
        except OSError as exc:
            return Reaction("closed", detail=f"while sending: {exc}")
        how, kind, body = read_pdu(sock, answer_wait)
        if how != "pdu":
            return Reaction(how)
        return Reaction("pdu", kind, _status(body) if kind == P_DATA_TF else None)
    except OSError as exc:
        return Reaction("closed", detail=str(exc))
    finally:
        try:
            sock.settimeout(0.2)
            sock.sendall(encode_abort(0, 0))
        except OSError:
            pass
        sock.close()
