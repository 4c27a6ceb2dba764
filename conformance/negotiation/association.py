"""Open one association with a device through pynetdicom's requestor (the SCU calls not yet on
:mod:`conformance.wire`: C-FIND, C-MOVE, MPPS, commitment, the scenario kinds), describe what
happened, as data. The outcome types live in :mod:`conformance.wire.outcome` and are
re-exported here; the harness identity is :mod:`conformance.wire.identity`'s.

Wraps pynetdicom's requestor so that every outcome (accepted, rejected with result /
source / reason, aborted, no TCP connection, no answer within the ACSE timeout) is a
value the checks can reason about (PS3.8 9.3.2 - 9.3.4, Tables 9-18 and 9-21). TCP_NODELAY
is set on every connection: pynetdicom leaves Nagle on, which stalls each DIMSE round trip
by about 40 ms.
"""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.pdu import A_ASSOCIATE_RJ
from pynetdicom.presentation import PresentationContext, build_context, build_role

from conformance.wire.contexts import CONTEXT_RESULTS, ContextResult, ProposedContext
from conformance.wire.identity import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION,
    MAX_PDU_RECEIVE,
)
from conformance.wire.outcome import REJECT_REASONS, AssociationOutcome, Establishment
from conformance.wire.target import Target

__all__ = ["CONTEXT_RESULTS", "REJECT_REASONS", "AssociationOutcome", "ContextResult", "Establishment",
           "ProposedContext", "associate"]


def _nodelay(event: evt.Event) -> None:
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _make_ae(target: Target, contexts: Sequence[ProposedContext]) -> tuple[AE, list]:
    ae = AE(ae_title=target.calling_ae)
    # the harness shows every device one identity, whichever requestor it uses (wire/identity.py)
    ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    ae.implementation_version_name = IMPLEMENTATION_VERSION
    ae.maximum_pdu_size = MAX_PDU_RECEIVE
    t = target.timeouts
    ae.connection_timeout = t.connect
    ae.acse_timeout = t.acse
    ae.dimse_timeout = t.dimse
    ae.network_timeout = t.network
    requested: list[PresentationContext] = []
    roles = []
    for ctx in contexts:
        requested.append(build_context(ctx.sop_class, list(ctx.transfer_syntaxes)))
        if ctx.scu_role is not None or ctx.scp_role is not None:
            roles.append(build_role(ctx.sop_class, scu_role=bool(ctx.scu_role),
                                    scp_role=bool(ctx.scp_role)))
    ae.requested_contexts = requested
    return ae, roles


@contextmanager
def associate(target: Target, contexts: Sequence[ProposedContext],
              extra_handlers: Sequence[tuple] = ()) -> Iterator[tuple[AssociationOutcome, Association | None]]:
    """Request an association; yield ``(outcome, assoc)``; release (or abort) on exit.

    *assoc* is ``None`` unless the association was accepted. At most 128 contexts
    (PS3.8 9.3.2.2: presentation context IDs are odd integers 1-255).
    """
    if not 1 <= len(contexts) <= 128:
        raise ValueError(f"between 1 and 128 presentation contexts per association, not {len(contexts)}")
    ae, roles = _make_ae(target, contexts)
    # What came back from the peer: EVT_ABORTED also fires for pynetdicom's own abort after
    # an ACSE timeout, so "the device answered" is judged by data received.
    seen: dict[str, Any] = {"open": False, "recv": False, "ac": False, "rj": None, "opened_at": None}

    def on_open(event: evt.Event) -> None:
        seen["open"] = True
        seen["opened_at"] = time.monotonic()
        _nodelay(event)

    handlers = [(evt.EVT_CONN_OPEN, on_open),
                (evt.EVT_DATA_RECV, lambda e: seen.__setitem__("recv", True)),
                (evt.EVT_ACCEPTED, lambda e: seen.__setitem__("ac", True)),
                (evt.EVT_PDU_RECV, lambda e: _note_rejection(e, seen)),
                *extra_handlers]
    assoc = ae.associate(target.host, target.port, ae_title=target.called_ae,
                         ext_neg=roles or None, evt_handlers=handlers)
    seen["waited"] = time.monotonic() - (seen["opened_at"] or time.monotonic())
    outcome = _describe(assoc, seen, contexts, target.timeouts.acse)
    try:
        yield outcome, (assoc if assoc.is_established else None)
    finally:
        if assoc.is_established:
            try:
                assoc.release()
            except Exception:  # pragma: no cover - best effort
                assoc.abort()
        ae.shutdown()


def _note_rejection(event: evt.Event, seen: dict[str, Any]) -> None:
    """Keep an A-ASSOCIATE-RJ as received. A device that closes the connection right after
    rejecting can make pynetdicom report an abort instead (its DUL sees the close first)."""
    if isinstance(event.pdu, A_ASSOCIATE_RJ) and seen["rj"] is None:
        pdu = event.pdu
        seen["rj"] = (pdu.result, pdu.source, pdu.reason_diagnostic)


def _describe(assoc: Association, seen: dict[str, Any],
              proposed: Sequence[ProposedContext], acse_timeout: float) -> AssociationOutcome:
    acceptor = assoc.acceptor
    prim = acceptor.primitive
    # An A-ASSOCIATE-AC whose contexts were all rejected counts as accepted here: the
    # per-context results are known (pynetdicom then aborts, as it has nothing to use).
    if assoc.is_established or seen["ac"]:
        state = Establishment.ACCEPTED
    elif assoc.is_rejected or seen["rj"] is not None:
        state = Establishment.REJECTED
    elif not seen["open"]:
        state = Establishment.NO_CONNECTION
    elif not seen["recv"] and seen["waited"] >= 0.9 * acse_timeout:
        # Nothing came back for the whole ACSE timeout. (Garbage that pynetdicom cannot
        # decode as a PDU, or a closed connection, end it sooner: those are aborts.)
        state = Establishment.NO_ANSWER
    else:
        state = Establishment.ABORTED
    outcome = AssociationOutcome(state)
    if state is Establishment.REJECTED:
        if seen["rj"] is not None:
            outcome.reject_result, outcome.reject_source, outcome.reject_reason = seen["rj"]
        elif prim is not None:
            outcome.reject_result, outcome.reject_source, outcome.reject_reason = (
                prim.result, prim.result_source, prim.diagnostic)
    if state is Establishment.ACCEPTED:
        outcome.max_pdu = acceptor.maximum_length
        outcome.implementation_class_uid = str(acceptor.implementation_class_uid or "") or None
        outcome.implementation_version_name = acceptor.implementation_version_name or None
        results = {cx.context_id: cx for cx in list(assoc._accepted_cx.values()) + assoc._rejected_cx}
        for i, ctx in enumerate(proposed):
            cx = results.get(2 * i + 1)
            if cx is None:
                outcome.contexts.append(ContextResult(ctx, result=2))
                continue
            accepted = cx.result == 0
            outcome.contexts.append(ContextResult(
                ctx, result=cx.result if cx.result is not None else 2,
                transfer_syntax=str(cx.transfer_syntax[0]) if accepted and cx.transfer_syntax else None,
                as_scu=cx.as_scu if accepted else None, as_scp=cx.as_scp if accepted else None))
    return outcome

