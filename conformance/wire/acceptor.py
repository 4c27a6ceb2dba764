"""The harness as association acceptor (PS3.8 9.3.2-9.3.4, 9.1.5): a TCP acceptor, one thread
per association, bound to 127.0.0.1 unless told otherwise.

Bounds (each reported when hit, never silent): ``max_associations`` at a time, and at most
``max_per_peer`` from one peer address (more are answered A-ASSOCIATE-RJ transient,
service-provider (presentation), "local-limit-exceeded", PS3.8 9.3.4 and Table 9-21); the
A-ASSOCIATE-RQ must be complete within ``acse_timeout`` of the connection (the ARTIM timer,
PS3.8 9.1.5; an absolute deadline, a TLS handshake included: a peer sending a byte a second
gains nothing); each later PDU must be complete within ``idle_timeout`` of its first byte being
awaited (absolute too, :meth:`~conformance.wire.association.Association.read_pdu`); a PDU
longer than the maximum length the harness announced (plus a margin) aborts the association;
a non-storage data set is held in memory up to ``max_message`` bytes (a storage data set goes
to the file a subclass opens as it arrives, capped by the subclass at ``max_store``).

The accept loop survives its errors (EMFILE, ENFILE, ENOBUFS...: reported through
:meth:`Acceptor.on_accept_error`, retried with a growing pause up to one second): its thread
never dies while the acceptor runs. A data set cut by an A-ABORT, a reset or an A-RELEASE-RQ
is handed to :meth:`AcceptedAssociation.discard` (its partial file removed).

The peer's protocol errors (PS3.8 9.2 state machine, 9.3 PDU structure; PS3.7 6.3.1 message
structure) end the association with an A-ABORT and are kept as ``peer_error`` (code, what the
peer sent, reference) for the reports: a malformed A-ASSOCIATE-RQ (the codec's problems), a
PDV running past its PDU, data on a presentation context never proposed or not accepted, an
A-RELEASE-RQ in the middle of a message (answered, then reported).

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

import errno
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
    PDU_NAMES,
    AssociateAccept,
    AssociateRequest,
    ContextAnswer,
    decode,
    encode_abort,
    encode_associate_ac,
    encode_associate_rj,
    harness_identity,
    iter_pdvs,
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
    #: Associations at a time from one peer address (``None``: only ``max_associations``).
    max_per_peer: int | None = None
    #: Bytes of one stored data set (``None``: no cap); enforced by the subclass's sink.
    max_store: int | None = None


#: Accept errors that are the system's resources running out: retried after a pause.
RESOURCE_ERRORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
#: Longest pause between accept attempts after errors (seconds).
ACCEPT_BACKOFF_MAX = 1.0


@dataclass(frozen=True)
class PeerError:
    """A protocol error of the peer: a stable code, what it sent, the standard's section."""

    code: str
    detail: str
    reference: str


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
        self.peer_host = peer.rsplit(":", 1)[0]
        #: Why it was rejected before any answer (the harness's limits), for the reports.
        self.rejected_for = ""
        #: The peer's protocol error that ended the association, if any.
        self.peer_error: PeerError | None = None
        #: The message whose data set is arriving into a sink (removed if the association ends).
        self.receiving: Message | None = None
        self._reads = 0                 # P-DATA-TF PDUs read for the message being assembled
        #: Problems of the request that PS3.8 9.3.1 says to skip (items of unknown type).
        self.unknown_items: list[str] = []
        self._connected = time.monotonic()
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

    def discard(self, msg: Message) -> None:
        """The association ended while *msg*'s data set was arriving: remove what was written."""
        if msg.sink is not None:
            msg.sink.close()

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
            if self.receiving is not None:
                try:
                    self.discard(self.receiving)
                except OSError:
                    pass
                self.receiving = None
            self.ended_at = time.monotonic()
            self.close()
            self.server._ended(self)

    def _run(self) -> None:
        limits = self.server.limits
        # ARTIM (PS3.8 9.1.5): one absolute deadline from the connection to a complete request.
        left = self._connected + limits.acse_timeout - time.monotonic()
        if self.server.wrap is not None:
            try:
                self.sock.settimeout(max(left, 0.001))
                self.sock = self.server.wrap(self.sock)
            except (OSError, ValueError) as exc:
                self.end, self.end_detail = "no-request", f"secure transport set-up failed: {exc}"
                return
            left = self._connected + limits.acse_timeout - time.monotonic()
        try:
            kind, body = self.read_pdu(max(left, 0.001))
        except WireError as exc:
            self.end, self.end_detail = "no-request", exc.end.describe()
            if exc.end.kind is Ending.NO_ANSWER:
                self.end_detail = (f"no complete A-ASSOCIATE-RQ within {limits.acse_timeout:g} s of the "
                                   f"connection ({len(self._buf)} byte(s) received)")
            elif exc.end.kind is Ending.PROTOCOL_ERROR:
                self._violate("listen.malformed-associate-rq", exc.end.detail, "PS3.8 9.3.2, D.1", reason=6)
            return
        if kind != ASSOCIATE_RQ or len(body) < ASSOCIATE_FIXED:
            name = PDU_NAMES.get(kind, f"PDU type 0x{kind:02X}")
            self._violate("listen.unexpected-pdu", f"{name} of {len(body)} bytes instead of an A-ASSOCIATE-RQ",
                          "PS3.8 9.2 (state Sta2), 9.3.2", reason=2 if kind in PDU_NAMES else 1)
            return
        req = decode(kind, body)
        if not isinstance(req, AssociateRequest):      # pragma: no cover - decode's contract
            self._violate("listen.malformed-associate-rq", "an undecodable A-ASSOCIATE-RQ", "PS3.8 9.3.2", 6)
            return
        self.request = req
        # Items of an unknown type are skipped (PS3.8 9.3.1) and reported by the subclass (see
        # ``unknown_items``); any other problem makes the PDU invalid: in Sta2 that is answered
        # A-ABORT (PS3.8 9.2.3, AA-1; Table 9-26 "invalid-PDU-parameter value"), the request
        # still reported (AE titles, contexts).
        self.unknown_items = [p for p in req.problems if "unknown" in p and "type 0x" in p]
        invalid = [p for p in req.problems if p not in self.unknown_items]
        if invalid:
            self._violate("listen.malformed-associate-rq", "; ".join(invalid[:5])
                          + (f"; and {len(invalid) - 5} more" if len(invalid) > 5 else ""),
                          "PS3.8 9.3.2, 9.3.2.2, 9.3.2.3, D.1; PS3.5 9.1", reason=6)
            self.on_request(req, False)
            return
        if self.rejected:
            self.send_bytes(encode_associate_rj(2, 3, 2))      # transient, provider (presentation), local limit
            self.end = "rejected-limit"
            self.end_detail = self.rejected_for
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

    def _violate(self, code: str, detail: str, reference: str, reason: int = 0) -> None:
        """The peer broke the protocol: A-ABORT (service provider, PS3.8 9.3.8, Table 9-26
        *reason*), and the error kept for the reports."""
        self.peer_error = self.peer_error or PeerError(code, detail, reference)
        try:
            self.sock.sendall(encode_abort(2, reason))
        except OSError:
            pass
        self.is_established = False
        self.end, self.end_detail = "protocol-error", detail

    def _read_p_data(self, timeout: float, *more: Any) -> bytes:
        """One P-DATA-TF body, checked before reassembly for what the reports must name
        precisely: PDVs running past the PDU, data on a context never proposed or not
        accepted (PS3.8 9.3.5.1), an A-RELEASE-RQ in the middle of a message (PS3.7 6.3.1)."""
        middle = self._reads > 0
        try:
            body = super()._read_p_data(timeout, *more)
        except WireError as exc:
            # The release inside a message: a release here, or a protocol error coded so by
            # an Association that detects it itself.
            mid_release = getattr(exc.end, "code", "") == "protocol.release-mid-message"
            if mid_release or (exc.end.kind is Ending.RELEASED and (middle or self.receiving is not None)):
                self.peer_error = PeerError(
                    "listen.release-in-message", "an A-RELEASE-RQ in the middle of a DIMSE message "
                    f"({self._reads} P-DATA-TF of it received; the message was never completed)",
                    "PS3.7 6.3.1; PS3.8 9.3.6, 7.2")
            raise
        self._reads += 1
        problems: list[str] = []
        proposed = {c.id for c in self.request.contexts} if self.request else set()
        for cid, _header, _start, _end in iter_pdvs(body, problems):
            if cid not in self.contexts:
                how = ("proposed but not accepted (rejected in the A-ASSOCIATE-AC)" if cid in proposed
                       else "never proposed in the A-ASSOCIATE-RQ")
                self.peer_error = PeerError("listen.data-on-unaccepted-context",
                                           f"a PDV on presentation context {cid}, {how}", "PS3.8 9.3.5.1, 7.1.1.13")
                raise self._fail(outcome.protocol_error(self.peer_error.detail, self.last_request))
        if problems:
            self.peer_error = PeerError("listen.malformed-p-data", "; ".join(problems), "PS3.8 9.3.5, 9.3.5.1")
            raise self._fail(outcome.protocol_error(self.peer_error.detail, self.last_request))
        return body

    def read_message(self, timeout: float, open_sink: Any = None) -> Message:
        # PDVs left over from the last P-DATA-TF start this message: the next PDU is inside it.
        self._reads = 1 if self._pending is not None else 0
        return super().read_message(timeout, open_sink)

    def serve(self) -> None:
        """Read and handle messages until the association ends; label how it ended."""
        while not self.server.stopping.is_set():
            try:
                msg = self.read_message(self.server.limits.idle_timeout, self._sink)
            except WireError as exc:
                if self.receiving is not None:
                    self.discard(self.receiving)
                    self.receiving = None
                self._ended_by(exc.end)
                return
            self.receiving = None
            self.requests += 1
            self.log.append(msg.command.name)
            if not self.handle(msg):
                return

    def _sink(self, _assoc: Any, msg: Message) -> BinaryIO | None:
        sink = self.open_sink(msg)
        if sink is not None:
            msg.sink = sink
            self.receiving = msg
        return sink

    def _ended_by(self, end: outcome.End) -> None:
        if end.kind is Ending.RELEASED or (self.peer_error and self.peer_error.code == "listen.release-in-message"):
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
        elif self.peer_error is not None:
            self._violate(self.peer_error.code, self.peer_error.detail, self.peer_error.reference)
        elif end.kind is Ending.PROTOCOL_ERROR:
            self._violate("listen.protocol-error", end.detail, "PS3.8 9.2, 9.3")
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
        #: Failed accept attempts (each streak reported through :meth:`on_accept_error`).
        self.accept_errors = 0

    # --- hooks --------------------------------------------------------------------------------
    def on_limit(self, peer: str, what: str) -> None:
        """A connection over ``max_associations`` (it is rejected, transient)."""

    def on_end(self, assoc: AcceptedAssociation) -> None:
        """An association ended (any way)."""

    def on_accept_error(self, what: str, streak: int) -> None:
        """Accepting a connection failed (*what*: errno name and text); *streak* attempts in a
        row so far. The loop goes on after a pause; a session must not conform on this."""

    # --- life ---------------------------------------------------------------------------------
    def start(self) -> Acceptor:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)            # a burst of connections waits, is not refused
        except OSError:
            sock.close()
            raise
        sock.settimeout(0.2)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="wire-accept")
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        """Accept until stopped. An error never ends the loop: resources running out (EMFILE
        and the like) are reported and retried after a pause growing to one second (reported
        once per streak of failures, and every 50th attempt of a long one)."""
        assert self._sock is not None
        pause, streak = 0.0, 0
        while not self.stopping.is_set() and self._sock is not None:
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self._sock is None or self._sock.fileno() < 0 or self.stopping.is_set():
                    return                          # closed by stop()
                streak += 1
                # Resources running out: back off (they free up as associations end); anything
                # else (a connection reset before it was accepted...) is retried at once.
                pause = min(ACCEPT_BACKOFF_MAX, max(0.05, pause * 2)) if exc.errno in RESOURCE_ERRORS else 0.01
                self._accept_error(exc, streak)
                self.stopping.wait(pause)
                continue
            pause, streak = 0.0, 0
            try:
                self._admit(conn, addr)
            except Exception as exc:  # noqa: BLE001 - e.g. no thread left: this connection only
                conn.close()
                self._accept_error(exc, 1)

    def _accept_error(self, exc: BaseException, streak: int) -> None:
        with self._lock:
            self.accept_errors += 1
        if streak == 1 or streak % 50 == 0:
            name = errno.errorcode.get(getattr(exc, "errno", None) or -1, type(exc).__name__)
            try:
                self.on_accept_error(f"{name}: {exc}", streak)
            except Exception:  # noqa: BLE001 - a reporting fault must not end the accept loop
                pass

    def _admit(self, conn: socket.socket, addr: Any) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # No fixed SO_RCVBUF: Linux's receive-window autotuning does better here (a fixed
        # 1 MiB buffer set after accept cost storescu -> listen about a fifth of its rate).
        # TLS (self.wrap) runs on the association's thread, within its ARTIM deadline.
        host = str(addr[0])
        with self._lock:
            self.count += 1
            assoc = self.association(self, conn, self.count, f"{host}:{addr[1]}")
            assoc.peer_host = host
            from_peer = sum(1 for a in self.active.values() if a.peer_host == host and not a.rejected)
            per_peer = self.limits.max_per_peer
            if len(self.active) >= self.limits.max_associations:
                assoc.rejected = True
                assoc.rejected_for = f"more than {self.limits.max_associations} associations at a time"
            elif per_peer is not None and from_peer >= per_peer:
                assoc.rejected = True
                assoc.rejected_for = f"more than {per_peer} associations at a time from {host}"
            self.active[assoc.number] = assoc
            thread = threading.Thread(target=assoc.run, daemon=True, name=f"wire-assoc-{assoc.number}")
            self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        if assoc.rejected:
            self.on_limit(assoc.peer, assoc.rejected_for)
        try:
            thread.start()
        except RuntimeError:
            with self._lock:
                self.active.pop(assoc.number, None)
            raise

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
