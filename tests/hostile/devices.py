"""Fake devices under test that answer the harness badly, one behaviour each, on raw sockets
on a free loopback port (the hostile cases of the "hostile networks" issue).

A :class:`FakeDevice` runs a :data:`Behaviour` per connection in a daemon thread. The
baseline behaviour (:func:`good`) is a well-behaved SCP: it accepts every proposed
presentation context in its first transfer syntax, answers C-ECHO and C-STORE with Success,
C-FIND with a final Success and no match, A-RELEASE-RQ with A-RELEASE-RP. Each hostile case
(:data:`CASES`) breaks exactly one thing. :meth:`FakeDevice.close` closes the listening
socket and every connection, so nothing outlives a test.

Used by ``tests/hostile/test_fake_devices.py`` and ``bin/bench_hostile_devices.py``.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance.wire import dimse
from conformance.wire.pdu import (
    ASSOCIATE_RQ,
    P_DATA_TF,
    RELEASE_RQ,
    AssociateAccept,
    AssociateRequest,
    ContextAnswer,
    decode,
    encode_abort,
    encode_associate_ac,
    encode_release_rp,
    encode_release_rq,
    fragment,
    iter_pdvs,
)

#: What the fake devices accept (the SOP classes of fake-device.yaml): Verification, CT Image
#: Storage, Study Root C-FIND; any transfer syntax proposed first.
SOP_CLASSES = frozenset({"1.2.840.10008.1.1", "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.2.2.1"})
#: How long a fake device keeps a connection it does not answer (well past every test timeout).
HOLD = 120.0


class Peer:
    """One connection of a fake device: PDU reading and the usual answers."""

    def __init__(self, conn: socket.socket, device: FakeDevice) -> None:
        self.conn = conn
        self.device = device
        self.rq: AssociateRequest | None = None
        self.accepted: dict[int, str] = {}    # context ID -> transfer syntax

    def read_pdu(self) -> tuple[int, bytes]:
        head = self._exactly(6)
        kind, _r, length = struct.unpack(">BBI", head)
        return kind, self._exactly(length)

    def _exactly(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            got = self.conn.recv(n - len(out))
            if not got:
                raise ConnectionError("closed")
            out += got
        return out

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def hold(self) -> None:
        """Keep the connection open and say nothing (until the harness closes it)."""
        self.device.stopped.wait(HOLD) if not self._closed_within(HOLD) else None

    def _closed_within(self, seconds: float) -> bool:
        self.conn.settimeout(seconds)
        try:
            while self.conn.recv(65536):
                pass
            return True
        except OSError:
            return False

    # --- association ----------------------------------------------------------------------
    def read_rq(self) -> AssociateRequest:
        kind, body = self.read_pdu()
        assert kind == ASSOCIATE_RQ
        rq = decode(kind, body)
        assert isinstance(rq, AssociateRequest)
        self.rq = rq
        return rq

    def accept_all(self, **changes: object) -> bytes:
        """An A-ASSOCIATE-AC accepting every proposed context in its first transfer syntax."""
        assert self.rq is not None
        ac = AssociateAccept(self.rq.called_ae, self.rq.calling_ae, max_pdu=16384,
                             implementation_class_uid="1.2.3.4", implementation_version_name="FAKE")
        ac.contexts = [ContextAnswer(c.id, 0, c.transfer_syntaxes[0]) if c.abstract_syntax in SOP_CLASSES
                       else ContextAnswer(c.id, 3, "") for c in self.rq.contexts]
        for key, value in changes.items():
            setattr(ac, key, value)
        self.accepted = {c.id: c.transfer_syntax for c in ac.contexts if c.result == 0}
        return encode_associate_ac(ac)

    # --- DIMSE ----------------------------------------------------------------------------
    def read_message(self) -> tuple[int, dimse.Command, bytes] | None:
        """The next DIMSE request as (context ID, command, data set); ``None`` after
        A-RELEASE-RQ (answered) or when the harness closed or aborted."""
        command, data, cid = b"", b"", 0
        while True:
            try:
                kind, body = self.read_pdu()
            except (OSError, ConnectionError):
                return None
            if kind == RELEASE_RQ:
                self.on_release()
                return None
            if kind != P_DATA_TF:
                return None
            for cid, header, start, end in iter_pdvs(body, []):
                if header & 0x01:
                    command += body[start:end]
                    if header & 0x02:
                        cmd = dimse.parse(command)
                        if not cmd.has_data_set:
                            return cid, cmd, b""
                else:
                    data += body[start:end]
                    if header & 0x02:
                        return cid, dimse.parse(command), data

    def on_release(self) -> None:
        self.send(encode_release_rp())

    def response(self, cid: int, field_: int, msg_id: int, status: int, sop_class: str = "",
                 data: bytes | None = None, data_set_type: int | None = None) -> bytes:
        fields: dict[int, object] = {0x0100: field_, 0x0120: msg_id, 0x0900: status,
                                     0x0800: dimse.NO_DATA_SET if data is None else 0x0000}
        if sop_class:
            fields[0x0002] = sop_class
        if data_set_type is not None:
            fields[0x0800] = data_set_type
        out = fragment(cid, dimse.encode_command(fields), True, 16384)
        if data is not None:
            out += fragment(cid, data, False, 16384)
        return out

    def answer(self, cid: int, cmd: dimse.Command, data: bytes) -> None:
        """The well-behaved answer to one request."""
        sop = cmd.text(0x0002)
        if cmd.field == dimse.C_ECHO_RQ:
            self.send(self.response(cid, dimse.C_ECHO_RSP, cmd.message_id, 0x0000, sop))
        elif cmd.field == dimse.C_STORE_RQ:
            self.send(self.response(cid, dimse.C_STORE_RSP, cmd.message_id, 0x0000, sop))
        elif cmd.field == dimse.C_FIND_RQ:
            self.send(self.response(cid, dimse.C_FIND_RSP, cmd.message_id, 0x0000, sop))
        elif cmd.field in (dimse.C_MOVE_RQ, dimse.C_GET_RQ):
            self.send(self.response(cid, cmd.field | 0x8000, cmd.message_id, 0x0000, sop))
        elif cmd.field != dimse.C_CANCEL_RQ:
            self.send(self.response(cid, cmd.field | 0x8000, cmd.message_id, 0x0112, sop))

    def serve_messages(self, answer: Callable[[Peer, int, dimse.Command, bytes], None] | None = None) -> None:
        """Answer requests until the association ends."""
        while True:
            got = self.read_message()
            if got is None:
                return
            (answer or Peer.answer)(self, *got)


Behaviour = Callable[[Peer], None]


@dataclass
class FakeDevice:
    """A fake device on a free loopback port running *behaviour* on each connection."""

    behaviour: Behaviour
    port: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)
    connections: int = 0

    def __post_init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="fake-device").start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name="fake-peer").start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(HOLD)
        try:
            self.behaviour(Peer(conn, self))
        except (OSError, ConnectionError, AssertionError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.stopped.set()
        self._sock.close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()

    def __enter__(self) -> FakeDevice:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --- behaviours -------------------------------------------------------------------------------

def good(peer: Peer) -> None:
    """A well-behaved SCP."""
    peer.read_rq()
    peer.send(peer.accept_all())
    peer.serve_messages()


def _with_ac(raw: Callable[[Peer], bytes], then: Behaviour | None = None) -> Behaviour:
    def behaviour(peer: Peer) -> None:
        peer.read_rq()
        peer.send(raw(peer))
        if then is None:
            peer.serve_messages()
        else:
            then(peer)
    return behaviour


def _ac_patched(peer: Peer, patch: Callable[[bytes], bytes]) -> bytes:
    return patch(peer.accept_all())


def _truncated_item(ac: bytes) -> bytes:
    """The application context item's length runs past the end of the PDU."""
    pos = 6 + 68
    return ac[:pos + 2] + struct.pack(">H", 0xFFF0) + ac[pos + 4:]


