"""The services' SCU calls on the wire stack (conformance.wire.scu) and the verdict's view of an
association (WireMonitor) taken from its typed ending."""

from __future__ import annotations

import threading
import time

import pytest
from pydicom.dataset import Dataset

from conformance.families.verdict import Reply, from_monitor
from conformance.wire import dimse
from conformance.wire.acceptor import AcceptedAssociation, Acceptor, Limits
from conformance.wire.contexts import ProposedContext
from conformance.wire.outcome import Ending
from conformance.wire.pdu import ContextAnswer
from conformance.wire.requestor import open_association
from conformance.wire.scu import WireSCU
from conformance.wire.target import Timeouts
from tests.wire.test_outcome import _target, peer

ECHO = ProposedContext("1.2.840.10008.1.1", ("1.2.840.10008.1.2",))
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
UNCOMPRESSED = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
COMMITMENT = "1.2.840.10008.1.20.1"


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


class _Committer(AcceptedAssociation):
    """Answers an N-ACTION, then sends the commitment report on the same association
    (PS3.4 J.3.3) and keeps the status of the harness's N-EVENT-REPORT-RSP."""

    def answer(self, req):
        return [ContextAnswer(c.id, 0, c.transfer_syntaxes[0]) for c in req.contexts], {}

    def handle(self, msg):
        if msg.command.field != dimse.N_ACTION_RQ:
            return True
        self.respond(msg, dimse.N_ACTION_RSP, 0x0000)
        report = Dataset()
        report.TransactionUID = "1.2.3.4"
        self.send(msg.context_id, {0x0100: dimse.N_EVENT_REPORT_RQ, 0x0110: 1, 0x0002: COMMITMENT,
                                   0x1000: "1.2.840.10008.1.20.1.1", 0x1002: 1},
                  dimse.encode_data_set(report, self.transfer_syntax(msg.context_id)))
        self.server.rsp_status = self.read_message(2).command.status  # type: ignore[attr-defined]
        return True


def test_a_report_on_the_requesting_association_reaches_the_handler_and_is_answered():
    acceptor = Acceptor(limits=Limits(acse_timeout=2, idle_timeout=5))
    acceptor.association = _Committer
    got: list = []
    arrived = threading.Event()

    def on_report(event):
        got.append(event)
        arrived.set()

    with acceptor:
        context = ProposedContext(COMMITMENT, UNCOMPRESSED)
        _out, assoc = open_association(_target(acceptor.port), [context])
        assert assoc is not None
        scu = WireSCU(assoc, on_event_report=on_report)
        status, _reply = scu.send_n_action(Dataset(), 1, COMMITMENT, "1.2.840.10008.1.20.1.1")
        assert int(status.Status) == 0
        assert arrived.wait(5)
        started = time.monotonic()
        scu.release()
        assert time.monotonic() - started < 2
        deadline = time.monotonic() + 2
        while getattr(acceptor, "rsp_status", None) is None and time.monotonic() < deadline:
            time.sleep(0.01)
    assert got[0].event_type == 1 and got[0].event_information.TransactionUID == "1.2.3.4"
    assert acceptor.rsp_status == 0x0000  # type: ignore[attr-defined]
    assert assoc.ending is not None and assoc.ending.kind is Ending.RELEASED
