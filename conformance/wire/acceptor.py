"""The harness as association acceptor (PS3.8 9.3.2-9.3.4, 9.1.5): a TCP acceptor, one thread
per association, bound to 127.0.0.1 unless told otherwise.

Bounds (each reported when hit, never silent): ``max_associations`` at a time (more are
answered A-ASSOCIATE-RJ transient, "local limit exceeded", PS3.8 Table 9-21); the
A-ASSOCIATE-RQ must come within ``acse_timeout`` (the ARTIM timer, PS3.8 9.1.5); an association
silent for ``idle_timeout`` is aborted; a PDU longer than the maximum length the harness
announced (plus a margin) aborts the association; a non-storage data set is held in memory up
to ``max_message`` bytes (a storage data set goes to the file a subclass opens as it arrives).

What is served is a subclass's: :meth:`AcceptedAssociation.answer` decides the A-ASSOCIATE-AC
or -RJ, :meth:`AcceptedAssociation.handle` serves each DIMSE message. How it ended is kept both
as the typed :class:`~conformance.wire.outcome.End` (``ending``) and as a short label (``end``:
released, aborted-by-device, aborted-by-harness, idle-timeout, closed-without-release,
no-request, rejected-limit, aborted-session-end) for the reports.

TLS: *wrap* (a callable taking the accepted socket and returning the socket to use) is the
hook for the secure transport profiles (PS3.15 Annex B): :func:`conformance.wire.tls.acceptor_wrap`
leaves the handshake to the association's first read (bounded by ARTIM, off the accept thread).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from conformance.wire import outcome
from conformance.wire.association import Association, WireError
from conformance.wire.dimse import Message
from conformance.wire.identity import MAX_PDU_RECEIVE
from conformance.wire.outcome import Ending
from conformance.wire.pdu import (
    ASSOCIATE_FIXED,
    ASSOCIATE_RQ,
    AssociateAccept,
    AssociateRequest,
    ContextAnswer,
    decode,
    encode_abort,
    encode_associate_ac,
    encode_associate_rj,
    harness_identity,
)

SocketWrapper = Callable[[socket.socket], socket.socket]


@dataclass(frozen=True)
class Limits:
    """The acceptor's bounds (seconds, bytes)."""

    max_associations: int = 10
    acse_timeout: float = 30.0
    idle_timeout: float = 60.0
    dimse_timeout: float = 30.0
    max_message: int = 64 * 1024 * 1024


@dataclass
class Reject:
    """An A-ASSOCIATE-RJ to send (PS3.8 Table 9-21)."""

    result: int
    source: int
    reason: int