def _short_max_length(ac: bytes) -> bytes:
    """The maximum length sub-item holds 2 bytes instead of 4 (PS3.8 D.1)."""
    at = ac.index(b"\x51\x00\x00\x04")
    body = ac[6:at] + b"\x51\x00\x00\x02\x40\x00" + ac[at + 8:]
    user = body.index(b"\x50\x00")
    ulen = struct.unpack_from(">H", body, user + 2)[0] - 2
    body = body[:user + 2] + struct.pack(">H", ulen) + body[user + 4:]
    return struct.pack(">BBI", 2, 0, len(body)) + body


def _non_ascii_ae(ac: bytes) -> bytes:
    return ac[:10] + "DÉVICE".encode("latin-1").ljust(16, b" ") + ac[26:]


def _unproposed_id(peer: Peer) -> bytes:
    assert peer.rq is not None
    return peer.accept_all(contexts=[ContextAnswer(255 - 2 * i, 0, c.transfer_syntaxes[0])
                                     for i, c in enumerate(peer.rq.contexts)])


def _even_id(peer: Peer) -> bytes:
    assert peer.rq is not None
    return peer.accept_all(contexts=[ContextAnswer(min(c.id + 1, 254), 0, c.transfer_syntaxes[0]) for c in peer.rq.contexts])


