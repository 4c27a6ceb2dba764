"""Raw clients for the acceptor tests (tests/hostile/test_acceptor_*.py): bytes on a loopback
socket, so a test can send what no well-behaved library would (one byte at a time, a PDV
longer than its PDU, a release inside a message), and a listen session that always stops."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import generate_uid

from conformance.listen import ListenSession
from conformance.statement import Statement, load_statement
from conformance.testing import dcmtk_tool
from conformance.wire import dimse
from conformance.wire import requestor as wire
from conformance.wire.contexts import ProposedContext as Proposal
from conformance.wire.pdu import (
    AssociateRequest,
    RequestedContext,
    encode_abort,
    encode_associate_rq,
    encode_release_rq,
    fragment,
)
from conformance.wire.target import Target, Timeouts

ROOT = Path(__file__).resolve().parents[2]
CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
HARNESS_AE = "CONFORMANCE"
A_ASSOCIATE_AC, A_ASSOCIATE_RJ, A_RELEASE_RP, A_ABORT = 0x02, 0x03, 0x06, 0x07


def statement() -> Statement:
    return load_statement(ROOT / "statements" / "dcmtk-storescu.yaml")


def target(port: int, calling: str = "STORESCU") -> Target:
    return Target("127.0.0.1", port, HARNESS_AE, calling, Timeouts(connect=5, acse=5, dimse=5))


def request(port: int, proposals: tuple[Proposal, ...] = (Proposal(CT, (EXPLICIT,)),)) -> bytes:
    """The bytes of a well-formed A-ASSOCIATE-RQ to the harness (contexts 1, 3, ...)."""
    return wire.associate_rq(target(port), list(proposals))


def dcmtk_request(**changes: Any) -> AssociateRequest:
    """An A-ASSOCIATE-RQ as the shipped dcmtk-storescu statement's device sends it (its calling
    AE title and implementation identity), one CT context: a session with only this conforms."""
    rq = AssociateRequest(HARNESS_AE, "STORESCU", contexts=[RequestedContext(1, CT, [EXPLICIT])], max_pdu=16384,
                          implementation_class_uid="1.2.276.0.7230010.3.0.3.6.7",
                          implementation_version_name="OFFIS_DCMTK_367")
    for key, value in changes.items():
        setattr(rq, key, value)
    return rq


def read_pdu(sock: socket.socket, timeout: float = 5.0) -> tuple[int, bytes]:
    """(type, body) of the next PDU, or (0, b"") when the harness closed the connection."""
    sock.settimeout(timeout)
    head = b""
    while len(head) < 6:
        got = sock.recv(6 - len(head))
        if not got:
            return 0, b""
        head += got
    kind, _r, length = struct.unpack(">BBI", head)
    body = b""
    while len(body) < length:
        got = sock.recv(length - len(body))
        if not got:
            return 0, b""
        body += got
    return kind, body


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the harness closes *sock* (reading and dropping what it sends)."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except (TimeoutError, ConnectionResetError):
        pass
    return time.monotonic() - start


def associate(port: int, proposals: tuple[Proposal, ...] = (Proposal(CT, (EXPLICIT,)),),
              raw: bytes | None = None) -> socket.socket:
    """A raw socket with an accepted association (A-ASSOCIATE-AC read); *raw*: the request."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(raw or request(port, proposals))
    kind, _body = read_pdu(sock)
    assert kind == A_ASSOCIATE_AC, kind
    return sock


def c_store_command(uid: str, msg_id: int = 1) -> bytes:
    return dimse.encode_command({0x0002: CT, 0x0100: dimse.C_STORE_RQ, 0x0110: msg_id, 0x0700: 0,
                                 0x1000: uid, 0x0800: 0x0000})


def c_echo_command(msg_id: int = 1) -> bytes:
    return dimse.encode_command({0x0002: "1.2.840.10008.1.1", 0x0100: dimse.C_ECHO_RQ, 0x0110: msg_id,
                                 0x0800: dimse.NO_DATA_SET})


def c_store_start(uid: str, data: bytes, cid: int = 1) -> bytes:
    """A C-STORE-RQ command and the first data set fragment (not the last): a message begun."""
    return fragment(cid, c_store_command(uid), True, 16384) + _pdv_pdu(cid, 0x00, data)


def _pdv_pdu(cid: int, header: int, payload: bytes) -> bytes:
    """One P-DATA-TF holding one PDV (PS3.8 9.3.5.1): *header* 0x00 = data, not last."""
    pdv = struct.pack(">IBB", len(payload) + 2, cid, header) + payload
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


def pdv_pdu(cid: int, header: int, payload: bytes) -> bytes:
    return _pdv_pdu(cid, header, payload)


ABORT, RELEASE_RQ = encode_abort(0, 0), encode_release_rq()
#: The request of the device the shipped dcmtk-storescu statement describes.
GOOD_REQUEST = encode_associate_rq(dcmtk_request())


def storescu(port: int, folder: Path) -> subprocess.CompletedProcess[str]:
    """DCMTK storescu (by full path, TCP_NODELAY=1) sending one new CT instance to the harness:
    the device the shipped dcmtk-storescu statement describes."""
    from tests.listen.conftest import make_instance

    path = folder / f"ct-{time.monotonic_ns()}.dcm"
    make_instance(CT, str(generate_uid()), str(generate_uid())).save_as(path, enforce_file_format=True)
    return subprocess.run([dcmtk_tool("storescu"), "-aec", HARNESS_AE, "127.0.0.1", str(port), str(path)],
                          env={**os.environ, "TCP_NODELAY": "1"}, capture_output=True, text=True, timeout=30)


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[Callable[..., ListenSession]]:
    """Factory: a listen session on the storescu statement; stopped after the test if open."""
    from tests.listen.conftest import listen_sessions

    with listen_sessions(tmp_path, timeout=30, validate=False) as start:
        yield lambda **options: start(statement(), **options)


def finish(session: ListenSession) -> Any:
    return session.stop(session.wait())


def findings(results: Any, prefix: str = "listen/association/") -> list[Any]:
    return [f for s in results.steps if s.id.startswith(prefix) for f in s.findings]