class AcceptedAssociation(Association):
    """One association the harness accepted, served by one thread. Subclasses answer the
    request and handle the messages."""

    def __init__(self, server: Acceptor, sock: socket.socket, number: int, peer: str) -> None:
        super().__init__(sock, max_message=server.limits.max_message)
        self.server = server
        self.number, self.peer = number, peer
        self.request: AssociateRequest | None = None
        self.requests = 0
        #: Request names in order (C-STORE-RQ, ...), for the association's report.
        self.log: list[str] = []
        self.end, self.end_detail = "", ""
        self.started, self.ended_at = time.monotonic(), 0.0
        self.rejected = False
        #: What the A-ASSOCIATE-AC announces (PS3.8 D.1, PS3.7 D.3.3.2): the harness's own
        #: identity unless a subclass plays another device (the reference device).
        self.max_pdu_receive = MAX_PDU_RECEIVE
        self.implementation_class_uid: str | None = None
        self.implementation_version_name: str | None = None

    # --- hooks --------------------------------------------------------------------------------
    def answer(self, req: AssociateRequest) -> tuple[list[ContextAnswer], dict[str, tuple[int, int]]] | Reject:
        """The answer to *req*: (result per context, role selections) or a :class:`Reject`."""
        return Reject(1, 1, 1)

    def on_request(self, req: AssociateRequest, accepted: bool) -> None:
        """Called once the request is read and answered (or rejected for the limit)."""

    def handle(self, msg: Message) -> bool:
        """Serve one DIMSE message; ``False`` ends the association (the handler aborted it)."""
        return True

    def open_sink(self, msg: Message) -> BinaryIO | None:
        """A file for the data set of *msg*, or ``None`` to hold it in memory."""
        return None

    # --- the association's life ---------------------------------------------------------------
    def abort_with(self, detail: str, end: str = "aborted-by-harness") -> None:
        """A-ABORT from the harness (service provider, PS3.8 9.3.8); the socket is closed by
        :meth:`run` (another thread may be reading it)."""
        try:
            self.sock.sendall(encode_abort(2, 0))
        except OSError:
            pass
        self.is_established = False
        self.end, self.end_detail = end, detail

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - a harness bug ends this association only
            self.abort_with(f"harness error: {type(exc).__name__}: {exc}")
        finally:
            self.ended_at = time.monotonic()
            self.close()
            self.server._ended(self)

    def _run(self) -> None:
        limits = self.server.limits
        try:
            kind, body = self.read_pdu(limits.acse_timeout)
        except WireError as exc:
            self.end, self.end_detail = "no-request", exc.end.describe()
            return
        if kind != ASSOCIATE_RQ or len(body) < ASSOCIATE_FIXED:
            self.abort_with(f"expected A-ASSOCIATE-RQ, got PDU type 0x{kind:02X} of {len(body)} bytes")
            return
        req = decode(kind, body)
        assert isinstance(req, AssociateRequest)
        self.request = req
        if self.rejected:
            self.send_bytes(encode_associate_rj(2, 3, 2))      # transient, ACSE presentation, local limit
            self.end = "rejected-limit"
            self.on_request(req, False)
            return
        decision = self.answer(req)
        if isinstance(decision, Reject):
            self.send_bytes(encode_associate_rj(decision.result, decision.source, decision.reason))
            self.end = "rejected"
            self.on_request(req, False)
            return
        answers, roles = decision
        self.contexts = {a.id: (next((c.abstract_syntax for c in req.contexts if c.id == a.id), ""),
                                a.transfer_syntax) for a in answers if a.result == 0}
        self.roles = roles
        self.peer_max_pdu = req.max_pdu or 0
        self.on_request(req, True)
        ac = AssociateAccept(req.called_ae, req.calling_ae, contexts=answers, roles=roles,
                             max_pdu=self.max_pdu_receive, implementation_class_uid=self.implementation_class_uid,
                             implementation_version_name=self.implementation_version_name)
        self.send_bytes(encode_associate_ac(harness_identity(ac)))  # type: ignore[arg-type]
        self.is_established = True
        self.serve()

    def serve(self) -> None:
        """Read and handle messages until the association ends; label how it ended."""
        while not self.server.stopping.is_set():
            try:
                msg = self.read_message(self.server.limits.idle_timeout, self._sink)
            except WireError as exc:
                self._ended_by(exc.end)
                return
            self.requests += 1
            self.log.append(msg.command.name)
            if not self.handle(msg):
                return

    def _sink(self, _assoc: Any, msg: Message) -> BinaryIO | None:
        return self.open_sink(msg)

    def _ended_by(self, end: outcome.End) -> None:
        if end.kind is Ending.RELEASED:
            try:
                self.answer_release()
            except WireError:
                pass
            self.end = "released"
        elif end.kind is Ending.ABORTED:
            self.end, self.end_detail = "aborted-by-device", end.describe()
        elif end.kind is Ending.NO_ANSWER:
            self.abort_with(f"idle for {self.server.limits.idle_timeout:g} s: aborted by the harness", "idle-timeout")
        elif end.kind is Ending.CLOSED:
            self.end, self.end_detail = "closed-without-release", end.describe()
        else:
            self.abort_with(end.describe())


class Acceptor:
    """Accepts associations on ``(host, port)``; ``port`` 0 picks a free one. Context manager.
    *association* makes the :class:`AcceptedAssociation` (subclass) for each connection."""

    association: Callable[..., AcceptedAssociation] = AcceptedAssociation

    def __init__(self, host: str = "127.0.0.1", port: int = 0, limits: Limits = Limits(),
                 wrap: SocketWrapper | None = None) -> None:
        self.host, self.port, self.limits, self.wrap = host, port, limits, wrap
        self.stopping = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.active: dict[int, AcceptedAssociation] = {}
        self.threads: list[threading.Thread] = []
        self.count = 0

    # --- hooks --------------------------------------------------------------------------------
    def on_limit(self, peer: str, what: str) -> None:
        """A connection over ``max_associations`` (it is rejected, transient)."""

    def on_end(self, assoc: AcceptedAssociation) -> None:
        """An association ended (any way)."""

    # --- life ---------------------------------------------------------------------------------
    def start(self) -> Acceptor:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="wire-accept")
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
            # No fixed SO_RCVBUF: Linux's receive-window autotuning does better here (a fixed
            # 1 MiB buffer set after accept cost storescu -> listen about a fifth of its rate).
            if self.wrap is not None:
                try:
                    conn = self.wrap(conn)
                except OSError:
                    conn.close()
                    continue
            with self._lock:
                self.count += 1
                assoc = self.association(self, conn, self.count, f"{addr[0]}:{addr[1]}")
                if len(self.active) >= self.limits.max_associations:
                    assoc.rejected = True
                    self.on_limit(assoc.peer, f"more than {self.limits.max_associations} associations at a time")
                self.active[assoc.number] = assoc
                thread = threading.Thread(target=assoc.run, daemon=True, name=f"wire-assoc-{assoc.number}")
                self.threads = [t for t in self.threads if t.is_alive()] + [thread]
            thread.start()

    def _ended(self, assoc: AcceptedAssociation) -> None:
        with self._lock:
            self.active.pop(assoc.number, None)
        self.on_end(assoc)

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
            assoc.abort_with("the session ended", "aborted-session-end")
            try:
                assoc.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in list(self.threads):
            thread.join(2)
        self._sock = None

    def __enter__(self) -> Acceptor:  # noqa: PYI034 - subclasses return themselves too
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(grace=0)