def _unproposed_ts(peer: Peer) -> bytes:
    assert peer.rq is not None
    return peer.accept_all(contexts=[ContextAnswer(c.id, 0, "1.2.840.10008.1.2.4.100") for c in peer.rq.contexts])


def _answer_with(fn: Callable[[Peer, int, dimse.Command, bytes], bool]) -> Behaviour:
    """Well-behaved, except where *fn* answers a request itself (returns True)."""
    def answer(peer: Peer, cid: int, cmd: dimse.Command, data: bytes) -> None:
        if not fn(peer, cid, cmd, data):
            Peer.answer(peer, cid, cmd, data)

    def behaviour(peer: Peer) -> None:
        peer.read_rq()
        peer.send(peer.accept_all())
        peer.serve_messages(answer)
    return behaviour


def _echo(fn: Callable[[Peer, int, dimse.Command], None]) -> Behaviour:
    def hook(peer: Peer, cid: int, cmd: dimse.Command, _data: bytes) -> bool:
        if cmd.field != dimse.C_ECHO_RQ:
            return False
        fn(peer, cid, cmd)
        return True
    return _answer_with(hook)


def _any(fn: Callable[[Peer, int, dimse.Command], None]) -> Behaviour:
    def hook(peer: Peer, cid: int, cmd: dimse.Command, _data: bytes) -> bool:
        if cmd.field == dimse.C_CANCEL_RQ:
            return True
        fn(peer, cid, cmd)
        return True
    return _answer_with(hook)


def _pdv_longer(peer: Peer, cid: int, cmd: dimse.Command) -> None:
    command = dimse.encode_command({0x0100: cmd.field | 0x8000, 0x0120: cmd.message_id, 0x0900: 0,
                                    0x0800: dimse.NO_DATA_SET})
    body = struct.pack(">IBB", len(command) + 2 + 100, cid, 0x03) + command
    peer.send(struct.pack(">BBI", P_DATA_TF, 0, len(body)) + body)
    peer.hold()


def _mid_message(then: bytes) -> Callable[[Peer, int, dimse.Command], None]:
    """The first half of the response's command set (a fragment that is not the last), then
    *then* (A-RELEASE-RQ or A-ABORT)."""
    def fn(peer: Peer, cid: int, cmd: dimse.Command) -> None:
        command = dimse.encode_command({0x0100: cmd.field | 0x8000, 0x0120: cmd.message_id, 0x0900: 0,
                                        0x0800: dimse.NO_DATA_SET})
        half = command[:len(command) // 2]
        peer.send(struct.pack(">BBIIBB", P_DATA_TF, 0, len(half) + 6, len(half) + 2, cid, 0x01) + half)
        peer.send(then)
        peer.hold()
    return fn


def _no_release_reply(peer: Peer) -> None:
    peer.read_rq()
    peer.send(peer.accept_all())
    peer.on_release = peer.hold  # type: ignore[method-assign]
    peer.serve_messages()


def _huge_header(peer: Peer, _cid: int, _cmd: dimse.Command) -> None:
    peer.send(struct.pack(">BBI", P_DATA_TF, 0, 0xFFFFFFFF) + b"\x00" * 64)
    peer.hold()


def _drip(peer: Peer, cid: int, cmd: dimse.Command) -> None:
    for byte in peer.response(cid, cmd.field | 0x8000, cmd.message_id, 0x0000, cmd.text(0x0002)):
        if peer.device.stopped.wait(2.0):
            return
        peer.send(bytes([byte]))


def _flood(peer: Peer, cid: int, cmd: dimse.Command, _data: bytes) -> bool:
    if cmd.field != dimse.C_FIND_RQ:
        return False
    identifier = b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY "      # (0008,0052) QueryRetrieveLevel
    one = peer.response(cid, dimse.C_FIND_RSP, cmd.message_id, 0xFF00, cmd.text(0x0002), identifier)
    batch = one * 100
    for _ in range(1000):
        if peer.device.stopped.is_set():
            return True
        peer.send(batch)
    peer.send(peer.response(cid, dimse.C_FIND_RSP, cmd.message_id, 0x0000, cmd.text(0x0002)))
    return True


def _garbage(peer: Peer) -> None:
    peer.read_pdu()
    peer.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + bytes(range(256)) * 4)
    peer.hold()


