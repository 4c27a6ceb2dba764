"""The harness SCP of ``conformance listen``: the acceptor of :mod:`conformance.wire.acceptor`
with the session's answer, misbehaviours and services plugged in.

The bounds (associations at a time, ARTIM, idle timeout, maximum PDU and message) are the
acceptor's (:class:`~conformance.wire.acceptor.Limits`). The services are plugged in by the
session: ``services[name]`` is called with ``(association, message)`` for each request of that
service (see :func:`conformance.listen.negotiate.service_of`); ``observer`` hears of each
request, answer and end of association.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import BinaryIO, Protocol

from conformance.listen.misbehaviour import Misbehaviour
from conformance.listen.negotiate import Answer, answer, service_of
from conformance.wire import dimse
from conformance.wire.acceptor import AcceptedAssociation, Acceptor, Limits
from conformance.wire.dimse import Message
from conformance.wire.identity import MAX_PDU_RECEIVE
from conformance.wire.pdu import AssociateRequest, ContextAnswer

__all__ = ["MAX_PDU_RECEIVE", "Association", "Limits", "Listener", "Observer"]


class Observer(Protocol):
    def on_request(self, assoc: Association, req: AssociateRequest, ans: Answer | None) -> None: ...

    def on_end(self, assoc: Association) -> None: ...

    def on_limit(self, peer: str, what: str) -> None: ...

    def on_accept_error(self, what: str, streak: int) -> None: ...


class Association(AcceptedAssociation):
    """One association accepted by ``listen``, served by one thread."""

    server: Listener
    _answer: Answer | None = None

    def answer(self, req: AssociateRequest) -> tuple[list[ContextAnswer], dict[str, tuple[int, int]]]:
        srv = self.server
        self._answer = answer(req, srv.misbehaviour, srv.private_sop_classes)
        return ([ContextAnswer(c.proposed.id, c.result, c.transfer_syntax) for c in self._answer.contexts],
                self._answer.roles)

    def on_request(self, req: AssociateRequest, accepted: bool) -> None:
        self.server.observer.on_request(self, req, self._answer if accepted else None)

    def open_sink(self, msg: Message) -> BinaryIO | None:
        return self.server.open_sink(self, msg) if self.server.open_sink else None

    def discard(self, msg: Message) -> None:
        """The association ended inside this C-STORE: its partial file is removed."""
        self.server.discard_sink(msg)

    def abort(self, source: int = 2, reason: int = 0, detail: str = "") -> None:  # type: ignore[override]
        """A-ABORT from the harness; the association's end says why."""
        self.abort_with(detail)

    def handle(self, msg: Message) -> bool:
        mis = self.server.misbehaviour
        if mis.abort_after is not None and self.requests > mis.abort_after:
            if msg.sink is not None:
                self.server.discard_sink(msg)
            self.abort_with(f"misbehaviour: abort after {mis.abort_after} request(s)")
            return False
        if mis.delay:
            time.sleep(mis.delay)
        self.dispatch(msg)
        return True

    def dispatch(self, msg: Message) -> None:
        cmd = msg.command
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


class Listener(Acceptor):
    """Accepts associations on ``(host, port)``; ``port`` 0 picks a free one. Context manager."""

    association = Association

    def __init__(self, observer: Observer, services: dict[str, Callable[[Association, Message], None]],
                 host: str = "127.0.0.1", port: int = 0, limits: Limits = Limits(),
                 misbehaviour: Misbehaviour = Misbehaviour(),
                 open_sink: Callable[[Association, Message], BinaryIO | None] | None = None,
                 discard_sink: Callable[[Message], None] | None = None,
                 private_sop_classes: frozenset[str] = frozenset()) -> None:
        super().__init__(host, port, limits)
        self.observer, self.services, self.misbehaviour = observer, services, misbehaviour
        self.open_sink = open_sink
        self.discard_sink = discard_sink or (lambda msg: None)
        self.private_sop_classes = private_sop_classes

    def on_limit(self, peer: str, what: str) -> None:
        self.observer.on_limit(peer, what)

    def on_end(self, assoc: AcceptedAssociation) -> None:
        assert isinstance(assoc, Association)
        self.observer.on_end(assoc)

    def on_accept_error(self, what: str, streak: int) -> None:
        self.observer.on_accept_error(what, streak)
