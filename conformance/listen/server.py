"""The harness SCP: a loopback (by default) TCP acceptor, one thread per association.

Bounds (each reported when hit, never silent): ``max_associations`` at a time (more are
answered A-ASSOCIATE-RJ transient, "local limit exceeded", PS3.8 Table 9-21); the
A-ASSOCIATE-RQ must come within ``acse_timeout`` (the ARTIM timer, PS3.8 9.1.5); an
association silent for ``idle_timeout`` is aborted; a PDU longer than the maximum length the
harness announced (plus a margin) aborts the association; non-storage data sets are held in
memory up to ``max_message`` bytes, storage data sets go to a file as they arrive.

The services are plugged in by the session: ``services[name]`` is called with
``(association, message)`` for each request of that service (see
:func:`conformance.listen.negotiate.service_of`); ``observer`` hears of each request, answer
and end of association.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from conformance.listen import dimse
from conformance.listen.dimse import Command, Message
from conformance.listen.misbehaviour import Misbehaviour
from conformance.listen.negotiate import Answer, answer, service_of
from conformance.listen.pdu import (
    ABORT,
    ASSOCIATE_RQ,
    P_DATA_TF,
    RELEASE_RQ,
    AssociateRequest,
    PduError,
    PduReader,
    abort_pdu,
    associate_ac,
    associate_rj,
    p_data,
    parse_associate_rq,
    release_rp,
)

#: Maximum length the harness announces (PS3.8 D.1).
MAX_PDU_RECEIVE = 262144


@dataclass(frozen=True)
class Limits:
    max_associations: int = 10
    acse_timeout: float = 30.0
    idle_timeout: float = 60.0
    dimse_timeout: float = 30.0
    max_message: int = 64 * 1024 * 1024


class Observer(Protocol):
    def on_request(self, assoc: Association, req: AssociateRequest, ans: Answer | None) -> None: ...

    def on_end(self, assoc: Association) -> None: ...

    def on_limit(self, peer: str, what: str) -> None: ...


class Released(Exception):
    pass


class Aborted(Exception):
    pass


@dataclass
class Association:
    """One association accepted by the harness, served by one thread."""

    server: Listener
    sock: socket.socket
    number: int
    peer: str
    request: AssociateRequest | None = None
    contexts: dict[int, tuple[str, str]] = field(default_factory=dict)
    roles: dict[str, tuple[int, int]] = field(default_factory=dict)
    peer_max_pdu: int = 0
    requests: int = 0
    #: How the association ended: released, aborted-by-device, aborted-by-harness, closed, ...
    end: str = ""
    end_detail: str = ""
    started: float = field(default_factory=time.monotonic)
    ended_at: float = 0.0
    #: Request names in order (C-STORE-RQ, ...), for the association's step.
    log: list[str] = field(default_factory=list)
    rejected: bool = False
    _pending: tuple[bytes, int] | None = None

    # --- sending -------------------------------------------------------------------------
    def send(self, context_id: int, fields: dict[int, object], data: bytes | None = None) -> None:
        """Send one DIMSE message; *fields* without Command Data Set Type (set here)."""
        fields = dict(fields)
        fields[0x0800] = dimse.NO_DATA_SET if data is None else 0x0000
        out = p_data(context_id, dimse.encode_command(fields), True, self.peer_max_pdu)
        if data is not None:
            out += p_data(context_id, data, False, self.peer_max_pdu)
        self.sock.sendall(out)

    def respond(self, msg: Message, field_: int, status: int, extra: dict[int, object] | None = None,
                data: bytes | None = None) -> None:
        """A response to *msg* (PS3.7 9.3, 10.3): echoes the affected SOP class/instance."""
        cmd = msg.command
        fields: dict[int, object] = {0x0100: field_, 0x0120: cmd.message_id, 0x0900: status}
        sop_class = cmd.text(0x0002) or cmd.text(0x0003)
        if sop_class:
            fields[0x0002] = sop_class
        instance = cmd.text(0x1000) or cmd.text(0x1001)
        if instance:
            fields[0x1000] = instance
        fields.update(extra or {})
        self.send(msg.context_id, fields, data)

    def abort(self, detail: str = "") -> None:
        try:
            self.sock.sendall(abort_pdu(2, 0))
        except OSError:
            pass
        self.end, self.end_detail = "aborted-by-harness", detail

    # --- receiving -----------------------------------------------------------------------
    def transfer_syntax(self, context_id: int) -> str:
        return self.contexts.get(context_id, ("", ""))[1]

    def abstract_syntax(self, context_id: int) -> str:
        return self.contexts.get(context_id, ("", ""))[0]

    def read_message(self, timeout: float,
                     open_sink: Callable[[Association, Message], BinaryIO | None] | None = None) -> Message:
        """The next complete DIMSE message (raises Released, Aborted or PduError).

        *open_sink* may return a file for the data set of a message (storage), so its
        fragments are written as they come instead of being held in memory.
        """
        command = bytearray()
        msg: Message | None = None
        parts: list[bytes] = []
        while True:
            if self._pending is not None:
                body, pos = self._pending
                self._pending = None
            else:
                kind, body = self.server_reader.read(timeout)
                pos = 0
                if kind == RELEASE_RQ:
                    raise Released()
                if kind == ABORT:
                    raise Aborted(f"A-ABORT source {body[2] if len(body) > 2 else '?'}, "
                                  f"reason {body[3] if len(body) > 3 else '?'}")
                if kind != P_DATA_TF:
                    raise PduError(f"unexpected PDU type 0x{kind:02X} during the association")
            n = len(body)
            while pos + 6 <= n:
                length, cid, header = struct.unpack_from(">IBB", body, pos)
                start, end = pos + 6, pos + 4 + length
                pos = end
                if length < 2 or end > n:
                    raise PduError("malformed presentation data value item")
                if cid not in self.contexts:
                    raise PduError(f"data on presentation context {cid}, which was not accepted")
                if header & 0x01:
                    command += body[start:end]
                    if len(command) > 65536:
                        raise PduError("command set longer than 64 KiB")
                    if header & 0x02:
                        msg = Message(cid, dimse.parse(bytes(command)))
                        if not msg.command.has_data_set:
                            if pos < n:
                                self._pending = (body, pos)
                            return msg
                        msg.sink = open_sink(self, msg) if open_sink else None
                else:
                    if msg is None:
                        raise PduError("data set fragment before the command set")
                    msg.data_length += end - start
                    if msg.sink is not None:
                        msg.sink.write(memoryview(body)[start:end])
                    else:
                        if msg.data_length > self.server.limits.max_message:
                            raise PduError(f"data set longer than {self.server.limits.max_message} bytes")
                        parts.append(body[start:end])
                    if header & 0x02:
                        if msg.sink is None:
                            msg.data = b"".join(parts)
                        if pos < n:
                            self._pending = (body, pos)
                        return msg

    @property
    def server_reader(self) -> PduReader:
        return self._reader

    # --- the association's life ----------------------------------------------------------
    def run(self) -> None:
        self._reader = PduReader(self.sock, MAX_PDU_RECEIVE + 65536)
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - a harness bug ends this association only
            self.abort(f"harness error: {type(exc).__name__}: {exc}")
        finally:
            self.ended_at = time.monotonic()
            self._reader.close()
            try:
                self.sock.close()
            except OSError:
                pass
            self.server._ended(self)

    def _run(self) -> None:
        srv, limits = self.server, self.server.limits
        try:
            kind, body = self._reader.read(limits.acse_timeout)
        except PduError as exc:
            self.end, self.end_detail = "no-request", str(exc)
            return
        if kind != ASSOCIATE_RQ:
            self.abort(f"expected A-ASSOCIATE-RQ, got PDU type 0x{kind:02X}")
            return
        try:
            req = parse_associate_rq(body)
        except PduError as exc:
            self.abort(str(exc))
            return
        self.request = req
        if self.rejected:
            self.sock.sendall(associate_rj(2, 3, 2))      # transient, ACSE presentation, local limit
            self.end = "rejected-limit"
            srv.observer.on_request(self, req, None)
            return
        ans = answer(req, srv.misbehaviour, srv.private_sop_classes)
        self.contexts = {c.proposed.id: (c.proposed.abstract_syntax, c.transfer_syntax)
                         for c in ans.contexts if c.accepted}
        self.roles = ans.roles
        self.peer_max_pdu = req.max_pdu or 0
        srv.observer.on_request(self, req, ans)
        self.sock.sendall(associate_ac(req, [(c.proposed.id, c.result, c.transfer_syntax) for c in ans.contexts],
                                       ans.roles, MAX_PDU_RECEIVE))
        self.serve()

    def serve(self) -> None:
        srv, limits = self.server, self.server.limits
        mis = srv.misbehaviour
        while not srv.stopping.is_set():
            try:
                msg = self.read_message(limits.idle_timeout, srv.open_sink)
            except Released:
                self.sock.sendall(release_rp())
                self.end = "released"
                return
            except Aborted as exc:
                self.end, self.end_detail = "aborted-by-device", str(exc)
                return
            except PduError as exc:
                text = str(exc)
                if "nothing received" in text:
                    self.abort(f"idle for {limits.idle_timeout:g} s: aborted by the harness")
                    self.end = "idle-timeout"
                elif "closed" in text:
                    self.end, self.end_detail = "closed-without-release", text
                else:
                    self.abort(text)
                return
            self.requests += 1
            self.log.append(msg.command.name)
            if mis.abort_after is not None and self.requests > mis.abort_after:
                if msg.sink is not None:
                    srv.discard_sink(msg)
                self.abort(f"misbehaviour: abort after {mis.abort_after} request(s)")
                self.end = "aborted-by-harness"
                return
            if mis.delay:
                time.sleep(mis.delay)
            self.dispatch(msg)

    def dispatch(self, msg: Message) -> None:
        cmd: Command = msg.command
        sop = self.abstract_syntax(msg.context_id)
        if cmd.field == dimse.C_CANCEL_RQ:
            return      # nothing pending outside C-GET / C-MOVE, which read their own cancels
        service = service_of(sop) or ("storage" if cmd.field == dimse.C_STORE_RQ else None)
        handler = self.server.services.get(service or "")
        if handler is None:
            # PS3.7 C.5.3 / C.5.2: SOP class not supported / unrecognized operation
            self.respond(msg, cmd.field | 0x8000, 0x0211 if service is None else 0x0122)
            return
        handler(self, msg)


class Listener:
    """Accepts associations on ``(host, port)``; ``port`` 0 picks a free one. Context manager."""

    def __init__(self, observer: Observer, services: dict[str, Callable[[Association, Message], None]],
                 host: str = "127.0.0.1", port: int = 0, limits: Limits = Limits(),
                 misbehaviour: Misbehaviour = Misbehaviour(),
                 open_sink: Callable[[Association, Message], BinaryIO | None] | None = None,
                 discard_sink: Callable[[Message], None] | None = None,
                 private_sop_classes: frozenset[str] = frozenset()) -> None:
        self.observer, self.services = observer, services
        self.host, self.port, self.limits, self.misbehaviour = host, port, limits, misbehaviour
        self.open_sink = open_sink
        self.discard_sink = discard_sink or (lambda msg: None)
        self.private_sop_classes = private_sop_classes
        self.stopping = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.active: dict[int, Association] = {}
        self.threads: list[threading.Thread] = []
        self.count = 0

    def start(self) -> Listener:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="listen-accept")
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self.stopping.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            with self._lock:
                self.count += 1
                assoc = Association(self, conn, self.count, f"{addr[0]}:{addr[1]}")
                if len(self.active) >= self.limits.max_associations:
                    assoc.rejected = True
                    self.observer.on_limit(assoc.peer, f"more than {self.limits.max_associations} "
                                                       "associations at a time")
                self.active[assoc.number] = assoc
                thread = threading.Thread(target=assoc.run, daemon=True, name=f"listen-assoc-{assoc.number}")
                self.threads = [t for t in self.threads if t.is_alive()] + [thread]
            thread.start()

    def _ended(self, assoc: Association) -> None:
        with self._lock:
            self.active.pop(assoc.number, None)
        self.observer.on_end(assoc)

    def open_count(self) -> int:
        with self._lock:
            return len(self.active)

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting; give open associations *grace* seconds, then abort them."""
        if self._sock is None:
            return
        self._sock.close()
        if self._thread is not None:
            self._thread.join(2)
        deadline = time.monotonic() + grace
        while self.open_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stopping.set()
        with self._lock:
            left = list(self.active.values())
        for assoc in left:
            assoc.abort("the session ended")
            assoc.end = "aborted-session-end"
            try:
                assoc.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in list(self.threads):
            thread.join(2)
        self._sock = None

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(grace=0)