def _silent(peer: Peer) -> None:
    peer.hold()


def _rj(body: bytes) -> Behaviour:
    def behaviour(peer: Peer) -> None:
        peer.read_rq()
        peer.send(struct.pack(">BBI", 0x03, 0, len(body)) + body)
        peer.hold()
    return behaviour


@dataclass(frozen=True)
class Case:
    """One hostile fake device: its behaviour and the finding code each command must report
    (``None``: the command has no step that meets the misbehaviour)."""

    behaviour: Behaviour
    code: str
    what: str


CASES: dict[str, Case] = {
    "ac-huge-max-length-then-silent": Case(
        _with_ac(lambda p: p.accept_all(max_pdu=0xFFFFFFFF), lambda p: p.hold()), "service.no-answer",
        "A-ASSOCIATE-AC announcing a maximum length of 0xFFFFFFFF, then nothing"),
    "ac-header-huge-length": Case(_with_ac(lambda p: struct.pack(">BBI", 2, 0, 0xFFFFFFFF), lambda p: p.hold()),
                                  "protocol.pdu-too-long",
                                  "an A-ASSOCIATE-AC header announcing 0xFFFFFFFF bytes, then nothing"),
    "ac-unproposed-context-id": Case(_with_ac(_unproposed_id), "protocol.context-id-not-proposed",
                                     "A-ASSOCIATE-AC accepting presentation context IDs never proposed"),
    "ac-even-context-id": Case(_with_ac(_even_id), "protocol.context-id-not-proposed",
                               "A-ASSOCIATE-AC accepting even presentation context IDs"),
    "ac-unproposed-transfer-syntax": Case(_with_ac(_unproposed_ts), "protocol.transfer-syntax-not-proposed",
                                          "A-ASSOCIATE-AC accepting a transfer syntax never proposed"),
    "ac-truncated-item": Case(_with_ac(lambda p: _ac_patched(p, _truncated_item)), "protocol.malformed-pdu",
                              "A-ASSOCIATE-AC with an item running past the end of the PDU"),
    "ac-short-max-length": Case(_with_ac(lambda p: _ac_patched(p, _short_max_length)), "protocol.malformed-pdu",
                                "A-ASSOCIATE-AC with a 2-byte maximum length sub-item"),
    "ac-non-ascii-ae-title": Case(_with_ac(lambda p: _ac_patched(p, _non_ascii_ae)), "protocol.malformed-pdu",
                                  "A-ASSOCIATE-AC with a non-ASCII AE title"),
    "rj-undefined-values": Case(_rj(bytes([0, 9, 7, 99])), "protocol.undefined-value",
                                "A-ASSOCIATE-RJ with undefined result, source and reason"),
    "rj-short": Case(_rj(bytes([0, 1])), "protocol.malformed-pdu", "A-ASSOCIATE-RJ of 2 bytes"),
    "echo-wrong-message-id": Case(_echo(lambda p, cid, cmd: p.send(p.response(
        cid, dimse.C_ECHO_RSP, cmd.message_id + 7, 0x0000, cmd.text(0x0002)))), "protocol.unexpected-response",
        "C-ECHO-RSP with a wrong Message ID Being Responded To"),
    "echo-status-c000": Case(_echo(lambda p, cid, cmd: p.send(p.response(
        cid, dimse.C_ECHO_RSP, cmd.message_id, 0xC000, cmd.text(0x0002)))), "verification.echo-status",
        "C-ECHO-RSP with status 0xC000"),
    "echo-with-data-set": Case(_echo(lambda p, cid, cmd: p.send(p.response(
        cid, dimse.C_ECHO_RSP, cmd.message_id, 0x0000, cmd.text(0x0002), b"\x08\x00\x52\x00\x00\x00\x00\x00"))),
        "protocol.unexpected-data-set", "C-ECHO-RSP carrying a data set"),
    "response-never-requested": Case(_any(lambda p, cid, cmd: p.send(p.response(
        cid, dimse.N_DELETE_RSP, cmd.message_id, 0x0000))), "protocol.unexpected-response",
        "an N-DELETE-RSP in answer to every request"),
    "pdv-longer-than-pdu": Case(_any(_pdv_longer), "protocol.malformed-pdu", "a PDV longer than its P-DATA-TF"),
    "data-on-unaccepted-context": Case(_any(lambda p, cid, cmd: p.send(p.response(
        251, cmd.field | 0x8000, cmd.message_id, 0x0000))), "protocol.unaccepted-context",
        "the response on a presentation context never accepted"),
    "release-mid-message": Case(_any(_mid_message(encode_release_rq())), "protocol.release-mid-message",
                                "A-RELEASE-RQ between the fragments of a response"),
    "abort-mid-message": Case(_any(_mid_message(encode_abort(0, 0))), "service.aborted",
                              "A-ABORT between the fragments of a response"),
    "no-release-reply": Case(_no_release_reply, "protocol.no-release-reply", "no A-RELEASE-RP, ever"),
    "huge-pdu-header": Case(_any(_huge_header), "protocol.pdu-too-long",
                            "a P-DATA-TF header announcing 0xFFFFFFFF bytes, then nothing"),
    "drip-one-byte-every-2s": Case(_any(_drip), "service.no-answer", "every response dripped one byte every 2 s"),
    "c-find-pending-flood": Case(_answer_with(_flood), "dimse.too-many-responses",
                                 "100,000 pending C-FIND responses"),
    "garbage": Case(_garbage, "protocol.malformed-pdu", "bytes that are not a PDU in answer to A-ASSOCIATE-RQ"),
    "silent": Case(_silent, "", "accepts TCP connections, never says anything"),
}


