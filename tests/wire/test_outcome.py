"""Every way an association ends is one typed value, classified in conformance.wire.outcome:
against raw TCP peers that misbehave, and against the wire acceptor itself (PS3.8 9.3.4,
9.3.8, 9.1.5)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conformance.reference import SilentListener
from tests.fakes import OneShotServer
from conformance.wire import dimse, pdu
from conformance.wire.acceptor import AcceptedAssociation, Acceptor, Limits
from conformance.wire.association import Association, WireError
from conformance.wire.contexts import ProposedContext
from conformance.wire.outcome import Ending, Establishment
from conformance.wire.requestor import negotiate, open_association
from conformance.wire.target import Target, Timeouts

ECHO = ProposedContext("1.2.840.10008.1.1", ("1.2.840.10008.1.2",))
QUICK = Timeouts(connect=2, acse=2, dimse=1)


def _target(port: int, timeouts: Timeouts = QUICK) -> Target:
    return Target("127.0.0.1", port, "ANY", timeouts=timeouts)


@pytest.mark.parametrize("reply, ending, establishment", [
    (pdu.encode_associate_rj(1, 1, 7), Ending.REJECTED, Establishment.REJECTED),
    (pdu.encode_abort(2, 1), Ending.ABORTED, Establishment.ABORTED),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", Ending.PROTOCOL_ERROR, Establishment.ABORTED),
    (b"", Ending.CLOSED, Establishment.ABORTED),
])
def test_answers_to_the_request(reply, ending, establishment):
    server = OneShotServer(reply)
    try:
        out = negotiate(_target(server.port), [ECHO])
    finally:
        server.close()
    assert out.end is not None and out.end.kind is ending and out.establishment is establishment
    if ending is Ending.REJECTED:
        assert (out.reject_result, out.reject_source, out.reject_reason) == (1, 1, 7)
        assert "called-AE-title-not-recognized" in out.describe()
    if ending is Ending.ABORTED:
        assert (out.end.source, out.end.reason) == (2, 1)


def test_connection_refused_is_told_from_other_connect_failures():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = negotiate(_target(port), [ECHO])
    assert out.end is not None and out.end.kind is Ending.CONNECTION_REFUSED
    assert out.establishment is Establishment.NO_CONNECTION


def test_silence_is_no_answer_within_the_acse_timeout():
    with SilentListener() as listener:
        started = time.monotonic()
        out = negotiate(_target(listener.port, Timeouts(connect=2, acse=0.4)), [ECHO])
    assert out.end is not None and out.end.kind is Ending.NO_ANSWER and out.end.timeout == 0.4
    assert out.establishment is Establishment.NO_ANSWER
    assert time.monotonic() - started < 2


class _Peer(AcceptedAssociation):
    """Accepts everything in the first transfer syntax; then does what ``server.mode`` says
    with the first request: answer (``echo``), abort, close, or stay silent."""

    def answer(self, req: pdu.AssociateRequest) -> tuple[list[pdu.ContextAnswer], dict[str, tuple[int, int]]]:
        return [pdu.ContextAnswer(c.id, 0, c.transfer_syntaxes[0]) for c in req.contexts], {}

    def handle(self, msg: dimse.Message) -> bool:
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "echo":
            self.respond(msg, dimse.C_ECHO_RSP, 0x0000)
            return True
        if mode == "abort":
            self.abort_with("refused", "aborted-by-peer")
        elif mode == "close":
            self.sock.shutdown(socket.SHUT_RDWR)
        elif mode == "silent":
            time.sleep(1.5)
        return False


@contextmanager
def peer(mode: str) -> Iterator[Acceptor]:
    acceptor = Acceptor(limits=Limits(acse_timeout=2, idle_timeout=2))
    acceptor.association = _Peer
    acceptor.mode = mode  # type: ignore[attr-defined]
    with acceptor:
        yield acceptor


@pytest.mark.parametrize("mode, ending", [("abort", Ending.ABORTED), ("close", Ending.CLOSED),
                                          ("silent", Ending.NO_ANSWER)])
def test_what_followed_a_request_is_named_with_the_request_and_the_delay(mode, ending):
    with peer(mode) as acceptor:
        out, assoc = open_association(_target(acceptor.port), [ECHO])
        assert assoc is not None and out.establishment is Establishment.ACCEPTED
        with pytest.raises(WireError) as err:
            assoc.send_c_echo(ECHO)
        assoc.close()
    end = err.value.end
    assert end.kind is ending and end.after_request == "C-ECHO-RQ"
    if ending is Ending.ABORTED:
        assert (end.source, end.reason) == (2, 0)
        assert end.after_ms is not None and end.after_ms < 1000
        assert "aborted the association" in end.describe() and "after the C-ECHO-RQ" in end.describe()
    if ending is Ending.NO_ANSWER:
        assert end.timeout == QUICK.dimse


def test_a_released_association_ends_released_on_both_sides():
    ended: list[AcceptedAssociation] = []
    with peer("echo") as acceptor:
        acceptor.on_end = ended.append  # type: ignore[method-assign]
        out, assoc = open_association(_target(acceptor.port), [ECHO])
        assert assoc is not None
        assert assoc.send_c_echo(ECHO).status == 0
        assoc.release()
        deadline = time.monotonic() + 2
        while not ended and time.monotonic() < deadline:
            time.sleep(0.01)
    assert assoc.ending is not None and assoc.ending.kind is Ending.RELEASED
    assert ended and ended[0].end == "released" and ended[0].log == ["C-ECHO-RQ"]


def _pair() -> tuple[Association, Association]:
    left, right = socket.socketpair()
    receiver = Association(right, max_message=1000)
    receiver.contexts = {1: ("1.2.840.10008.1.1", "1.2.840.10008.1.2")}
    return Association(left), receiver


@pytest.mark.parametrize("what, raw", [
    ("not accepted", pdu.fragment(3, dimse.encode_command({0x0100: dimse.C_ECHO_RQ, 0x0110: 1}), True, 0)),
    ("longer than 1000", pdu.fragment(1, dimse.encode_command({0x0100: dimse.C_STORE_RQ, 0x0110: 1, 0x0800: 0}),
                                      True, 0) + pdu.fragment(1, b"\x00" * 2000, False, 0)),
    ("before the command set", pdu.fragment(1, b"\x00" * 10, False, 0)),
    ("unexpected A-ASSOCIATE-AC", pdu.encode_associate_ac(pdu.AssociateAccept("A", "B"))),
    ("P-DATA-TF out of form (PDV at offset 0", b"\x04\x00\x00\x00\x00\x06\x00\x00\x00\x01\x01\x03"),
])
def test_protocol_errors_during_an_association(what, raw):
    sender, receiver = _pair()
    try:
        sender.send_bytes(raw)
        with pytest.raises(WireError) as err:
            receiver.read_message(1)
    finally:
        sender.close()
        receiver.close()
    assert err.value.end.kind is Ending.PROTOCOL_ERROR and what in err.value.end.detail, err.value.end


def test_a_pdu_over_the_maximum_length_is_refused_before_it_is_read():
    sender, receiver = _pair()
    try:
        sender.send_bytes(b"\x04\x00" + (10_000_000).to_bytes(4, "big"))
        with pytest.raises(WireError) as err:
            receiver.read_pdu(1)
    finally:
        sender.close()
        receiver.close()
    assert err.value.end.kind is Ending.PROTOCOL_ERROR and "exceeds" in err.value.end.detail


def test_a_trickling_peer_cannot_stretch_the_timeout():
    """Each PDU must arrive whole within the timeout (an absolute deadline, not per recv)."""
    sender, receiver = _pair()
    stop = threading.Event()

    def trickle() -> None:
        for byte in pdu.encode_release_rq():
            if stop.wait(0.15):
                return
            try:
                sender.sock.sendall(bytes([byte]))
            except OSError:
                return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(WireError) as err:
            receiver.read_pdu(0.5)
    finally:
        stop.set()
        thread.join(2)
        sender.close()
        receiver.close()
    assert err.value.end.kind is Ending.NO_ANSWER and time.monotonic() - started < 1.0
