"""The services' SCU calls on the wire stack (conformance.wire.scu) and the verdict's view of an
association (WireMonitor) taken from its typed ending."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from conformance.families.verdict import Reply, from_monitor
from conformance.wire.contexts import ProposedContext
from conformance.wire.requestor import open_association
from conformance.wire.scu import WireSCU
from conformance.wire.target import Timeouts
from tests.wire.test_outcome import _target, peer

ECHO = ProposedContext("1.2.840.10008.1.1", ("1.2.840.10008.1.2",))
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")


@pytest.mark.parametrize("mode, reply", [("abort", Reply.ABORTED), ("close", Reply.CLOSED)])
def test_the_monitor_gives_the_verdict_the_exact_ending(mode, reply):
    with peer(mode) as acceptor:
        _out, assoc = open_association(_target(acceptor.port), [ECHO])
        assert assoc is not None
        scu = WireSCU(assoc)
        status = scu.send_c_echo()
        assoc.close()
    assert "Status" not in status
    un = from_monitor(scu.monitor, "C-ECHO", 30.0)        # a long timeout: no timing guess involved
    assert un.reply is reply and un.after_ms is not None and un.after_ms < 1000
    assert (un.source, un.reason) == ((2, 0) if reply is Reply.ABORTED else (None, None))


def test_silence_stays_no_answer():
    with peer("silent") as acceptor:
        _out, assoc = open_association(_target(acceptor.port, Timeouts(connect=2, acse=2, dimse=0.5)), [ECHO])
        assert assoc is not None
        scu = WireSCU(assoc)
        assert "Status" not in scu.send_c_echo()
        assoc.close()
    assert from_monitor(scu.monitor, "C-ECHO", 0.5).reply is Reply.NO_ANSWER


def test_c_find_against_the_reference_device(start_reference):
    from tests.conftest import target_for

    device = start_reference()
    target = target_for(device)
    _out, assoc = open_association(target, [ProposedContext(STUDY_FIND, UNCOMPRESSED)])
    assert assoc is not None
    scu = WireSCU(assoc)
    ident = Dataset()
    ident.QueryRetrieveLevel = "STUDY"
    ident.StudyInstanceUID = ""
    try:
        responses = list(scu.send_c_find(ident, STUDY_FIND, msg_id=7))
    finally:
        scu.release()
    assert [int(s.Status) for s, _i in responses][-1] == 0x0000
    assert scu.monitor.answered(7)[-1] == 0x0000