STATEMENT = Path(__file__).resolve().parent / "fake-device.yaml"
#: Short timeouts (the existing options) so that every case ends in seconds.
TIMEOUTS = ("--connect-timeout", "2", "--acse-timeout", "3", "--dimse-timeout", "3")
#: Steps a run selects: those the misbehaviours meet (the fake device does no C-FIND matching).
RUN_STEPS = ("-k", "negotiation", "-k", "storage")
FIND_STEPS = ("-k", "query/StudyRoot/STUDY/unique-key")


@dataclass
class Outcome:
    """How one command ended against one fake device."""

    wall: float
    exit_code: int | None          # None: killed at the time limit
    codes: list[str]               # finding codes reported
    traceback: bool
    output: str
    #: ``run``: the step messages that say the harness itself failed ("harness error", "the
    #: batch gave no result"): none expected.
    harness_errors: list[str] = field(default_factory=list)


def command_line(name: str, command: str, port: int, out: Path, timeouts: tuple[str, ...] = TIMEOUTS) -> list[str]:
    """The ``conformance`` arguments for *command* (run, discover, diff) against the fake."""
    if command == "run":
        steps = FIND_STEPS if name == "c-find-pending-flood" else RUN_STEPS
        return ["run", str(STATEMENT), "--port", str(port), "--out", str(out), "--quiet", *steps, *timeouts]
    if command == "discover":
        return ["discover", "--port", str(port), "--called-ae", "FAKE", "--out", str(out / "draft.yaml"), *timeouts]
    return ["diff", str(STATEMENT), "--port", str(port), "--format", "json", *timeouts]


def run_case(name: str, command: str, out: Path, limit: float = 120.0,
             timeouts: tuple[str, ...] = TIMEOUTS) -> Outcome:
    """Start the fake device of case *name* (or ``good``), run *command* through the real
    entry point in a subprocess, bounded by *limit* seconds; stop the device. *timeouts*:
    the timeout options (``()``: the defaults, 10/30/30 s)."""
    behaviour = good if name == "good" else CASES[name].behaviour
    out.mkdir(parents=True, exist_ok=True)
    with FakeDevice(behaviour) as device:
        start = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "conformance", *command_line(name, command, device.port, out, timeouts)],
                                  capture_output=True, text=True, timeout=limit, check=False)
            code: int | None = proc.returncode
            text = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, text = None, f"{exc.stdout or ''}{exc.stderr or ''}"
        wall = time.monotonic() - start
    codes: list[str] = []
    harness_errors: list[str] = []
    results = out / "results.jsonl"
    if command == "run" and results.exists():
        for line in results.read_text(encoding="utf-8", errors="replace").splitlines():
            event = json.loads(line)
            if event.get("kind") == "finding":
                codes.append(event["finding"]["code"])
            elif event.get("kind") == "step-finished":
                codes += [f["code"] for f in event.get("findings", [])]
                if any(m in event.get("message", "") for m in ("harness error", "batch gave no result")):
                    harness_errors.append(f"{event['step_id']}: {event['message']}")
    else:
        codes = re.findall(r"\b((?:protocol|dimse|verification|service)\.[a-z-]+)", text)
    return Outcome(wall, code, list(dict.fromkeys(codes)), "Traceback (most recent call last)" in text, text,
                   harness_errors)
