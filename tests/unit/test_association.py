"""How one association request is classified, against raw TCP servers that misbehave."""

from __future__ import annotations

import socket

import pytest

from conformance.negotiation.association import Establishment, ProposedContext, associate
from conformance.negotiation.target import Target, Timeouts
from conformance.reference import SilentListener
from tests.fakes import OneShotServer

ECHO = [ProposedContext("1.2.840.10008.1.1", ("1.2.840.10008.1.2",))]
#: A-ASSOCIATE-RJ (PS3.8 9.3.4): type 03, length 4, reserved, result 1 (permanent),
#: source 1 (service user), reason 7 (called AE title not recognized).
REJECT_7 = bytes([0x03, 0, 0, 0, 0, 4, 0, 1, 1, 7])


def target(port: int) -> Target:
    return Target("127.0.0.1", port, "ANY", timeouts=Timeouts(connect=2, acse=2, dimse=2))


def test_a_rejection_followed_by_an_immediate_close_is_still_a_rejection():
    server = OneShotServer(REJECT_7)
    try:
        for _ in range(20):   # the close races pynetdicom's handling of the A-ASSOCIATE-RJ
            with associate(target(server.port), ECHO) as (outcome, assoc):
                assert outcome.establishment is Establishment.REJECTED
                assert (outcome.reject_result, outcome.reject_source, outcome.reject_reason) == (1, 1, 7)
                assert assoc is None
    finally:
        server.close()


def test_garbage_in_answer_is_an_abort_not_a_crash():
    server = OneShotServer(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    try:
        with associate(target(server.port), ECHO) as (outcome, assoc):
            assert outcome.establishment is Establishment.ABORTED and assoc is None
    finally:
        server.close()


def test_nothing_listening_is_no_connection():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with associate(target(port), ECHO) as (outcome, _):
        assert outcome.establishment is Establishment.NO_CONNECTION


def test_a_silent_device_is_no_answer():
    with SilentListener() as listener:
        with associate(Target("127.0.0.1", listener.port, "ANY", timeouts=Timeouts(acse=0.5)), ECHO) as (outcome, _):
            assert outcome.establishment is Establishment.NO_ANSWER


def test_more_than_128_contexts_is_refused_before_sending():
    with pytest.raises(ValueError):
        with associate(target(1), ECHO * 129):
            pass


def test_the_one_thread_requestor_agrees_with_pynetdicom(start_reference):
    """conformance.wire.requestor.negotiate (used by the probes) and pynetdicom's requestor
    classify every context the same way, role selection included (PS3.7 D.3.3.4)."""
    from conformance.wire.requestor import negotiate
    from tests.conftest import target_for
    device = start_reference()
    ct, rt_image = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.481.1"
    contexts = [ProposedContext(ct, ("1.2.840.10008.1.2",)), ProposedContext(ct, ("1.2.840.10008.1.2.4.50",)),
                ProposedContext(rt_image, ("1.2.840.10008.1.2",)),
                ProposedContext("1.2.840.10008.5.1.4.1.1.4", ("1.2.840.10008.1.2.1",), scu_role=False, scp_role=True)]
    target = target_for(device)
    wire = negotiate(target, contexts)
    with associate(target, contexts) as (reference, _):
        pass
    assert wire.establishment is reference.establishment is Establishment.ACCEPTED
    assert [(c.result, c.transfer_syntax, c.as_scu, c.as_scp) for c in wire.contexts] == \
           [(c.result, c.transfer_syntax, c.as_scu, c.as_scp) for c in reference.contexts]
    assert [c.result for c in wire.contexts] == [0, 4, 3, 0]
    assert (wire.contexts[3].as_scu, wire.contexts[3].as_scp) == (False, True)
    assert (wire.max_pdu, wire.implementation_class_uid) == (reference.max_pdu, reference.implementation_class_uid)
